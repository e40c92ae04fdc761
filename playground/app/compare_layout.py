"""How the Compare window fits a screen: side by side with the panes' side panels, side by
side with them folded, or stacked, whichever first leaves each pane's views enough room."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QPoint, QRect, QSize
from PySide6.QtWidgets import QApplication

__all__ = ["fit_panes", "ARRANGEMENTS", "VIEW_MIN_WIDTH", "VIEW_MIN_HEIGHT", "SCREEN_SHARE"]

#: a pane's pictures keep at least this much room (px): a density heatmap or a grid of
#: samples stays readable; less, and the next arrangement is tried
VIEW_MIN_WIDTH, VIEW_MIN_HEIGHT = 480, 300
#: the share of the screen's available width and height the window takes: room for the
#: window's frame and title bar, which the available geometry does not count
SCREEN_SHARE = (0.96, 0.92)
#: pixels of a pane besides its pictures: margins, the tab bar and the status bar; and of
#: the window besides its panes: the menu bar and the Play both bar
_PANE_CHROME, _WINDOW_CHROME = QSize(24, 90), QSize(12, 70)
#: (name, side panels shown, panes stacked), in the order they are tried
ARRANGEMENTS = (
    ("side by side", True, False),
    ("side by side, side panels folded", False, False),
    ("stacked, side panels folded", False, True),
)


def _view_room(window: Any, size: QSize, panels: bool, stacked: bool) -> QSize:
    """The room each pane's pictures get in a window of ``size``."""
    width = size.width() - _WINDOW_CHROME.width()
    height = size.height() - _WINDOW_CHROME.height()
    width, height = (width, height // 2) if stacked else (width // 2, height)
    if panels:
        width -= max(pane.side_panel.minimumWidth() for pane in window.panes)
    return QSize(width - _PANE_CHROME.width(), height - _PANE_CHROME.height())


def _settle(window: Any) -> None:
    """Let every layout from the panes up learn what was hidden or turned (each level
    caches its children's minimum sizes until told)."""
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    for pane in window.panes:
        pane.centralWidget().layout().activate()
        pane.layout().activate()
        pane.updateGeometry()
    window.splitter.updateGeometry()
    window.centralWidget().layout().activate()
    window.layout().activate()


def fit_panes(window: Any, available: QRect) -> str:
    """Arrange the panes of the Compare ``window`` for the ``available`` screen area (px,
    the screen's ``availableGeometry()``) and size and centre the window in it.

    The first of :data:`ARRANGEMENTS` whose minimum size fits and leaves each pane's views
    :data:`VIEW_MIN_WIDTH` x :data:`VIEW_MIN_HEIGHT` is taken; on a screen too small for
    that, the one that fits and comes closest (else the last). The window takes
    :data:`SCREEN_SHARE` of the area, and never more than the area (unless even the
    smallest arrangement's minimum is larger).

    Returns:
        The arrangement's name, e.g. ``"side by side, side panels folded"``.
    """
    size = QSize(
        int(available.width() * SCREEN_SHARE[0]), int(available.height() * SCREEN_SHARE[1])
    )
    best: tuple[float, tuple[str, bool, bool]] | None = None
    for arrangement in ARRANGEMENTS:
        _, panels, stacked = arrangement
        window.arrange(panels=panels, stacked=stacked)
        _settle(window)
        minimum = window.minimumSizeHint()
        if minimum.width() > size.width() or minimum.height() > size.height():
            continue
        room = _view_room(window, size, panels, stacked)
        score = min(room.width() / VIEW_MIN_WIDTH, room.height() / VIEW_MIN_HEIGHT)
        if score >= 1.0:
            best = (score, arrangement)
            break
        if best is None or score > best[0]:
            best = (score, arrangement)
    name, panels, stacked = best[1] if best is not None else ARRANGEMENTS[-1]
    window.arrange(panels=panels, stacked=stacked)
    window.resize(size)
    window.move(available.center() - QPoint(size.width() // 2, size.height() // 2))
    return name
