"""The ODE flow view: a continuous-time flow at any time s, with a time slider and Play in
both directions: particles and a warped grid, the vector field dx/ds as arrows, and the
flow's density log p_s(x) behind them."""

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
from .base import View
from .critic import arrow_segments
from .time_controls import Sweep, time_controls

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.ode_flow import OdeFlow

__all__ = ["OdeFlowView", "DENSITY_COLORMAP", "TIME_TICKS", "capped_arrows"]

#: the time slider's ticks from s = 0 to 1 (the view interpolates the stored paths)
TIME_TICKS = 400
#: Play sweeps s from one end to the other in about SWEEP_MS, a frame every TICK_MS
SWEEP_MS, TICK_MS = 4000, 40
#: the colour scale shows the top LOG_RANGE nats of log p_s over all stored times
LOG_RANGE = 8.0
#: white (no mass) to a soft blue-grey: orange particles, grey grid and black arrows stay
#: legible over every level
DENSITY_COLORMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (120, 135, 170)])
BAR_LABEL = "log p_s(x) [nats]"
#: the arrow of the 95th percentile of |dx/ds| over all stored times is ARROW_CELLS arrow
#: grid cells long (one scale for every s, so speeds compare over time); longer ones are
#: capped at ARROW_CAP_CELLS
ARROW_CELLS, ARROW_CAP_CELLS, REFERENCE_PERCENTILE = 0.9, 1.3, 95.0
ARROW_PEN = pg.mkPen((20, 20, 20), width=2)
GRID_PEN = pg.mkPen(theme.GRID_COLOR, width=1.5)
DATA_BRUSH = theme.brush(theme.DATA_COLOR, 70)
DIRECTIONS = ("base \u2192 data  (sampling)", "data \u2192 base  (density)")


