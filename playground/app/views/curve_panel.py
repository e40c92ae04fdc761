"""One panel of the curves view: a title, a legend row above the plot (never over the
lines), a plot whose left axis carries the panel's first unit and, where it has a second,
a right axis; its items are created once per name and then only given new data."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .. import theme

if TYPE_CHECKING:
    from ...core.snapshots.curves import Curve, CurvesPicture, Panel

__all__ = ["CurvePanel", "COLORS", "nice_above"]

#: line colours, given in order of first appearance within a panel (theme's five first)
COLORS = [*theme.CURVE_COLORS, *(pg.mkColor(c) for c in ("#01665e", "#8c510a", "#4d4d4d"))]
#: held-out metrics: a dot at every evaluation, joined by a thinner dashed line
DOT_SIZE = 11
#: the y range ignores this leading fraction of a long curve (the first steps' huge losses)
WARMUP_FRACTION = 0.1
#: the mmd_data band: light grey, opaque enough to read on a washed-out projector
BAND_BRUSH = pg.mkBrush(120, 120, 120, 70)
REFERENCE_PEN = pg.mkPen("k", width=2, style=Qt.PenStyle.DashLine)
#: the other branch of a fork comparison: its curves in their colours, dashed and thinner
#: (a fork's own line stays solid on top); the legend's sample of it is dark grey
OTHER_STYLE = Qt.PenStyle.DashLine
OTHER_SAMPLE_PEN = pg.mkPen("#4d4d4d", width=2, style=OTHER_STYLE)
#: the fork step: a dotted vertical line labelled "fork"
FORK_PEN = pg.mkPen("#4d4d4d", width=1.5, style=Qt.PenStyle.DotLine)


class CurvePanel:
    """The items of one :class:`~playground.core.snapshots.curves.Panel`.

    Arguments:
        spec: the panel as the picture first names it.

    Attributes:
        cell: the layout holding title, legend and plot (what the view places).
        plot: the :class:`pyqtgraph.PlotItem`; ``right``: its second ViewBox or ``None``.
        items: name to its PlotDataItem, InfiniteLine (reference) or LinearRegionItem
            (band); created once, then given new data.
        other_items: name to the dashed PlotDataItem of the other branch's curve of that
            name (a fork comparison, see :meth:`show`); ``fork_line``: the fork step's.
        log: whether the y axes are logarithmic now (only axes whose values are all > 0).
    """

    def __init__(self, spec: Panel):
        self.key = spec.key
        self.cell = pg.GraphicsLayout()
        self.title = pg.LabelItem(spec.title, size=f"{theme.FONT_POINTS + 1}pt", bold=True)
        self.legend = pg.LegendItem(
            labelTextSize=f"{theme.FONT_POINTS - 1}pt", colCount=1, frame=False, verSpacing=-8
        )
        #: columns of the view's grid the panel spans (1 or 2), and its legend's width (px)
        self.span, self.legend_width = 1, 400.0
        self.plot = theme.make_plot()
        self.plot.setLabel("bottom", "step")
        for side in ("left", "bottom"):  # 0.25, not 250 with "(x0.001)" beside the unit
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot.getViewBox().disableAutoRange()
        self.cell.addItem(self.title, row=0, col=0)
        self.cell.addItem(self.legend, row=1, col=0)
        self.cell.addItem(self.plot, row=2, col=0)
        self.cell.layout.setRowStretchFactor(2, 1)
        # height is what a 768-pixel projector lacks: no gaps between title, legend, plot
        self.cell.setContentsMargins(0, 0, 0, 0)
        self.cell.layout.setSpacing(0)
        self.right: pg.ViewBox | None = None
        self.items: dict[str, pg.GraphicsObject] = {}
        self.colors: dict[str, pg.QtGui.QColor] = {}
        self._own_colors = 0
        self.units: tuple[str, ...] = ()
        self.log = False
        self.log_wanted = False
        self.other_items: dict[str, pg.PlotDataItem] = {}
        self.fork_line: pg.InfiniteLine | None = None
        self._other_sample: pg.PlotDataItem | None = None
        self._other_text = ""

    # ------------------------------------------------------------------ drawing
    def show(
        self,
        spec: Panel,
        picture: CurvesPicture,
        other: CurvesPicture | None = None,
        label: str = "other branch",
        fork_step: int | None = None,
    ) -> None:
        """Give every curve of ``spec`` its latest data (creating the items of new names)
        and fit the y ranges.

        Arguments:
            other: another branch's picture (a fork comparison): its curves of the names
                of ``spec`` are drawn dashed in the same colours, the legend says
                "dashed: ``label``", and the y ranges hold them too; ``None``: none.
            fork_step: the step the branches part at (a dotted line), or ``None``.
        """
        if spec.units != self.units:
            self._set_units(spec.units)
        for name in spec.names:
            curve = picture.curves[name]
            item = self.items.get(name) or self._add(curve)
            if curve.kind in ("reference", "band"):
                self._place_level(item, curve)
            else:
                item.setData(curve.steps, curve.values)
        self._apply_log(spec, picture)
        others = self._show_other(spec, other, label, fork_step)
        left, right = spec.includes
        mine = self._on_right(spec, picture, False)
        self._fit(mine + [c for c in others if not self._is_right(c)], self.plot.getViewBox(), left)
        if self.right is not None:
            mine = self._on_right(spec, picture, True)
            self._fit(mine + [c for c in others if self._is_right(c)], self.right, right)

    def _show_other(
        self, spec: Panel, other: CurvesPicture | None, label: str, fork_step: int | None
    ) -> list[Curve]:
        """Draw ``other``'s training and held-out curves of ``spec``'s names (dashed) and
        the fork line; returns the curves drawn."""
        curves = [] if other is None else [other.curves.get(n) for n in spec.names]
        curves = [c for c in curves if c is not None and c.kind in ("line", "heldout")]
        for name in set(self.other_items) - {c.name for c in curves}:
            item = self.other_items.pop(name)
            right = self.right is not None and item in self.right.addedItems
            (self.right if right else self.plot).removeItem(item)
        for curve in curves:
            item = self.other_items.get(curve.name) or self._add_other(curve)
            item.setData(curve.steps, curve.values)
        text = f"dashed: {label}" if curves else ""
        if text != self._other_text:
            if self._other_sample is not None:
                self.legend.removeItem(self._other_sample)
            self._other_sample = pg.PlotDataItem(pen=OTHER_SAMPLE_PEN) if text else None
            if text:
                self.legend.addItem(self._other_sample, text)
            self._other_text = text
            self.fit_legend(self.legend_width)
        if fork_step is None or other is None:
            if self.fork_line is not None:
                self.plot.removeItem(self.fork_line)
                self.fork_line = None
        else:
            if self.fork_line is None:
                self.fork_line = pg.InfiniteLine(
                    angle=90,
                    pen=FORK_PEN,
                    movable=False,
                    label="fork",
                    labelOpts={"position": 0.92, "color": "#4d4d4d"},
                )
                self.plot.addItem(self.fork_line, ignoreBounds=True)
            self.fork_line.setValue(float(fork_step))
        return curves

    def _add_other(self, curve: Curve) -> pg.PlotDataItem:
        """The dashed item of the other branch's ``curve`` (in its own curve's colour)."""
        color = self.colors.get(curve.name) or self.colors.get(curve.host or "")
        color = pg.mkColor(color if color is not None else "#4d4d4d")
        pen = pg.mkPen(color, width=max(theme.LINE_WIDTH - 1, 1), style=OTHER_STYLE)
        if curve.kind == "heldout":  # hollow dots: the own branch's are filled
            item = pg.PlotDataItem(
                pen=pen,
                symbol="o",
                symbolSize=DOT_SIZE - 3,
                symbolBrush=None,
                symbolPen=pg.mkPen(color, width=1.5),
            )
        else:
            item = pg.PlotDataItem(pen=pen)
            item.setDownsampling(auto=True, method="mean")
            item.setClipToView(True)
        item.setZValue(2)  # under the own branch's lines
        if self._is_right(curve):
            self.right.addItem(item)
            item.setLogMode(False, self.log)
        else:
            self.plot.addItem(item)
        self.other_items[curve.name] = item
        return item

    def fit_legend(self, width: float) -> None:
        """As many legend entries per row as fit in ``width`` pixels (a legend wider than
        its panel would widen the panel past the view's edge)."""
        self.legend_width = width
        entries = [
            sample.boundingRect().width() + label.item.boundingRect().width() + 12
            for sample, label in self.legend.items
        ]
        # the most columns whose widest entries (entry i sits in column i % columns) fit
        columns = next(
            (
                c
                for c in range(len(entries), 1, -1)
                if sum(max(entries[i::c]) for i in range(c)) <= width
            ),
            1,
        )
        self.legend.setColumnCount(columns)

    def set_x_range(self, last_step: float) -> None:
        """Show steps 0 to ``last_step`` (every panel is given the same: one step axis)."""
        self.plot.setXRange(0.0, last_step, padding=0.0)

    def _on_right(self, spec: Panel, picture: CurvesPicture, right: bool) -> list[Curve]:
        return [picture.curves[n] for n in spec.names if self._is_right(picture.curves[n]) == right]

    def _is_right(self, curve: Curve) -> bool:
        return len(self.units) > 1 and curve.unit in self.units[1:]

    def _add(self, curve: Curve) -> pg.GraphicsObject:
        if curve.kind == "reference":
            item = pg.InfiniteLine(angle=0, pen=REFERENCE_PEN, movable=False)
            sample = pg.PlotDataItem(pen=REFERENCE_PEN)
            label = f"{curve.name} (data)" if curve.name == "entropy" else curve.name
        elif curve.kind == "band":
            item = pg.LinearRegionItem(
                orientation="horizontal", movable=False, brush=BAND_BRUSH, pen=pg.mkPen(None)
            )
            item.setZValue(-10)
            sample = pg.BarGraphItem(x=[0], height=[1], width=1, brush=BAND_BRUSH)
            label = f"{curve.name} (noise floor)"
        else:
            color = self.colors.get(curve.host) if curve.host else None
            if color is None:
                color = COLORS[self._own_colors % len(COLORS)]
                self._own_colors += 1
            self.colors[curve.name] = color
            if curve.kind == "heldout":
                # dashed and outlined in black: readable over its training twin's line
                item = pg.PlotDataItem(
                    pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                    symbol="o",
                    symbolSize=DOT_SIZE,
                    symbolBrush=pg.mkBrush(color),
                    symbolPen=pg.mkPen("k", width=1.5),
                )
                item.setZValue(5)
            else:
                item = pg.PlotDataItem(pen=pg.mkPen(color, width=theme.LINE_WIDTH))
                # long runs: draw about one point per pixel, averaged, and only what is seen
                item.setDownsampling(auto=True, method="mean")
                item.setClipToView(True)
            # a held-out twin is its training term's colour with dots: the title says so
            sample, label = (None, "") if curve.host else (item, curve.name)
        if self._is_right(curve):
            self.right.addItem(item)
            if self.log and isinstance(item, pg.PlotDataItem):
                item.setLogMode(False, True)
        else:  # the plot's own items follow its log mode
            self.plot.addItem(item)
        if sample is not None:
            self.legend.addItem(sample, label)
            self.fit_legend(self.legend_width)
        self.items[curve.name] = item
        return item

    def _place_level(self, item: pg.GraphicsObject, curve: Curve) -> None:
        lo, hi = curve.span
        if self.log:
            top = math.log10(hi) if hi > 0 else 0.0
            lo, hi = (top - 3.0 if lo <= 0 else math.log10(lo)), top
        if isinstance(item, pg.InfiniteLine):
            item.setValue(lo)
        else:
            item.setRegion((lo, hi))

    # ------------------------------------------------------------------ axes
    def _set_units(self, units: tuple[str, ...]) -> None:
        self.units = units
        self.plot.setLabel("left", units[0] if units else "")
        if len(units) > 1:
            if self.right is None:
                self._add_right_axis()
            self.plot.setLabel("right", " / ".join(units[1:]))

    def _add_right_axis(self) -> None:
        """A second ViewBox on the right axis, sharing the x range (pyqtgraph's
        MultiplePlotAxes example)."""
        self.right = pg.ViewBox(enableMouse=False)
        self.right.disableAutoRange()
        self.plot.showAxis("right")
        axis = self.plot.getAxis("right")
        axis.setTickFont(theme.AXIS_FONT)
        axis.setPen(pg.mkPen("k", width=1))
        axis.setTextPen(pg.mkPen("k"))
        axis.enableAutoSIPrefix(False)
        self.right.setParentItem(self.plot)
        axis.linkToView(self.right)
        self.right.setXLink(self.plot)
        main = self.plot.getViewBox()

        def follow() -> None:
            self.right.setGeometry(main.geometry())
            self.right.linkedViewChanged(main, self.right.XAxis)

        main.sigResized.connect(follow)
        follow()

    def set_log(self, on: bool) -> None:
        """Ask for logarithmic y axes (applied at the next :meth:`show`, to the axes
        whose values are all positive)."""
        self.log_wanted = on

    def _apply_log(self, spec: Panel, picture: CurvesPicture) -> None:
        values = [picture.curves[n].values for n in spec.names if picture.curves[n].kind != "band"]
        positive = all(len(v) == 0 or np.nanmin(v) > 0 for v in values)
        log = self.log_wanted and positive
        if log == self.log:
            return
        self.log = log
        steps = self.plot.getViewBox().viewRange()[0]
        self.plot.setLogMode(x=False, y=log)
        self.plot.getViewBox().disableAutoRange()  # setLogMode turned it on: undo that
        self.plot.setXRange(*steps, padding=0.0)
        if self.right is not None:
            self.plot.getAxis("right").setLogMode(False, log)
            for item in self.right.addedItems:
                if isinstance(item, pg.PlotDataItem):
                    item.setLogMode(False, log)
        for name in spec.names:
            curve = picture.curves[name]
            if curve.kind in ("reference", "band"):
                self._place_level(self.items[name], curve)
        for box in (self.plot.getViewBox(), self.right):
            if box is not None:  # a new scale: fit afresh
                box.setYRange(0.0, 1.0, padding=0.0)

    def _fit(self, curves: list[Curve], box: pg.ViewBox, includes: tuple[float, ...]) -> None:
        """Set the y range only when the data leaves it or fills too little of it: steady
        ranges keep the picture still and spare repainting the axes. The range always
        holds ``includes`` (0 and 1 for a fraction; not on a log axis)."""
        lows = [] if self.log else list(includes)
        highs = list(lows)
        for curve in curves:
            if curve.kind == "band" and self.log:
                continue  # the band reaches down to the axis' bottom: it sets no range
            v = curve.values if curve.span is None else np.asarray(curve.span)
            if self.log:
                v = np.log10(np.where(v > 0, v, np.nan))
            finite = np.isfinite(v)
            if not finite.any():
                continue
            v = v[finite]
            tail = v[int(len(v) * WARMUP_FRACTION) :] if len(v) >= 20 else v
            lows.append(v.min())
            highs.append(tail.max())
        if len(lows) == (0 if self.log else len(includes)):
            return
        lo, hi = float(min(lows)), float(max(highs))
        _, (y0, y1) = box.viewRange()
        span = hi - lo
        pad = 0.15 * span if span > 0 else max(abs(hi), 1.0) * 0.05
        # a margin of at least half the padding: dots on the edge are cut in half
        if lo - pad / 2 < y0 or hi + pad / 2 > y1 or (y1 - y0) > 2.5 * span + 1e-12:
            box.setYRange(lo - pad, hi + pad, padding=0.0)


#: the step axis ends at one of these times a power of ten: a steady range (repainting
#: the axes' text is the costliest thing on screen) that the curves still mostly fill
NICE_ENDS = (1, 1.5, 2, 3, 4, 5, 6, 8, 10)


def nice_above(value: float) -> float:
    """The smallest of :data:`NICE_ENDS` times a power of ten that is above ``value``."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in NICE_ENDS if m * power > value)
