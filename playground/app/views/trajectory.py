"""The trajectory view: a flow's warped grid and particles after each layer, with a slider."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from ..qt_util import signals_blocked
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["TrajectoryView"]

#: half-width of the base grid that the core pushes through the flow (N(0, I) lives there)
BASE_HALF_WIDTH = 3.0
#: slider ticks per second while animating
ANIMATION_FPS = 4


class TrajectoryView(View):
    """Warped grid (one ``PlotCurveItem`` with a ``connect`` array) and particles per layer.

    The slider picks the depth: 0 is the base space for ``z -> x`` (sampling) and the
    data space for ``x -> z`` (density evaluation). *Animate* sweeps the slider once.
    """

    name = "trajectory"
    title = "Trajectories"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.direction = QComboBox()
        self.direction.addItems(["z \u2192 x  (sampling)", "x \u2192 z  (density)"])
        self.direction.setToolTip("Push base samples to data space, or data points to base space")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Layer: 0 is where the particles start")
        self.animate = QPushButton("Animate")
        self.animate.setCheckable(True)
        self.animate.setToolTip("Sweep the slider through every layer")
        self.layer_label = QLabel("layer 0")
        self.layer_label.setMinimumWidth(260)
        bar = QHBoxLayout()
        bar.addWidget(self.direction)
        bar.addWidget(self.animate)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.layer_label)

        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        self._axes = theme.DATA_AXES
        theme.set_axis_titles(self.plot, *self._axes)
        self.canvas.addItem(self.plot)
        self.grid = pg.PlotCurveItem(pen=pg.mkPen(theme.GRID_COLOR, width=2))
        brush = pg.mkBrush(theme.MODEL_COLOR)
        self.particles = pg.ScatterPlotItem(size=8, pen=pg.mkPen("w", width=0.5), brush=brush)
        self.plot.addItem(self.grid)
        self.plot.addItem(self.particles)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(1000 // ANIMATION_FPS)
        self._timer.timeout.connect(self._advance)
        self._box: tuple[float, float, float, float] | None = None
        self._last = None
        self._connect: np.ndarray | None = None
        self.slider.valueChanged.connect(self._redraw)
        self.direction.currentIndexChanged.connect(self._redraw)
        self.animate.toggled.connect(self._toggle_animation)

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._last = None, None
        self.animate.setChecked(False)
        self.grid.clear()
        self.particles.clear()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.trajectory`` (a core :class:`Trajectory`)."""
        t = snapshot.trajectory
        if t is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            xmin, xmax, ymin, ymax = snapshot.box
            b = BASE_HALF_WIDTH
            theme.fix_range(self.plot, (min(xmin, -b), max(xmax, b), min(ymin, -b), max(ymax, b)))
        depth = t.grid.shape[0] - 1
        if self.slider.maximum() != depth:
            at_end = self._last is None or self.slider.value() == self.slider.maximum()
            with signals_blocked(self.slider):
                self.slider.setMaximum(depth)
                if at_end:
                    self.slider.setValue(depth)
        self._last = t
        self._redraw()

    @property
    def depth(self) -> int:
        """The number of layers of the drawn flow."""
        return self.slider.maximum()

    def _toggle_animation(self, on: bool) -> None:
        if on:
            self.slider.setValue(0)
            self._timer.start()
        else:
            self._timer.stop()

    def _advance(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.animate.setChecked(False)
        else:
            self.slider.setValue(self.slider.value() + 1)

    def _redraw(self) -> None:
        t = self._last
        if t is None:
            return
        k, depth = self.slider.value(), self.depth
        sampling = self.direction.currentIndex() == 0
        # the grid lives in the same space as the particles: depth k of x -> z is z -> x's L - k
        grid = t.grid[k if sampling else depth - k]
        points = (t.inverse if sampling else t.forward)[k]
        lines, per_line, _ = grid.shape
        if self._connect is None or self._connect.size != lines * per_line:
            self._connect = np.ones(lines * per_line, dtype=bool)
            self._connect[per_line - 1 :: per_line] = False
        flat = grid.reshape(-1, 2)
        self.grid.setData(flat[:, 0], flat[:, 1], connect=self._connect)
        self.particles.setData(pos=points)
        self.layer_label.setText(self._describe(t.layer_names, k, depth, sampling))
        # the plane is the base space at one end, the data space at the other
        base = k == 0 if sampling else k == depth
        data = k == depth if sampling else k == 0
        axes = ("z1", "z2") if base else theme.DATA_AXES if data else ("h1", "h2")
        if axes != self._axes:
            self._axes = axes
            theme.set_axis_titles(self.plot, *axes)

    @staticmethod
    def _describe(names: tuple[str, ...], k: int, depth: int, sampling: bool) -> str:
        if k == 0:
            return f"0 / {depth}: {'base z' if sampling else 'data x'}"
        i = k - 1 if sampling else depth - k
        name = names[i] if i < len(names) else f"layer {i + 1}"
        if not sampling:
            name += "\u207b\u00b9"
        if k == depth:
            name += f"  \u2192 {'data x' if sampling else 'base z'}"
        return f"{k} / {depth}: {name}"
