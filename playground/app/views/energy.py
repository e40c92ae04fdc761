"""The energy view: an EBM's energy E(x) as a heatmap, with the data, the replay buffer and
the last step's Langevin negatives over it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import renderSymbol
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.energy import EnergyImage

__all__ = ["EnergyView", "energy_levels", "ENERGY_COLORMAP", "BAR_LABEL"]

#: white (low energy: likely) to near-black (high energy): the points drawn over it keep
#: their colours, the wells where data sit stay light, and it reads in greyscale too
ENERGY_COLORMAP = pg.ColorMap(
    pos=[0.0, 0.25, 0.5, 0.75, 1.0],
    color=[(255, 255, 255), (217, 217, 217), (150, 150, 150), (82, 82, 82), (20, 20, 20)],
)
BAR_LABEL = "E(x) (nats, min 0)"
#: the colour scale tops out at this percentile of the grid's energies (the box's corners,
#: far from any data, would otherwise take the whole scale)
TOP_PERCENTILE = 95.0
#: the green of the replay buffer: neither the data's blue nor the negatives' orange
BUFFER_COLOR = QColor(27, 120, 55)
#: side of the symbol icons on the checkboxes (the layers' key), in pixels
ICON_PIXELS = 18


def _symbol_icon(symbol: str, size: int, pen, brush) -> QIcon:
    """A checkbox icon: the scatter layer's symbol, as drawn in the plot, centred."""
    pixmap = QPixmap.fromImage(renderSymbol(symbol, size, pen, brush))
    return QIcon(pixmap)


def energy_levels(energy: np.ndarray) -> tuple[float, float]:
    """Colour levels ``(0, top)``: ``top`` is the ``TOP_PERCENTILE`` energy rounded up to
    1, 2, 2.5 or 5 times a power of ten, so the colour bar changes in steps.

    Arguments:
        energy: ``(res, res)`` energies in nats, minimum 0.

    Returns:
        ``(0.0, top)`` with ``top > 0`` (``1.0`` for a flat or empty grid).
    """
    if energy.size == 0:
        return (0.0, 1.0)
    r = float(np.percentile(energy, TOP_PERCENTILE))
    if not math.isfinite(r) or r <= 0:
        return (0.0, 1.0)
    base = 10.0 ** math.floor(math.log10(r))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * base >= r * (1 - 1e-9):
            return (0.0, m * base)
    return (0.0, 10.0 * base)


class EnergyView(View):
    """Heatmap of ``E(x)`` (one reused ``ImageItem``, explicit levels, a labelled colour
    bar), and three scatter layers, each with a checkbox that shows its symbol (the key;
    no legend covers the plot): the data (blue discs), the replay buffer (small green
    dots) and the last step's negatives (orange triangles). A caption counts the buffer's
    points and the negatives.
    """

    name = "energy"
    title = "Energy"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # symbol, size, pen, brush per layer: the checkboxes show them, so they are the key
        styles = {
            "data": ("o", 10, pg.mkPen("w", width=1.5), pg.mkBrush(theme.DATA_COLOR)),
            "replay buffer": ("o", 6, pg.mkPen(None), theme.brush(BUFFER_COLOR, 200)),
            "negatives": ("t", 11, pg.mkPen((40, 20, 0), width=1), pg.mkBrush(theme.MODEL_COLOR)),
        }
        tips = {
            "data": "Training data points (low energy should sit under them)",
            "replay buffer": "Persistent Langevin chains kept in the replay buffer",
            "negatives": "The negatives of the last step: its Langevin samples",
        }
        items, boxes = [], []
        for name, (symbol, size, pen, brush) in styles.items():
            item = pg.ScatterPlotItem(symbol=symbol, size=size, pen=pen, brush=brush, name=name)
            box = QCheckBox(name)
            box.setChecked(True)
            box.setToolTip(tips[name])
            box.setIcon(_symbol_icon(symbol, max(size, 10), pen, brush))
            box.setIconSize(QSize(ICON_PIXELS, ICON_PIXELS))
            items.append(item)
            boxes.append(box)
        self.data, self.buffer, self.negatives = items
        self.show_data, self.show_buffer, self.show_negatives = boxes

        # the caption takes the row's spare width and wraps, never widening the window
        self.caption = theme.caption_label(align_right=True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("show:"))
        for box in boxes:
            bar.addWidget(box)
        bar.addWidget(self.caption, 1)

        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(ENERGY_COLORMAP)
        self.bar.setLevels((0.0, 1.0))
        self.bar.getAxis("right").setLabel(BAR_LABEL, **{"font-size": f"{theme.FONT_POINTS}pt"})
        # drawn bottom to top: buffer, data, negatives (the newest points stay visible)
        for z, item in enumerate((self.buffer, self.data, self.negatives), start=1):
            self.plot.addItem(item)
            item.setZValue(z)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._data: np.ndarray | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)
        for box in (self.show_data, self.show_buffer, self.show_negatives):
            box.toggled.connect(self._set_visibility)

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self._box, self._data = None, None
        self.image.clear()
        for item in (self.buffer, self.data, self.negatives):
            item.clear()
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.energy`` (a core :class:`EnergyImage`); nothing if it is absent."""
        e: EnergyImage | None = getattr(snapshot, "energy", None)
        if e is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        levels = energy_levels(e.energy)
        self.image.setImage(e.energy, levels=levels, autoLevels=False)
        if tuple(self.bar.levels()) != levels:
            self.bar.setLevels(levels)
        self.levels = levels
        res_y, res_x = e.energy.shape
        xs, ys = e.xs, e.ys
        # pixel centres sit on the grid points xs, ys
        dx = (xs[-1] - xs[0]) / max(res_x - 1, 1)
        dy = (ys[-1] - ys[0]) / max(res_y - 1, 1)
        self.image.setRect(
            QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        )
        if e.data is None:
            self._data = None
            self.data.clear()
        elif not theme.same_array(e.data, self._data):
            self._data = e.data
            self.data.setData(pos=e.data)
        self.show_data.setEnabled(e.data is not None)
        self.buffer.setData(pos=e.buffer)
        self.negatives.setData(pos=e.negatives)
        self.caption.setText(
            f"replay buffer {e.buffer_fill} / {e.buffer_size} points; {len(e.negatives)} negatives"
        )
        self.caption.setToolTip(
            f"{len(e.buffer)} of the buffer's {e.buffer_fill} points are drawn"
            if len(e.buffer) < e.buffer_fill
            else "every point of the buffer is drawn"
        )
        self._set_visibility()

    def _set_visibility(self) -> None:
        self.data.setVisible(self.show_data.isChecked())
        self.buffer.setVisible(self.show_buffer.isChecked())
        self.negatives.setVisible(self.show_negatives.isChecked())
