"""The row above a view that plays through time ([leading widget] Play, a slider, a label)
and the sweep its Play button runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

__all__ = ["TimeControls", "time_controls", "Sweep"]


@dataclass
class TimeControls:
    """The widgets of :func:`time_controls` and the row that holds them."""

    play: QPushButton
    slider: QSlider
    label: QLabel
    row: QHBoxLayout


def time_controls(
    play_tip: str, slider_tip: str, label_width: int, leading: QWidget | None = None
) -> TimeControls:
    """A checkable *Play* button, a horizontal slider (range ``0..0`` until a snapshot sets
    it, page step 1) and a label of at least ``label_width`` pixels, in one row after
    ``leading`` (a direction box, say) when given.

    Arguments:
        play_tip: the button's tooltip: what one sweep does.
        slider_tip: the slider's tooltip: what its two ends are.
        label_width: the label's minimum width in pixels (it names the current time).
        leading: a widget put first in the row, or ``None``.
    """
    play = QPushButton("Play")
    play.setCheckable(True)
    play.setToolTip(play_tip)
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 0)
    slider.setPageStep(1)
    slider.setToolTip(slider_tip)
    label = QLabel("")
    label.setMinimumWidth(label_width)
    row = QHBoxLayout()
    if leading is not None:
        row.addWidget(leading)
    row.addWidget(play)
    row.addWidget(slider, 1)
    row.addWidget(label)
    return TimeControls(play, slider, label, row)


class Sweep(QObject):
    """What *Play* does on a time slider: every tick of :attr:`timer` the slider moves
    :attr:`stride` positions towards the end ``forward()`` chooses (the maximum, or the
    minimum), and *Play* unchecks itself there. Checking *Play* at that end starts again
    from the other one.

    Arguments:
        play: the checkable button.
        slider: the slider it moves.
        forward: called at every tick: True to move towards the maximum.
        parent: the owner (the view).

    Attributes:
        timer: the tick (its interval is the view's to set, in ms).
        stride: slider positions per tick (>= 1).
    """

    def __init__(
        self,
        play: QPushButton,
        slider: QSlider,
        forward: Callable[[], bool] = lambda: True,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.play, self.slider, self.forward = play, slider, forward
        self.stride = 1
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.advance)
        play.toggled.connect(self.toggle)

    def _end(self, forward: bool) -> int:
        return self.slider.maximum() if forward else self.slider.minimum()

    def toggle(self, on: bool) -> None:
        """Start (from the far end when at this one) or stop the sweep."""
        if not on:
            self.timer.stop()
            return
        forward = self.forward()
        if self.slider.value() == self._end(forward):
            self.slider.setValue(self._end(not forward))
        self.timer.start()

    def advance(self) -> None:
        """One tick: :attr:`stride` positions on; at the end, *Play* is unchecked."""
        forward = self.forward()
        k = self.slider.value() + (self.stride if forward else -self.stride)
        k = min(max(k, self.slider.minimum()), self.slider.maximum())
        self.slider.setValue(k)
        if k == self._end(forward):
            self.play.setChecked(False)
