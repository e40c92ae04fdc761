"""The paths view of flow matching: the learned sample paths beside the conditional paths
the model trained on, how straight each is, and what 1, 2, 4, ... Euler steps of the
learned field produce."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from .. import theme
from ..qt_util import signals_blocked
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.paths import FlowPaths

__all__ = [
    "PathsView",
    "straightness_text",
    "PATH_LINES",
    "LEARNED_PEN",
    "CONDITIONAL_PEN",
    "START_BRUSH",
]

#: paths drawn per plot (the straightness is measured on all of them)
PATH_LINES = 150
LEARNED_PEN = pg.mkPen(theme.brush(theme.MODEL_COLOR, 90).color(), width=1.5)
CONDITIONAL_PEN = pg.mkPen(theme.brush(theme.DATA_COLOR, 90).color(), width=1.5)
START_BRUSH = pg.mkBrush(60, 60, 60)
DATA_BRUSH = theme.brush(theme.DATA_COLOR, 70)
LEARNED_TITLE = "Learned paths (ODE)"
CONDITIONAL_TITLE = "Conditional paths"
EULER_TITLE = "Euler samples"


#: straightness below this (squared data units) is rounding: shown as 0
ZERO_STRAIGHTNESS = 1e-6


def straightness_text(value: float) -> str:
    """``0`` for rounding-level values, else three significant digits."""
    return "0" if abs(value) < ZERO_STRAIGHTNESS else f"{value:.3g}"


def _connect(k: int, n: int) -> np.ndarray:
    """The ``connect`` array of ``n`` polylines of ``k`` points each, laid end to end."""
    c = np.ones(k * n, dtype=bool)
    c[k - 1 :: k] = False
    return c


def _polylines(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of the paths ``(k, n, 2)``, path after path."""
    flat = np.ascontiguousarray(path.transpose(1, 0, 2)).reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


