"""The look for a lecture hall: large fonts, thick lines, a few clear colours, fixed plots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QApplication, QGraphicsItem

__all__ = [
    "FONT_POINTS",
    "MODEL_COLOR",
    "DATA_COLOR",
    "GRID_COLOR",
    "CONTOUR_COLOR",
    "CURVE_COLORS",
    "LINE_WIDTH",
    "apply",
    "make_plot",
    "fix_range",
    "same_array",
]

#: application font size: readable from the back of a lecture hall
FONT_POINTS = 13
#: model samples / particles (orange) and data (blue): distinct for colour-blind viewers too
MODEL_COLOR = QColor(230, 97, 1)
DATA_COLOR = QColor(33, 102, 172)
GRID_COLOR = QColor(90, 90, 90)
#: target contours: readable over both ends of viridis (dark purple and yellow)
CONTOUR_COLOR = QColor(255, 40, 90)
CURVE_COLORS = [QColor(c) for c in ("#e66101", "#2166ac", "#1b7837", "#762a83", "#b2182b")]
LINE_WIDTH = 3

AXIS_FONT = QFont()
AXIS_FONT.setPointSize(FONT_POINTS)


def apply(app: QApplication) -> None:
    """Set the application font and pyqtgraph's global options (row-major images, white)."""
    font = app.font()
    font.setPointSize(FONT_POINTS)
    app.setFont(font)
    # no antialiasing: thick antialiased paths cost ~10x more to paint, and painting holds the
    # GIL that the training thread needs (benchmarks/app_overhead.py)
    pg.setConfigOptions(imageAxisOrder="row-major", background="w", foreground="k", antialias=False)


def make_plot(widget: pg.GraphicsLayoutWidget | None = None, title: str = "") -> pg.PlotItem:
    """A PlotItem with large tick labels, no mouse panning and no auto-range 'A' button."""
    plot = pg.PlotItem()
    if title:
        plot.setTitle(title, size=f"{FONT_POINTS + 2}pt")
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setTickFont(AXIS_FONT)
        axis.setPen(pg.mkPen("k", width=1))
        axis.setTextPen(pg.mkPen("k"))
        # tick text is costly to paint: repaint an axis (and its grid) from a cached pixmap
        # unless its range changed
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    return plot


def make_heatmap(
    colormap: pg.ColorMap,
) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem, pg.ImageItem, pg.ColorBarItem]:
    """A canvas holding a plot with one row-major ImageItem and its colour bar beside it.

    Arguments:
        colormap: the image's and the bar's colour map.

    Returns:
        ``(canvas, plot, image, bar)``; the bar's tick font matches the plot's axes.
    """
    canvas = pg.GraphicsLayoutWidget()
    plot = make_plot()
    canvas.addItem(plot)
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(colormap)
    plot.addItem(image)
    bar = pg.ColorBarItem(
        colorMap=colormap, interactive=False, width=18, pen="k", colorMapMenu=False
    )
    bar.setImageItem(image)
    bar.getAxis("right").setTickFont(plot.getAxis("left").style["tickFont"])
    canvas.addItem(bar)
    return canvas, plot, image, bar


def fix_range(plot: pg.PlotItem, box: tuple[float, float, float, float]) -> None:
    """Pin the plot to ``box = (xmin, xmax, ymin, ymax)`` with equal aspect; no auto-range."""
    vb = plot.getViewBox()
    vb.disableAutoRange()
    vb.setAspectLocked(True)
    vb.setMouseEnabled(x=False, y=False)
    xmin, xmax, ymin, ymax = box
    vb.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.0)


def same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Whether two optional arrays hold the same values (skips redrawing static overlays)."""
    if a is None or b is None:
        return a is b
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


def add_legend(plot: pg.PlotItem) -> pg.LegendItem:
    """A legend in the plot's top-left corner, at the app's font size, on white."""
    legend = plot.addLegend(offset=(10, 10), labelTextSize=f"{FONT_POINTS}pt")
    legend.setBrush(pg.mkBrush(255, 255, 255, 220))
    return legend


def brush(color: QColor, alpha: int) -> QBrush:
    """A brush of ``color`` with opacity ``alpha`` (0-255)."""
    return pg.mkBrush(color.red(), color.green(), color.blue(), alpha)
