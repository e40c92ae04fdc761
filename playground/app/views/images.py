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

#: the gap between tiles, in image pixels, and its grey level
GAP, GAP_LEVEL = 1, 0.35


def mosaic(images: np.ndarray, gap: int = GAP) -> np.ndarray:
    """Tile ``(rows, cols, h, w)`` images into one ``(rows (h + gap) - gap, ...)`` array."""
    rows, cols, h, w = images.shape
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), GAP_LEVEL, np.float32)
    for r in range(rows):
        for c in range(cols):
            out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = images[r, c]
    return out


class _ImagePanel:
    """A titled, aspect-locked plot holding one grey image, top row at the top."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, title: str, row: int, col: int):
        self.plot = theme.make_plot(title=title)
        canvas.addItem(self.plot, row=row, col=col)
        for axis in ("left", "bottom"):
            self.plot.hideAxis(axis)
        vb = self.plot.getViewBox()
        vb.setAspectLocked(True)
        vb.invertY(True)
        vb.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L1"))  # black to white
        self.plot.addItem(self.image)
        self.labels: list[pg.TextItem] = []
        self._shape: tuple[int, ...] | None = None
        self._array: np.ndarray | None = None

    def set(self, array: np.ndarray, row_labels: tuple[str, ...] | None = None, tile=0) -> None:
        if theme.same_array(array, self._array):
            return
        self._array = array
        self.image.setImage(array, levels=(0.0, 1.0), autoLevels=False)
        if array.shape != self._shape:
            self._shape = array.shape
            # room on the left for the row labels: one tile and a half
            left = -1.5 * (tile + GAP) if row_labels else 0
            self.plot.getViewBox().setRange(
                xRange=(left, array.shape[1]), yRange=(0, array.shape[0]), padding=0.02
            )
            for item in self.labels:
                self.plot.removeItem(item)
            self.labels = []
            for i, text in enumerate(row_labels or ()):
                label = pg.TextItem(text, color="k", anchor=(1.0, 0.5))
                label.setFont(theme.AXIS_FONT)
                label.setPos(-0.5, i * (tile + GAP) + tile / 2)
                self.plot.addItem(label)
                self.labels.append(label)

    def clear(self) -> None:
        self.image.clear()
        self._array, self._shape = None, None


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
        self.caption = QLabel("")
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
