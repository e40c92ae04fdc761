"""Where the main window opens: on its screen, centred and inside it, or where it was closed."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QRect, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.window_geometry import (  # noqa: E402
    GEOMETRY_KEY,
    SCREEN_FRACTION,
    place_window,
    remember_geometry,
)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def new_window(qtbot, settings):
    """Main windows that never start their worker (placing one needs no session)."""
    windows: list[MainWindow] = []

    def new() -> MainWindow:
        window = MainWindow(paused=True, settings=settings)
        # the offscreen screen is 800 px, narrower than the window's layout minimum (~860
        # px): an explicit minimum lets the geometry logic, not the layout, be tested
        window.setMinimumSize(600, 400)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield new
    for window in windows:
        assert window.shutdown()


def test_a_first_window_uses_its_screen_centred_and_inside_it(qtbot, new_window, settings):
    window = new_window()
    assert not place_window(window, settings)
    window.show()
    qtbot.waitExposed(window)
    area = QGuiApplication.primaryScreen().availableGeometry()
    least = window.minimumSizeHint()
    if least.width() > area.width() or least.height() > area.height():
        # a screen smaller than the window can be (the 800 x 800 offscreen screen): it fills it
        assert window.windowState() & Qt.WindowState.WindowMaximized
        return
    assert area.contains(window.frameGeometry())
    assert window.width() >= min(window.minimumWidth(), round(area.width() * SCREEN_FRACTION))
    assert window.width() <= area.width() and window.height() <= area.height()
    left, right = window.x() - area.x(), area.right() - window.geometry().right()
    assert abs(left - right) <= 2  # centred


def test_the_last_geometry_is_restored_if_it_fits(qtbot, new_window, settings):
    window = new_window()
    remember_geometry(window, settings)
    place_window(window, settings)
    window.show()
    qtbot.waitExposed(window)
    area = QGuiApplication.primaryScreen().availableGeometry()
    width = min(window.width(), area.width() - 40)  # a geometry that fits the screen
    height = min(window.height(), area.height() - 60) - 40
    window.showNormal()
    window.setGeometry(QRect(area.x() + 10, area.y() + 20, width, height))
    closed_at = window.geometry()
    window.close()
    assert settings.value(GEOMETRY_KEY) is not None

    again = new_window()
    assert place_window(again, settings)
    assert again.size() == closed_at.size()
    moved = again.geometry().topLeft() - closed_at.topLeft()
    assert moved.manhattanLength() <= 10  # the platform's frame may shift it a little

    # a geometry saved on a larger screen is not restored past this one's edges
    settings.setValue(GEOMETRY_KEY, b"not a geometry")
    third = new_window()
    assert not place_window(third, settings)
    third.show()
    if third.minimumSizeHint().width() > area.width():
        # the 800 px offscreen screen, narrower than the layout's minimum: it fills it
        assert third.windowState() & Qt.WindowState.WindowMaximized
    else:
        assert area.contains(third.frameGeometry())
