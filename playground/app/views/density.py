"""The density view: the model's log p (or p) as a heatmap, the target's contours over it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["DensityView"]

#: the colour scale shows the top LOG_RANGE nats of log p: enough to see the tails
LOG_RANGE = 10.0
#: target contours, in nats below the target's maximum log-density
CONTOUR_DEPTHS = (1.0, 3.0, 6.0)
#: the colour bar's title, by colour scale and whether the picture is normalised
LOG_P_LABEL = "log p(x) [nats]"
BAR_LABELS = {
    (0, True): LOG_P_LABEL,
    (0, False): "-E(x) [nats]",
    (1, True): "p(x) / max p",
    (1, False): "exp(-E(x)) / max",
}


class DensityView(View):
    """Heatmap of the model's density on the dataset box, with the target overlaid.

    The image is one reused ``ImageItem`` with explicit levels; target contours are
    ``IsocurveItem`` children of the image (recomputed only when the target changes);
    data points are drawn instead where the target has no exact density.
    """

    name = "density"
    title = "Density"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scale = QComboBox()
        self.scale.addItems(["log p", "p"])
        self.scale.setToolTip("Colour by log-density (nats, top 10 shown) or by density")
        self.contours = QCheckBox("target contours")
        self.contours.setChecked(True)
        self.points = QCheckBox("data points")
        self.caption = theme.caption_label(align_right=True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("colour:"))
        bar.addWidget(self.scale)
        bar.addWidget(self.contours)
        bar.addWidget(self.points)
        bar.addWidget(self.caption, 1)

        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(
            pg.colormap.get("viridis"), LOG_P_LABEL
        )
        contour_pen = pg.mkPen(theme.CONTOUR_COLOR, width=theme.LINE_WIDTH - 1)
        self.isocurves = [
            pg.IsocurveItem(level=0.0, pen=contour_pen, axisOrder="row-major")
            for _ in CONTOUR_DEPTHS
        ]
        for iso in self.isocurves:
            iso.setParentItem(self.image)
            # the contours change only with the target: repaint them from a cached pixmap
            iso.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.scatter = pg.ScatterPlotItem(
            size=5, pen=None, brush=pg.mkBrush(theme.CONTOUR_COLOR), pxMode=True
        )
        self.plot.addItem(self.scatter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._target: np.ndarray | None = None
        self._data: np.ndarray | None = None
        self._last = None
        self._fresh = True
        self.scale.currentIndexChanged.connect(self._redraw)
        self.contours.toggled.connect(self._redraw)
        self.points.toggled.connect(self._redraw)

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self._box, self._target, self._data, self._last = None, None, None, None
        self._fresh = True
        self.image.clear()
        self.scatter.clear()
        for iso in self.isocurves:
            iso.setData(None)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.density`` (a core :class:`DensityImage`)."""
        d = snapshot.density
        if d is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        target = d.target_log_prob
        if target is not None and float(np.ptp(target)) < 1e-6:
            # a uniform target (e.g. checkerboard: its zero-density area comes as the finite
            # minimum, the same value) has no contours: show the data instead
            target = None
        if self._fresh or not theme.same_array(target, self._target):
            self._target = target
            self._set_contours(target)
            self.contours.setEnabled(target is not None)
        if self._fresh or not theme.same_array(d.data, self._data):
            self._data = d.data
            self.points.setEnabled(d.data is not None)
            if target is None and d.data is not None:
                self.points.setChecked(True)
            if d.data is None:
                self.scatter.clear()
            else:
                self.scatter.setData(pos=d.data)
        self._last, self._fresh = d, False
        self._redraw()

    def _set_contours(self, target: np.ndarray | None) -> None:
        for iso, depth in zip(self.isocurves, CONTOUR_DEPTHS, strict=True):
            if target is None:
                iso.setData(None)
            else:
                iso.setData(target, level=float(target.max()) - depth)

    def _redraw(self) -> None:
        d = self._last
        if d is None:
            return
        top = float(d.log_prob.max())
        scale = self.scale.currentIndex()
        # a latent model's log p is an estimate (IWAE): the caption names it
        what = f"{d.estimate}; " if d.estimate else ""
        if scale == 0:
            # levels move in steps of 0.5 nats: the colour bar repaints only when they do
            high = math.ceil(top * 2) / 2
            img, levels = d.log_prob, (high - LOG_RANGE, high)
            if d.normalized:
                self.caption.setText(f"{what}max log p = {top:.2f} nats")
            else:
                self.caption.setText(f"-E(x) = log p + log Z (Z unknown); max {top:.2f}")
        else:
            # display only: p relative to its peak keeps float32 finite at any scale
            img, levels = np.exp(d.log_prob - top).astype(np.float32), (0.0, 1.0)
            peak = f"{math.exp(top):.3g}" if abs(top) < 300 else f"exp({top:.0f})"
            if d.normalized:
                self.caption.setText(f"{what}p / max p   (max p = {peak})")
            else:
                self.caption.setText("exp(-E) / max exp(-E)")
        label = BAR_LABELS[(scale, d.normalized)]
        if label != self.bar.getAxis("right").labelText:
            theme.set_bar_label(self.bar, label)
        self.image.setImage(img, levels=levels, autoLevels=False)
        if tuple(self.bar.levels()) != levels:
            self.bar.setLevels(levels)
        xmin, xmax, ymin, ymax = self._box
        res_y, res_x = img.shape
        # pixel centres sit on the grid points xs, ys
        dx, dy = (xmax - xmin) / (res_x - 1), (ymax - ymin) / (res_y - 1)
        self.image.setRect(QRectF(xmin - dx / 2, ymin - dy / 2, xmax - xmin + dx, ymax - ymin + dy))
        show_contours = self.contours.isChecked() and self._target is not None
        for iso in self.isocurves:
            iso.setVisible(show_contours)
        self.scatter.setVisible(self.points.isChecked() and self._data is not None)
