"""The log-det view of a flow: the change of variables term by term. One bar for the base
log-density log p_Z(f(x)) and one per layer for its mean log|det J|, in the order a data
point meets them; their sum is log q(x), minus the NLL written above them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.log_det import LogDetBars

__all__ = ["LogDetView", "summary_text"]

#: bars for log p_Z (the base) and for the layers
BASE_COLOR, LAYER_COLOR = theme.DATA_COLOR, theme.MODEL_COLOR


def summary_text(bars: LogDetBars) -> str:
    """The sum the bars make: ``log p_Z + sum log|det J| = log q(x) = -NLL``, in nats."""
    what = "model samples" if bars.from_model else "test points"
    return (
        f"NLL {bars.nll:.3f} nats  =  \u2212( log p(z) {bars.base:.3f}  +  "
        f"\u03a3 log|det J| {float(bars.layers.sum()):.3f} ),  mean over {bars.points} {what}"
    )


class LogDetView(View):
    """One ``BarGraphItem``: the base term, then one bar per layer (positive: the layer
    spreads data out, so each point gains density; negative: it squeezes), and the NLL.

    Source: Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR
    2017, eq. (3): ``log p_X(x) = log p_Z(f(x)) + sum_k log|det df_k / dh_{k-1}|``.
    """

    name = "log_det"
    title = "Log-det"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = theme.headline_label()
        self.legend = QLabel(
            f"<span style='color:{BASE_COLOR.name()}'>\u25a0 log p(z), the base "
            "N(0, I) density at z = f(x)</span>&nbsp;&nbsp;"
            f"<span style='color:{LAYER_COLOR.name()}'>\u25a0 log|det J| of each layer, "
            "data to base</span>&nbsp;&nbsp; the bars sum to log q(x) = -NLL"
        )
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.wrap_caption(self.legend)
        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot(title="change of variables, mean over the points (nats)")
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        theme.set_axis_titles(
            self.plot,
            "base term, then the layers in the order x meets them (named as in Trajectories)",
            "nats",
        )
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, pen=pg.mkPen("k", width=1))
        self.plot.addItem(self.bars)
        self.zero = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("k", width=1))
        self.plot.addItem(self.zero)
        self.canvas.addItem(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.legend)
        layout.addWidget(self.canvas, 1)
        self._names: tuple[str, ...] | None = None
        self._brushes = {
            "base": pg.mkBrush(BASE_COLOR),
            "layer": pg.mkBrush(LAYER_COLOR),
        }

    @property
    def heights(self) -> np.ndarray:
        """The drawn bar heights: the base term, then the layers (nats)."""
        return np.asarray(self.bars.opts["height"], dtype=np.float64)

    def clear(self) -> None:
        """Forget the session's picture."""
        self._names = None
        self.bars.setOpts(x=[], height=[])
        self.summary.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.log_det`` (a core ``LogDetBars``)."""
        bars = snapshot.log_det
        if bars is None:
            return
        heights = np.concatenate([[bars.base], bars.layers])
        k = len(heights)
        brushes = [self._brushes["base"]] + [self._brushes["layer"]] * (k - 1)
        self.bars.setOpts(x=np.arange(k), height=heights, brushes=brushes)
        if bars.names != self._names:
            self._names = bars.names
            labels = ["log p(z)"] + list(bars.names)
            self.plot.getAxis("bottom").setTicks([list(enumerate(labels))])
            self.plot.setXRange(-0.6, k - 0.4, padding=0)
        low, high = min(0.0, float(heights.min())), max(0.0, float(heights.max()))
        pad = 0.1 * max(high - low, 1e-3)
        self.plot.setYRange(low - pad, high + pad, padding=0)
        self.summary.setText(summary_text(bars))
