"""Picking the `points` dataset in the window asks for a CSV file and trains on it."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

TIMEOUT = 30_000


def test_picking_points_asks_for_a_csv_and_trains_on_it(qtbot, open_window, tmp_path):
    csv = tmp_path / "pts.csv"
    csv.write_text("x1,x2\n" + "".join(f"{i / 10},{(i % 7) / 10}\n" for i in range(40)))
    window = open_window("gan", "moons")
    asked = []
    window.choose_points = lambda: asked.append(1) or str(csv)
    window.session_panel.dataset_chosen.emit("points")
    spec = f"points:path={csv}"
    qtbot.waitUntil(lambda: window.info.dataset == spec, timeout=TIMEOUT)
    assert asked == [1] and window.session_panel.dataset.currentData() == spec
    # a cancelled dialog keeps the session
    window.choose_points = lambda: None
    window.session_panel.dataset_chosen.emit("points")
    assert window.info.dataset == spec


def test_a_refused_csv_is_a_banner_and_keeps_the_session(qtbot, open_window, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,nan\n")
    window = open_window("gan", "moons")
    window.choose_points = lambda: str(bad)
    window.session_panel.dataset_chosen.emit("points")
    qtbot.waitUntil(lambda: "line 2" in window.banner.text(), timeout=TIMEOUT)
    assert window.info.dataset == "moons"
