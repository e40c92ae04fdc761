"""Transport controls: play/pause, single step (or one network's half of a GAN step),
slow motion, reset and the seed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QStyle,
    QWidget,
)

from ..qt_util import signals_blocked

__all__ = ["TransportPanel"]


class TransportPanel(QGroupBox):
    """Buttons that post commands; :meth:`show_playing` mirrors the worker without signalling."""

    play_toggled = Signal(bool)
    step_clicked = Signal()
    part_step_clicked = Signal(str)
    slow_motion_toggled = Signal(bool)
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
        self.step.setToolTip("One training step (while paused); for a GAN one full iteration")
        self.critic_step = QPushButton("Critic step")
        self.critic_step.setToolTip("One update of the critic alone (while paused)")
        self.generator_step = QPushButton("Generator step")
        self.generator_step.setToolTip("One update of the generator alone (while paused)")
        self.slow_motion = QCheckBox("slow motion")
        self.slow_motion.setToolTip(
            "While playing: critic update, pause, generator update, pause, ... (~0.5 s each)"
        )
        self._part_widgets = (self.critic_step, self.generator_step, self.slow_motion)
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
        layout.addWidget(self.critic_step, 2, 0)
        layout.addWidget(self.generator_step, 2, 1)
        layout.addWidget(self.slow_motion, 3, 0, 1, 2)
        layout.addWidget(QLabel("Seed"), 4, 0)
        layout.addWidget(self.seed, 4, 1)
        self.show_parts(())
        self.setEnabled(False)
        self.play.toggled.connect(self._on_play)
        self.step.clicked.connect(self.step_clicked)
        self.critic_step.clicked.connect(lambda: self.part_step_clicked.emit("critic"))
        self.generator_step.clicked.connect(lambda: self.part_step_clicked.emit("generator"))
        self.slow_motion.toggled.connect(self.slow_motion_toggled)
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
        self.critic_step.setEnabled(not playing)
        self.generator_step.setEnabled(not playing)

    def show_playing(self, playing: bool) -> None:
        """Mirror the worker's state."""
        with signals_blocked(self.play):
            self.play.setChecked(playing)
        self._label(playing)

    def show_seed(self, seed: int) -> None:
        """Mirror the session's seed."""
        with signals_blocked(self.seed):
            self.seed.setValue(seed)

    def show_parts(self, parts: tuple[str, ...]) -> None:
        """Show the half-step buttons and slow motion only for models with two networks."""
        has = set(parts) >= {"critic", "generator"}
        for widget in self._part_widgets:
            widget.setVisible(has)
