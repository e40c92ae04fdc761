"""The waveforms view: a sequence model's samples above data sequences on one time axis,
each beside the spectrogram of its first sequence, on one colour scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.waveforms import WaveformsPicture

__all__ = ["WaveformsView", "SPECTROGRAM_MAP", "BAR_LABEL", "THIN_ALPHA"]

#: the spectrograms' power, dark (quiet) to yellow (loud); both share it and its levels
SPECTROGRAM_MAP = pg.colormap.get("viridis")
BAR_LABEL = "power [dB]"
#: the sequences after the first are drawn thin and this opaque (0-255)
THIN_ALPHA = 110
#: row titles: the model's samples above, the data below
ROWS = (("generated", "Model", theme.MODEL_COLOR), ("data", "Data", theme.DATA_COLOR))


class WaveformsView(View):
    """Left: the model's sequences (orange, top) and data sequences (blue, bottom) against
    time in milliseconds, mu-law companded amplitude in ``[-1, 1]``; the first of each is
    drawn thick. Right: the spectrogram of that first sequence (raw amplitude, mu-law
    decoded), frequency against time, the two on one dB scale. All four plots share the
    time axis."""

    name = "waveforms"
    title = "Waveforms"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.curve_plots: dict[str, pg.PlotItem] = {}
        self.spectrum_plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, list[pg.PlotDataItem]] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self._colors = {key: color for key, _, color in ROWS}
        for row, (key, title, _color) in enumerate(ROWS):
            plot = self._plot(f"{title} samples", "amplitude (mu-law)", row, 0)
            plot.setYRange(-1.05, 1.05, padding=0.0)
            self.curve_plots[key] = plot
            self.curves[key] = []
            spectrum = self._plot(f"{title}: spectrogram", "frequency [Hz]", row, 1)
            image = pg.ImageItem(axisOrder="row-major")
            image.setColorMap(SPECTROGRAM_MAP)
            spectrum.addItem(image)
            self.spectrum_plots[key] = spectrum
            self.images[key] = image
        first = self.curve_plots["generated"]
        for plot in (*self.curve_plots.values(), *self.spectrum_plots.values()):
            if plot is not first:
                plot.setXLink(first)
        self.bar = theme.make_color_bar(SPECTROGRAM_MAP, BAR_LABEL)
        self.bar.setImageItem(list(self.images.values()))
        self.canvas.addItem(self.bar, 0, 2, rowspan=2)
        self.caption = theme.caption_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        self._last: WaveformsPicture | None = None

    def _plot(self, title: str, y: str, row: int, col: int) -> pg.PlotItem:
        plot = theme.make_plot(title=title)
        theme.set_axis_titles(plot, "time [ms]", y)
        box = plot.getViewBox()
        box.setMouseEnabled(x=False, y=False)
        box.disableAutoRange()
        self.canvas.addItem(plot, row=row, col=col)
        plot.setPreferredWidth(100)  # two equal columns, whatever their titles' widths
        self.canvas.ci.layout.setColumnStretchFactor(col, 1)
        return plot

    def _pen(self, key: str, first: bool) -> pg.QtGui.QPen:
        color = self._colors[key]
        if first:
            return pg.mkPen(color, width=theme.LINE_WIDTH)
        return pg.mkPen(theme.brush(color, THIN_ALPHA).color(), width=1.5)

    def clear(self) -> None:
        """Forget the session's picture."""
        self._last = None
        for key, items in self.curves.items():
            for item in items:
                self.curve_plots[key].removeItem(item)
            items.clear()
        for image in self.images.values():
            image.clear()
        self.caption.setText("")

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.waveforms`` (a core :class:`WaveformsPicture`)."""
        w = snapshot.waveforms
        if w is None:
            return
        self._last = w
        ms = 1000.0 * w.time
        for key in self.curves:
            values = getattr(w, key)
            self._draw_curves(key, ms, values)
        end = float(ms[-1]) if len(ms) > 1 else 1.0
        self.curve_plots["generated"].setXRange(0.0, end, padding=0.0)
        self._draw_spectrograms(w)
        self.caption.setText(
            f"{len(w.generated)} model samples and {len(w.data)} data sequences, "
            f"{len(w.time)} steps at {w.sample_rate:,.0f} Hz, mu-law companded to "
            f"{w.levels} levels (the first of each thick); spectrograms of the first, "
            f"mu-law decoded, a Hann window of {w.window} steps. Model samples whose bands "
            "match the data's have learned its frequencies."
        )

    def _draw_curves(self, key: str, ms: np.ndarray, values: np.ndarray) -> None:
        items, plot = self.curves[key], self.curve_plots[key]
        while len(items) < len(values):  # created once per session, then reused
            item = pg.PlotDataItem(pen=self._pen(key, not items))
            item.setZValue(-len(items))  # the first on top
            plot.addItem(item)
            items.append(item)
        for item, row in zip(items, values, strict=False):
            item.setData(ms, row)

    def _draw_spectrograms(self, w: WaveformsPicture) -> None:
        floor, top = w.db_range
        self.bar.setLevels((floor, top))
        ms, hz = 1000.0 * w.spec_time, w.spec_freq
        hop = float(ms[1] - ms[0]) if len(ms) > 1 else 1000.0 * len(w.time) / w.sample_rate
        step = float(hz[1] - hz[0]) if len(hz) > 1 else w.sample_rate / 2
        rect = QRectF(float(ms[0]) - hop / 2, -step / 2, hop * len(ms), step * len(hz))
        for key, values in (("generated", w.generated_spectrogram), ("data", w.data_spectrogram)):
            self.images[key].setImage(values, levels=(floor, top), autoLevels=False)
            self.images[key].setRect(rect)  # after setImage: the rect scales the pixels
            self.spectrum_plots[key].setYRange(0.0, float(hz[-1]), padding=0.0)
