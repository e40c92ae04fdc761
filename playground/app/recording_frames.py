"""The frames of a recording: a view's pictures (its canvases, not its row of controls), with
its title and the training step burnt into a header strip."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from .views import View

__all__ = ["plot_area", "stamp", "view_frame", "fit_plot_area", "pixmap_array"]

#: the header strip of a frame: its text size (points, as the app's) and its colours
HEADER_POINTS = 13
HEADER_BACKGROUND = QColor(20, 20, 20, 200)
HEADER_TEXT = QColor(255, 255, 255)


def plot_area(view: QWidget) -> QRect:
    """The part of ``view`` that holds its pictures, in its own coordinates: the union of
    its visible pyqtgraph canvases, without the row of controls above them (the whole
    view where it has no canvas)."""
    area = QRect()
    for canvas in view.findChildren(pg.GraphicsView):
        if canvas.isVisibleTo(view):
            area = area.united(QRect(canvas.mapTo(view, QPoint(0, 0)), canvas.size()))
    return area if not area.isEmpty() else view.rect()


def stamp(pixmap: QPixmap, title: str, step: int) -> QPixmap:
    """A copy of ``pixmap`` with a header strip painted over its top: ``title`` and
    ``step N``, white on a dark band, so a recording says what it shows and when."""
    out = QPixmap(pixmap)
    painter = QPainter(out)
    try:
        font = QFont(painter.font())
        font.setPointSize(HEADER_POINTS)
        font.setBold(True)
        painter.setFont(font)
        height = painter.fontMetrics().height() + 8
        width = round(out.width() / out.devicePixelRatio())
        painter.fillRect(0, 0, width, height, HEADER_BACKGROUND)
        painter.setPen(HEADER_TEXT)
        text = f"{title}   step {step:,}" if title else f"step {step:,}"
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(8, 0, max(1, width - 16), height), flags, text)
    finally:
        painter.end()
    return out


def view_frame(view: View, step: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """One frame of a recording: ``view``'s :func:`plot_area` as drawn now (scaled to
    ``size``, (width, height), if given), :func:`stamp`-ed with its title and ``step``;
    ``(height, width, 3)`` uint8 RGB."""
    pixmap = view.grab(plot_area(view))
    if size is not None and (pixmap.width(), pixmap.height()) != tuple(size):
        pixmap = pixmap.scaled(
            QSize(*size),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(1.0)
    return pixmap_array(stamp(pixmap, view.title, step))


def fit_plot_area(widget: QWidget, size: tuple[int, int]) -> None:
    """Resize ``widget`` so that its :func:`plot_area` is ``size`` (its controls' row is
    added on top); :func:`view_frame` scales away what the layout still rounds."""
    area = plot_area(widget)
    extra = (widget.width() - area.width(), widget.height() - area.height())
    if (area.width(), area.height()) != tuple(size):
        widget.resize(size[0] + extra[0], size[1] + extra[1])
        QApplication.processEvents()


def pixmap_array(pixmap: QPixmap) -> np.ndarray:
    """``pixmap`` as ``(height, width, 3)`` uint8 RGB (a copy)."""
    image = pixmap.toImage().convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return rows[:, : w * 3].reshape(h, w, 3).copy()
