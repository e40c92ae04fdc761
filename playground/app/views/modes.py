"""The mode-coverage view: high-quality samples per mode, which modes are captured, and the
VEEGAN / PacGAN numbers in one readable line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.metrics.modes import ModeCoverage
    from ...core.snapshots.base import Snapshot

__all__ = ["ModesView", "summary_text"]

CAPTURED_COLOR = pg.mkColor(27, 120, 55)
MISSED_COLOR = pg.mkColor(178, 24, 43)
#: the legend's text; the number is the picture's own count of samples (2,500, fewer in a
#: preview)
LEGEND = (
    "<span style='color:{captured}'>\u25a0 captured</span>&nbsp;&nbsp;"
    "<span style='color:{missed}'>\u25a0 missed</span>&nbsp;&nbsp;"
    "dashed: an even share of the {samples:,} samples &nbsp;&nbsp;"
    "high quality: within 3 std of a mode mean"
)


def summary_text(m: ModeCoverage) -> str:
    """``modes captured 7 / 8 · high quality 93.1% · mode KL 0.012 nats``."""
    return (
        f"modes captured {m.modes_captured} / {len(m.counts)}   \u00b7   "
        f"high quality {100 * m.high_quality:.1f}%   \u00b7   mode KL {m.mode_kl:.3f} nats"
    )


class ModesView(View):
    """A ``BarGraphItem`` of counts per mode (with the count a perfect model would give),
    the mode means coloured captured / missed, and the summary line above them."""

    name = "modes"
    title = "Modes"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = theme.caption_label()
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setStyleSheet(f"font-size:{theme.FONT_POINTS + 7}pt; font-weight:bold;")
        self.legend = QLabel(self._legend(2500))
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.wrap_caption(self.legend)

        self.canvas = pg.GraphicsLayoutWidget()
        self.bars_plot = theme.make_plot(title="high-quality samples per mode")
        self.bars_plot.getViewBox().setMouseEnabled(x=False, y=False)
        theme.set_axis_titles(self.bars_plot, "mode", "samples")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, pen=pg.mkPen("k", width=1))
        self.bars_plot.addItem(self.bars)
        self.ideal = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("k", width=2, style=Qt.PenStyle.DashLine)
        )
        self.ideal.hide()
        self.bars_plot.addItem(self.ideal)
        self.means_plot = theme.make_plot(title="mode means")
        theme.set_axis_titles(self.means_plot, *theme.DATA_AXES)
        self.means = pg.ScatterPlotItem(size=22, pen=pg.mkPen("k", width=1.5))
        self.means_plot.addItem(self.means)
        self.canvas.addItem(self.bars_plot, 0, 0)
        self.canvas.addItem(self.means_plot, 0, 1)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.legend)
        layout.addWidget(self.canvas, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._k = 0
        self._numbers: list[pg.TextItem] = []
        self._brushes = {True: pg.mkBrush(CAPTURED_COLOR), False: pg.mkBrush(MISSED_COLOR)}

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._k = None, 0
        self.bars.setOpts(x=[], height=[])
        self.means.clear()
        self._set_numbers(None)
        self.ideal.hide()
        self.summary.setText("")

    @property
    def heights(self) -> np.ndarray:
        """The drawn bar heights."""
        return np.asarray(self.bars.opts["height"])

    @staticmethod
    def _legend(samples: int) -> str:
        return LEGEND.format(
            captured=CAPTURED_COLOR.name(), missed=MISSED_COLOR.name(), samples=samples
        )

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.modes`` (a core :class:`ModeCoverage`)."""
        m = snapshot.modes
        if m is None:
            return
        k = len(m.counts)
        captured = np.asarray(m.counts) > 0
        brushes = [self._brushes[bool(c)] for c in captured]
        self.bars.setOpts(x=np.arange(1, k + 1), height=np.asarray(m.counts), brushes=brushes)
        self.summary.setText(summary_text(m))
        self.legend.setText(self._legend(m.samples))
        share = m.samples / max(k, 1)
        self.ideal.setValue(share)
        self.ideal.show()
        top = max(float(np.max(m.counts)) if k else 0.0, share, 1.0)
        if k != self._k:
            self._k = k
            self.bars_plot.getViewBox().disableAutoRange()
            self.bars_plot.setXRange(0.4, k + 0.6, padding=0)
            ticks = [(i, str(i)) for i in range(1, k + 1)] if k <= 30 else None
            self.bars_plot.getAxis("bottom").setTicks([ticks] if ticks else None)
            self._set_numbers(m.means if k <= 30 else None)
        self.bars_plot.setYRange(0, top * 1.1, padding=0)
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.means_plot, snapshot.box)
        self.means.setData(pos=m.means, brush=brushes)

    def _set_numbers(self, means: np.ndarray | None) -> None:
        """Label each mode mean with its bar's number (created once per mode count)."""
        for item in self._numbers:
            self.means_plot.removeItem(item)
        self._numbers = []
        if means is None:
            return
        font = self.means_plot.getAxis("left").style["tickFont"]
        for i, (x, y) in enumerate(means, start=1):
            item = pg.TextItem(str(i), color="k", anchor=(-0.35, 1.1))
            item.setFont(font)
            item.setPos(float(x), float(y))
            self.means_plot.addItem(item)
            self._numbers.append(item)
