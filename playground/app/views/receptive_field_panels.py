"""The two panels of the receptive field view: the map over an image (the dependence as a
heat map, the future greyed, unseen past pixels crossed, the target framed) and the curve
over a sequence's past (its reach shaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsRectItem

from .. import theme

if TYPE_CHECKING:
    from ...core.snapshots.receptive_field import ReceptiveField

__all__ = [
    "ImageMap",
    "SequenceCurve",
    "relative_log",
    "FIELD_COLORMAP",
    "FLOOR",
    "FUTURE_RGBA",
    "TARGET_COLOR",
    "UNSEEN_COLOR",
    "REACH_BRUSH",
]

#: the map's colours, black (no dependence) to yellow (the strongest)
FIELD_COLORMAP = pg.colormap.get("inferno")
#: log10 of the weakest dependence drawn apart from none (relative to the strongest)
FLOOR = -4.0
#: pixels at or after the target in the sampling order (the model may not read them)
FUTURE_RGBA = (200, 200, 200, 235)
#: the target pixel's frame and step line; the crosses on unseen past pixels
TARGET_COLOR = theme.CONTOUR_COLOR
UNSEEN_COLOR = QColor(0, 200, 255)
#: a sequence's reach, shaded
REACH_BRUSH = theme.brush(theme.DATA_COLOR, 50)


def relative_log(values: np.ndarray) -> np.ndarray:
    """``log10(values / max)`` clipped below at :data:`FLOOR` (zeros at the floor), as
    float32; all :data:`FLOOR` when every value is 0."""
    top = float(values.max()) if values.size else 0.0
    if top <= 0.0:
        return np.full(values.shape, FLOOR, np.float32)
    with np.errstate(divide="ignore"):
        out = np.log10(values / top)
    return np.clip(out, FLOOR, 0.0).astype(np.float32)


class ImageMap:
    """The map over an image: the dependence as a heat map, the pixels at and after the
    target greyed, the target framed, unseen past pixels crossed."""

    def __init__(self, on_click):
        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(
            FIELD_COLORMAP, "log10 dependence (1 = the strongest)", ("column", "row")
        )
        self.bar.setLevels((FLOOR, 0.0))
        vb = self.plot.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        vb.setMouseEnabled(x=False, y=False)
        self.future = pg.ImageItem(axisOrder="row-major")
        self.future.setZValue(1)
        self.plot.addItem(self.future)
        self.unseen = pg.ScatterPlotItem(
            symbol="x", size=18, pen=pg.mkPen(UNSEEN_COLOR, width=2), brush=pg.mkBrush(UNSEEN_COLOR)
        )
        self.unseen.setZValue(2)
        self.plot.addItem(self.unseen)
        self.frame = QGraphicsRectItem(QRectF(0, 0, 1, 1))
        self.frame.setPen(pg.mkPen(TARGET_COLOR, width=theme.LINE_WIDTH + 1))
        self.frame.setZValue(3)
        self.plot.addItem(self.frame)
        self._shape: tuple[int, ...] | None = None
        self._on_click = on_click
        # a bound method: PySide holds it weakly, so the view can be freed
        self.canvas.scene().sigMouseClicked.connect(self._clicked)

    def _clicked(self, event) -> None:
        self._on_click(self.pixel_at(event))

    def pixel_at(self, event) -> tuple[int, int] | None:
        """The ``(row, column)`` under a mouse click, or ``None`` off the image."""
        if self._shape is None:
            return None
        vb = self.plot.getViewBox()
        pos = vb.mapSceneToView(QPointF(event.scenePos()))
        r, c = int(np.floor(pos.y())), int(np.floor(pos.x()))
        h, w = self._shape
        return (r, c) if 0 <= r < h and 0 <= c < w else None

    def draw(self, field: ReceptiveField, target: int) -> tuple[int, int]:
        """Draw the map of output ``target``; returns ``(seen, unseen)`` past pixels."""
        h, w = field.shape
        i = int(field.targets[field.nearest(target)])
        row = field.row(i)
        self.image.setImage(relative_log(row).reshape(h, w), levels=(FLOOR, 0.0), autoLevels=False)
        future = np.zeros((h * w, 4), np.uint8)
        future[field.order >= field.order[i]] = FUTURE_RGBA
        self.future.setImage(future.reshape(h, w, 4), levels=(0, 255), autoLevels=False)
        unseen = np.flatnonzero(field.unseen_past(i))
        ur, uc = np.divmod(unseen, w)
        self.unseen.setData(x=uc + 0.5, y=ur + 0.5)
        r, c = divmod(i, w)
        self.frame.setRect(QRectF(c, r, 1, 1))
        if field.shape != self._shape:
            self._shape = field.shape
            self.plot.getViewBox().setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        past = int((field.order < field.order[i]).sum())
        return past - len(unseen), len(unseen)


class SequenceCurve:
    """The dependence of one time step on each earlier step, the reach shaded; above it
    the test sequence, the target marked."""

    def __init__(self, on_click):
        self.canvas = pg.GraphicsLayoutWidget()
        self.signal = theme.make_plot(title="test sequence")
        theme.set_axis_titles(self.signal, "time step", "x")
        self.signal.setMouseEnabled(x=False, y=False)
        self.signal_curve = pg.PlotDataItem(pen=pg.mkPen(theme.DATA_COLOR, width=2))
        self.signal.addItem(self.signal_curve)
        self.plot = theme.make_plot(title="dependence of the chosen step on each input step")
        theme.set_axis_titles(self.plot, "time step", "log10 dependence (1 = the strongest)")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setYRange(FLOOR, 0.2, padding=0)
        self.signal.setXLink(self.plot)
        self.reach = pg.LinearRegionItem(movable=False, brush=REACH_BRUSH, pen=pg.mkPen(None))
        self.plot.addItem(self.reach)
        self.curve = pg.PlotDataItem(
            pen=pg.mkPen(theme.MODEL_COLOR, width=theme.LINE_WIDTH), stepMode="center"
        )
        self.plot.addItem(self.curve)
        pen = pg.mkPen(TARGET_COLOR, width=theme.LINE_WIDTH)
        self.lines = [pg.InfiniteLine(angle=90, movable=False, pen=pen) for _ in range(2)]
        self.signal.addItem(self.lines[0])
        self.plot.addItem(self.lines[1])
        self.canvas.addItem(self.signal, row=0, col=0)
        self.canvas.addItem(self.plot, row=1, col=0)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self._length: int | None = None
        self._on_click = on_click
        self.canvas.scene().sigMouseClicked.connect(self._clicked)

    def _clicked(self, event) -> None:
        self._on_click(self.step_at(event))

    def step_at(self, event) -> int | None:
        """The time step under a mouse click on the lower plot, or ``None``."""
        if self._length is None:
            return None
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return None
        t = int(round(vb.mapSceneToView(QPointF(event.scenePos())).x()))
        return t if 0 <= t < self._length else None

    def draw(self, field: ReceptiveField, target: int) -> int:
        """Draw the curve of output ``target``; returns its reach in steps."""
        (length,) = field.shape
        i = int(field.targets[field.nearest(target)])
        steps = np.arange(length + 1, dtype=np.float64) - 0.5
        self.curve.setData(steps, relative_log(field.row(i)).astype(np.float64))
        self.signal_curve.setData(np.arange(length, dtype=np.float64), field.example)
        for line in self.lines:
            line.setValue(i)
        reach = field.reach(i)
        self.reach.setRegion((i - reach - 0.5, i - 0.5))
        self.reach.setVisible(reach > 0)
        if length != self._length:
            self._length = length
            self.plot.setXRange(-0.5, length - 0.5, padding=0.01)
        return reach
