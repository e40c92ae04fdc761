"""The Help menu: the explain panel's toggle, a list of every keyboard shortcut (read from
the window's own actions and shortcuts, so it never goes stale) and About."""

from __future__ import annotations

import re

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..qt_util import weakly

__all__ = ["add_help_menu", "shortcut_rows", "ShortcutsDialog", "about_html", "SHORTCUTS_KEY"]

#: Help > Keyboard shortcuts
SHORTCUTS_KEY = "Ctrl+/"
#: what the window's bare ``QShortcut`` s do (they carry no text of their own); a shortcut
#: with a ``whatsThis`` uses that instead
KEY_DESCRIPTIONS = {
    "Space": "Play / pause training",
    "Right": "One training step (while paused)",
    "R": "Reset training to step 0",
    "[": "Timeline: show the checkpoint before the step shown",
    "]": "Timeline: show the next checkpoint (at the end: back to live)",
    "End": "Timeline: back to the live end of the run",
    **{str(i): "Show the n-th tab" for i in range(1, 10)},
    **{f"Ctrl+{i}": "Show the n-th tab" for i in range(1, 10)},
}


def _text(text: str) -> str:
    """A menu text as a description: no mnemonic ``&``, no trailing ellipsis."""
    return re.sub(r"&(?!&)", "", text).replace("\u2026", "").rstrip(". ").strip()


def _collapse(keys: list[str]) -> str:
    """``["1", ..., "9"]`` -> ``"1 \u2026 9"``; ``["Ctrl+1", ..., "Ctrl+9"]`` -> ``"Ctrl+1 \u2026
    Ctrl+9"``; other lists joined by commas."""
    if len(keys) > 2:
        prefix = keys[0].rstrip("0123456789")
        digits = [k[len(prefix) :] for k in keys]
        if all(k.startswith(prefix) and d.isdigit() for k, d in zip(keys, digits, strict=True)):
            numbers = [int(d) for d in digits]
            if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
                return f"{keys[0]} \u2026 {keys[-1]}"
    return ", ".join(keys)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """Every keyboard shortcut of ``window``: ``(keys, what it does)``; shortcuts that do
    the same thing with the same modifiers share one row (``1 \u2026 9``).

    Read from the window's ``QShortcut`` s (their ``whatsThis``, else
    :data:`KEY_DESCRIPTIONS`), buttons with a shortcut (their tooltip or text), then its
    ``QAction`` s (menus: their text), each in the order the window made them."""
    pairs: list[tuple[str, str]] = []
    native = QKeySequence.SequenceFormat.NativeText
    for shortcut in window.findChildren(QShortcut):
        key = shortcut.key().toString(QKeySequence.SequenceFormat.PortableText)
        if key:
            what = shortcut.whatsThis() or KEY_DESCRIPTIONS.get(key, "")
            pairs.append((shortcut.key().toString(native), what))
    for button in window.findChildren(QAbstractButton):
        key = button.shortcut().toString(native)
        if key:
            # a tooltip that names its key already: "Train continuously (Ctrl+Space)"
            what = _text(button.toolTip() or button.text()).removesuffix(f"({key})").strip()
            pairs.append((key, what))
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            pairs.append((key.toString(native), _text(action.text())))
    # one row per description and modifiers: "1 \u2026 9" and "Ctrl+1 \u2026 Ctrl+9"
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, what in pairs:
        keys = grouped.setdefault((what or "(no description)", key.rstrip("0123456789")), [])
        if key not in keys:
            keys.append(key)
    # rows of one description side by side, in the order it first appeared
    first = {what: i for i, (what, _) in reversed(list(enumerate(grouped)))}
    rows = sorted(grouped.items(), key=lambda row: first[row[0][0]])
    return [(_collapse(keys), what) for (what, _), keys in rows]


class ShortcutsDialog(QDialog):
    """A table of :func:`shortcut_rows` of ``window`` (Help > Keyboard shortcuts)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows = shortcut_rows(window)
        self.table = QTableWidget(len(self.rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, (keys, what) in enumerate(self.rows):
            self.table.setItem(i, 0, QTableWidgetItem(keys))
            self.table.setItem(i, 1, QTableWidgetItem(what))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 520)

    def keys(self) -> list[str]:
        """The keys column, top to bottom."""
        return [keys for keys, _ in self.rows]


def about_html() -> str:
    """Help > About: what the playground is, its version."""
    from ... import __version__

    return (
        f"<h3>DGM Playground {__version__}</h3>"
        "<p>Deep generative models trained live, for lectures: flows, VAEs, GANs, "
        "energy-based, score-based and diffusion models on 2D densities and small images.</p>"
        "<p>Press F1 for the explain panel: the session's notes, the model's objective with "
        "its live values, and what the current view's colours and lines mean.</p>"
    )


def add_help_menu(window: QMainWindow, panel_toggle: QAction) -> QMenu:
    """Add the Help menu to ``window``: the explain panel's toggle, Keyboard shortcuts
    (:class:`ShortcutsDialog`, :data:`SHORTCUTS_KEY`) and About; returns the menu. The
    dialog last opened is ``menu.shortcuts_dialog``."""
    menu = window.menuBar().addMenu("&Help")
    menu.addAction(panel_toggle)
    shortcuts = menu.addAction("&Keyboard shortcuts\u2026")
    shortcuts.setShortcut(QKeySequence(SHORTCUTS_KEY))
    about = menu.addAction("&About DGM Playground")
    menu.shortcuts_dialog = None

    def open_shortcuts(w: QMainWindow, *_: object) -> None:
        dialog = ShortcutsDialog(w)
        menu.shortcuts_dialog = dialog
        dialog.show()

    # the window held weakly: a closure naming it would keep it alive from inside Qt
    shortcuts.triggered.connect(weakly(window, open_shortcuts))
    about.triggered.connect(
        weakly(window, lambda w, *_: QMessageBox.about(w, "About DGM Playground", about_html()))
    )
    return menu
