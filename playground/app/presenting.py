"""Presentation mode for the lecture hall: full screen, larger fonts, thicker lines and
points, a high-contrast colormap, the controls folded into a slim bar; and back.

A mixin of :class:`~.main_window.MainWindow` (it uses the window's side panel, transport,
tabs and views); the styling itself is :class:`~.theme.Presentation`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import (
    QApplication,
    QLayout,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import theme

__all__ = ["Presenting"]


class Presenting:
    """Presentation mode of the main window (a mixin; see the module)."""

    # ------------------------------------------------------------- presentation
    def _make_slim_bar(self) -> QWidget:
        """The controls of presentation mode: Play/Pause, Step and Reset, big, in a column."""
        bar = QWidget()
        layout = QVBoxLayout(bar)
        layout.setContentsMargins(0, 0, 0, 0)
        style = self.style()
        self.slim_buttons: dict[str, QToolButton] = {}
        for name, pixmap, tip in (
            ("play", QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)"),
            ("step", QStyle.StandardPixmap.SP_MediaSkipForward, "One step (Right arrow)"),
            ("reset", QStyle.StandardPixmap.SP_BrowserReload, "Reset (R)"),
        ):
            button = QToolButton()
            button.setIcon(style.standardIcon(pixmap))
            button.setIconSize(QSize(40, 40))
            button.setText(name.capitalize())
            button.setToolTip(tip)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setMinimumWidth(96)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(button)
            self.slim_buttons[name] = button
        layout.addStretch(1)
        self.slim_buttons["play"].clicked.connect(lambda: self._click(self.transport.play))
        self.slim_buttons["step"].clicked.connect(lambda: self._click(self.transport.step))
        self.slim_buttons["reset"].clicked.connect(lambda: self._click(self.transport.reset))
        bar.hide()
        return bar

    def _show_slim_playing(self, playing: bool) -> None:
        play = self.slim_buttons["play"]
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        play.setText("Pause" if playing else "Play")
        play.setIcon(self.style().standardIcon(pixmap))
        self.slim_buttons["step"].setEnabled(not playing)

    @property
    def presenting(self) -> bool:
        """Whether presentation mode is on."""
        return self._normal is not None

    def set_presentation(self, on: bool) -> None:
        """Presentation mode: full screen, the side panel collapsed to a slim bar of
        Play/Pause, Step and Reset, fonts x1.5, thicker lines, bigger points and a
        high-contrast heatmap colour map. Turning it off restores all of it exactly."""
        if bool(on) == self.presenting:
            return
        app = QApplication.instance()
        if on:
            self._normal = (self.geometry(), self.windowState(), QApplication.font())
            # plots first: their label sizes are read before the application font grows
            self.presentation.apply(*self.views.values())
            app.setFont(theme.scaled_font(QApplication.font(), theme.PRESENTATION_FONT_SCALE))
            self.side_panel.hide()
            self._show_slim_playing(self.transport.play.isChecked())
            self.slim_bar.show()
            self.showFullScreen()
        else:
            geometry, state, font = self._normal
            self._normal = None
            self.presentation.restore()
            app.setFont(font)
            self.slim_bar.hide()
            self.side_panel.show()
            # the widgets take the restored font and re-lay out now, not later: else the
            # geometry comes back clamped to the large fonts' minimum size
            QApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
            for layout in self.findChildren(QLayout):  # hidden tabs keep stale size hints
                layout.invalidate()
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self.layout().activate()
            if state & Qt.WindowState.WindowMaximized:
                self.showMaximized()
            else:
                self.showNormal()
                self.setGeometry(geometry)
        old = self.presentation_action.blockSignals(True)
        self.presentation_action.setChecked(self.presenting)
        self.presentation_action.blockSignals(old)
