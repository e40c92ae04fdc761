"""The Record dialog: save the visible view as PNG, or record it to GIF or MP4 as it trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..recording import Recording, WindowRecorder, view_frame, write_frames

__all__ = ["RecordDialog"]

#: format combo entries: label, file suffix
FORMAT_CHOICES = (("PNG: the view now", ".png"), ("GIF", ".gif"), ("MP4", ".mp4"))
#: the length choices: label, unit
LENGTH_CHOICES = (("training steps", "steps"), ("seconds", "seconds"))


class RecordDialog(QDialog):
    """Export the window's visible view: a PNG at once, or a GIF / MP4 recorded over a
    number of training steps or seconds, with a progress bar.

    Recording by steps presses Play on a paused window, and Pause when done (the dialog
    says so). While it records, the choices are shown as plain text (what is recorded,
    for how long, to which file), readable rather than greyed out; when done the dialog
    shows the written file's path, or the error. Frames hold the view's pictures with its
    title and step burnt in (see :func:`~..recording.view_frame`).

    Arguments:
        window: the :class:`~..main_window.MainWindow` to record.

    Attributes:
        recorder: the running :class:`~..recording.WindowRecorder`, or ``None``.
        main_window: the window recorded.
        recording: the last :class:`~..recording.Recording` written, or ``None``.
    """

    def __init__(self, window: Any):
        super().__init__(window)
        self.setWindowTitle("Record the view")
        self.setMinimumWidth(560)
        self.main_window = window
        self.recorder: WindowRecorder | None = None
        self.recording: Recording | None = None
        self._pressed_play = False

        self.format = QComboBox()
        for label, suffix in FORMAT_CHOICES:
            self.format.addItem(label, suffix)
        self.unit = QComboBox()
        for label, unit in LENGTH_CHOICES:
            self.unit.addItem(label, unit)
        self.steps = QSpinBox()
        self.steps.setRange(1, 10_000_000)
        self.steps.setValue(1000)
        self.steps.setSingleStep(100)
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.5, 3600.0)
        self.seconds.setValue(10.0)
        self.seconds.setSuffix(" s")
        self.amount = QStackedWidget()
        self.amount.addWidget(self.steps)
        self.amount.addWidget(self.seconds)
        length = QHBoxLayout()
        length.addWidget(self.amount, 1)
        length.addWidget(self.unit)
        self.path = QLineEdit(str(Path.home() / f"playground-{window.visible_view}.png"))
        self.browse = QPushButton("Browse\u2026")
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(self.browse)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)

        editing = QWidget()
        form = QFormLayout(editing)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Format:", self.format)
        form.addRow("Record for:", length)
        form.addRow("File:", where)
        # while recording: the same rows as text (disabled editors are grey and clip the path)
        self.summary = {key: QLabel() for key in ("format", "length", "file")}
        recording = QWidget()
        rows = QFormLayout(recording)
        rows.setContentsMargins(0, 0, 0, 0)
        for label, key in (("Format:", "format"), ("Record for:", "length"), ("File:", "file")):
            self.summary[key].setWordWrap(True)
            self.summary[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            rows.addRow(label, self.summary[key])
        self.rows = QStackedWidget()
        self.rows.addWidget(editing)
        self.rows.addWidget(recording)
        layout = QVBoxLayout(self)
        layout.addWidget(self.rows)
        layout.addWidget(self.note)
        layout.addWidget(self.bar)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        self.format.currentIndexChanged.connect(self._on_format)
        self.unit.currentIndexChanged.connect(self._on_unit)
        self.browse.clicked.connect(self._on_browse)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        window.worker.playing_changed.connect(self._update_note)
        self._on_format()

    # ---------------------------------------------------------------- choices
    @property
    def suffix(self) -> str:
        """The chosen format's file suffix: ``.png``, ``.gif`` or ``.mp4``."""
        return self.format.currentData()

    @property
    def by_steps(self) -> bool:
        """Whether the length is in training steps (else seconds)."""
        return self.unit.currentData() == "steps"

    def ask_path(self, suffix: str) -> str | None:
        """Ask where to save a ``suffix`` file (tests replace this); ``None``: cancelled."""
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the recording", self.path.text(), f"{suffix[1:].upper()} (*{suffix})"
        )
        return name or None

    def _on_browse(self) -> None:
        chosen = self.ask_path(self.suffix)
        if chosen:
            path = Path(chosen)
            self.path.setText(str(path if path.suffix else path.with_suffix(self.suffix)))

    def _on_format(self, *_: Any) -> None:
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix(self.suffix)))
        moving = self.suffix != ".png"
        self.unit.setEnabled(moving)
        self.amount.setEnabled(moving)
        self._update_note()

    def _on_unit(self, *_: Any) -> None:
        self.amount.setCurrentIndex(0 if self.by_steps else 1)
        self._update_note()

    def _paused(self) -> bool:
        return not self.main_window.transport.play.isChecked()

    def _update_note(self, *_: Any) -> None:
        if self.suffix == ".png":
            text = "Saves the view as it is drawn now."
        elif self.by_steps and self._paused():
            text = "Training is paused: Start presses Play, records the steps, then pauses again."
        elif self.by_steps:
            text = "Records the view until this many more training steps have been drawn."
        else:
            text = "Records the view for this long, playing or paused (Langevin chains move)."
        self.note.setText(text)

    # ---------------------------------------------------------------- actions
    def start(self) -> None:
        """Save the PNG now, or start recording; errors are shown in the dialog."""
        self.message.setText("")
        self.recording = None
        path = Path(self.path.text().strip()).expanduser()
        if not path.name:
            self.message.setText("Choose a file first (Browse\u2026).")
            return
        if path.suffix.lower() != self.suffix:
            path = path.with_suffix(self.suffix)
        try:
            if self.suffix == ".png":
                widget = self.main_window.tabs.currentWidget()
                frame = view_frame(widget, self.main_window.step)
                written = write_frames([frame], path, 1.0)
                self._on_finished(Recording(written, 1, 0, 0.0))
                return
            if self.by_steps:
                recorder = WindowRecorder(self.main_window, path, steps=self.steps.value())
            else:
                recorder = WindowRecorder(self.main_window, path, seconds=self.seconds.value())
        except (OSError, ValueError) as e:
            self._on_failed(str(e))
            return
        self.recorder = recorder
        recorder.progress.connect(self._on_progress)
        recorder.finished.connect(self._on_finished)
        recorder.failed.connect(self._on_failed)
        self._busy(True, path)
        self.bar.setRange(0, recorder.total)
        self.bar.setValue(0)
        recorder.start()
        self._pressed_play = self.by_steps and self._paused()
        if self._pressed_play:
            self.main_window.transport.play.click()
        self.message.setText(f"Recording to {path}\u2026")

    def cancel(self) -> None:
        """Stop a running recording (nothing is written); close the dialog otherwise."""
        if self.recorder is not None and self.recorder.running:
            self.recorder.cancel()
            self.recorder = None
            self._pause_again()
            self._busy(False)
            self.bar.setValue(0)
            self.message.setText("Recording cancelled; nothing was written.")
        else:
            self.reject()

    def reject(self) -> None:
        """Close the dialog; a running recording is cancelled first."""
        if self.recorder is not None and self.recorder.running:
            self.recorder.cancel()
            self.recorder = None
        super().reject()

    def _busy(self, busy: bool, path: Path | None = None) -> None:
        """Show the choices as text while recording (:attr:`summary`), editable otherwise."""
        if busy:
            amount = f"{self.steps.value():,}" if self.by_steps else f"{self.seconds.value():g}"
            self.summary["format"].setText(self.format.currentText())
            self.summary["length"].setText(f"{amount} {self.unit.currentText()}")
            self.summary["file"].setText(str(path if path is not None else self.path.text()))
        self.rows.setCurrentIndex(1 if busy else 0)
        self.start_button.setEnabled(not busy)
        self.cancel_button.setText("Cancel" if busy else "Close")

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(min(done, total))

    def _pause_again(self) -> None:
        """Pause training again if Start pressed Play (the view stays at the last frame)."""
        if self._pressed_play and not self._paused():
            self.main_window.transport.play.click()
        self._pressed_play = False

    def _on_finished(self, recording: Recording) -> None:
        self._pause_again()
        self.recording = recording
        self.recorder = None
        self._busy(False)
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        frames = "1 frame" if recording.frames == 1 else f"{recording.frames} frames"
        self.message.setText(f"Saved {recording.path} ({frames}).")

    def _on_failed(self, error: str) -> None:
        self._pause_again()
        self.recorder = None
        self._busy(False)
        self.message.setText(f"Not saved: {error}")
