"""The row above a view that plays through time: [leading widget] Play, a slider, a label."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

__all__ = ["TimeControls", "time_controls"]


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
