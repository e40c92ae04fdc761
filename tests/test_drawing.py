"""Draw your own data: the brush, the eraser and Clear change the drawing; the drawing
becomes the session's dataset; CSV import and export; models that cannot use it say so."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.app.commands import OpenPreset, Rebuild, SavePreset, SetPoints
from playground.app.drawing import ERASER_SPREADS, PointSketch
from playground.core.data.points import write_points_csv

pytest.importorskip("pytestqt")

TIMEOUT = 30_000


# ------------------------------------------------------------------ the sketch (no Qt)
def test_the_brush_adds_points_with_the_chosen_spread():
    sketch = PointSketch(seed=1)
    sketch.spread = 0.3
    assert sketch.brush(1.0, -2.0, 6000) == 6000
    points = sketch.points
    assert points.shape == (6000, 2) and points.dtype == np.float32
    np.testing.assert_allclose(points.mean(0), [1.0, -2.0], atol=0.02)
    np.testing.assert_allclose(points.std(0), [0.3, 0.3], rtol=0.05)
    sketch.spread = 0.05
    sketch.brush(5.0, 5.0, 4000)
    np.testing.assert_allclose(sketch.points[6000:].std(0), [0.05, 0.05], rtol=0.05)


def test_the_eraser_removes_exactly_the_points_within_its_radius_and_clear_empties():
    sketch = PointSketch(seed=2)
    sketch.spread = 0.5
    sketch.brush(0.0, 0.0, 3000)
    before = sketch.points.copy()
    radius = ERASER_SPREADS * 0.1
    inside = np.hypot(*(before - [0.2, 0.1]).T) <= radius
    sketch.spread = 0.1
    assert sketch.erase(0.2, 0.1) == inside.sum() > 0
    np.testing.assert_array_equal(sketch.points, before[~inside])
    sketch.brush(3.0, -1.0, 10)  # the box follows the brush and the eraser
    np.testing.assert_array_equal(sketch.bounds, [sketch.points.min(0), sketch.points.max(0)])
    version = sketch.version
    assert sketch.erase(50.0, 50.0) == 0 and sketch.version == version  # nothing there
    sketch.clear()
    assert len(sketch) == 0 and sketch.points.shape == (0, 2)


# ------------------------------------------------------------------ in the window
def _stroke(qtbot, drawing, overlay, xy, ms=150):
    """A real mouse stroke (press, move, hold, release) on ``overlay``'s view."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    viewport = overlay.canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=overlay.to_pixel(*xy))
    QTest.mouseMove(viewport, overlay.to_pixel(xy[0] + 0.1, xy[1]))
    qtbot.wait(ms)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=overlay.to_pixel(*xy))


