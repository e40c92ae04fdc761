"""Image views: the sample grid beside training images, and latent interpolation strips."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["ImageGridView", "InterpolationView", "mosaic"]

#: the gap between tiles, in mosaic pixels, and its grey level
GAP, GAP_LEVEL = 1, 0.35
#: small tiles are enlarged (nearest neighbour, by a whole factor) to about this many
#: pixels a side before the gaps go in: a 1-pixel gap beside an 8 x 8 digit would be an
#: eighth of a tile
TILE_PIXELS = 32
#: the labels' axes: line and tick marks in the background's white, only their text shows
#: (pyqtgraph paints tick marks opaque whatever the pen's alpha)
_NO_PEN = pg.mkPen("w")
#: the image's margin inside its plot, as a fraction of its size
PANEL_PADDING = 0.01


def upscale(h: int) -> int:
    """The whole factor :func:`mosaic` enlarges ``h``-pixel tiles by."""
    return max(1, TILE_PIXELS // max(int(h), 1))


def mosaic(images: np.ndarray, gap: int = GAP) -> np.ndarray:
    """Tile ``(rows, cols, h, w)`` images into one float32 array, ``gap`` grey pixels apart.

    Each tile is first enlarged ``k = upscale(h)`` times (nearest neighbour), so the
    result is ``(rows (k h + gap) - gap, cols (k w + gap) - gap)``; tile ``(r, c)``
    starts at ``(r (k h + gap), c (k w + gap))``.
    """
    rows, cols, h, w = images.shape
    k = upscale(h)
    if k > 1:
        images = images.repeat(k, axis=2).repeat(k, axis=3)
        h, w = h * k, w * k
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), GAP_LEVEL, np.float32)
    for r in range(rows):
        for c in range(cols):
            out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = images[r, c]
    return out


def tile_centres(n: int, size: int, height: int = 0) -> list[float]:
    """The centres of ``n`` tiles of ``size`` source pixels along one side of a mosaic of
    tiles ``height`` source pixels high (default ``size``), in mosaic pixels (where its
    axis ticks go)."""
    pitch = size * upscale(height or size) + GAP
    return [i * pitch + (pitch - GAP) / 2 for i in range(n)]


class _ImagePanel:
    """A titled plot holding one grey image that fills it at equal aspect, top row at the
    top; row labels on its left axis and column labels on its top axis, as tick text at the
    tile centres, so they take room beside the image, not inside its range.

    The range follows the plot's size (:meth:`_fit`): the image is as large as the plot
    allows, centred, but pushed against the left axis when its rows are labelled and
    against the top axis when its columns are, so the labels sit next to the tiles."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, title: str, row: int, col: int, top=False):
        self.plot = theme.make_plot(title=title)
        #: push the image against the top even without column labels (level with a
        #: neighbour's first row)
        self.top = top
        canvas.addItem(self.plot, row=row, col=col)
        for axis in ("left", "bottom"):
            self.plot.hideAxis(axis)
        top = self.plot.getAxis("top")
        top.setTickFont(theme.AXIS_FONT)
        for name in ("left", "top"):
            axis = self.plot.getAxis(name)
            axis.setPen(_NO_PEN)
            axis.setTextPen(pg.mkPen("k"))
            axis.setStyle(tickLength=0)
        vb = self.plot.getViewBox()
        vb.invertY(True)
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        vb.sigResized.connect(self._fit)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L1"))  # black to white
        self.plot.addItem(self.image)
        #: the row labels (left) and the column labels (top) on show
        self.labels: tuple[str, ...] = ()
        self.column_labels: tuple[str, ...] = ()
        self._ticks: dict[str, tuple] = {}
        self._shape: tuple[int, ...] | None = None
        self._array: np.ndarray | None = None

    def set(self, array: np.ndarray, row_labels: tuple[str, ...] | None = None, tile=0) -> None:
        """Draw ``array`` (a :func:`mosaic` or one image) and label its rows of ``tile``
        source pixels with ``row_labels``."""
        self.set_row_labels(tuple(row_labels or ()), tile)
        if theme.same_array(array, self._array):
            return
        self._array = array
        self.image.setImage(array, levels=(0.0, 1.0), autoLevels=False)
        if array.shape != self._shape:
            self._shape = array.shape
            self._fit()

    def _fit(self, *_) -> None:
        """Set the range: the image at equal aspect, as large as the plot allows."""
        if self._shape is None:
            return
        vb = self.plot.getViewBox()
        size = vb.boundingRect()
        if size.width() <= 0 or size.height() <= 0:
            return
        h, w = self._shape[:2]
        pad_x, pad_y = PANEL_PADDING * w, PANEL_PADDING * h
        # plot pixels per image pixel: the image and its margins fit both ways
        scale = min(size.width() / (w + 2 * pad_x), size.height() / (h + 2 * pad_y))
        view_w, view_h = size.width() / scale, size.height() / scale
        x0 = -pad_x if self.labels else -(view_w - w) / 2
        y0 = -pad_y if self.column_labels or self.top else -(view_h - h) / 2
        vb.setRange(xRange=(x0, x0 + view_w), yRange=(y0, y0 + view_h), padding=0.0)

    def set_row_labels(self, labels: tuple[str, ...], tile: int) -> None:
        """Label the rows of ``tile``-pixel tiles on the left axis (none: no axis)."""
        self.labels = labels
        self._label_axis("left", labels, tile)

    def set_column_labels(self, labels: tuple[str, ...], tile: int, height: int = 0) -> None:
        """Label the columns of tiles ``tile`` pixels wide (and ``height`` high, default
        ``tile``) on the top axis (none: no axis)."""
        self.column_labels = labels
        self._label_axis("top", labels, tile, height)

    def _label_axis(self, name: str, labels: tuple[str, ...], tile: int, height=0) -> None:
        if self._ticks.get(name) == (labels, tile, height):
            return
        self._ticks[name] = (labels, tile, height)
        if not labels:
            self.plot.hideAxis(name)
        else:
            ticks = list(zip(tile_centres(len(labels), tile, height), labels, strict=True))
            self.plot.getAxis(name).setTicks([ticks, []])
            self.plot.showAxis(name)
        self._fit()

    def clear(self) -> None:
        """Forget the image and its labels."""
        self.image.clear()
        self._array, self._shape = None, None
        self.set_row_labels((), 0)
        self.set_column_labels((), 0)


