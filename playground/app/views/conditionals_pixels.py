"""The pixel page of the conditionals view: one sample of an autoregressive image model
drawn pixel by pixel (one pixel a frame), the current pixel outlined and its predictive
distribution as bars over the levels; Play, Pause and Restart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from .. import theme
from .time_controls import Sweep, time_controls

if TYPE_CHECKING:
    from ...core.snapshots.conditionals import PixelSampling

__all__ = ["PixelPage", "frame_image", "UNDRAWN_RGB", "TICK_MS", "CURRENT_COLOR"]

#: a frame every TICK_MS: an 8 x 8 digit is drawn in about 6 s
TICK_MS = 90
#: pixels not drawn yet: a pale blue, apart from every grey level of the drawn ones
UNDRAWN_RGB = (190, 210, 235)
#: the current pixel's outline and its drawn level's bar
CURRENT_COLOR = theme.MODEL_COLOR
LEVEL_BRUSH = theme.brush(theme.DATA_COLOR, 150)
#: "<" in a plot title (HTML)
LT = "&lt;"


def frame_image(p: PixelSampling, t: int) -> np.ndarray:
    """The sample after frame ``t``: ``(h, w, 3)`` uint8, the pixels ``order[: t + 1]`` in
    grey (0 black, 1 white), the rest :data:`UNDRAWN_RGB`."""
    h, w = p.image.shape
    rgb = np.empty((h * w, 3), dtype=np.uint8)
    rgb[:] = UNDRAWN_RGB
    drawn = p.order[: t + 1]
    grey = np.clip(np.round(p.image.reshape(-1)[drawn] * 255), 0, 255).astype(np.uint8)
    rgb[drawn] = grey[:, None]
    return rgb.reshape(h, w, 3)


class PixelPage(QWidget):
    """The image so far (left) and the current pixel's ``p(x_i | x_<i)`` (right), a frame
    per pixel. While it plays (or stands mid-way) it keeps the sample it started; a newer
    snapshot's sample is taken at Restart, at Play from the end, or when standing at the
    end (the finished sample then follows training)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.restart = QPushButton("Restart")
        self.restart.setToolTip("Draw the latest sample again from its first pixel")
        controls = time_controls(
            "Draw the sample one pixel per frame (Pause stops it)",
            "The pixels drawn so far, in the model's sampling order",
            200,
            leading=self.restart,
        )
        self.play, self.slider, self.label = controls.play, controls.slider, controls.label
        self.canvas = pg.GraphicsLayoutWidget()
        self.image_plot = theme.make_plot(title="The sample so far")
        for axis in ("left", "bottom"):
            self.image_plot.hideAxis(axis)
        vb = self.image_plot.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        vb.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.outline = pg.PlotCurveItem(pen=pg.mkPen(CURRENT_COLOR, width=4))
        self.outline.setZValue(2)
        self.image_plot.addItem(self.image)
        self.image_plot.addItem(self.outline)
        self.bar_plot = theme.make_plot(title=f"p(x_i | x_{LT}i)")
        theme.set_axis_titles(
            self.bar_plot, "level k (pixel value k / (levels - 1))", "probability"
        )
        for name in ("left", "bottom"):  # ticks as they are (no hidden x1000 scale)
            self.bar_plot.getAxis(name).setSIPrefixEnableRanges(())
        bvb = self.bar_plot.getViewBox()
        bvb.setMouseEnabled(x=False, y=False)
        bvb.disableAutoRange()
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=LEVEL_BRUSH, pen=None)
        self.drawn = pg.BarGraphItem(
            x=[], height=[], width=0.8, brush=theme.brush(CURRENT_COLOR, 220), pen=None
        )
        self.bar_plot.addItem(self.bars)
        self.bar_plot.addItem(self.drawn)
        self.canvas.addItem(self.image_plot, 0, 0)
        self.canvas.addItem(self.bar_plot, 0, 1)
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addLayout(controls.row, 1)
        layout.addLayout(row)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)

        self.shown: PixelSampling | None = None
        self.pending: PixelSampling | None = None
        # before the sweep's own toggle: Play from the end starts on the latest sample
        self.play.toggled.connect(self._play_toggled)
        self.sweep = Sweep(self.play, self.slider, parent=self)
        self.sweep.timer.setInterval(TICK_MS)
        self.slider.valueChanged.connect(self.redraw)
        self.restart.clicked.connect(self.restart_sample)

    @property
    def frame(self) -> int:
        """The frame on show: pixel ``frame`` of the order is the current one."""
        return self.slider.value()

    def _at_end(self) -> bool:
        return self.slider.value() == self.slider.maximum()

    def clear(self) -> None:
        self.play.setChecked(False)
        self.shown = self.pending = None
        self.image.clear()
        self.outline.setData([], [])
        self.bars.setOpts(x=[], height=[])
        self.drawn.setOpts(x=[], height=[])
        self.caption.setText("")

    def show_picture(self, p: PixelSampling) -> None:
        """Keep ``p`` as the latest sample; show it now unless a sample is being drawn."""
        self.pending = p
        if self.shown is None or (not self.play.isChecked() and self._at_end()):
            self._adopt(start_at_end=True)

    def _adopt(self, start_at_end: bool = False) -> None:
        p = self.pending
        if p is None:
            return
        new_shape = self.shown is None or self.shown.image.shape != p.image.shape
        self.shown = p
        d = len(p.order)
        if self.slider.maximum() != d - 1:
            self.slider.setRange(0, d - 1)
        if new_shape:
            h, w = p.image.shape
            self.image_plot.getViewBox().setRange(
                xRange=(-0.5, w + 0.5), yRange=(-0.5, h + 0.5), padding=0.0
            )
            self.bar_plot.setRange(xRange=(-0.6, p.levels - 0.4), yRange=(0, 1.05), padding=0)
        if start_at_end:
            self.slider.setValue(d - 1)
        self.redraw()
        if new_shape:  # after an image is set: setRect scales by the image's size
            self.image.setRect(QRectF(0, 0, p.image.shape[1], p.image.shape[0]))

    def _play_toggled(self, on: bool) -> None:
        if on and self._at_end():
            self._adopt()

    def restart_sample(self) -> None:
        """Take the latest sample and draw it from its first pixel."""
        self._adopt()
        self.slider.setValue(0)
        if not self.play.isChecked():
            self.play.setChecked(True)

    def redraw(self) -> None:
        p = self.shown
        if p is None:
            return
        t = min(self.frame, len(p.order) - 1)
        self.image.setImage(frame_image(p, t), levels=(0, 255), autoLevels=False)
        h, w = p.image.shape
        i = int(p.order[t])
        r, c = divmod(i, w)
        self.outline.setData([c, c + 1, c + 1, c, c], [r, r, r + 1, r + 1, r])
        probs = p.probs[t]
        k = int(p.chosen[i])
        levels = np.arange(p.levels)
        self.bars.setOpts(x=levels, height=probs)
        self.drawn.setOpts(x=[k], height=[probs[k]])
        where = f"row {r}, column {c}" if h > 1 else f"time {c}"
        self.bar_plot.setTitle(
            f"p(x_i | x_{LT}i) of pixel {t + 1} ({where})", size=f"{theme.FONT_POINTS}pt"
        )
        self.label.setText(f"pixel {t + 1} of {len(p.order)}")
        self.caption.setText(
            f"orange outline: the pixel drawn at this frame; bars: its predictive distribution "
            f"given the {t} pixels before it, over {p.levels} levels (orange: the level drawn, "
            f"k = {k}, p = {probs[k]:.3f}); pale blue: pixels not drawn yet; sample of the "
            f"weights of step {p.step:,}"
        )
