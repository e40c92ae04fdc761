"""Latent-model views: reconstructions beside their inputs, and the latent space over the
prior's and the aggregate posterior's densities."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from .. import theme
from .base import View
from .images import _ImagePanel, mosaic

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["ReconstructionsView", "LatentSpaceView", "LABEL_COLORS"]

#: ten qualitative colours for class labels (matplotlib's tab10)
LABEL_COLORS = [
    pg.mkColor(c)
    for c in (
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    )
]  # fmt: skip
#: the heatmaps show the top LOG_RANGE nats of log p(z) and log q(z), on one scale
LOG_RANGE = 12.0
#: reconstructions: images per row
RECON_COLUMNS = 8


class ReconstructionsView(View):
    """A fixed test batch and its reconstructions ``decode(posterior_mean(x))``.

    Images: two panels, inputs above their reconstructions. Points on the plane: inputs in
    blue, reconstructions in orange, a thin grey segment joining each pair.
    """

    name = "reconstructions"
    title = "Reconstructions"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.image_canvas = pg.GraphicsLayoutWidget()
        self.inputs_panel = _ImagePanel(self.image_canvas, "Inputs", 0, 0)
        self.outputs_panel = _ImagePanel(self.image_canvas, "Reconstructions", 1, 0)

        self.plane_canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        theme.set_axis_titles(self.plot, *theme.DATA_AXES)
        self.plane_canvas.addItem(self.plot)
        theme.add_legend(self.plot)
        self.pairs = pg.PlotCurveItem(pen=pg.mkPen((150, 150, 150), width=1), connect="pairs")
        self.inputs = pg.ScatterPlotItem(
            size=7, pen=None, brush=theme.brush(theme.DATA_COLOR, 170), name="inputs"
        )
        self.outputs = pg.ScatterPlotItem(
            size=7, pen=None, brush=theme.brush(theme.MODEL_COLOR, 200), name="reconstructions"
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


class LatentSpaceView(View):
    """The test points' posterior means in the two most-used latent dimensions, coloured by
    class, beside the prior ``log p(z)`` and the aggregate posterior ``log q(z)``: one colour
    scale (the top 12 nats of both), so holes in q(z) where p(z) is high stand out.
    """

    name = "latent_space"
    title = "Latent space"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.legend = theme.caption_label()
        self.legend.hide()
        # one canvas: the three plots get equal columns, and hidden plots give theirs up
        self.canvas = pg.GraphicsLayoutWidget()
        # two-line titles: one line of the longest was wider than a third of a 1366-pixel
        # window's view, and pushed its plot under the colour bar
        self.scatter_plot = theme.make_plot(title="posterior means<br>of test points")
        self.canvas.addItem(self.scatter_plot, row=0, col=0)
        self._one_brush = theme.brush(theme.DATA_COLOR, 170)
        self._label_brushes = [theme.brush(c, 210) for c in LABEL_COLORS]
        self.scatter = pg.ScatterPlotItem(size=7, pen=None, brush=self._one_brush)
        self.scatter_plot.addItem(self.scatter)

        cmap = pg.colormap.get("viridis")
        self.prior_plot, self.prior = _heat_plot(self.canvas, "prior<br>p(z)", 1, cmap)
        self.aggregate_plot, self.aggregate = _heat_plot(
            self.canvas, "aggregate posterior<br>q(z)", 2, cmap
        )
        self.bar = theme.make_color_bar(cmap, "log density [nats]")
        self.bar.setImageItem([self.prior, self.aggregate])
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
            # the latent dims shown, 0-based as in the traversals (a snapshot names them)
            theme.set_axis_titles(plot, "z0", "z1")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.canvas, 1)

        self._labels: np.ndarray | None = None
        self._brushes: list | None = None
        self._dims: tuple[int, ...] | None = None
        self._box: tuple[float, float, float, float] | None = None
        self._sampled = False
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
        if s.sampled != self._sampled:  # an implicit encoder (AVB) has samples, no means
            self._sampled = s.sampled
            what = "samples" if s.sampled else "means"
            title = f"posterior {what}<br>of test points"
            self.scatter_plot.setTitle(title, size=f"{theme.FONT_POINTS}pt")
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
