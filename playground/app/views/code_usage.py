"""The code usage view of a VQ-VAE: how often each code is chosen over the test set, with
its perplexity as the headline, against how often the prior draws it; and the code maps of
a few test images beside code maps drawn from the prior, decoded."""

from __future__ import annotations

import colorsys
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .. import theme
from .base import View
from .images import GAP_LEVEL, upscale

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.code_usage import CodeUsage

__all__ = [
    "CodeUsageView",
    "code_colors",
    "text_color",
    "composite",
    "summary_text",
    "PRIOR_COLOR",
]

#: the prior's share of each code (dots), and the uniform share (dashed line)
PRIOR_COLOR = pg.mkColor(20, 20, 20)
#: pixels between an image and its map, and between rows, in composite pixels
GAP = 4
#: a code's cell is this fraction of an image's side
CELL_FRACTION = 0.5
#: the golden ratio's fraction: hues k * 0.618 apart never sit close for neighbouring k
_HUE_STEP = 0.6180339887


def code_colors(k: int) -> np.ndarray:
    """``(k, 3)`` uint8 colours, one per code: hues spread by the golden ratio, two levels
    of saturation alternating (see :func:`text_color` for the numbers on them)."""
    rows = []
    for i in range(k):
        sat = 0.45 if i % 2 else 0.7
        rows.append(colorsys.hsv_to_rgb((i * _HUE_STEP) % 1.0, sat, 0.95))
    return np.round(np.asarray(rows, dtype=np.float64).reshape(k, 3) * 255).astype(np.uint8)


def text_color(rgb: np.ndarray) -> str:
    """Black on a light code colour, white on a dark one (luma below 150 of 255)."""
    luma = 0.299 * float(rgb[0]) + 0.587 * float(rgb[1]) + 0.114 * float(rgb[2])
    return "k" if luma >= 150 else "w"


def summary_text(u: CodeUsage) -> str:
    """``perplexity 27.4 of 32 codes · 30 codes used on the test set · prior: 31.8``."""
    return (
        f"perplexity {u.perplexity:.1f} of {u.codebook_size} codes   \u00b7   "
        f"{u.codes_used} codes used on the test set   \u00b7   "
        f"{u.prior} prior's draws: perplexity {u.prior_perplexity:.1f}"
    )


def composite(
    images: np.ndarray, maps: np.ndarray, colors: np.ndarray, image_first: bool
) -> tuple[np.ndarray, list[tuple[float, float, int]]]:
    """One RGB picture: a row per example, its image and its code map side by side.

    Arguments:
        images: ``(m, H, W)`` grey in ``[0, 1]``.
        maps: ``(m, h, w)`` code indices.
        colors: ``(K, 3)`` uint8 code colours.
        image_first: image left of the map (test images: ``x -> k``), else the map first
            (prior samples: ``k -> x``).

    Returns:
        ``(rgb (rows, cols, 3) uint8, cells)``: ``cells`` the centre ``(x, y)`` of each code
        cell in picture pixels with its code, for the numbers drawn over them.
    """
    m, side_h, side_w = images.shape
    _, h, w = maps.shape
    f = upscale(side_h)
    big_h, big_w = side_h * f, side_w * f
    cell = max(int(round(big_w * CELL_FRACTION)), 1)
    row_h = max(big_h, h * cell)
    width = big_w + GAP + w * cell
    grey = int(round(GAP_LEVEL * 255))
    out = np.full((m * (row_h + GAP) - GAP, width, 3), grey, np.uint8)
    cells: list[tuple[float, float, int]] = []
    image_x, map_x = (0, big_w + GAP) if image_first else (w * cell + GAP, 0)
    for r in range(m):
        top = r * (row_h + GAP)
        tile = np.kron(np.clip(images[r], 0.0, 1.0), np.ones((f, f)))
        out[top : top + big_h, image_x : image_x + big_w] = np.round(tile * 255)[..., None]
        coloured = colors[maps[r]].repeat(cell, axis=0).repeat(cell, axis=1)
        out[top : top + h * cell, map_x : map_x + w * cell] = coloured
        for i in range(h):
            for j in range(w):
                centre = (map_x + (j + 0.5) * cell, top + (i + 0.5) * cell)
                cells.append((*centre, int(maps[r, i, j])))
    return out, cells


