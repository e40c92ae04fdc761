"""The generator-manifold view: a regular latent grid pushed through the generator, as
GAN Lab draws it, over the fake samples and the real data."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot

__all__ = ["ManifoldView", "NO_MANIFOLD_TEXT"]

NO_MANIFOLD_TEXT = (
    "The manifold view needs a 1D or 2D latent: set latent_dim to 1 or 2 to see how the "
    "generator warps the latent plane."
)


class ManifoldView(View):
    """The warped latent grid (one ``PlotCurveItem`` with a ``connect`` array) over the
    real data and the fake samples; axes fixed to the dataset box."""

    name = "manifold"
    title = "Manifold"
    parts = ("manifold", "samples")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = theme.caption_label(align_right=True)
        bar = QHBoxLayout()
        bar.addWidget(self.caption, 1)
        self.message = theme.wrap_caption(QLabel(NO_MANIFOLD_TEXT))
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet(f"font-size:{theme.FONT_POINTS + 5}pt; padding:40px;")
        self.message.hide()

        self.canvas = pg.GraphicsLayoutWidget()
        self.plot = theme.make_plot()
        theme.set_axis_titles(self.plot, *theme.DATA_AXES)
        self.canvas.addItem(self.plot)
        legend = self.plot.addLegend(offset=(10, 10), labelTextSize=f"{theme.FONT_POINTS}pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        d, m = theme.DATA_COLOR, theme.MODEL_COLOR
        self.data = pg.ScatterPlotItem(
            size=7, pen=None, brush=pg.mkBrush(d.red(), d.green(), d.blue(), 110), name="real data"
        )
        self.grid = pg.PlotCurveItem(pen=pg.mkPen((40, 40, 40), width=2), name="G(latent grid)")
        self.fake = pg.ScatterPlotItem(
            size=6, pen=None, brush=pg.mkBrush(m.red(), m.green(), m.blue(), 200), name="fake G(z)"
        )
        for item in (self.data, self.grid, self.fake):
            self.plot.addItem(item)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.canvas, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._data: np.ndarray | None = None
        self._connect: np.ndarray | None = None

    def accepts(self, snapshot: Snapshot) -> bool:
        """A snapshot made for this view: with its manifold, or with ``None`` there (a
        latent of more than two dimensions: the view says why)."""
        return snapshot.made_for("manifold")

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._data = None, None
        self.grid.setData([], [])
        self.data.clear()
        self.fake.clear()
        self.caption.setText("")

    @property
    def unavailable(self) -> bool:
        """Whether the no-manifold message is shown instead of the plot."""
        return self.message.isVisibleTo(self)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.manifold`` (or say why there is none) and ``snapshot.samples``."""
        m = snapshot.manifold
        self.message.setVisible(m is None)
        self.canvas.setVisible(m is not None)
        if m is None:
            self.caption.setText("")
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        lines, per_line, _ = m.lines.shape
        if self._connect is None or self._connect.size != lines * per_line:
            self._connect = np.ones(lines * per_line, dtype=bool)
            self._connect[per_line - 1 :: per_line] = False
        flat = m.lines.reshape(-1, 2)
        self.grid.setData(flat[:, 0], flat[:, 1], connect=self._connect)
        if m.latent_dim == 1:
            self.caption.setText("G(z) for z in [-3, 3]  (1D latent)")
        else:
            self.caption.setText(f"G of a {lines // 2}\u00d7{lines // 2} grid of [-3, 3]\u00b2")
        s = snapshot.samples
        if s is None:
            return
        if not theme.same_array(s.data, self._data):
            self._data = s.data
            if s.data is None:
                self.data.clear()
            else:
                self.data.setData(pos=s.data)
        self.fake.setData(pos=s.model)
