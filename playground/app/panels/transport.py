"""Transport controls: play/pause, single step, reset and the seed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyle,
    QWidget,
)

__all__ = ["TransportPanel"]


class TransportPanel(QGroupBox):
    """Buttons that post commands; :meth:`show_playing` mirrors the worker without signalling."""

    play_toggled = Signal(bool)
    step_clicked = Signal()
    reset_clicked = Signal()
    seed_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Training", parent)
        style = self.style()
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play.setToolTip("Train continuously (Ctrl+Space)")
        self.play.setShortcut("Ctrl+Space")
        self.step = QPushButton("Step")
        self.step.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self.step.setToolTip("One training step (while paused)")
        self.reset = QPushButton("Reset")
        self.reset.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.reset.setToolTip("Re-initialise the model from the seed: step 0")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seeds initialisation, batches and noise; changing it resets")
        layout = QGridLayout(self)
        layout.addWidget(self.play, 0, 0, 1, 2)
        layout.addWidget(self.step, 1, 0)
        layout.addWidget(self.reset, 1, 1)
        layout.addWidget(QLabel("Seed"), 2, 0)
        layout.addWidget(self.seed, 2, 1)
        self.setEnabled(False)
        self.play.toggled.connect(self._on_play)
        self.step.clicked.connect(self.step_clicked)
        self.reset.clicked.connect(self.reset_clicked)
        self.seed.valueChanged.connect(self.seed_changed)

    def _on_play(self, on: bool) -> None:
        self._label(on)
        self.play_toggled.emit(on)

    def _label(self, playing: bool) -> None:
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play.setText("Pause" if playing else "Play")
        self.play.setIcon(self.style().standardIcon(pixmap))
        self.step.setEnabled(not playing)

    def show_playing(self, playing: bool) -> None:
        """Mirror the worker's state."""
        old = self.play.blockSignals(True)
        self.play.setChecked(playing)
        self.play.blockSignals(old)
        self._label(playing)

    def show_seed(self, seed: int) -> None:
        """Mirror the session's seed."""
        old = self.seed.blockSignals(True)
        self.seed.setValue(seed)
        self.seed.blockSignals(old)
