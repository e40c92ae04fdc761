"""Nothing trained is lost by a click: asks before replacing, copies under Recent sessions,
the save dialog's title and description, "Saved to" after a save, Ctrl+O for folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QKeySequence  # noqa: E402

from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.panels.save_dialog import SaveChoice, SaveDialog  # noqa: E402
from playground.core.presets import read_preset_info  # noqa: E402

TIMEOUT = 30_000
MOONS = Path(__file__).resolve().parents[1] / "presets" / "realnvp-moons"


@pytest.fixture(autouse=True)
def _private_settings(private_settings):
    """Recent presets and sessions go to ``private_settings``, never the user's."""
    return private_settings


def sessions(window: MainWindow) -> list:
    """The actions of File > Recent sessions."""
    return window.presets.sessions_menu.actions()


def window_with_steps(qtbot, open_window, tmp_path, n: int = 2) -> tuple[MainWindow, list]:
    """A window trained ``n`` single steps, whose questions are recorded (answer: no)."""
    window = open_window("realnvp", "8gaussians")
    window.presets.guard.folder = tmp_path / "sessions"
    asked: list[str] = []
    window.confirm = lambda question: asked.append(question) or False
    for expected in range(1, n + 1):
        window.transport.step.click()
        qtbot.waitUntil(lambda expected=expected: window.step == expected, timeout=TIMEOUT)
    return window, asked


def test_opening_a_preset_over_a_trained_session_asks_and_no_keeps_it(qtbot, open_window, tmp_path):
    window, asked = window_with_steps(qtbot, open_window, tmp_path)
    window.choose_preset = lambda: str(MOONS)
    window.file_menu.actions()[0].trigger()  # Open preset folder... (Ctrl+O)
    assert asked == [
        "Replace the trained session (realnvp on 8gaussians, step 2)? It is not saved; "
        "File > Recent sessions will keep a copy."
    ]
    qtbot.wait(300)
    assert window.info.dataset == "8gaussians" and window.worker.session.step_count == 2
    # the gallery and the recent lists ask too
    window.presets.open_gallery().preset_chosen.emit(str(MOONS))
    assert len(asked) == 2 and window.info.dataset == "8gaussians"

    # yes: the preset opens, and the trained session is kept under Recent sessions
    window.confirm = lambda question: asked.append(question) or True
    window.file_menu.actions()[0].trigger()
    steps = read_preset_info(MOONS).steps
    qtbot.waitUntil(lambda: window.step == steps, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: bool(sessions(window)), timeout=TIMEOUT)
    (kept,) = window.presets.guard.recent_sessions()
    assert Path(kept).parent == tmp_path / "sessions"
    info = read_preset_info(kept)
    assert (info.model, info.dataset, info.steps) == ("realnvp", "8gaussians", 2)
    assert "realnvp on 8gaussians, step 2" in sessions(window)[0].text()
    # the preset, unchanged since it opened, is replaced without a question: restore the copy
    count = len(asked)
    sessions(window)[0].trigger()
    qtbot.waitUntil(lambda: window.info.dataset == "8gaussians", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.step == 2, timeout=TIMEOUT)
    assert len(asked) == count


def test_a_model_or_dataset_choice_over_a_trained_session_asks(qtbot, open_window, tmp_path):
    window, asked = window_with_steps(qtbot, open_window, tmp_path, n=1)
    panel = window.session_panel
    panel.model_chosen.emit("maf")
    assert len(asked) == 1 and "realnvp on 8gaussians, step 1" in asked[0]
    assert panel.model.currentData() == "realnvp" and window.choice.chosen is None
    panel.dataset_chosen.emit("moons")
    assert len(asked) == 2 and panel.dataset.currentData() == "8gaussians"
    qtbot.wait(300)
    assert (window.info.model, window.info.dataset, window.step) == ("realnvp", "8gaussians", 1)
    window.confirm = lambda question: asked.append(question) or True
    panel.dataset_chosen.emit("moons")
    qtbot.waitUntil(lambda: window.info.dataset == "moons", timeout=TIMEOUT)
    assert len(asked) == 3
    # a fresh session (step 0) is replaced without a question
    panel.model_chosen.emit("maf")
    qtbot.waitUntil(lambda: window.info.model == "maf", timeout=TIMEOUT)
    assert len(asked) == 3


def test_save_takes_a_title_and_description_and_says_where(qtbot, open_window, tmp_path):
    window, asked = window_with_steps(qtbot, open_window, tmp_path, n=3)
    path = tmp_path / "mine.dgmpreset"
    window.choose_save_path = lambda: SaveChoice(str(path), "My moons", "Three steps in.")
    save = next(a for a in window.file_menu.actions() if a.text().startswith("&Save"))
    with qtbot.waitSignal(window.worker.preset_saved, timeout=TIMEOUT):
        save.trigger()
    info = read_preset_info(path)
    assert (info.title, info.description, info.steps) == ("My moons", "Three steps in.", 3)
    assert window.banner.isVisible() and window.banner.text() == f"Saved to {path}"
    assert "#d1e5f0" in window.banner.styleSheet()  # the calm "info" colour, not a warning
    assert window.statusBar().currentMessage() == f"Saved to {path}"
    # saved: opening a preset now replaces it without a question
    window.choose_preset = lambda: str(MOONS)
    window.file_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: window.info.dataset == "moons", timeout=TIMEOUT)
    assert asked == []


def test_the_save_dialog_prefills_and_follows_the_kind(qtbot, tmp_path):
    dialog = SaveDialog(str(tmp_path), "realnvp-moons-step3", "realnvp on moons", "step 3", 20, 50)
    qtbot.addWidget(dialog)
    assert dialog.title.text() == "realnvp on moons" and dialog.title.maxLength() == 20
    assert dialog.description.toPlainText() == "step 3"
    assert dialog.choice() == SaveChoice(
        str(tmp_path / "realnvp-moons-step3.dgmpreset"), "realnvp on moons", "step 3"
    )
    dialog.kind.setCurrentIndex(1)  # a folder
    assert dialog.path.text() == str(tmp_path / "realnvp-moons-step3")
    dialog.description.setPlainText("x" * 80)
    assert dialog.choice().description == "x" * 50  # the schema's cap
    dialog.path.setText("")
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Save).isEnabled()


def test_ctrl_o_opens_a_folder_and_a_second_entry_a_bundle(qtbot, open_window, tmp_path):
    window = open_window("realnvp", "8gaussians")
    first, second = window.file_menu.actions()[:2]
    assert first.shortcut() == QKeySequence("Ctrl+O") and "folder" in first.text()
    assert "bundle" in second.text()
    bundle = tmp_path / "moons.dgmpreset"
    from playground.core.presets import load_preset, save_preset

    save_preset(load_preset(MOONS), bundle)
    window.presets.choose_bundle = lambda: str(bundle)
    second.trigger()
    steps = json.loads((MOONS / "config.json").read_text())["steps"]
    qtbot.waitUntil(
        lambda: window.info.dataset == "moons" and window.step == steps, timeout=TIMEOUT
    )
