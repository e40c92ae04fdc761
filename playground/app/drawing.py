"""Drawing 2D points on a plane view: the drawn set (:class:`PointSketch`, plain numpy) and
the overlay that draws it on a view's plot and turns mouse strokes into brush or eraser
dabs (:class:`DrawOverlay`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from pyqtgraph.Qt.internals import PrimitiveArray
from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem

if TYPE_CHECKING:
    from PySide6.QtGui import QMouseEvent

__all__ = ["PointSketch", "DotsItem", "DrawOverlay", "ERASER_SPREADS", "SKETCH_COLOR"]

#: the eraser's radius, in brush spreads: it removes what one dab of the brush puts down
#: (a 2D Gaussian keeps 86% of its points within two standard deviations)
ERASER_SPREADS = 2.0
#: the drawn points' colour (a dark purple: apart from the data's blue and the model's orange)
SKETCH_COLOR = (84, 39, 143, 200)


class PointSketch:
    """The points a user draws: a brush adds Gaussian dabs, an eraser removes a disc.

    Plain numpy (no Qt): the points are kept in a growing buffer, so adding ``k`` points
    costs ``O(k)`` (amortised), and :attr:`points` is a view of its filled part.

    Arguments:
        seed: seeds the brush's noise (a replayed stroke puts the same points down).

    Attributes:
        spread: the brush's standard deviation, in data units.
        density: points the brush adds per second while the button is held.
        version: counts changes (the window applies a version once).
    """

    def __init__(self, seed: int = 0):
        self.spread = 0.15
        self.density = 300.0
        self.version = 0
        self._buffer = np.empty((1024, 2), np.float32)
        self._n = 0
        self._rng = np.random.default_rng(seed)
        self._bounds: np.ndarray | None = None  # (2, 2): low, high; None: to recompute

    @property
    def points(self) -> np.ndarray:
        """The drawn points, ``(n, 2)`` float32 (a view: copy before keeping it)."""
        return self._buffer[: self._n]

    def __len__(self) -> int:
        return self._n

    @property
    def bounds(self) -> np.ndarray | None:
        """The points' box ``[[xmin, ymin], [xmax, ymax]]``, or ``None`` with no points;
        kept up to date as the brush adds points (recomputed only after an erase)."""
        if self._n == 0:
            return None
        if self._bounds is None:
            self._bounds = np.stack([self.points.min(0), self.points.max(0)])
        return self._bounds

    def set(self, points: Any) -> None:
        """Replace the drawing by ``points`` (``(n, 2)``, numpy or torch; at most
        :data:`~playground.core.data.points.MAX_POINTS` are kept)."""
        from ..core.data.points import MAX_POINTS  # here: the window opens before torch

        array = np.asarray(points, dtype=np.float32).reshape(-1, 2)[:MAX_POINTS]
        self._buffer = np.empty((max(1024, 2 * len(array)), 2), np.float32)
        self._buffer[: len(array)] = array
        self._n = len(array)
        self._bounds = None
        self.version += 1

    def clear(self) -> None:
        """Remove every point."""
        self._n = 0
        self.version += 1

    def brush(self, x: float, y: float, count: int) -> int:
        """Add ``count`` points drawn from ``N((x, y), spread^2 I)``; returns how many were
        added (fewer once :data:`~playground.core.data.points.MAX_POINTS` is reached)."""
        from ..core.data.points import MAX_POINTS

        count = min(int(count), MAX_POINTS - self._n)
        if count <= 0:
            return 0
        new = self._rng.normal((x, y), self.spread, size=(count, 2)).astype(np.float32)
        if self._n + count > len(self._buffer):
            grown = np.empty((max(2 * len(self._buffer), self._n + count), 2), np.float32)
            grown[: self._n] = self._buffer[: self._n]
            self._buffer = grown
        self._buffer[self._n : self._n + count] = new
        if self._bounds is not None:
            low = np.minimum(self._bounds[0], new.min(0))
            self._bounds = np.stack([low, np.maximum(self._bounds[1], new.max(0))])
        self._n += count
        self.version += 1
        return count

    def erase(self, x: float, y: float, radius: float | None = None) -> int:
        """Remove the points within ``radius`` (default :data:`ERASER_SPREADS` spreads) of
        ``(x, y)``; returns how many were removed."""
        radius = ERASER_SPREADS * self.spread if radius is None else radius
        points = self.points
        keep = ((points - np.float32((x, y))) ** 2).sum(1) > radius * radius
        removed = self._n - int(keep.sum())
        if removed:
            kept = points[keep]
            self._n = len(kept)
            self._buffer[: self._n] = kept
            self._bounds = None
            self.version += 1
        return removed


class DotsItem(pg.GraphicsObject):
    """Many same-looking dots, drawn fast: one pre-rendered dot pixmap stamped at every
    point with ``QPainter.drawPixmapFragments`` (as ``pg.ScatterPlotItem`` paints), with
    none of the scatter's per-point records: :meth:`set_points` is a copy of the array,
    where ``ScatterPlotItem.setData`` costs 3-7 us a point (33-70 ms for 10,000 points,
    measured offscreen on the 2-core machine; ``benchmarks/drawing.md``).

    Arguments:
        size: the dots' diameter in pixels.
        color: RGBA.
    """

    def __init__(self, size: int = 5, color: tuple[int, int, int, int] = SKETCH_COLOR):
        super().__init__()
        # painted once per change into a pixmap of the visible part: the view's other
        # repaints (10 snapshots a second) blit it (50,000 points: 1 ms, not 21; drawing.md)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.size = size
        self._xy = np.empty((0, 2), np.float64)
        self._rect = QRectF()
        self._frags = PrimitiveArray(QPainter.PixmapFragment, 10)
        self._pixmap = QPixmap(size, size)
        self._pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(self._pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(*color))
        painter.drawEllipse(QRectF(0, 0, size, size))
        painter.end()

    def __len__(self) -> int:
        return len(self._xy)

    def set_points(self, points: np.ndarray, bounds: np.ndarray | None = None) -> None:
        """Show ``points`` (``(n, 2)``, data coordinates; copied); ``bounds``: their box
        ``[[xmin, ymin], [xmax, ymax]]`` if known (else computed)."""
        self.prepareGeometryChange()
        self._xy = np.array(points, dtype=np.float64).reshape(-1, 2)
        if len(self._xy):
            if bounds is None:
                bounds = np.stack([self._xy.min(0), self._xy.max(0)])
            (x0, y0), (x1, y1) = np.asarray(bounds, dtype=np.float64)
            self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        """The points' box, padded by a dot (in data units at the current zoom)."""
        if self._rect.isNull() and not len(self._xy):
            return QRectF()
        px, py = self.pixelVectors()
        pad_x = self.size * (px.length() if px is not None else 0.0)
        pad_y = self.size * (py.length() if py is not None else 0.0)
        return self._rect.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def paint(self, painter: QPainter, *args: Any) -> None:
        """Stamp the dot at every point inside the view."""
        if not len(self._xy):
            return
        xy = fn.transformCoordinates(painter.transform(), self._xy.T).T
        painter.resetTransform()
        self._frags.resize(len(xy))
        frags = self._frags.ndarray()
        frags[:, 0:2] = xy
        frags[:, 2:6] = (0.0, 0.0, self.size, self.size)
        frags[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
        painter.drawPixmapFragments(*self._frags.drawargs(), self._pixmap)


class DrawOverlay(QObject):
    """The drawn points on one plane view's plot, and its mouse strokes while active.

    Installed on the view's ``GraphicsLayoutWidget`` (``canvas``) and ``PlotItem``: one
    :class:`DotsItem` shows the drawing (one array copy per refresh, no per-point items),
    and an event filter on the canvas turns left-button presses, moves and
    releases over the plot into :attr:`pressed`, :attr:`moved` and :attr:`released` in
    data coordinates (consumed while active; the view's own handling otherwise).

    Arguments:
        canvas: the view's ``pg.GraphicsLayoutWidget``.
        plot: its ``pg.PlotItem`` in data coordinates.

    Signals:
        pressed(float, float), moved(float, float), released(): a stroke.
    """

    pressed = Signal(float, float)
    moved = Signal(float, float)
    released = Signal()

    def __init__(self, canvas: pg.GraphicsLayoutWidget, plot: pg.PlotItem):
        super().__init__(canvas)
        self.canvas, self.plot = canvas, plot
        self.active = False
        self._down = False
        self.dots = DotsItem()
        self.dots.setZValue(50)
        self.dots.hide()
        plot.addItem(self.dots)
        self.shown_version = -1
        canvas.viewport().installEventFilter(self)

    def set_active(self, active: bool) -> None:
        """Start or stop drawing on this view (the scatter shows while active)."""
        self.active, self._down = bool(active), False
        self.dots.setVisible(self.active)
        self.shown_version = -1

    def show_points(self, sketch: PointSketch) -> None:
        """Draw ``sketch``'s points, if they changed since last shown."""
        if sketch.version == self.shown_version:
            return
        self.shown_version = sketch.version
        self.dots.set_points(sketch.points, sketch.bounds)

    def to_data(self, pos: QPoint) -> tuple[float, float] | None:
        """The data coordinates of a canvas-viewport pixel, or ``None`` outside the plot."""
        scene = self.canvas.mapToScene(pos)
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene):
            return None
        point = vb.mapSceneToView(scene)
        return float(point.x()), float(point.y())

    def to_pixel(self, x: float, y: float) -> QPoint:
        """The canvas-viewport pixel of data point ``(x, y)`` (tests and benchmarks)."""
        scene = self.plot.getViewBox().mapViewToScene(pg.Point(x, y))
        return self.canvas.mapFromScene(scene)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Strokes of the left button over the plot, while active."""
        if not self.active:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            me: QMouseEvent = event  # type: ignore[assignment]
            if me.button() != Qt.MouseButton.LeftButton:
                return False
            where = self.to_data(me.position().toPoint())
            if where is None:
                return False
            self._down = True
            self.pressed.emit(*where)
            return True
        if kind == QEvent.Type.MouseMove and self._down:
            where = self.to_data(event.position().toPoint())  # type: ignore[attr-defined]
            if where is not None:
                self.moved.emit(*where)
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._down:
            self._down = False
            self.released.emit()
            return True
        return False