class ImageGridView(View):
    """Model samples from a fixed latent batch (so the same samples evolve), training images
    beside them; for InfoGAN one row per categorical code value."""

    name = "grid"
    title = "Samples"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.model_panel = _ImagePanel(self.canvas, "Model samples", 0, 0)
        self.data_panel = _ImagePanel(self.canvas, "Training images", 0, 1)
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        layout.addWidget(self.caption)

    def clear(self) -> None:
        """Forget the session's picture."""
        self.model_panel.clear()
        self.data_panel.clear()
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.grid`` (a core :class:`ImageGrid`)."""
        g = snapshot.grid
        if g is None:
            return
        rows, cols, h, w = g.images.shape
        self.model_panel.set(mosaic(g.images), g.row_labels, tile=h)
        data = g.data[: rows * cols]
        n_rows = max(1, len(data) // cols)
        self.data_panel.set(mosaic(data[: n_rows * cols].reshape(n_rows, cols, h, w)))
        self.caption.setText(g.caption)


class InterpolationView(View):
    """Generated images along straight or spherical paths between fixed latent pairs."""

    name = "interpolation"
    title = "Interpolation"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.panel = _ImagePanel(self.canvas, "G(z) from z0 (left) to z1 (right)", 0, 0)
        self.path = QComboBox()
        self.path.addItem("spherical (slerp)", "slerp")
        self.path.addItem("straight line", "linear")
        self.path.setToolTip(
            "slerp keeps |z| near that of Gaussian samples; a straight line passes "
            "near z = 0, where few training latents lie (White 2016)"
        )
        self.path.currentIndexChanged.connect(self._redraw)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Path:"))
        controls.addWidget(self.path)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        layout.addLayout(controls)
        self._last = None

    def clear(self) -> None:
        """Forget the session's picture."""
        self.panel.clear()
        self._last = None

    def _redraw(self) -> None:
        if self._last is not None:
            strips = getattr(self._last, self.path.currentData())
            self.panel.set(mosaic(strips))

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.interpolation`` (a core :class:`Interpolation`)."""
        if snapshot.interpolation is None:
            return
        self._last = snapshot.interpolation
        self._redraw()
