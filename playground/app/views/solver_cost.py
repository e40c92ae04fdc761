"""The solver cost view: the function evaluations (NFE) of a continuous flow's ODE solves
per training step, and the wall time (and peak memory, where measured) of a step against
its NFE, with or without the adjoint method."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from .base import View
from .curve_panel import nice_above

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.solver_cost import SolverCost

__all__ = ["SolverCostView", "FORWARD_COLOR", "BACKWARD_COLOR", "ADJOINT_COLOR", "BACKPROP_COLOR"]

FORWARD_COLOR, BACKWARD_COLOR = theme.CURVE_COLORS[0], theme.CURVE_COLORS[1]
#: the steps of the cost plots: with the adjoint (purple) or by backpropagation (green)
ADJOINT_COLOR, BACKPROP_COLOR = theme.CURVE_COLORS[3], theme.CURVE_COLORS[2]
NFE_TITLE = "Function evaluations per training step"
TIME_TITLE = "Seconds per step against NFE"
MEMORY_TITLE = "Peak memory against NFE"
NO_NFE = "no NFE recorded yet:\ntrain a few steps"
NO_TIME = "no time per step recorded\n(history term step_seconds)"
NO_MEMORY = "no peak memory\n(the caption says why)"
#: y axes reach this times the largest value: the legend in the top-left corner keeps
#: above the curves
HEADROOM = 1.4


def _nice_range(values: list[np.ndarray], headroom: float = 1.0) -> float:
    """A steady upper end for an axis from 0 that holds every value times ``headroom``
    (see :func:`~.curve_panel.nice_above`)."""
    finite = [v[np.isfinite(v)] for v in values if len(v)]
    top = max((float(v.max()) for v in finite if len(v)), default=1.0)
    return nice_above(max(top * headroom, 1e-9))


class SolverCostView(View):
    """Left: forward NFE (orange) and backward NFE (blue, the adjoint's backward solve)
    against the training step. Right: each step's seconds against its total NFE, purple
    where it used the adjoint and green where it backpropagated through the solver; below
    it, the peak memory the same way where the model records it. The caption names the
    solver, the adjoint setting and why memory is missing."""

    name = "solver_cost"
    title = "Solver cost"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.nfe_plot = self._plot(NFE_TITLE, "step", "NFE (evaluations of f)", 0, 0, rowspan=2)
        self.time_plot = self._plot(TIME_TITLE, "NFE per step (forward + backward)", "s", 0, 1)
        self.memory_plot = self._plot(
            MEMORY_TITLE, "NFE per step (forward + backward)", "MiB", 1, 1
        )
        self.nfe_legend = theme.add_legend(self.nfe_plot)
        self.forward = pg.PlotDataItem(
            pen=pg.mkPen(FORWARD_COLOR, width=theme.LINE_WIDTH), name="forward solve"
        )
        # dashed and on top: where both solves take as many evaluations, both colours show
        backward_pen = pg.mkPen(BACKWARD_COLOR, width=theme.LINE_WIDTH, style=Qt.PenStyle.DashLine)
        self.backward = pg.PlotDataItem(pen=backward_pen, name="backward (adjoint) solve")
        self.backward.setZValue(1)
        for item in (self.forward, self.backward):
            item.setDownsampling(auto=True, method="mean")
            self.nfe_plot.addItem(item)
        self.time_legend = theme.add_legend(self.time_plot)
        self.time_points: dict[bool, pg.ScatterPlotItem] = {}
        self.memory_points: dict[bool, pg.ScatterPlotItem] = {}
        for adjoint, color, label in (
            (True, ADJOINT_COLOR, "adjoint"),
            (False, BACKPROP_COLOR, "backprop through solver"),
        ):
            for plot, store in (
                (self.time_plot, self.time_points),
                (self.memory_plot, self.memory_points),
            ):
                scatter = pg.ScatterPlotItem(
                    size=7, pen=None, brush=theme.brush(color, 150), name=label
                )
                plot.addItem(scatter)
                store[adjoint] = scatter
        self.nfe_message = pg.TextItem("", color="k", anchor=(0.5, 0.5))
        self.time_message = pg.TextItem("", color="k", anchor=(0.5, 0.5))
        self.memory_message = pg.TextItem("", color="k", anchor=(0.5, 0.5))
        for plot, text in (
            (self.nfe_plot, self.nfe_message),
            (self.time_plot, self.time_message),
            (self.memory_plot, self.memory_message),
        ):
            text.setFont(self.font())
            plot.addItem(text)
            text.setPos(0.5, 0.5)
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        self._last: SolverCost | None = None

    def _plot(
        self, title: str, x: str, y: str, row: int, col: int, rowspan: int = 1
    ) -> pg.PlotItem:
        plot = theme.make_plot(title=title)
        theme.set_axis_titles(plot, x, y)
        plot.showGrid(x=True, y=True, alpha=0.3)
        box = plot.getViewBox()
        box.setMouseEnabled(x=False, y=False)
        box.disableAutoRange()
        self.canvas.addItem(plot, row=row, col=col, rowspan=rowspan)
        # two equal columns, whatever their titles' widths
        plot.setPreferredWidth(100)
        self.canvas.ci.layout.setColumnStretchFactor(col, 1)
        return plot

    def clear(self) -> None:
        """Forget the session's picture."""
        self._last = None
        self.forward.setData([], [])
        self.backward.setData([], [])
        for scatter in (*self.time_points.values(), *self.memory_points.values()):
            scatter.clear()
        for message in (self.nfe_message, self.time_message, self.memory_message):
            message.setText("")
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.solver_cost`` (a core :class:`SolverCost`)."""
        c = snapshot.solver_cost
        if c is None:
            return
        self._last = c
        self.forward.setData(c.steps, c.nfe)
        self.backward.setData(c.backward_steps, c.nfe_backward)
        last = max([float(c.steps[-1])] if len(c.steps) else [1.0])
        self.nfe_plot.setXRange(0.0, nice_above(max(last, 1.0)), padding=0.0)
        top = _nice_range([c.nfe, c.nfe_backward], HEADROOM)
        self.nfe_plot.setYRange(0.0, top, padding=0.0)
        self._message(self.nfe_plot, self.nfe_message, "" if len(c.steps) else NO_NFE)
        self.nfe_legend.setVisible(len(c.steps) > 0)

        flags = c.adjoint_flags
        if flags is None:  # the history does not say: the setting now
            flags = np.full(len(c.cost_steps), bool(c.adjoint))
        for adjoint in (True, False):
            mine = flags == adjoint
            self.time_points[adjoint].setData(c.cost_nfe[mine], c.seconds[mine])
            if c.memory_mb is not None:
                self.memory_points[adjoint].setData(c.cost_nfe[mine], c.memory_mb[mine])
        x_end = _nice_range([c.cost_nfe])
        for plot, values in ((self.time_plot, c.seconds), (self.memory_plot, c.memory_mb)):
            plot.setXRange(0.0, x_end, padding=0.0)
            if values is not None:
                plot.setYRange(0.0, _nice_range([values], HEADROOM), padding=0.0)
        self._message(self.time_plot, self.time_message, "" if len(c.seconds) else NO_TIME)
        self.time_legend.setVisible(len(c.seconds) > 0)
        memory = NO_MEMORY if c.memory_mb is None else ""
        self._message(self.memory_plot, self.memory_message, memory)
        self.caption.setText(self._caption(c))

    def _message(self, plot: pg.PlotItem, item: pg.TextItem, text: str) -> None:
        """Show ``text`` in the middle of ``plot`` (or nothing when empty); the legend
        hides while the plot has nothing to show."""
        item.setText(text)
        (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
        item.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    @staticmethod
    def _caption(c: SolverCost) -> str:
        solver = c.solver or "the solver"
        if c.adjoint is None:
            setting = ""
        elif c.adjoint:
            setting = "adjoint ON: gradients by a second, backward solve (memory flat in NFE)"
        else:
            setting = (
                "adjoint OFF: backpropagation through the solver's steps (no backward NFE; "
                "memory grows with NFE)"
            )
        latest = f"latest step: {c.nfe[-1]:.0f} forward evaluations" if len(c.nfe) else ""
        if len(c.nfe_backward) and len(c.backward_steps) and len(c.steps):
            if c.backward_steps[-1] == c.steps[-1]:
                latest += f", {c.nfe_backward[-1]:.0f} backward"
        parts = [f"solver {solver}", setting, latest, c.memory_note]
        return "; ".join(p for p in parts if p) + "."