def test_strokes_on_a_plane_view_become_the_sessions_dataset_once(qtbot, open_window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window = open_window("gan", "moons")
    drawing = window.drawing
    posted = []
    post = window.post
    window.post = lambda c: (posted.append(c), post(c))
    window.tabs.setCurrentIndex(window.tab_names.index("samples"))
    window.focus_view()
    QTest.keyClick(window, Qt.Key.Key_D)  # D: the draw mode
    assert drawing.active and drawing.bar.isVisible()
    overlay = drawing.overlays["samples"]
    drawing.bar.density.setValue(2000)
    _stroke(qtbot, drawing, overlay, (0.5, 0.2))
    _stroke(qtbot, drawing, overlay, (-0.5, 0.6))
    n = len(drawing.sketch)
    assert n > 40  # 2000 a second, held twice for >= 150 ms
    assert len(overlay.dots) == n  # shown at once
    qtbot.waitUntil(lambda: window.info.dataset == "points", timeout=TIMEOUT)
    sent = [c for c in posted if isinstance(c, SetPoints)]
    assert len(sent) == 1  # two quick strokes: one command, on release
    np.testing.assert_array_equal(sent[0].points, drawing.sketch.points)
    session = window.worker.session
    assert session.dataset_name == "points" and session.model_name == "gan"
    assert torch.equal(session.points, torch.from_numpy(drawing.sketch.points))
    # it trains on them: the data batches are drawn points (posted again: a new session)
    window.post(SetPoints(drawing.sketch.points.copy()))
    qtbot.waitUntil(lambda: window.worker.session is not session, timeout=TIMEOUT)
    batch = window.worker.session.data.sample(200, torch.Generator().manual_seed(0))
    drawn = {tuple(p) for p in drawing.sketch.points.tolist()}
    assert {tuple(p) for p in batch.tolist()} <= drawn

    # the eraser removes what is under it; fewer than 2 points are never sent
    drawing.bar.eraser.trigger()
    drawing.press(0.5, 0.2)
    drawing.release()
    assert 0 < len(drawing.sketch) < n
    drawing.clear()
    count = len(posted)
    assert drawing.apply() is False and len(posted) == count
    assert "draw at least 2 points" in drawing.bar.hint.text()
    drawing.bar.done.trigger()
    assert not drawing.active and not drawing.bar.isVisible()


def test_a_model_that_cannot_use_the_points_says_so_and_keeps_them(qtbot, open_window):
    window = open_window("dirac-gan", "dirac")
    drawing = window.drawing
    drawing.set_active(True)
    drawing.sketch.brush(0.0, 0.0, 50)
    # over a trained, unsaved session the window's guard asks first; a No keeps it
    guard = window.presets.guard
    asked = []
    guard.allow_replace = lambda: asked.append(1) or False
    assert drawing.apply() is False and asked == [1]
    assert "not applied, the session is kept" in drawing.bar.hint.text()
    del guard.allow_replace  # the guard's own answer again (nothing trained: yes)
    assert drawing.apply()
    qtbot.waitUntil(lambda: "Cannot train dirac-gan on the drawn points" in window.banner.text(),
                    timeout=TIMEOUT)  # fmt: skip
    assert "cannot train on the 2D density points" in window.banner.text()
    assert window.info.dataset == "dirac" and len(drawing.sketch) == 50


def test_csv_import_and_export_in_the_window(qtbot, open_window, tmp_path):
    window = open_window("gan", "moons")
    drawing = window.drawing
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2\n1,2\n3,inf\n")
    posted = []
    post = window.post
    window.post = lambda c: (posted.append(c), post(c))
    assert drawing.import_csv(str(bad))  # read on a thread: the window stays live
    qtbot.waitUntil(lambda: "line 3" in window.banner.text(), timeout=TIMEOUT)
    assert "NaN or infinity" in window.banner.text() and drawing.files.busy is None
    assert posted == [] and len(drawing.sketch) == 0 and window.info.dataset == "moons"
    good = tmp_path / "good.csv"
    points = torch.tensor([[0.0, 1.5], [2.25, -1.0], [0.5, 0.5]])
    write_points_csv(good, points)
    drawing.choose_import = lambda: str(good)
    drawing.file_actions[0].trigger()  # File > Import points (CSV)...
    qtbot.waitUntil(lambda: window.info.dataset == "points", timeout=TIMEOUT)
    assert torch.equal(window.worker.session.points, points)
    out = tmp_path / "out.csv"
    drawing.choose_export = lambda: str(out)
    drawing.file_actions[1].trigger()  # File > Export points (CSV)...
    qtbot.waitUntil(lambda: "Exported 3 points" in window.banner.text(), timeout=TIMEOUT)
    assert out.read_text().splitlines() == ["x1,x2", "0.0,1.5", "2.25,-1.0", "0.5,0.5"]
    drawing.export_csv(str(tmp_path / "missing" / "x.csv"))  # a write error: one line
    qtbot.waitUntil(lambda: "Points not exported" in window.banner.text(), timeout=TIMEOUT)
    # File > Export as Python script: the points go beside it, as a CSV it reads
    exports = window.presets.exports
    exports.choose_path = lambda kind: str(tmp_path / "take_home.py")
    exports.actions[0].trigger()
    assert (tmp_path / "take_home_points.csv").read_text() == out.read_text()
    assert "take_home_points.csv" in (tmp_path / "take_home.py").read_text()
    # a preset of the points session opens on them (the worker's open path)
    window.post(SavePreset(str(tmp_path / "preset")))
    qtbot.waitUntil(lambda: (tmp_path / "preset" / "points.safetensors").is_file(),
                    timeout=TIMEOUT)  # fmt: skip
    window.post(Rebuild("gan", "moons"))
    qtbot.waitUntil(lambda: window.info.dataset == "moons", timeout=TIMEOUT)
    window.post(OpenPreset(str(tmp_path / "preset")))
    qtbot.waitUntil(lambda: window.info.dataset == "points", timeout=TIMEOUT)
    assert torch.equal(window.worker.session.points, points)
    assert np.array_equal(drawing.sketch.points, points.numpy())  # the drawing follows


def test_the_draw_modes_copy_of_the_fewest_points_is_the_cores():
    from playground.app import drawing_mode
    from playground.core.data import points

    assert drawing_mode.MIN_POINTS == points.MIN_POINTS


def test_compare_with_on_drawn_points_trains_both_sides_on_them(qtbot, open_window):
    """File > Compare with… on a drawn-points session: the left pane is the session (its
    preset copy keeps the points), the right a fresh model given the same points."""
    points = torch.randn(80, 2, generator=torch.Generator().manual_seed(1))
    window = open_window("gan", "moons")
    window.post(SetPoints(points.numpy(), "drawn points"))
    qtbot.waitUntil(lambda: window.info is not None and window.info.dataset == "points",
                    timeout=TIMEOUT)  # fmt: skip
    compare = window.presets.compare_with("wgan-gp")
    left, right = compare.panes
    qtbot.waitUntil(
        lambda: all(
            p.info is not None and p.info.dataset == "points" and p.frame is not None
            for p in (left, right)
        ),
        timeout=TIMEOUT,
    )
    assert right.info.model == "wgan-gp" and left.info.model == "gan"
    for pane in (left, right):
        assert torch.equal(pane.worker.session.data.points, points)
    compare.close()
