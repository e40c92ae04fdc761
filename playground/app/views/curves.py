"""The curves view: every loss term and evaluation metric against the training step."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["CurvesView"]

#: plots per row
COLUMNS = 2
#: curves with at most this many points are evaluation metrics: draw their points too
SPARSE_POINTS = 200
#: points drawn per curve (longer curves are averaged in bins: readable, cheap to paint)
MAX_DRAWN = 300
#: the y range ignores this leading fraction of a long curve (the first steps' huge losses)
WARMUP_FRACTION = 0.1
#: a metric drawn as a dashed level in another quantity's plot: the target's entropy is the
#: lowest NLL any model can reach
REFERENCES = {"entropy": ("nll", "nll  (dots: held-out; dashed: target entropy)")}
#: held-out metrics drawn as dots in the plot of the training term of the same name
HELDOUT_PREFIXES = ("heldout_", "test_")
#: quantities drawn together in one plot (with a legend): plot title -> curve names
GROUPS = {
    "test NLL, IWAE K = 1, 10, 100": ("iwae_nll_1", "iwae_nll_10", "iwae_nll"),
    "test KL = I(x;z) + KL(q(z)||p(z))": (
        "test_kl",
        "mutual_info",
        "marginal_kl",
    ),
}
GROUP_OF = {name: title for title, names in GROUPS.items() for name in names}


class CurvesView(View):
    """One plot per quantity, created the first time a snapshot names it, then reused.

    Loss terms are recorded every step; metrics such as ``nll``, ``nll_gap`` and
    ``reverse_kl`` appear when the worker first evaluates them.
    """

    name = "curves"
    title = "Curves"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.levels: dict[str, pg.InfiniteLine] = {}

    def clear(self) -> None:
        """Remove every plot (a new session has other quantities)."""
        self.canvas.clear()
        self.plots.clear()
        self.curves.clear()
        self.levels.clear()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.curves``: name to ``(steps, values)``."""
        if snapshot.curves is None:
            return
        for name, (steps, values) in snapshot.curves.items():
            host, label = REFERENCES.get(name, (None, ""))
            if host in snapshot.curves and len(values):
                self._level(name, host, label, float(values[-1]))
                continue
            base = name
            for prefix in HELDOUT_PREFIXES:
                base = base.removeprefix(prefix)
            if name not in GROUP_OF and base != name and base in snapshot.curves:
                self._heldout(name, base, steps, values)
                continue
            if name not in self.curves:
                self._add(name)
            if name in GROUP_OF:
                self.curves[name].setData(steps, values)
                self.curves[name].setSymbol("o" if len(steps) <= SPARSE_POINTS else None)
                group = self.plots[GROUP_OF[name]]
                members = [n for n in GROUPS[GROUP_OF[name]] if n in snapshot.curves]
                all_steps = np.concatenate([snapshot.curves[n][0] for n in members])
                all_values = np.concatenate([snapshot.curves[n][1] for n in members])
                self._fit(group, all_steps, all_values, [])
                continue
            sparse = len(steps) <= SPARSE_POINTS
            curve = self.curves[name]
            curve.setSymbol("o" if sparse else None)
            # a plot is ~500 px wide: at most MAX_DRAWN points, each the mean of its bin
            curve.setDownsampling(ds=max(1, len(steps) // MAX_DRAWN), method="mean")
            curve.setData(steps, values)
            level = [line.value() for n, line in self.levels.items() if REFERENCES[n][0] == name]
            self._fit(self.plots[name], steps, values, level)

    def _heldout(self, name: str, base: str, steps: np.ndarray, values: np.ndarray) -> None:
        if name not in self.curves:
            if base not in self.plots:
                self._add(base)
            plot = self.plots[base]
            self.curves[name] = plot.plot(
                pen=None, symbol="o", symbolSize=10, symbolBrush=pg.mkBrush("k"), symbolPen=None
            )
            plot.setTitle(f"{base}  (dots: held-out)", size=f"{theme.FONT_POINTS + 2}pt")
        self.curves[name].setData(steps, values)

    def _level(self, name: str, host: str, label: str, value: float) -> None:
        if name not in self.levels:
            if host not in self.plots:
                self._add(host)
            line = pg.InfiniteLine(
                angle=0,
                pen=pg.mkPen("k", width=2, style=Qt.PenStyle.DashLine),
            )
            self.plots[host].setTitle(label, size=f"{theme.FONT_POINTS + 2}pt")
            self.plots[host].addItem(line)
            self.levels[name] = line
        self.levels[name].setValue(value)

    def _add(self, name: str) -> None:
        title = GROUP_OF.get(name)
        if title is not None and title in self.plots:  # another member of a drawn group
            plot = self.plots[title]
            color = theme.CURVE_COLORS[GROUPS[title].index(name) % len(theme.CURVE_COLORS)]
            self.curves[name] = plot.plot(
                pen=pg.mkPen(color, width=theme.LINE_WIDTH),
                symbolBrush=pg.mkBrush(color),
                symbolPen=None,
                symbolSize=8,
                name=name,
            )
            return
        n = len(self.plots)
        plot = theme.make_plot(title=title or name)
        if title is not None:
            plot.addLegend(offset=(-10, 10), labelTextSize=f"{theme.FONT_POINTS - 2}pt")
        plot.setLabel("bottom", "step")
        plot.showGrid(x=True, y=True, alpha=0.3)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        index = GROUPS[title].index(name) if title is not None else n
        color = theme.CURVE_COLORS[index % len(theme.CURVE_COLORS)]
        curve = plot.plot(
            pen=pg.mkPen(color, width=theme.LINE_WIDTH),
            symbolBrush=pg.mkBrush(color),
            symbolPen=None,
            symbolSize=8,
            name=name if title is not None else None,
        )
        self.canvas.addItem(plot, row=n // COLUMNS, col=n % COLUMNS)
        self.plots[title or name], self.curves[name] = plot, curve

    @staticmethod
    def _fit(plot: pg.PlotItem, steps: np.ndarray, values: np.ndarray, extra: list[float]) -> None:
        """Set the ranges only when the data leaves them or fills too little of them.

        Steady ranges keep the picture still and spare repainting the axes (their text is
        the costliest thing on screen).
        """
        finite = np.isfinite(values)
        if not finite.any():
            return
        v, s = values[finite], steps[finite]
        tail = v[int(len(v) * WARMUP_FRACTION) :] if len(v) >= 20 else v
        lo, hi = float(min([v.min(), *extra])), float(max([tail.max(), *extra]))
        (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
        last = float(s.max())
        if last > x1 or x1 > 4 * max(last, 25.0):
            plot.setXRange(0.0, _nice_above(max(last, 1.0)), padding=0.0)
        span = hi - lo
        if lo < y0 or hi > y1 or (y1 - y0) > 2.5 * span + 1e-12:
            pad = 0.15 * span if span > 0 else max(abs(hi), 1.0) * 0.05
            plot.setYRange(lo - pad, hi + pad, padding=0.0)


def _nice_above(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is above ``value``."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power > value)
