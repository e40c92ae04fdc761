"""The keyboard after a hyperparameter edit: Enter or Esc gives the keys back to the window."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from playground.app.main_window import MainWindow  # noqa: E402

TIMEOUT = 30_000


def keys(window: MainWindow, key: Qt.Key) -> None:
    """Press ``key`` as the user would: through the window, to the focused widget."""
    QTest.keyClick(window.windowHandle(), key)


def focus(qtbot, window: MainWindow, name: str):
    """Put the keyboard in the form's ``name`` field, its text selected."""
    window.activateWindow()
    editor = window.form.editors[name]
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    editor.lineEdit().selectAll()
    return editor


def test_enter_in_lr_commits_then_2_and_space_switch_the_tab_and_play(qtbot, open_window):
    window = open_window("realnvp", "moons")
    window.confirm = lambda question: pytest.fail(f"a live change asked: {question}")
    editor = focus(qtbot, window, "lr")
    QTest.keyClicks(editor, "0.0005")
    keys(window, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.worker.session.config.lr == 0.0005, timeout=TIMEOUT)
    assert not editor.hasFocus()
    assert window.tabs.currentWidget().hasFocus()
    keys(window, Qt.Key.Key_2)
    assert window.tabs.currentIndex() == 1
    keys(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.worker.playing, timeout=TIMEOUT)
    assert editor.lineEdit().text() == "0.0005"  # not "0.00052 "
    keys(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)


def test_esc_reverts_an_uncommitted_edit_and_leaves_the_form(qtbot, open_window):
    window = open_window("realnvp", "moons")
    lr = window.config.lr
    editor = focus(qtbot, window, "lr")
    QTest.keyClicks(editor, "0.9")
    assert editor.lineEdit().text() == "0.9"
    keys(window, Qt.Key.Key_Escape)
    assert editor.value() == lr and editor.lineEdit().text() == f"{lr:.6g}"
    assert not editor.hasFocus()
    keys(window, Qt.Key.Key_Right)  # Right steps again, not moving the text cursor
    qtbot.waitUntil(lambda: window.step == 1, timeout=TIMEOUT)
    assert window.worker.session.config.lr == lr


def test_a_check_box_click_gives_the_keys_back_to_the_view(qtbot, open_window):
    window = open_window("gan", "ring8")
    window.confirm = lambda question: True
    box = window.form.editors["feature_matching"]
    before = box.isChecked()
    window.activateWindow()
    # on its indicator (the box is as wide as the form; the indicator sits at the left)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked() != before and not box.hasFocus()
    qtbot.waitUntil(
        lambda: window.worker.session.config.feature_matching != before, timeout=TIMEOUT
    )
    keys(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.worker.playing, timeout=TIMEOUT)
    assert box.isChecked() != before
    keys(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)
