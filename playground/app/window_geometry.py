"""Where the main window opens: where it was last closed if that still fits the screen it is
on, else at a size that uses that screen, centred, never larger than it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

__all__ = ["GEOMETRY_KEY", "SCREEN_FRACTION", "place_window", "remember_geometry"]

#: QSettings key of the main window's last geometry (``QWidget.saveGeometry`` bytes)
GEOMETRY_KEY = "main_window/geometry"
#: the share of the screen's available width and height a first window takes
SCREEN_FRACTION = 0.9


def _available(window: QWidget) -> QRect | None:
    screen = window.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def place_window(window: QWidget, settings: QSettings) -> bool:
    """Give ``window`` the geometry saved in ``settings`` if it fits the available area of
    the screen it lands on; else :data:`SCREEN_FRACTION` of the area of the screen it is
    on, centred. Returns whether the saved geometry was restored."""
    saved = settings.value(GEOMETRY_KEY)
    if saved is not None and window.restoreGeometry(saved):
        area = _available(window)  # the screen the saved geometry put it on
        if area is None or area.contains(window.geometry()):
            return True
    area = _available(window)
    if area is None:
        window.resize(1400, 850)
        return False
    # its layout's minimum (applied once shown) may be larger than asked: centre the size
    # it will take (the frame is not known before the window is shown; the margin holds it)
    least = window.minimumSizeHint().expandedTo(window.minimumSize())
    width = max(round(area.width() * SCREEN_FRACTION), least.width())
    height = max(round(area.height() * SCREEN_FRACTION), least.height())
    window.resize(width, height)
    x = area.x() + max(0, (area.width() - width) // 2)
    y = area.y() + max(0, (area.height() - height) // 2)
    window.move(x, y)
    if width > area.width() or height > area.height():
        # a screen smaller than the window can be (a low-resolution projector): fill it
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
    return False


class _SaveOnClose(QObject):
    """Writes the window's geometry to the settings when it closes."""

    def __init__(self, window: QWidget, settings: QSettings):
        super().__init__(window)
        self.settings = settings

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Close and isinstance(watched, QWidget):
            if watched.isFullScreen():  # presenting: the geometry before it is kept
                return super().eventFilter(watched, event)
            self.settings.setValue(GEOMETRY_KEY, watched.saveGeometry())
            self.settings.sync()
        return super().eventFilter(watched, event)


def remember_geometry(window: QWidget, settings: QSettings) -> None:
    """Save ``window``'s geometry in ``settings`` each time it closes (maximised included;
    closed full screen, in presentation mode, the geometry saved before is kept)."""
    window.installEventFilter(_SaveOnClose(window, settings))
