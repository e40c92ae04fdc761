"""Latent variable model views: traversals, reconstructions, the latent space, an explorer."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
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
from ..qt_util import signals_blocked
from .base import View
from .images import _ImagePanel, mosaic

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.latent import Traversal

__all__ = [
    "TraversalView",
    "ExplorerView",
    "traversal_columns",
    "value_text",
]

#: every COLUMN_STRIDE-th traversal value is a grid column: 41 values give 9 (-3, -2.25, ... 3)
COLUMN_STRIDE = 5
#: one colour per swept dimension on the plane: the curve colours, then five more
SWEEP_COLORS = theme.CURVE_COLORS + [
    pg.mkColor(c) for c in ("#35978f", "#8c510a", "#e7298a", "#666666", "#66a61e")
]
#: the data under 2D sweeps: a light blue that the sweeps stand out from
LIGHT_DATA = pg.mkColor(150, 185, 225, 150)


def traversal_columns(steps: int) -> np.ndarray:
    """The indices of the traversal values drawn as grid columns."""
    return np.arange(0, steps, COLUMN_STRIDE)


def value_text(v: float) -> str:
    """A column value: ``-3``, ``-2.25``, ``0``, ``0.75`` (no plus: columns sit close)."""
    v = round(float(v), 2)
    return "0" if v == 0 else f"{v:g}"


def _kl_texts(t: Traversal) -> list[str]:
    """Row labels: ``z3  KL 0.41``, or ``z3`` alone where the posterior has no
    per-dimension KL (NaN: an implicit or categorical posterior)."""
    return [
        f"z{int(d)}" if math.isnan(float(k)) else f"z{int(d)}  KL {float(k):.2f}"
        for d, k in zip(t.dims, t.kl, strict=True)
    ]


def _sync_anchors(combo: QComboBox, n: int) -> None:
    """Offer anchors 1..n, keeping the choice (without emitting a change)."""
    if combo.count() == n:
        return
    with signals_blocked(combo):
        index = combo.currentIndex()
        combo.clear()
        combo.addItems([f"test point {i + 1}" for i in range(n)])
        combo.setCurrentIndex(min(max(index, 0), n - 1))


class TraversalView(View):
    """Latent traversals: one row per latent dimension (most KL first), swept from -3 to +3
    prior standard deviations around an anchor's posterior mean.

    Images: a grid of decoded images (9 of the 41 values) labelled with each dimension's
    average KL, the anchor beside it. Points on the plane: each dimension's sweep as a
    polyline with dots over the data, the anchor marked.
    """

    name = "traversal"
    title = "Traversals"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.anchor = QComboBox()
        self.anchor.setToolTip("The test point whose posterior mean the sweeps start from")
        self.anchor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.caption = theme.caption_label(align_right=True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Anchor:"))
        bar.addWidget(self.anchor)
        bar.addWidget(self.caption, 1)

        self.image_canvas = pg.GraphicsLayoutWidget()
        self.anchor_panel = _ImagePanel(self.image_canvas, "anchor", 0, 0, top=True)
        self.grid_panel = _ImagePanel(
            self.image_canvas, "the anchor's mean, one dimension moved by (prior s.d.)", 0, 1
        )
        self.image_canvas.ci.layout.setColumnStretchFactor(0, 1)
        self.image_canvas.ci.layout.setColumnStretchFactor(1, 7)

        self.plane_canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        theme.set_axis_titles(self.plot, *theme.DATA_AXES)
        self.plane_canvas.addItem(self.plot)
        self.legend = theme.add_legend(self.plot)
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
        self._box: tuple[float, float, float, float] | None = None
        self._dims: tuple[int, ...] | None = None
        self._data: np.ndarray | None = None
        self.anchor.currentIndexChanged.connect(self._redraw)

    @property
    def column_labels(self) -> tuple[str, ...]:
        """The offsets above the grid's columns, in prior standard deviations."""
        return self.grid_panel.column_labels

    @property
    def sweep_count(self) -> int:
        """The number of 2D sweeps drawn."""
        return sum(1 for item in self.sweeps if item.isVisible())

    def clear(self) -> None:
        """Forget the session's picture."""
        self._last, self._drawn = None, None
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
        # the dims' KL (and order) change with the same grid shape: the labels follow
        self.grid_panel.set(mosaic(tiles), tuple(_kl_texts(t)), tile=h)
        self.grid_panel.set_column_labels(tuple(value_text(v) for v in t.values[cols]), w, h)
        self.anchor_panel.set(t.anchors[a])
        ordered = not np.isnan(t.kl).all()
        self.caption.setText(
            "rows: latent dimensions, most KL (nats) first"
            if ordered
            else "rows: latent dimensions in index order (this posterior has no per-dimension KL)"
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


class ExplorerView(View):
    """One decoded image at a time: pick a latent dimension and an anchor, then slide the
    dimension from -3 to +3 prior standard deviations around the anchor's posterior mean.

    The slider only indexes the snapshot's traversal (41 decoded values): no model call.
    """

    name = "explorer"
    title = "Explorer"

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
        self.anchor_panel = _ImagePanel(self.canvas, "anchor", 0, 0, top=True)
        self.image_panel = _ImagePanel(self.canvas, "decoded", 0, 1, top=True)
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
        """Whether ``snapshot`` was made for the explorer and has an image traversal."""
        t = snapshot.explorer
        return snapshot.made_for(self.name) and t is not None and t.decoded.ndim == 5

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
        """Draw the image at the chosen step of ``snapshot.explorer``."""
        if not self.accepts(snapshot):
            return
        t = snapshot.explorer
        _sync_anchors(self.anchor, len(t.anchors))
        self._sync_dims(t)
        steps = t.decoded.shape[2]
        low = -(steps // 2)
        if (self.slider.minimum(), self.slider.maximum()) != (low, low + steps - 1):
            with signals_blocked(self.slider):
                self.slider.setRange(low, low + steps - 1)
        self._last = t
        self._redraw()

    def _sync_dims(self, t: Traversal) -> None:
        """Offer the traversal's dims (labelled with their KL), keeping the chosen dim."""
        dims = tuple(int(d) for d in t.dims)
        texts = _kl_texts(t)
        with signals_blocked(self.dim):
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
