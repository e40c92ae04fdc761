"""The samples view: model samples against data samples, one scatter each, on a fixed box."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["SamplesView"]


class SamplesView(View):
    """Two reused ``ScatterPlotItem``s (model in orange, data in blue) and a legend."""

    name = "samples"
    title = "Samples"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        theme.set_axis_titles(self.plot, *theme.DATA_AXES)
        self.canvas.addItem(self.plot)
        legend = self.plot.addLegend(offset=(10, 10), labelTextSize=f"{theme.FONT_POINTS}pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        data_brush = pg.mkBrush(
            theme.DATA_COLOR.red(), theme.DATA_COLOR.green(), theme.DATA_COLOR.blue(), 130
        )
        model_brush = pg.mkBrush(
            theme.MODEL_COLOR.red(), theme.MODEL_COLOR.green(), theme.MODEL_COLOR.blue(), 170
        )
        self.data = pg.ScatterPlotItem(size=7, pen=None, brush=data_brush, name="data")
        self.model = pg.ScatterPlotItem(size=7, pen=None, brush=model_brush, name="model samples")
        self.plot.addItem(self.data)
        self.plot.addItem(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._box: tuple[float, float, float, float] | None = None
        self._data_array = None

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._data_array = None, None
        self.data.clear()
        self.model.clear()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.samples`` (a core :class:`SampleCloud`)."""
        s = snapshot.samples
        if s is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        if not theme.same_array(s.data, self._data_array):
            self._data_array = s.data
            if s.data is None:
                self.data.clear()
            else:
                self.data.setData(pos=s.data)
        self.model.setData(pos=s.model)
