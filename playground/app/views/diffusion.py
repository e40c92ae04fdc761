"""Diffusion views: particles scrubbed through the forward and the learned reverse process
over the noised density (2D), and an image model's reverse process as a strip of x_t."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from ..qt_util import signals_blocked
from .base import View
from .images import _ImagePanel, mosaic
from .time_controls import Sweep, time_controls

if TYPE_CHECKING:
    from ...core.snapshots.diffusion import DiffusionProcess

__all__ = ["DiffusionView", "ReverseStripView"]

#: the colour scale shows the top LOG_RANGE nats of log pi(x | k)
LOG_RANGE = 8.0
#: a sweep over all steps takes about this long; never faster than MIN_TICK_MS a frame
SWEEP_MS, MIN_TICK_MS = 4000, 40
#: white (no mass) to a soft slate: the blue and orange particles stay legible over it
DENSITY_COLORMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (120, 120, 150)])
STRIP_TITLE = "Reverse process: x_t, t above each column"
BAR_LABEL = "log \u03c0(x | step) [nats]"
FORWARD_NAME = "\u25cf forward q: data \u2192 noise"
REVERSE_NAME = "\u25cf reverse p\u03b8 (model): noise \u2192 data"


def _step_name(d: DiffusionProcess, k: int) -> str:
    """``t = 37`` or ``sigma_3 = 1.25``; step 0 is ``t = 0`` or ``sigma = 0``."""
    if k == 0:
        return "t = 0" if d.kind == "ddpm" else "sigma = 0"
    return d.labels[k]


class DiffusionView(View):
    """The noised density ``pi(x | k)`` as a heatmap with the particles of both processes
    at step ``k`` over it: the forward process (data points, blue) and the learned reverse
    process (model, orange), both indexed by the same noise level. A slider picks ``k``;
    *Play* sweeps it (forward: 0 to K; reverse: K to 0) and stops at the end. Moving the
    slider redraws from the snapshot's arrays only; a new snapshot keeps the slider."""

    name = "diffusion"
    title = "Diffusion process"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.direction = QComboBox()
        self.direction.addItems(["forward (data \u2192 noise)", "reverse (noise \u2192 data)"])
        self.direction.setToolTip("Play from the data to the noise, or from the noise back")
        controls = time_controls(
            "Sweep the step slider once in the chosen direction",
            "Diffusion step: 0 is the data, the right end is pure noise",
            300,
            leading=self.direction,
        )
        self.play, self.slider, self.step_label = controls.play, controls.slider, controls.label
        top = controls.row

        # the checkboxes, in the particles' colours, are the legend: nothing covers the plot
        self.show_forward = QCheckBox(FORWARD_NAME)
        self.show_reverse = QCheckBox(REVERSE_NAME)
        for box, color in (
            (self.show_forward, theme.DATA_COLOR),
            (self.show_reverse, theme.MODEL_COLOR),
        ):
            box.setChecked(True)
            box.setStyleSheet(f"QCheckBox {{ color: {color.name()}; font-weight: bold; }}")
        self.caption = theme.caption_label(align_right=True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.show_forward)
        bottom.addWidget(self.show_reverse)
        bottom.addWidget(self.caption, 1)

        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(
            DENSITY_COLORMAP, BAR_LABEL
        )
        edge = pg.mkPen("w", width=0.8)
        self.forward = pg.ScatterPlotItem(size=8, pen=edge, brush=pg.mkBrush(theme.DATA_COLOR))
        self.reverse = pg.ScatterPlotItem(size=8, pen=edge, brush=pg.mkBrush(theme.MODEL_COLOR))
        for scatter in (self.forward, self.reverse):
            self.plot.addItem(scatter)
            scatter.setZValue(5)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)

        self._sweep = Sweep(
            self.play, self.slider, lambda: self.direction.currentIndex() == 0, self
        )
        self._timer = self._sweep.timer
        self._box: tuple[float, float, float, float] | None = None
        self._last: DiffusionProcess | None = None
        self._density_index = -1
        self.slider.valueChanged.connect(self._redraw)
        self.show_forward.toggled.connect(self._redraw)
        self.show_reverse.toggled.connect(self._redraw)

    @property
    def steps(self) -> int:
        """``K``, the last step of the drawn process."""
        return self.slider.maximum()

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self.play.setChecked(False)
        self._box, self._last, self._density_index = None, None, -1
        self.image.clear()
        self.forward.clear()
        self.reverse.clear()
        self.step_label.setText("")
        self.caption.setText("")

    def show_snapshot(self, snapshot) -> None:
        """Draw ``snapshot.diffusion`` (a core :class:`DiffusionProcess`) at the slider's
        step; the slider keeps its place unless the number of steps changed."""
        d = getattr(snapshot, "diffusion", None)
        if d is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        K = d.forward.shape[0] - 1
        if self.slider.maximum() != K:
            with signals_blocked(self.slider):
                self.slider.setMaximum(K)
                self.slider.setValue(0)
            interval = max(MIN_TICK_MS, SWEEP_MS // max(K, 1))
            self._sweep.stride = max(1, round(K * interval / SWEEP_MS))
            self._timer.setInterval(interval)
        if d.densities is not getattr(self._last, "densities", None):
            self._density_index = -1
        self._last = d
        self._redraw()

    def _redraw(self) -> None:
        d = self._last
        if d is None:
            return
        k = min(self.slider.value(), d.forward.shape[0] - 1)
        i = int(np.argmin(np.abs(d.density_steps - k)))
        if i != self._density_index:
            self._density_index = i
            self._set_density(d, i)
        self.forward.setData(pos=d.forward[k])
        self.reverse.setData(pos=d.reverse[k])
        self.forward.setVisible(self.show_forward.isChecked())
        self.reverse.setVisible(self.show_reverse.isChecked())
        if k == 0:
            text = f"{_step_name(d, 0)}: {d.labels[0]}"
        elif d.kind == "ddpm":
            text = f"{d.labels[k]}   (noise std {float(d.noise_std[k]):.2f})"
        else:
            text = f"{d.labels[k]}   (level {len(d.labels) - k} of {len(d.labels) - 1})"
        self.step_label.setText(text)
        k_shown = int(d.density_steps[i])
        # step 0 is the exact data density unless its label says it was smoothed
        exact = d.density_exact or (k_shown == 0 and d.labels[0] == "data")
        what = "exact" if exact else "Monte-Carlo"
        self.caption.setText(f"shading: log \u03c0(x | {_step_name(d, k_shown)}) ({what})")

    def _set_density(self, d: DiffusionProcess, i: int) -> None:
        img = d.densities[i]
        high = math.ceil(float(img.max()) * 2) / 2
        levels = (high - LOG_RANGE, high)
        self.image.setImage(img, levels=levels, autoLevels=False)
        if tuple(self.bar.levels()) != levels:
            self.bar.setLevels(levels)
        x0, x1, y0, y1 = float(d.xs[0]), float(d.xs[-1]), float(d.ys[0]), float(d.ys[-1])
        dx, dy = (x1 - x0) / (len(d.xs) - 1), (y1 - y0) / (len(d.ys) - 1)
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))


class ReverseStripView(View):
    """An image model's reverse process: rows of ``x_t`` from ``t = T`` (left) to the
    sample (right), the timesteps above the columns, class labels at the left when each
    row is guided to a class."""

    name = "reverse_strip"
    title = "Reverse process"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.panel = _ImagePanel(self.canvas, STRIP_TITLE, 0, 0)
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)

    @property
    def column_labels(self) -> tuple[str, ...]:
        """The timesteps above the columns."""
        return self.panel.column_labels

    def clear(self) -> None:
        """Forget the session's picture."""
        self.panel.clear()
        self.caption.setText("")

    def show_snapshot(self, snapshot) -> None:
        """Draw ``snapshot.reverse_strip`` (a core :class:`ReverseStrip`)."""
        s = getattr(snapshot, "reverse_strip", None)
        if s is None:
            return
        h, w = s.images.shape[-2:]
        self.panel.set(mosaic(s.images), s.row_labels, tile=h)
        self.panel.set_column_labels(tuple(str(t) for t in s.timesteps), w, h)
        self.caption.setText(s.caption)
