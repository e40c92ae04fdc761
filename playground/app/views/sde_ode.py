"""The "SDE vs ODE" view: particles of the reverse-time SDE (left) and of the
probability-flow ODE (right) from the same noise, side by side, with a time slider."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from ..qt_util import signals_blocked
from .base import View
from .time_controls import Sweep, time_controls

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.sde_ode import SDEvsODE

__all__ = ["SDEvsODEView", "SDE_TITLE", "ODE_TITLE", "particle_colors"]

SDE_TITLE = "reverse-time SDE (Euler-Maruyama)"
ODE_TITLE = "probability-flow ODE (RK4)"
#: a sweep from the noise to the sample takes about this long; never faster than MIN_TICK_MS
SWEEP_MS, MIN_TICK_MS = 4000, 40
#: the particles' hue is the angle of their common start, so one particle has one colour
#: in both plots
HUE_SATURATION, HUE_VALUE = 200, 215
DATA_BRUSH = pg.mkBrush(150, 150, 150, 70)


def particle_colors(start: np.ndarray) -> list[QColor]:
    """One colour per particle ``start (n, 2)``: the hue of its angle about the origin."""
    angles = np.arctan2(start[:, 1], start[:, 0])
    hues = ((angles + np.pi) / (2 * np.pi) * 359).astype(int) % 360
    return [QColor.fromHsv(int(h), HUE_SATURATION, HUE_VALUE) for h in hues]


class SDEvsODEView(View):
    """Two plots fixed to the data box: the reverse-SDE particles and the probability-flow
    ODE particles at the slider's time, each particle coloured by where its common start
    lies, grey data underneath. The slider runs from the sample (left) to the noise
    (right); *Play* sweeps from the noise to the sample. Moving it redraws from the
    snapshot's arrays only; a new snapshot keeps the slider."""

    name = "sde_ode"
    title = "SDE vs ODE"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        controls = time_controls(
            "Sweep the time from the noise to the sample once",
            "Time: 0 is the sample (left), the right end is the noise",
            260,
        )
        self.play, self.slider, self.time_label = controls.play, controls.slider, controls.label
        top = controls.row

        self.canvas = pg.GraphicsLayoutWidget()
        self.plots, self.data_items, self.particles = [], [], []
        for col, title in enumerate((SDE_TITLE, ODE_TITLE)):
            plot = theme.make_plot(title=title)
            theme.set_axis_titles(plot, *theme.DATA_AXES)
            self.canvas.addItem(plot, 0, col)
            data = pg.ScatterPlotItem(size=5, pen=None, brush=DATA_BRUSH)
            particles = pg.ScatterPlotItem(size=7, pen=pg.mkPen("w", width=0.6))
            particles.setZValue(5)
            plot.addItem(data)
            plot.addItem(particles)
            self.plots.append(plot)
            self.data_items.append(data)
            self.particles.append(particles)
        self.caption = theme.caption_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)

        self._sweep = Sweep(self.play, self.slider, lambda: False, self)
        self._timer = self._sweep.timer
        self._box: tuple[float, float, float, float] | None = None
        self._last: SDEvsODE | None = None
        self._data_array: np.ndarray | None = None
        self._brushes: list = []
        self.slider.valueChanged.connect(self._redraw)

    @property
    def steps(self) -> int:
        """``K``, the last index of the drawn paths."""
        return self.slider.maximum()

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self.play.setChecked(False)
        self._box, self._last, self._data_array, self._brushes = None, None, None, []
        for item in (*self.data_items, *self.particles):
            item.clear()
        self.time_label.setText("")
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.sde_ode`` (a core :class:`SDEvsODE`) at the slider's time; a new
        picture of as many steps keeps the slider, another starts it at the noise."""
        d = snapshot.sde_ode
        if d is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            for plot in self.plots:
                theme.fix_range(plot, snapshot.box)
        K = d.sde.shape[0] - 1
        if self.slider.maximum() != K:
            with signals_blocked(self.slider):
                self.slider.setMaximum(K)
                self.slider.setValue(K)
            interval = max(MIN_TICK_MS, SWEEP_MS // max(K, 1))
            self._sweep.stride = max(1, round(K * interval / SWEEP_MS))
            self._timer.setInterval(interval)
        if not theme.same_array(d.data, self._data_array):
            self._data_array = d.data
            for item in self.data_items:
                if d.data is None:
                    item.clear()
                else:
                    item.setData(pos=d.data)
        self._brushes = [pg.mkBrush(c) for c in particle_colors(d.ode[K])]
        self._last = d
        self._redraw()

    def _redraw(self) -> None:
        d = self._last
        if d is None:
            return
        k = min(self.slider.value(), d.sde.shape[0] - 1)
        self.particles[0].setData(pos=d.sde[k], brush=self._brushes)
        self.particles[1].setData(pos=d.ode[k], brush=self._brushes)
        std = float(d.noise_std[k])
        self.time_label.setText(f"{d.labels[k]}   (noise std {std:.2f})")
        sde_name = "VP SDE (DDPM)" if d.kind == "ddpm" else "VE SDE (NCSN)"
        self.caption.setText(
            f"{sde_name}: both start from the same noise (colour = where each particle "
            f"starts); left adds fresh noise every step, right is deterministic. Time "
            f"{float(d.times[k]):.3f} of 1; {len(d.labels) - 1} steps, the last is "
            f"Tweedie's denoising"
        )