class PathsView(View):
    """Three plots of the plane: the learned paths (base draws moved by the ODE; grey
    starts, orange ends), the conditional paths of training pairs (grey starts, blue ends),
    each titled with its straightness, and the samples of N Euler steps over the data, N
    chosen by the steps slider (1, 2, 4, ... as stored in the snapshot)."""

    name = "paths"
    title = "Paths"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Euler steps of the sampler: 1, 2, 4, ...")
        self.steps_label = QLabel("")
        self.steps_label.setMinimumWidth(200)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Euler steps"))
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.steps_label)

        self.canvas = pg.GraphicsLayoutWidget()
        self.learned_plot = self._plot(LEARNED_TITLE, 0)
        self.conditional_plot = self._plot(CONDITIONAL_TITLE, 1)
        self.euler_plot = self._plot(EULER_TITLE, 2)
        self.learned = pg.PlotCurveItem(pen=LEARNED_PEN)
        self.conditional = pg.PlotCurveItem(pen=CONDITIONAL_PEN)
        edge = pg.mkPen("w", width=0.5)
        self.learned_starts = pg.ScatterPlotItem(size=4, pen=None, brush=START_BRUSH)
        self.learned_ends = pg.ScatterPlotItem(
            size=6, pen=edge, brush=pg.mkBrush(theme.MODEL_COLOR)
        )
        self.conditional_starts = pg.ScatterPlotItem(size=4, pen=None, brush=START_BRUSH)
        self.conditional_ends = pg.ScatterPlotItem(
            size=6, pen=edge, brush=pg.mkBrush(theme.DATA_COLOR)
        )
        self.data = pg.ScatterPlotItem(size=5, pen=None, brush=DATA_BRUSH)
        self.euler = pg.ScatterPlotItem(size=7, pen=edge, brush=pg.mkBrush(theme.MODEL_COLOR))
        for plot, items in (
            (self.learned_plot, (self.learned, self.learned_starts, self.learned_ends)),
            (
                self.conditional_plot,
                (self.conditional, self.conditional_starts, self.conditional_ends),
            ),
            (self.euler_plot, (self.data, self.euler)),
        ):
            for z, item in enumerate(items, start=1):
                plot.addItem(item)
                item.setZValue(z)
        self.caption = theme.caption_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)

        self._box: tuple[float, float, float, float] | None = None
        self._last: FlowPaths | None = None
        self._data: np.ndarray | None = None
        self.slider.valueChanged.connect(self._redraw)

    def _plot(self, title: str, col: int) -> pg.PlotItem:
        plot = theme.make_plot(title=title)
        theme.set_axis_titles(plot, *theme.DATA_AXES)
        self.canvas.addItem(plot, row=0, col=col)
        # three equal columns, whatever their titles' widths
        plot.setPreferredWidth(100)
        self.canvas.ci.layout.setColumnStretchFactor(col, 1)
        return plot

    @property
    def euler_steps(self) -> int:
        """The Euler step count on show (0 before a snapshot)."""
        f = self._last
        return 0 if f is None else int(f.euler_steps[self.slider.value()])

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._last, self._data = None, None, None
        for curve in (self.learned, self.conditional):
            curve.setData([], [])
        for scatter in (
            self.learned_starts,
            self.learned_ends,
            self.conditional_starts,
            self.conditional_ends,
            self.data,
            self.euler,
        ):
            scatter.clear()
        self.steps_label.setText("")
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.paths`` (a core :class:`FlowPaths`); the steps slider keeps its
        place unless the step counts changed."""
        f = snapshot.paths
        if f is None:
            return
        if f.box != self._box:
            self._box = f.box
            for plot in (self.learned_plot, self.conditional_plot, self.euler_plot):
                theme.fix_range(plot, f.box)
        if not theme.same_array(f.data, self._data):
            self._data = f.data
            if f.data is None:
                self.data.clear()
            else:
                self.data.setData(pos=f.data)
        for curve, starts, ends, path in (
            (self.learned, self.learned_starts, self.learned_ends, f.learned),
            (self.conditional, self.conditional_starts, self.conditional_ends, f.conditional),
        ):
            shown = path[:, :PATH_LINES]
            x, y = _polylines(shown)
            curve.setData(x, y, connect=_connect(shown.shape[0], shown.shape[1]))
            starts.setData(pos=shown[0])
            ends.setData(pos=shown[-1])
        size = f"{theme.FONT_POINTS}pt"
        self.learned_plot.setTitle(
            f"{LEARNED_TITLE}<br>straightness {straightness_text(f.straightness)}", size=size
        )
        self.conditional_plot.setTitle(
            f"{CONDITIONAL_TITLE}<br>straightness {straightness_text(f.conditional_straightness)}",
            size=size,
        )
        last = len(f.euler_steps) - 1
        if self.slider.maximum() != last:
            with signals_blocked(self.slider):
                self.slider.setMaximum(last)
                self.slider.setValue(min(2, last))  # 4 steps: neither exact nor hopeless
        self._last = f
        self._redraw()

    def _redraw(self) -> None:
        f = self._last
        if f is None:
            return
        i = min(self.slider.value(), len(f.euler_steps) - 1)
        n = int(f.euler_steps[i])
        self.euler.setData(pos=f.euler[i])
        word = "step" if n == 1 else "steps"
        self.steps_label.setText(f"N = {n} {word}")
        self.euler_plot.setTitle(f"{EULER_TITLE}<br>N = {n} {word}", size=f"{theme.FONT_POINTS}pt")
        shown = min(PATH_LINES, f.learned.shape[1])
        sampler = f" (the model samples with {f.sampler})" if f.sampler else ""
        self.caption.setText(
            f"Left: {shown} of {f.learned.shape[1]} paths of the learned ODE, solved "
            f"accurately. Straightness: mean over s and paths of "
            f"|x(s) - ((1-s) x(0) + s x(1))|\u00b2 in squared data units (0: straight, exact "
            f"in one Euler step). Right: {n} Euler {word} of the learned field (orange) over "
            f"the data (blue): mean distance {float(f.euler_error[i]):.3g} from the ODE's "
            f"end{sampler}."
        )
