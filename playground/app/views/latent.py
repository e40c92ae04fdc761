"""Latent variable model views: traversals, reconstructions, the latent space, an explorer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from .images import GAP, _ImagePanel, mosaic

if TYPE_CHECKING:
    from ...core.training.latent_views import Traversal
    from ...core.training.snapshot import Snapshot

__all__ = [
    "TraversalView",
    "ReconstructionsView",
    "LatentSpaceView",
    "ExplorerView",
    "traversal_columns",
    "value_text",
    "LABEL_COLORS",
]

#: every COLUMN_STRIDE-th traversal value is a grid column: 41 values give 9 (-3, -2.25, ... 3)
COLUMN_STRIDE = 5
#: room left of the traversal grid for its row labels, in tiles
LABEL_TILES = 2.6
#: ten qualitative colours for class labels (matplotlib's tab10)
LABEL_COLORS = [
    pg.mkColor(c)
    for c in (
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    )
]  # fmt: skip
#: one colour per swept dimension on the plane: the curve colours, then five more
SWEEP_COLORS = theme.CURVE_COLORS + [
    pg.mkColor(c) for c in ("#35978f", "#8c510a", "#e7298a", "#666666", "#66a61e")
]
#: the data under 2D sweeps: a light blue that the sweeps stand out from
LIGHT_DATA = pg.mkColor(150, 185, 225, 150)
#: the heatmaps show the top LOG_RANGE nats of log p(z) and log q(z), on one scale
LOG_RANGE = 12.0
#: reconstructions: images per row
RECON_COLUMNS = 8


def traversal_columns(steps: int) -> np.ndarray:
    """The indices of the traversal values drawn as grid columns."""
    return np.arange(0, steps, COLUMN_STRIDE)


def value_text(v: float) -> str:
    """A column value: ``-3``, ``-2.25``, ``0``, ``0.75`` (no plus: columns sit close)."""
    v = round(float(v), 2)
    return "0" if v == 0 else f"{v:g}"


def _kl_texts(t: Traversal) -> list[str]:
    return [f"z{int(d)}  KL {float(k):.2f}" for d, k in zip(t.dims, t.kl, strict=True)]


def _sync_anchors(combo: QComboBox, n: int) -> None:
    """Offer anchors 1..n, keeping the choice (without emitting a change)."""
    if combo.count() == n:
        return
    old = combo.blockSignals(True)
    index = combo.currentIndex()
    combo.clear()
    combo.addItems([f"test point {i + 1}" for i in range(n)])
    combo.setCurrentIndex(min(max(index, 0), n - 1))
    combo.blockSignals(old)


def _legend(plot: pg.PlotItem) -> pg.LegendItem:
    legend = plot.addLegend(offset=(10, 10), labelTextSize=f"{theme.FONT_POINTS}pt")
    legend.setBrush(pg.mkBrush(255, 255, 255, 220))
    return legend


def _alpha(color, alpha: int) -> pg.QtGui.QBrush:
    return pg.mkBrush(color.red(), color.green(), color.blue(), alpha)


class TraversalView(QWidget):
    """Latent traversals: one row per latent dimension (most KL first), swept from -3 to +3
    prior standard deviations around an anchor's posterior mean.

    Images: a grid of decoded images (9 of the 41 values) labelled with each dimension's
    average KL, the anchor beside it. Points on the plane: each dimension's sweep as a
    polyline with dots over the data, the anchor marked.
    """

    view_name = "traversal"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.anchor = QComboBox()
        self.anchor.setToolTip("The test point whose posterior mean the sweeps start from")
        self.anchor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.caption = QLabel("")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Anchor:"))
        bar.addWidget(self.anchor)
        bar.addStretch(1)
        bar.addWidget(self.caption)

        self.image_canvas = pg.GraphicsLayoutWidget()
        self.anchor_panel = _ImagePanel(self.image_canvas, "anchor", 0, 0)
        self.grid_panel = _ImagePanel(
            self.image_canvas, "the anchor's mean, one dimension moved by (prior s.d.)", 0, 1
        )
        self.image_canvas.ci.layout.setColumnStretchFactor(0, 1)
        self.image_canvas.ci.layout.setColumnStretchFactor(1, 6)
        self.column_labels: list[pg.TextItem] = []

        self.plane_canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        self.plane_canvas.addItem(self.plot)
        self.legend = _legend(self.plot)
        self.data = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(LIGHT_DATA))
        self.anchor_mark = pg.ScatterPlotItem(
            size=22, symbol="star", pen=pg.mkPen("k", width=1.5), brush=pg.mkBrush("w")
        )
        self.anchor_mark.setZValue(10)
        self.plot.addItem(self.data)
        self.plot.addItem(self.anchor_mark)
        self.sweeps: list[pg.PlotDataItem] = []

        self.stack = QStackedWidget()
        self.stack.addWidget(self.image_canvas)
        self.stack.addWidget(self.plane_canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self._last: Traversal | None = None
        self._drawn: tuple[np.ndarray, int] | None = None
        self._grid_shape: tuple[int, ...] | None = None
        self._box: tuple[float, float, float, float] | None = None
        self._dims: tuple[int, ...] | None = None
        self._data: np.ndarray | None = None
        self.anchor.currentIndexChanged.connect(self._redraw)

    @property
    def sweep_count(self) -> int:
        """The number of 2D sweeps drawn."""
        return sum(1 for item in self.sweeps if item.isVisible())

    def clear(self) -> None:
        """Forget the session's picture."""
        self._last, self._drawn, self._grid_shape = None, None, None
        self._box, self._dims, self._data = None, None, None
        self.anchor_panel.clear()
        self.grid_panel.clear()
        self.data.clear()
        self.anchor_mark.clear()
        for item in self.sweeps:
            item.setData([], [])
            item.hide()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.traversal`` (a core :class:`Traversal`)."""
        t = snapshot.traversal
        if t is None:
            return
        images = t.decoded.ndim == 5
        self.stack.setCurrentIndex(0 if images else 1)
        if not images and snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        _sync_anchors(self.anchor, len(t.anchors))
        self._last = t
        self._redraw()

    def _redraw(self) -> None:
        t = self._last
        if t is None:
            return
        a = min(max(self.anchor.currentIndex(), 0), len(t.anchors) - 1)
        if (
            self._drawn is not None
            and self._drawn[1] == a
            and theme.same_array(t.decoded, self._drawn[0])
        ):
            return
        self._drawn = (t.decoded, a)
        if t.decoded.ndim == 5:
            self._draw_images(t, a)
        else:
            self._draw_points(t, a)

    def _draw_images(self, t: Traversal, a: int) -> None:
        cols = traversal_columns(t.decoded.shape[2])
        tiles = t.decoded[a][:, cols]
        h, w = tiles.shape[-2:]
        texts = _kl_texts(t)
        grid = mosaic(tiles)
        self.grid_panel.set(grid, tuple(texts), tile=h)
        # the dims' KL (and order) change with the same grid shape: relabel in place
        for label, text in zip(self.grid_panel.labels, texts, strict=False):
            if label.toPlainText() != text:
                label.setText(text)
        self.anchor_panel.set(t.anchors[a])
        if grid.shape != self._grid_shape:
            self._grid_shape = grid.shape
            self._place_columns(t.values[cols], h, w, grid.shape)
            # a range taller than the image puts the anchor at the top, level with the grid
            self.anchor_panel.plot.getViewBox().setRange(
                xRange=(0, w), yRange=(-0.8 * (h + GAP), 4 * h), padding=0.02
            )
        self.caption.setText("rows: latent dimensions, most KL (nats) first")

    def _place_columns(self, values: np.ndarray, h: int, w: int, shape) -> None:
        plot = self.grid_panel.plot
        for item in self.column_labels:
            plot.removeItem(item)
        self.column_labels = []
        for c, v in enumerate(values):
            label = pg.TextItem(value_text(v), color="k", anchor=(0.5, 1.0))
            label.setFont(theme.AXIS_FONT)
            label.setPos(c * (w + GAP) + w / 2, -0.5)
            plot.addItem(label)
            self.column_labels.append(label)
        plot.getViewBox().setRange(
            xRange=(-LABEL_TILES * (w + GAP), shape[1]),
            yRange=(-0.8 * (h + GAP), shape[0]),
            padding=0.02,
        )

    def _draw_points(self, t: Traversal, a: int) -> None:
        dims = tuple(int(d) for d in t.dims)
        if dims != self._dims:
            self._dims = dims
            self._build_sweeps(dims)
        for item, pts in zip(self.sweeps, t.decoded[a], strict=False):
            item.setData(pts[:, 0], pts[:, 1])
        self.anchor_mark.setData(pos=t.anchors[a : a + 1])
        if not theme.same_array(t.data, self._data):
            self._data = t.data
            if t.data is None:
                self.data.clear()
            else:
                self.data.setData(pos=t.data)
        self.caption.setText("each curve: one latent dimension from -3 to +3 prior s.d.")

    def _build_sweeps(self, dims: tuple[int, ...]) -> None:
        while len(self.sweeps) < len(dims):
            color = SWEEP_COLORS[len(self.sweeps) % len(SWEEP_COLORS)]
            item = pg.PlotDataItem(
                pen=pg.mkPen(color, width=theme.LINE_WIDTH),
                symbol="o",
                symbolSize=6,
                symbolPen=None,
                symbolBrush=pg.mkBrush(color),
            )
            self.plot.addItem(item)
            self.sweeps.append(item)
        self.legend.clear()
        self.legend.addItem(self.data, "data")
        for i, item in enumerate(self.sweeps):
            item.setVisible(i < len(dims))
            if i < len(dims):
                self.legend.addItem(item, f"z{dims[i]}")
            else:
                item.setData([], [])
        self.legend.addItem(self.anchor_mark, "anchor")


class ReconstructionsView(QWidget):
    """A fixed test batch and its reconstructions ``decode(posterior_mean(x))``.

    Images: two panels, inputs above their reconstructions. Points on the plane: inputs in
    blue, reconstructions in orange, a thin grey segment joining each pair.
    """

    view_name = "reconstructions"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image_canvas = pg.GraphicsLayoutWidget()
        self.inputs_panel = _ImagePanel(self.image_canvas, "Inputs", 0, 0)
        self.outputs_panel = _ImagePanel(self.image_canvas, "Reconstructions", 1, 0)

        self.plane_canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        self.plane_canvas.addItem(self.plot)
        _legend(self.plot)
        self.pairs = pg.PlotCurveItem(pen=pg.mkPen((150, 150, 150), width=1), connect="pairs")
        self.inputs = pg.ScatterPlotItem(
            size=7, pen=None, brush=_alpha(theme.DATA_COLOR, 170), name="inputs"
        )
        self.outputs = pg.ScatterPlotItem(
            size=7, pen=None, brush=_alpha(theme.MODEL_COLOR, 200), name="reconstructions"
        )
        for item in (self.pairs, self.inputs, self.outputs):
            self.plot.addItem(item)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.image_canvas)
        self.stack.addWidget(self.plane_canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._box: tuple[float, float, float, float] | None = None
        self._inputs: np.ndarray | None = None

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._inputs = None, None
        self.inputs_panel.clear()
        self.outputs_panel.clear()
        self.inputs.clear()
        self.outputs.clear()
        self.pairs.setData([], [])

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.reconstructions`` (a core :class:`Reconstructions`)."""
        r = snapshot.reconstructions
        if r is None:
            return
        if r.inputs.ndim == 3:
            self.stack.setCurrentIndex(0)
            m, h, w = r.inputs.shape
            cols = min(RECON_COLUMNS, m)
            n = (m // cols) * cols if cols else 0
            if n == 0:
                return
            self.inputs_panel.set(mosaic(r.inputs[:n].reshape(-1, cols, h, w)))
            self.outputs_panel.set(mosaic(r.outputs[:n].reshape(-1, cols, h, w)))
            return
        self.stack.setCurrentIndex(1)
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        if not theme.same_array(r.inputs, self._inputs):
            self._inputs = r.inputs
            self.inputs.setData(pos=r.inputs)
        self.outputs.setData(pos=r.outputs)
        x = np.stack([r.inputs[:, 0], r.outputs[:, 0]], 1).ravel()
        y = np.stack([r.inputs[:, 1], r.outputs[:, 1]], 1).ravel()
        self.pairs.setData(x, y, connect="pairs")


def _heat_plot(canvas: pg.GraphicsLayoutWidget, title: str, col: int, cmap) -> tuple:
    plot = theme.make_plot(title=title)
    canvas.addItem(plot, row=0, col=col)
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(cmap)
    plot.addItem(image)
    return plot, image


class LatentSpaceView(QWidget):
    """The test points' posterior means in the two most-used latent dimensions, coloured by
    class, beside the prior ``log p(z)`` and the aggregate posterior ``log q(z)``: one colour
    scale (the top 12 nats of both), so holes in q(z) where p(z) is high stand out.
    """

    view_name = "latent_space"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.hide()
        # one canvas: the three plots get equal columns, and hidden plots give theirs up
        self.canvas = pg.GraphicsLayoutWidget()
        self.scatter_plot = theme.make_plot(title="posterior means")
        self.canvas.addItem(self.scatter_plot, row=0, col=0)
        self._one_brush = _alpha(theme.DATA_COLOR, 170)
        self._label_brushes = [_alpha(c, 210) for c in LABEL_COLORS]
        self.scatter = pg.ScatterPlotItem(size=7, pen=None, brush=self._one_brush)
        self.scatter_plot.addItem(self.scatter)

        cmap = pg.colormap.get("viridis")
        self.prior_plot, self.prior = _heat_plot(self.canvas, "prior p(z)", 1, cmap)
        self.aggregate_plot, self.aggregate = _heat_plot(
            self.canvas, "aggregate posterior q(z)", 2, cmap
        )
        self.bar = pg.ColorBarItem(
            colorMap=cmap, interactive=False, width=18, pen="k", colorMapMenu=False
        )
        self.bar.setImageItem([self.prior, self.aggregate])
        self.bar.getAxis("right").setTickFont(theme.AXIS_FONT)
        self.bar.getAxis("right").setLabel("log density (nats)", **{"font-size": "11pt"})
        self.canvas.addItem(self.bar, row=0, col=3)
        self._heat_items = (self.prior_plot, self.aggregate_plot, self.bar)
        grid = self.canvas.ci.layout
        grid.setHorizontalSpacing(12)
        grid.setColumnSpacing(2, 24)
        for col, stretch in enumerate((1, 1, 1, 0)):
            grid.setColumnStretchFactor(col, stretch)
        for plot in self.plots:
            # equal columns: titles at the axis font size fit a third of a 1000-pixel view
            plot.setTitle(plot.titleLabel.text, size=f"{theme.FONT_POINTS}pt")
            plot.setPreferredWidth(200)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.canvas, 1)

        self._labels: np.ndarray | None = None
        self._brushes: list | None = None
        self._dims: tuple[int, ...] | None = None
        self._box: tuple[float, float, float, float] | None = None
        self.levels: tuple[float, float] | None = None

    @property
    def plots(self) -> tuple[pg.PlotItem, ...]:
        """The scatter and the two heatmap plots."""
        return (self.scatter_plot, self.prior_plot, self.aggregate_plot)

    @property
    def heatmaps_shown(self) -> bool:
        """Whether the prior and aggregate posterior panels are on show."""
        return self.prior_plot in self.canvas.ci.items

    def clear(self) -> None:
        """Forget the session's picture."""
        self._labels, self._brushes, self._dims, self._box = None, None, None, None
        self.levels = None
        self.scatter.clear()
        self.prior.clear()
        self.aggregate.clear()
        self.legend.setText("")
        self.legend.hide()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.latent_space`` (a core :class:`LatentSpace`)."""
        s = snapshot.latent_space
        if s is None:
            return
        box = (float(s.xs[0]), float(s.xs[-1]), float(s.ys[0]), float(s.ys[-1]))
        if box != self._box:
            self._box = box
            for plot in self.plots:
                theme.fix_range(plot, box)
        dims = tuple(int(d) for d in s.dims)
        if dims != self._dims:
            self._dims = dims
            y = f"z{dims[1]}" if len(dims) > 1 else "(1-D latent)"
            for plot in self.plots:
                plot.setLabel("bottom", f"z{dims[0]}", **{"font-size": f"{theme.FONT_POINTS}pt"})
                plot.setLabel("left", y, **{"font-size": f"{theme.FONT_POINTS}pt"})
        if not theme.same_array(s.labels, self._labels):
            self._labels = s.labels
            self._set_labels(s.labels, s.class_names)
        self.scatter.setData(
            pos=s.points, brush=self._brushes if self._brushes is not None else self._one_brush
        )
        heatmaps = s.prior is not None and s.aggregate is not None
        if heatmaps != self.heatmaps_shown:
            # out of the layout, not just hidden: hidden items keep their columns
            for col, item in enumerate(self._heat_items, start=1):
                if heatmaps:
                    self.canvas.addItem(item, row=0, col=col)
                else:
                    self.canvas.removeItem(item)
        if heatmaps:
            self._draw_heatmaps(s.prior, s.aggregate, s.xs, s.ys)

    def _set_labels(self, labels: np.ndarray | None, names: tuple[str, ...] | None) -> None:
        if labels is None:
            self._brushes = None
            self.legend.setText("")
            self.legend.hide()
            return
        k = len(self._label_brushes)
        self._brushes = [self._label_brushes[int(v) % k] for v in labels]
        entries = []
        for v in np.unique(labels):
            name = names[int(v)] if names and 0 <= v < len(names) else str(int(v))
            color = LABEL_COLORS[int(v) % k].name()
            entries.append(f"<span style='color:{color}'>\u25a0</span>&nbsp;{name}")
        self.legend.setText("&nbsp;&nbsp;&nbsp; ".join(entries))
        self.legend.show()

    def _draw_heatmaps(self, prior, aggregate, xs: np.ndarray, ys: np.ndarray) -> None:
        top = max(float(prior.max()), float(aggregate.max()))
        # levels move in steps of 0.5 nats: the colour bar repaints only when they do
        high = math.ceil(top * 2) / 2
        levels = (high - LOG_RANGE, high)
        res_y, res_x = prior.shape
        # pixel centres sit on the grid points xs, ys
        dx = (xs[-1] - xs[0]) / max(res_x - 1, 1)
        dy = (ys[-1] - ys[0]) / max(res_y - 1, 1)
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        for image, values in ((self.prior, prior), (self.aggregate, aggregate)):
            image.setImage(
                np.ascontiguousarray(values, np.float32), levels=levels, autoLevels=False
            )
            image.setRect(rect)
        if self.levels != levels:
            self.levels = levels
            self.bar.setLevels(levels)


class ExplorerView(QWidget):
    """One decoded image at a time: pick a latent dimension and an anchor, then slide the
    dimension from -3 to +3 prior standard deviations around the anchor's posterior mean.

    The slider only indexes the snapshot's traversal (41 decoded values): no model call.
    """

    view_name = "explorer"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.dim = QComboBox()
        self.dim.setToolTip("The latent dimension to move (average KL in nats)")
        self.anchor = QComboBox()
        self.anchor.setToolTip("The test point whose posterior mean is the starting code")
        for combo in (self.dim, self.anchor):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-20, 20)
        self.slider.setValue(0)
        self.slider.setPageStep(5)
        self.slider.setTickInterval(5)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip("Offset from the anchor's mean, in prior standard deviations")
        self.value_label = QLabel("")
        self.value_label.setMinimumWidth(170)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Dimension:"))
        bar.addWidget(self.dim)
        bar.addWidget(QLabel("Anchor:"))
        bar.addWidget(self.anchor)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.value_label)

        self.canvas = pg.GraphicsLayoutWidget()
        self.anchor_panel = _ImagePanel(self.canvas, "anchor", 0, 0)
        self.image_panel = _ImagePanel(self.canvas, "decoded", 0, 1)
        self.canvas.ci.layout.setColumnStretchFactor(0, 1)
        self.canvas.ci.layout.setColumnStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self._last: Traversal | None = None
        self._dims: tuple[int, ...] | None = None
        for signal in (
            self.dim.currentIndexChanged,
            self.anchor.currentIndexChanged,
            self.slider.valueChanged,
        ):
            signal.connect(self._redraw)

    def accepts(self, snapshot: Snapshot) -> bool:
        """Whether ``snapshot`` has an image traversal (the explorer draws that)."""
        t = snapshot.traversal
        return t is not None and t.decoded.ndim == 5

    @property
    def step_index(self) -> int:
        """The index into the traversal values that the slider points at."""
        return self.slider.value() - self.slider.minimum()

    def clear(self) -> None:
        """Forget the session's picture."""
        self._last, self._dims = None, None
        self.anchor_panel.clear()
        self.image_panel.clear()
        self.value_label.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw the image at the chosen step of ``snapshot.traversal``."""
        if not self.accepts(snapshot):
            return
        t = snapshot.traversal
        _sync_anchors(self.anchor, len(t.anchors))
        self._sync_dims(t)
        steps = t.decoded.shape[2]
        low = -(steps // 2)
        if (self.slider.minimum(), self.slider.maximum()) != (low, low + steps - 1):
            old = self.slider.blockSignals(True)
            self.slider.setRange(low, low + steps - 1)
            self.slider.blockSignals(old)
        self._last = t
        self._redraw()

    def _sync_dims(self, t: Traversal) -> None:
        """Offer the traversal's dims (labelled with their KL), keeping the chosen dim."""
        dims = tuple(int(d) for d in t.dims)
        texts = _kl_texts(t)
        old = self.dim.blockSignals(True)
        if dims != self._dims:
            chosen = self.dim.currentData()
            self._dims = dims
            self.dim.clear()
            for d, text in zip(dims, texts, strict=True):
                self.dim.addItem(text, d)
            self.dim.setCurrentIndex(max(self.dim.findData(chosen), 0))
        else:
            for i, text in enumerate(texts):
                if self.dim.itemText(i) != text:
                    self.dim.setItemText(i, text)
        self.dim.blockSignals(old)

    def _redraw(self) -> None:
        t = self._last
        if t is None:
            return
        k = min(max(self.dim.currentIndex(), 0), t.decoded.shape[1] - 1)
        a = min(max(self.anchor.currentIndex(), 0), len(t.anchors) - 1)
        s = min(self.step_index, t.decoded.shape[2] - 1)
        self.image_panel.set(t.decoded[a, k, s])
        self.anchor_panel.set(t.anchors[a])
        v = float(t.values[s])
        sign = "-" if round(v, 2) < 0 else "+"
        self.value_label.setText(f"z{int(t.dims[k])} = mu {sign} {abs(v):.2f}")