class _MapPanel:
    """A titled plot of one :func:`composite`, equal aspect, with the code numbers on it."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, title: str, col: int):
        self.plot = theme.make_plot(title=title)
        canvas.addItem(self.plot, row=1, col=col)
        for axis in ("left", "bottom"):
            self.plot.hideAxis(axis)
        vb = self.plot.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        vb.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.numbers: list[pg.TextItem] = []
        self._shape: tuple[int, ...] | None = None

    def set(
        self, rgb: np.ndarray, cells: list[tuple[float, float, int]], colors: np.ndarray
    ) -> None:
        """Draw ``rgb`` and number its ``cells`` (see :func:`composite`)."""
        self.image.setImage(rgb, levels=None, autoLevels=False)
        while len(self.numbers) < len(cells):
            item = pg.TextItem("", color="k", anchor=(0.5, 0.5))
            item.setFont(theme.AXIS_FONT)
            self.plot.addItem(item)
            self.numbers.append(item)
        for item, (x, y, code) in zip(self.numbers, cells, strict=False):
            item.setText(str(code))
            item.setColor(text_color(colors[code]))
            item.setPos(x, y)
            item.show()
        for item in self.numbers[len(cells) :]:
            item.hide()
        if rgb.shape != self._shape:
            self._shape = rgb.shape
            self.plot.getViewBox().setRange(
                xRange=(0, rgb.shape[1]), yRange=(0, rgb.shape[0]), padding=0.02
            )

    def clear(self) -> None:
        self.image.clear()
        self._shape = None
        for item in self.numbers:
            item.hide()


class CodeUsageView(View):
    """Top: a ``BarGraphItem`` of each code's share of the test set's positions, each bar
    in its code's colour, with the prior's share of its draws as black dots and the
    uniform share dashed. Below (image sets): test images with their code maps, and code
    maps drawn from the prior with their decodings; each cell in its code's colour with
    its number. The headline is the test set's codebook perplexity."""

    name = "code_usage"
    title = "Codes"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = theme.headline_label()
        self.legend = QLabel(
            "bars: each code's share of the test set's positions, in the code's colour  "
            "\u00b7  \u25cf: its share of the prior's draws  \u00b7  dashed: uniform, 1 / K"
        )
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.wrap_caption(self.legend)
        self.canvas = pg.GraphicsLayoutWidget()
        self.bars_plot = theme.make_plot(title="code usage")
        self.bars_plot.getViewBox().setMouseEnabled(x=False, y=False)
        theme.set_axis_titles(self.bars_plot, "code k", "share of positions")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, pen=pg.mkPen("k", width=1))
        self.prior_dots = pg.ScatterPlotItem(size=9, pen=None, brush=pg.mkBrush(PRIOR_COLOR))
        self.uniform = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("k", width=2, style=Qt.PenStyle.DashLine)
        )
        for item in (self.bars, self.prior_dots, self.uniform):
            self.bars_plot.addItem(item)
        self.canvas.addItem(self.bars_plot, row=0, col=0, colspan=2)
        self.test_panel = _MapPanel(self.canvas, "test images \u2192 their code maps", 0)
        self.prior_panel = _MapPanel(self.canvas, "code maps from the prior \u2192 decoded", 1)
        self.canvas.ci.layout.setRowStretchFactor(0, 2)
        self.canvas.ci.layout.setRowStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.legend)
        layout.addWidget(self.canvas, 1)
        self._k = 0
        self._colors = code_colors(0)
        self._brushes: list = []

    @property
    def heights(self) -> np.ndarray:
        """The drawn bar heights (each code's share of the test positions)."""
        return np.asarray(self.bars.opts["height"], dtype=np.float64)

    def clear(self) -> None:
        """Forget the session's picture."""
        self._k = 0
        self.bars.setOpts(x=[], height=[])
        self.prior_dots.clear()
        self.summary.setText("")
        self.test_panel.clear()
        self.prior_panel.clear()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.code_usage`` (a core :class:`CodeUsage`)."""
        u = snapshot.code_usage
        if u is None:
            return
        k = u.codebook_size
        if k != self._k:
            self._k = k
            self._colors = code_colors(k)
            self._brushes = [pg.mkBrush(*c) for c in self._colors]
            self.bars_plot.setXRange(-0.6, k - 0.4, padding=0)
            self.uniform.setValue(1.0 / max(k, 1))
        share = u.counts / max(float(u.counts.sum()), 1.0)
        x = np.arange(k)
        self.bars.setOpts(x=x, height=share, brushes=self._brushes)
        self.prior_dots.setData(x=x, y=u.prior_share)
        top = max(float(share.max(initial=0.0)), float(u.prior_share.max(initial=0.0)), 1.0 / k)
        self.bars_plot.setYRange(0.0, top * 1.1, padding=0)
        self.summary.setText(summary_text(u))
        has_maps = u.test_maps is not None and u.test_images is not None
        for panel in (self.test_panel, self.prior_panel):
            panel.plot.setVisible(has_maps)
        if has_maps:
            colors = self._colors
            self.test_panel.set(*composite(u.test_images, u.test_maps, colors, True), colors)
            self.prior_panel.set(*composite(u.sample_images, u.sample_maps, colors, False), colors)