def capped_arrows(
    start: np.ndarray, field: np.ndarray, scale: float, cap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arrow segments ``(x, y)`` for ``connect='pairs'`` of ``field * scale`` from ``start``
    (both ``(n, 2)``), each at most ``cap`` long (plot units)."""
    d = np.nan_to_num(np.asarray(field, dtype=np.float64)) * scale
    norms = np.linalg.norm(d, axis=1)
    d = d * np.minimum(1.0, cap / np.maximum(norms, 1e-300))[:, None]
    # arrow_segments scales its longest arrow to ``length``: give it the longest as is
    return arrow_segments(start, d, float(np.linalg.norm(d, axis=1).max(initial=0.0)))


class OdeFlowView(View):
    """One plot of the plane at time ``s``: the density heatmap (nearest stored time), the
    grid and the particles (linearly interpolated between the stored times), the arrows
    (nearest stored time), light data points; a time slider, *Play* (in the direction
    chosen) and checkboxes for the density, the grid and the field. Moving the slider
    redraws from the snapshot's arrays only; a new snapshot keeps the slider."""

    name = "ode_flow"
    title = "ODE flow"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.direction = QComboBox()
        self.direction.addItems(DIRECTIONS)
        self.direction.setToolTip("Play from the base to the data, or from the data back")
        controls = time_controls(
            "Sweep the time slider once in the chosen direction",
            "Time s: 0 is the base N(0, I), 1 is the data",
            170,
            leading=self.direction,
        )
        self.play, self.slider, self.time_label = controls.play, controls.slider, controls.label
        self.slider.setRange(0, TIME_TICKS)
        self.slider.setValue(TIME_TICKS)
        self.time_label.setText("s = 1.00")
        top = controls.row

        self.show_density = QCheckBox("density log p_s")
        self.show_grid = QCheckBox("grid")
        self.show_field = QCheckBox("field dx/ds")
        for box in (self.show_density, self.show_grid, self.show_field):
            box.setChecked(True)
        # the caption has a row of its own: beside the checkboxes it took four lines
        self.caption = theme.caption_label()
        bottom = QHBoxLayout()
        for box in (self.show_density, self.show_grid, self.show_field):
            bottom.addWidget(box)
        bottom.addStretch(1)

        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(
            DENSITY_COLORMAP, BAR_LABEL
        )
        self.plot.setTitle("Flow at time s: particles, grid, field", size=f"{theme.FONT_POINTS}pt")
        self.data = pg.ScatterPlotItem(size=5, pen=None, brush=DATA_BRUSH)
        self.grid = pg.PlotCurveItem(pen=GRID_PEN)
        self.arrows = pg.PlotCurveItem(pen=ARROW_PEN, connect="pairs")
        self.particles = pg.ScatterPlotItem(
            size=8, pen=pg.mkPen("w", width=0.5), brush=pg.mkBrush(theme.MODEL_COLOR)
        )
        for z, item in enumerate((self.data, self.grid, self.arrows, self.particles), start=1):
            self.plot.addItem(item)
            item.setZValue(z)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.caption)

        self._sweep = Sweep(
            self.play, self.slider, lambda: self.direction.currentIndex() == 0, self
        )
        self._sweep.stride = max(1, round(TIME_TICKS * TICK_MS / SWEEP_MS))
        self._timer = self._sweep.timer
        self._timer.setInterval(TICK_MS)
        self._box: tuple[float, float, float, float] | None = None
        self._last: OdeFlow | None = None
        self._data: np.ndarray | None = None
        self._density_index = -1
        self._levels: tuple[float, float] | None = None
        self._arrow_scale, self._cell = 0.0, 1.0
        self._connect: np.ndarray | None = None
        self.slider.valueChanged.connect(self._redraw)
        for box in (self.show_density, self.show_grid, self.show_field):
            box.toggled.connect(self._redraw)

    @property
    def time(self) -> float:
        """The time ``s`` on show, in ``[0, 1]``."""
        return self.slider.value() / TIME_TICKS

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self.play.setChecked(False)
        self._box, self._last, self._data = None, None, None
        self._density_index, self._levels = -1, None
        self.image.clear()
        self.grid.setData([], [])
        self.arrows.setData([], [])
        self.particles.clear()
        self.data.clear()
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.ode_flow`` (a core :class:`OdeFlow`) at the slider's time."""
        f = snapshot.ode_flow
        if f is None:
            return
        if f.box != self._box:
            self._box = f.box
            theme.fix_range(self.plot, f.box)
        if not theme.same_array(f.data, self._data):
            self._data = f.data
            if f.data is None:
                self.data.clear()
            else:
                self.data.setData(pos=f.data)
        self._density_index = -1
        has_density = len(f.density_times) > 0
        if has_density:
            high = math.ceil(float(f.density.max()) * 2) / 2
            self._levels = (high - LOG_RANGE, high)
        else:  # a source without an exact density: no shading, no colour bar
            self.image.clear()
        self.bar.setVisible(has_density)
        self.show_density.setEnabled(has_density)
        norms = np.linalg.norm(f.field, axis=2)
        reference = float(np.percentile(norms, REFERENCE_PERCENTILE)) if norms.size else 0.0
        cell = min(
            (f.arrow_xs[-1] - f.arrow_xs[0]) / max(len(f.arrow_xs) - 1, 1),
            (f.arrow_ys[-1] - f.arrow_ys[0]) / max(len(f.arrow_ys) - 1, 1),
        )
        self._cell = float(cell)
        ok = np.isfinite(reference) and reference > 0
        self._arrow_scale = ARROW_CELLS * cell / reference if ok else 0.0
        self._last = f
        self._redraw()

    # ---------------------------------------------------------------- playing
    # ---------------------------------------------------------------- drawing
    def _redraw(self) -> None:
        f = self._last
        if f is None:
            return
        s = self.time
        # the stored times are equally spaced: interpolate between the two around s
        pos = s * (len(f.times) - 1)
        i = min(int(math.floor(pos)), len(f.times) - 2)
        w = pos - i
        particles = (1.0 - w) * f.particles[i] + w * f.particles[i + 1]
        self.particles.setData(pos=particles)

        self.grid.setVisible(self.show_grid.isChecked())
        if self.show_grid.isChecked():
            grid = (1.0 - w) * f.grid[i] + w * f.grid[i + 1]
            lines, per_line, _ = grid.shape
            if self._connect is None or self._connect.size != lines * per_line:
                self._connect = np.ones(lines * per_line, dtype=bool)
                self._connect[per_line - 1 :: per_line] = False
            flat = grid.reshape(-1, 2)
            self.grid.setData(flat[:, 0], flat[:, 1], connect=self._connect)

        j = int(np.argmin(np.abs(f.field_times - s)))
        self.arrows.setVisible(self.show_field.isChecked())
        if self.show_field.isChecked():
            gx, gy = np.meshgrid(f.arrow_xs, f.arrow_ys)
            start = np.stack([gx.ravel(), gy.ravel()], 1)
            cap = ARROW_CAP_CELLS * self._cell
            x, y = capped_arrows(start, f.field[j], self._arrow_scale, cap)
            self.arrows.setData(x, y, connect="pairs")

        has_density = len(f.density_times) > 0
        self.image.setVisible(self.show_density.isChecked() and has_density)
        if has_density:
            k = int(np.argmin(np.abs(f.density_times - s)))
            if k != self._density_index:
                self._density_index = k
                self._set_density(f, k)
            shading = (
                f"shading: log p_s at s = {float(f.density_times[k]):.3g} "
                f"(the nearest of {len(f.density_times)} stored times"
            )
            # a preview reuses the last frames while training plays: say of which step
            older = f.density_step < f.step
            shading += f", of step {f.density_step:,})" if older else ")"
        else:
            shading = "no shading: the source has no exact density, so neither has p_s"

        where = "the base" if s == 0.0 else "the data" if s == 1.0 else "between"
        self.time_label.setText(f"s = {s:.2f}  ({where})")
        parts = [
            f"particles and grid: base draws moved by the ODE to s = {s:.2f} "
            f"({f.nfe} evaluations for s = 0 to 1)",
            f"arrows: dx/ds at s = {float(f.field_times[j]):.3g}",
            shading,
        ]
        self.caption.setText("; ".join(parts))

    def _set_density(self, f: OdeFlow, k: int) -> None:
        levels = self._levels or (-LOG_RANGE, 0.0)
        self.image.setImage(f.density[k], levels=levels, autoLevels=False)
        if tuple(self.bar.levels()) != levels:
            self.bar.setLevels(levels)
        x0, x1, y0, y1 = float(f.xs[0]), float(f.xs[-1]), float(f.ys[0]), float(f.ys[-1])
        dx, dy = (x1 - x0) / (len(f.xs) - 1), (y1 - y0) / (len(f.ys) - 1)
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy))
