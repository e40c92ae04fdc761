"""The Dirac-GAN view: the (theta, psi) vector field of the chosen loss and regulariser as
arrows, the training trajectory drawn over it, the current point and the equilibrium."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from .base import View
from .critic import arrow_segments

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.dirac_field import DiracField

__all__ = [
    "DiracFieldView",
    "compressed",
    "ARROW_COLOR",
    "PATH_COLOR",
    "POINT_COLOR",
    "EQUILIBRIUM_COLOR",
    "CLIP_COLOR",
    "AXES",
]

ARROW_COLOR = (110, 110, 110)
PATH_COLOR = theme.MODEL_COLOR
POINT_COLOR = theme.MODEL_COLOR
EQUILIBRIUM_COLOR = theme.DATA_COLOR
CLIP_COLOR = theme.CURVE_COLORS[3]
#: the axes: the generator's parameter across, the critic's up
AXES = ("θ  (generator: G(z) = θ)", "ψ  (critic: D(x) = ψ x)")
TITLE = "Training dynamics on the (θ, ψ) plane"
#: arrows are scaled so the longest is this many grid cells long
ARROW_CELLS = 0.9
#: the regulariser as the caption names it
_REGULARIZER_WORDS = {
    "none": "no regulariser",
    "r1": "R1",
    "r2": "R2",
    "wgan-gp": "WGAN-GP penalty",
    "instance-noise": "instance noise",
}


def compressed(field: np.ndarray) -> np.ndarray:
    """``field (m, 2)`` with each vector's length replaced by its square root: slow arrows
    near the equilibrium still show their direction beside fast ones far out."""
    v = np.nan_to_num(np.asarray(field, dtype=np.float64))
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, np.sqrt(norms), out=np.zeros_like(v), where=norms > 0)


class DiracFieldView(View):
    """One square plot pinned to the picture's box: grey arrows of the gradient field
    (one ``connect='pairs'`` curve; lengths grow with the square root of the speed, the
    longest ARROW_CELLS grid cells), the trajectory in
    orange from a hollow start marker to a large filled dot (the current point), the
    equilibrium as a blue star, WGAN's clip lines ``psi = +-1`` dashed; the caption names
    the loss, the updates, the regulariser and the distance to the equilibrium."""

    name = "dirac_field"
    title = "Dirac-GAN"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot(title=TITLE)
        theme.set_axis_titles(self.plot, *AXES)
        self.plot.showGrid(x=True, y=True, alpha=0.12)
        self.canvas.addItem(self.plot)
        self.legend = theme.add_legend(self.plot)
        self.arrows = pg.PlotCurveItem(pen=pg.mkPen(ARROW_COLOR, width=2), connect="pairs")
        self.path = pg.PlotDataItem(
            pen=pg.mkPen(PATH_COLOR, width=theme.LINE_WIDTH), name="training path"
        )
        self.start = pg.ScatterPlotItem(
            size=16, symbol="o", pen=pg.mkPen(PATH_COLOR, width=3), brush=pg.mkBrush(255, 255, 255)
        )
        self.current = pg.ScatterPlotItem(
            size=20, symbol="o", pen=pg.mkPen("k", width=2), brush=pg.mkBrush(POINT_COLOR)
        )
        self.equilibrium = pg.ScatterPlotItem(
            size=26, symbol="star", pen=pg.mkPen("k", width=1), brush=pg.mkBrush(EQUILIBRIUM_COLOR)
        )
        clip_pen = pg.mkPen(CLIP_COLOR, width=2, style=Qt.PenStyle.DashLine)
        self.clip_lines = [pg.InfiniteLine(angle=0, pen=clip_pen) for _ in range(2)]
        self.path.setDownsampling(auto=True, method="subsample")
        for z, item in enumerate((self.arrows, self.path, self.start, self.equilibrium)):
            item.setZValue(z)
            self.plot.addItem(item)
        self.current.setZValue(10)
        self.equilibrium.setZValue(11)  # the star stays visible when training reaches it
        self.plot.addItem(self.current)
        self.legend.addItem(self.current, "now (θ, ψ)")
        self.legend.addItem(self.equilibrium, "equilibrium (0, 0)")
        for line in self.clip_lines:
            line.setVisible(False)
            self.plot.addItem(line)
        self.headline = theme.headline_label()
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        self._box: tuple[float, float, float, float] | None = None
        self.arrow_count = 0
        self.field: DiracField | None = None

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self.field, self.arrow_count = None, None, 0
        self.arrows.setData([], [])
        self.path.setData([], [])
        for scatter in (self.start, self.current, self.equilibrium):
            scatter.clear()
        for line in self.clip_lines:
            line.setVisible(False)
        self.headline.setText("")
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.dirac_field`` (a core :class:`DiracField`)."""
        f = snapshot.dirac_field
        if f is None:
            return
        self.field = f
        if f.box != self._box:
            self._box = f.box
            theme.fix_range(self.plot, f.box)
        cell = (f.box[1] - f.box[0]) / max(int(np.sqrt(len(f.starts))) - 1, 1)
        xs, ys = arrow_segments(f.starts, compressed(f.field), ARROW_CELLS * cell)
        self.arrows.setData(xs, ys)
        self.arrow_count = len(f.starts)
        self.path.setData(f.trajectory[:, 0], f.trajectory[:, 1])
        self.start.setData(pos=f.trajectory[:1])
        self.current.setData(pos=f.point[None])
        self.equilibrium.setData(pos=f.equilibrium[None])
        for line, level in zip(self.clip_lines, (1.0, -1.0), strict=True):
            line.setVisible(f.clip is not None)
            if f.clip is not None:
                line.setValue(level * f.clip)
        self.headline.setText(f"distance to (0, 0): {f.distance:.3g}  at step {snapshot.step:,}")
        self.caption.setText(self._caption(f))

    @staticmethod
    def _caption(f: DiracField) -> str:
        reg = _REGULARIZER_WORDS.get(f.regularizer, f.regularizer)
        if f.regularizer in ("r1", "r2", "wgan-gp"):
            reg += f" (γ = {f.gamma:g})"
        elif f.regularizer == "instance-noise":
            reg += f" (σ = {f.noise_std:g}; the arrows average the noise out)"
        clip = "; dashed: WGAN clips |ψ| ≤ 1" if f.clip is not None else ""
        return (
            f"{f.loss} loss, {f.updates} gradient steps of h = {f.lr:g}, {reg}. "
            "Arrows: where training moves (θ, ψ), longer where faster; orange: the path "
            f"from the start (hollow circle) to now{clip}."
        )
