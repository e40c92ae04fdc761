"""The look for a lecture hall: large fonts, thick lines, a few clear colours, fixed plots."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem, QLabel, QSizePolicy, QWidget

__all__ = [
    "headline_label",
    "FONT_POINTS",
    "MODEL_COLOR",
    "DATA_COLOR",
    "GRID_COLOR",
    "CONTOUR_COLOR",
    "CURVE_COLORS",
    "LINE_WIDTH",
    "DATA_AXES",
    "apply",
    "make_plot",
    "make_heatmap",
    "make_color_bar",
    "set_axis_titles",
    "set_bar_label",
    "caption_label",
    "wrap_caption",
    "fix_range",
    "same_array",
    "PRESENTATION_FONT_SCALE",
    "Presentation",
    "scaled_font",
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
#: axis titles of the data plane (a latent plane names its dims: z0, z1, ...)
DATA_AXES = ("x1", "x2")
#: the colour bar's width, in pixels (its tick labels get their own room beside it)
BAR_WIDTH = 18

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


def set_axis_titles(plot: pg.PlotItem, x: str, y: str) -> None:
    """Title the bottom axis ``x`` and the left axis ``y`` at the app's font size (the
    data plane: :data:`DATA_AXES`)."""
    style = {"font-size": f"{FONT_POINTS}pt"}
    for name, text in (("bottom", x), ("left", y)):
        # no "(x0.001)" after a title: the ticks carry the values as they are
        plot.getAxis(name).enableAutoSIPrefix(False)
        plot.setLabel(name, text, **style)


def make_color_bar(colormap: pg.ColorMap, label: str = "") -> pg.ColorBarItem:
    """A colour bar, ticks and ``label`` (its quantity) on the right at the axis font.

    Its axis sizes itself to its tick labels (pyqtgraph fixes it at 45 pixels, which drops
    the widest labels once presentation mode enlarges the font).
    """
    bar = pg.ColorBarItem(
        colorMap=colormap, interactive=False, width=BAR_WIDTH, pen="k", colorMapMenu=False
    )
    axis = bar.getAxis("right")
    axis.setTickFont(AXIS_FONT)
    axis.setWidth(None)
    # D(x) from 0.44 to 0.56 reads as such, not as "D(x) (x0.001)" from 440 to 560
    axis.enableAutoSIPrefix(False)
    if label:
        set_bar_label(bar, label)
    return bar


def set_bar_label(bar: pg.ColorBarItem, label: str) -> None:
    """Name the quantity a colour bar shows (``"log p(x) [nats]"``, ``"D(x)"``)."""
    bar.getAxis("right").setLabel(label, **{"font-size": f"{FONT_POINTS}pt"})


def make_heatmap(
    colormap: pg.ColorMap, bar_label: str = "", axes: tuple[str, str] = DATA_AXES
) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem, pg.ImageItem, pg.ColorBarItem]:
    """A canvas holding a plot with one row-major ImageItem and its colour bar beside it.

    Arguments:
        colormap: the image's and the bar's colour map.
        bar_label: the quantity the colour shows (the bar's title).
        axes: the plot's axis titles, ``(x, y)``.

    Returns:
        ``(canvas, plot, image, bar)``; the bar's tick font matches the plot's axes.
    """
    canvas = pg.GraphicsLayoutWidget()
    plot = make_plot()
    set_axis_titles(plot, *axes)
    canvas.addItem(plot)
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(colormap)
    plot.addItem(image)
    bar = make_color_bar(colormap, bar_label)
    bar.setImageItem(image)
    canvas.addItem(bar)
    return canvas, plot, image, bar


def wrap_caption(label: QLabel) -> QLabel:
    """Make ``label`` a caption: word-wrapped, and its width never widens the window (its
    size policy ignores its one-line width; in a row, give it a stretch factor so it takes
    the row's spare width and wraps there). Returns ``label``."""
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def headline_label() -> QLabel:
    """A centred, large bold caption: a view's headline number (a flow's log q(x) split, a
    codebook's perplexity), readable from the back of a hall."""
    label = caption_label()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"font-size:{FONT_POINTS + 5}pt; font-weight:bold;")
    return label


def caption_label(text: str = "", align_right: bool = False) -> QLabel:
    """A new caption QLabel (see :func:`wrap_caption`), right-aligned if asked (a caption
    at the end of a row of controls)."""
    label = wrap_caption(QLabel(text))
    if align_right:
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label


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


#: presentation mode: fonts, line widths and point sizes grow by these factors
PRESENTATION_FONT_SCALE, PRESENTATION_LINE_SCALE, PRESENTATION_POINT_SCALE = 1.5, 1.75, 1.6
#: presentation mode: heatmaps drawn in viridis switch to this map, whose lightness spans
#: black to near-white (viridis stops at dark purple), so the levels survive a washed-out
#: projector
HIGH_CONTRAST_MAP = "inferno"
#: colour maps that presentation mode replaces (the diverging and image maps carry meaning)
_REPLACED_MAPS = ("viridis",)


def _scaled_pen(pen: QPen, factor: float) -> QPen:
    scaled = QPen(pen)
    scaled.setWidthF(max(pen.widthF(), 1.0) * factor)
    return scaled


def scaled_font(font: QFont, factor: float) -> QFont:
    """A copy of ``font``, ``factor`` times larger."""
    scaled = QFont(font)
    points = font.pointSizeF()
    if points > 0:
        scaled.setPointSizeF(points * factor)
    else:
        scaled.setPixelSize(round(font.pixelSize() * factor))
    return scaled


def _points(size: str | None, fallback: float) -> float:
    """The points of a pyqtgraph size string (``"13pt"``) or ``fallback``."""
    if isinstance(size, str) and size.endswith("pt"):
        try:
            return float(size[:-2])
        except ValueError:
            pass
    return fallback


class Presentation:
    """Lecture-hall scaling of every plot under some widgets, undone exactly.

    :meth:`apply` walks the pyqtgraph items under the given widgets and scales what it
    finds: pens of curves, lines and contours; sizes and outlines of scatter points; tick,
    axis-label, title, legend and text fonts; heatmaps in viridis switch to a
    high-contrast map; and a colour bar whose axis has a fixed width widens with the font,
    so it keeps all its tick labels. It remembers each original. Views create items and reset styles
    as they redraw (a new curve, a new title), so call :meth:`apply` again after each
    draw: an item whose style its view has changed since is scaled from its new style.
    :meth:`restore` puts back every original that its view has not replaced since.

    Arguments:
        font_scale, line_scale, point_scale: the factors.
    """

    def __init__(
        self,
        font_scale: float = PRESENTATION_FONT_SCALE,
        line_scale: float = PRESENTATION_LINE_SCALE,
        point_scale: float = PRESENTATION_POINT_SCALE,
    ):
        self.font_scale, self.line_scale, self.point_scale = font_scale, line_scale, point_scale
        self._high_contrast = pg.colormap.get(HIGH_CONTRAST_MAP)
        # (id(item), property) -> [item, original, applied, setter]
        self._records: dict[tuple[int, str], list] = {}

    @property
    def active(self) -> bool:
        """Whether some item is scaled now."""
        return bool(self._records)

    def apply(self, *widgets: QWidget) -> None:
        """Scale the items under ``widgets`` that are not scaled yet (or changed since)."""
        for widget in widgets:
            views = widget.findChildren(pg.GraphicsView)
            if isinstance(widget, pg.GraphicsView):
                views.append(widget)
            for view in views:
                for item in view.scene().items():
                    self._scale_item(item)

    def restore(self) -> None:
        """Put back every original style (unless its view has replaced the scaled one)."""
        for item, original, applied, (get, set_) in self._records.values():
            try:
                if _same(get(item), applied):
                    set_(item, original)
            except RuntimeError:  # the item's C++ object was deleted: nothing to restore
                pass
        self._records.clear()

    def _track(self, item, key: str, get, set_, scale) -> None:
        """Scale one property of ``item`` unless it still holds the value we applied."""
        record = self._records.get((id(item), key))
        current = get(item)
        if record is not None and record[0] is item and _same(current, record[2]):
            return
        applied = scale(current)
        if applied is None:
            return
        set_(item, applied)
        self._records[(id(item), key)] = [item, current, applied, (get, set_)]

    def _scale_item(self, item) -> None:
        line, point, font = self.line_scale, self.point_scale, self.font_scale
        if isinstance(item, pg.PlotCurveItem):
            self._track(
                item,
                "pen",
                lambda i: i.opts["pen"],
                lambda i, v: i.setPen(v),
                lambda p: _scaled_pen(p, line) if p.style() != Qt.PenStyle.NoPen else None,
            )
        elif isinstance(item, pg.ScatterPlotItem) and item.opts.get("pxMode", True):
            self._track(
                item,
                "size",
                lambda i: i.opts["size"],
                lambda i, v: i.setSize(v),
                lambda s: s * point,
            )
            self._track(
                item,
                "pen",
                lambda i: i.opts["pen"],
                lambda i, v: i.setPen(v),
                lambda p: _scaled_pen(p, point) if p.style() != Qt.PenStyle.NoPen else None,
            )
        elif isinstance(item, (pg.InfiniteLine, pg.IsocurveItem)):
            self._track(
                item,
                "pen",
                lambda i: i.pen,
                lambda i, v: i.setPen(v),
                lambda p: _scaled_pen(p, line) if p.style() != Qt.PenStyle.NoPen else None,
            )
        elif isinstance(item, pg.AxisItem):
            self._track(
                item,
                "tick_font",
                lambda i: i.style["tickFont"],
                lambda i, v: i.setTickFont(v),
                lambda f: scaled_font(f, font) if f is not None else None,
            )
            if item.label.isVisible() and "font-size" in item.labelStyle:
                self._track(
                    item,
                    "label",
                    lambda i: i.labelStyle.get("font-size"),
                    _set_axis_label_size,
                    lambda s: f"{_points(s, FONT_POINTS) * font:.4g}pt",
                )
        elif isinstance(item, pg.LabelItem) and item.isVisible():
            self._track(
                item,
                "size",
                lambda i: i.opts.get("size"),
                _set_label_size,
                lambda s: f"{_points(s, _label_points(item)) * font:.4g}pt",
            )
        elif isinstance(item, pg.TextItem):
            self._track(
                item,
                "font",
                lambda i: i.textItem.font(),
                lambda i, v: i.setFont(v),
                lambda f: scaled_font(f, font),
            )
        elif isinstance(item, pg.ColorBarItem):
            self._track(
                item,
                "colormap",
                lambda i: i.colorMap(),
                lambda i, v: i.setColorMap(v),
                self._contrast,
            )
            # a bar axis of fixed width (pyqtgraph's default) drops the tick labels that
            # no longer fit at the larger font: widen it with the font
            self._track(
                item,
                "axis_width",
                lambda i: i.getAxis("right").fixedWidth,
                lambda i, v: i.getAxis("right").setWidth(v),
                lambda w: None if w is None else w * font,
            )
        elif isinstance(item, pg.ImageItem):
            self._track(
                item,
                "colormap",
                lambda i: i.getColorMap(),
                lambda i, v: i.setColorMap(v),
                self._contrast,
            )

    def _contrast(self, cmap: pg.ColorMap | None) -> pg.ColorMap | None:
        if cmap is None or getattr(cmap, "name", None) not in _REPLACED_MAPS:
            return None
        return self._high_contrast


def _label_points(item: pg.LabelItem) -> float:
    """The point size a pyqtgraph label draws at when it names none."""
    points = item.item.font().pointSizeF()
    return points if points > 0 else float(FONT_POINTS)


def _set_label_size(item: pg.LabelItem, size: str | None) -> None:
    if size is None:
        item.opts.pop("size", None)
    else:
        item.opts["size"] = size
    item.setText(item.text)


def _set_axis_label_size(item: pg.AxisItem, size: str | None) -> None:
    style = dict(item.labelStyle)
    if size is None:
        style.pop("font-size", None)
    else:
        style["font-size"] = size
    item.labelStyle = style
    item._updateLabel()


def _same(a, b) -> bool:
    """Whether a style still holds the value set (pens, fonts, numbers, colour maps)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return bool(a == b)
    except TypeError:
        return False
