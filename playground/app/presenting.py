"""Presentation mode for the lecture hall: full screen, larger fonts, thicker lines and
points, a high-contrast colormap, the controls folded into a slim bar; and back.

:class:`PresentationMode` is a part the main window owns (``window.presentation_mode``); the
styling itself is :class:`~.theme.Presentation`.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLayout,
    QMainWindow,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import theme
from .panels import TransportPanel
from .qt_util import signals_blocked

__all__ = ["PresentationMode", "press"]


def press(transport: TransportPanel, button: QAbstractButton) -> None:
    """Click ``button`` of ``transport`` as the user would: only while it is enabled and on
    show (Step is disabled while training plays; the half steps exist for GANs only)."""
    if button.isEnabled() and button.isVisibleTo(transport) and transport.isEnabled():
        button.click()


class PresentationMode(QObject):
    """Presentation mode of a main window, and the slim bar of Play/Pause, Step and Reset
    that replaces the side panel while it is on. A ``QObject`` child of the window, so the
    worker's signals reach its slots on the GUI thread.

    Arguments:
        window: the window to show full screen.
        side_panel: the controls folded away while presenting.
        transport: the transport panel the slim bar's buttons press.
        views: the views to restyle.

    Attributes:
        slim_bar: the column of big buttons (``slim_buttons``: ``play``, ``step``, ``reset``).
        action: the checkable View menu action (F11) that turns the mode on and off.
        style: the :class:`~.theme.Presentation` that scales the plots.
    """

    def __init__(
        self,
        window: QMainWindow,
        side_panel: QWidget,
        transport: TransportPanel,
        views: Mapping[str, QWidget],
    ):
        super().__init__(window)
        self.window, self.side_panel = window, side_panel
        self.transport, self.views = transport, views
        self.style = theme.Presentation()
        self._normal: tuple[QRect, Qt.WindowState, QFont] | None = None
        self.slim_bar = self._make_slim_bar()
        self.action = QAction("&Presentation mode", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("F11"))
        self.action.toggled.connect(self.set)

    def _make_slim_bar(self) -> QWidget:
        """The controls of presentation mode: Play/Pause, Step and Reset, big, in a column."""
        bar = QWidget()
        layout = QVBoxLayout(bar)
        layout.setContentsMargins(0, 0, 0, 0)
        style = self.window.style()
        self.slim_buttons: dict[str, QToolButton] = {}
        t = self.transport
        for name, pixmap, tip, target in (
            ("play", QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)", t.play),
            ("step", QStyle.StandardPixmap.SP_MediaSkipForward, "One step (Right arrow)", t.step),
            ("reset", QStyle.StandardPixmap.SP_BrowserReload, "Reset (R)", t.reset),
        ):
            button = QToolButton()
            button.setIcon(style.standardIcon(pixmap))
            button.setIconSize(QSize(40, 40))
            button.setText(name.capitalize())
            button.setToolTip(tip)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setMinimumWidth(96)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, target=target: press(t, target))
            layout.addWidget(button)
            self.slim_buttons[name] = button
        layout.addStretch(1)
        bar.hide()
        return bar

    def show_playing(self, playing: bool) -> None:
        """Mirror the worker's state on the slim bar."""
        play = self.slim_buttons["play"]
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        play.setText("Pause" if playing else "Play")
        play.setIcon(self.window.style().standardIcon(pixmap))
        self.slim_buttons["step"].setEnabled(not playing)

    @property
    def on(self) -> bool:
        """Whether presentation mode is on."""
        return self._normal is not None

    def restyle(self, *widgets: QWidget) -> None:
        """Scale what ``widgets`` created or restyled since (a view drew for the first time)
        while presentation mode is on; nothing otherwise."""
        if self.on:
            self.style.apply(*widgets)

    def set(self, on: bool) -> None:
        """Presentation mode: full screen, the side panel collapsed to a slim bar of
        Play/Pause, Step and Reset, fonts x1.5, thicker lines, bigger points and a
        high-contrast heatmap colour map. Turning it off restores all of it exactly."""
        if bool(on) == self.on:
            return
        app = QApplication.instance()
        window = self.window
        if on:
            self._normal = (window.geometry(), window.windowState(), QApplication.font())
            # plots first: their label sizes are read before the application font grows
            # the views built so far (the window scales later ones as they are built)
            built = self.views.built() if hasattr(self.views, "built") else self.views.values()
            self.style.apply(*built)
            app.setFont(theme.scaled_font(QApplication.font(), theme.PRESENTATION_FONT_SCALE))
            self.side_panel.hide()
            self.show_playing(self.transport.play.isChecked())
            self.slim_bar.show()
            window.showFullScreen()
        else:
            geometry, state, font = self._normal
            self._normal = None
            self.style.restore()
            app.setFont(font)
            self.slim_bar.hide()
            self.side_panel.show()
            # the widgets take the restored font and re-lay out now, not later: else the
            # geometry comes back clamped to the large fonts' minimum size
            QApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
            for layout in window.findChildren(QLayout):  # hidden tabs keep stale size hints
                layout.invalidate()
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            window.layout().activate()
            if state & Qt.WindowState.WindowMaximized:
                window.showMaximized()
            else:
                window.showNormal()
                window.setGeometry(geometry)
        with signals_blocked(self.action):
            self.action.setChecked(self.on)
