"""The Fokker-Planck view: an SDE's density p_t beside a histogram of particles that follow
it, one shared colour scale, with a time slider, Play and their total-variation distance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme
from ..qt_util import signals_blocked
from .base import View
from .time_controls import Sweep, time_controls

if TYPE_CHECKING:
    from ...core.snapshots.fokker_planck import FokkerPlanck

__all__ = ["FokkerPlanckView", "DENSITY_MAP", "BAR_LABEL"]

#: the density, dark purple (no mass) to yellow; both panels share it and its levels
DENSITY_MAP = pg.colormap.get("viridis")
BAR_LABEL = "density [1 / area]"
#: a sweep over all frames takes about this long
SWEEP_MS = 6000


class FokkerPlanckView(View):
    """Two heatmaps on one colour scale: left the density ``p_t`` of the SDE (the
    Fokker-Planck equation solved on the grid, or a DDPM's forward process in closed
    form), right the histogram of particles that follow the same SDE from the same start.
    The slider picks the frame (time ``t``); *Play* sweeps it once. The caption gives the
    total-variation distance between the panels at ``t``, what sampling noise alone would
    give, and the distance of ``p_t`` to the stationary density. The colour scale runs
    from 0 to the largest ``p_t`` of all frames and stays while the slider moves, so a
    colour is the same density at every ``t``."""

    name = "fokker_planck"
    title = "Fokker-Planck"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        controls = time_controls(
            "Sweep the time slider once, from its place to the end",
            "Time t of the SDE: 0 is the start, the right end the last frame",
            220,
        )
        self.play, self.slider, self.time_label = controls.play, controls.slider, controls.label
        top = controls.row

        self.canvas = pg.GraphicsLayoutWidget()
        self.plots, self.images = [], []
        for column in range(2):
            plot = theme.make_plot()
            theme.set_axis_titles(plot, *theme.DATA_AXES)
            image = pg.ImageItem(axisOrder="row-major")
            image.setColorMap(DENSITY_MAP)
            plot.addItem(image)
            self.canvas.addItem(plot, 0, column)
            self.plots.append(plot)
            self.images.append(image)
        self.plots[1].setYLink(self.plots[0])
        self.bar = theme.make_color_bar(DENSITY_MAP, BAR_LABEL)
        self.bar.setImageItem(self.images)
        self.canvas.addItem(self.bar, 0, 2)
        self.caption = theme.caption_label()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)

        self._sweep = Sweep(self.play, self.slider, parent=self)
        self._timer = self._sweep.timer
        self._box: tuple[float, float, float, float] | None = None
        self._last: FokkerPlanck | None = None
        self._rect = QRectF()
        self._levels = (0.0, 1.0)
        self.slider.valueChanged.connect(self._redraw)

    @property
    def frame(self) -> int:
        """The frame on show."""
        return self.slider.value()

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self.play.setChecked(False)
        self._box, self._last = None, None
        for image in self.images:
            image.clear()
        self.time_label.setText("")
        self.caption.setText("")

    def show_snapshot(self, snapshot) -> None:
        """Draw ``snapshot.fokker_planck`` (a core :class:`FokkerPlanck`) at the slider's
        frame; the slider keeps its place unless the frames changed."""
        fp = getattr(snapshot, "fokker_planck", None)
        if fp is None or fp is self._last:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            for plot in self.plots:
                theme.fix_range(plot, snapshot.box)
        frames = len(fp.times)
        if self._last is None or not np.array_equal(self._last.times, fp.times):
            with signals_blocked(self.slider):
                self.slider.setMaximum(frames - 1)
                self.slider.setValue(0)
            self._timer.setInterval(max(40, SWEEP_MS // max(frames, 1)))
        self._last = fp
        self._levels = (0.0, float(fp.density.max()) or 1.0)
        self.bar.setLevels(self._levels)
        self.plots[0].setTitle(fp.density_title, size=f"{theme.FONT_POINTS}pt")
        self.plots[1].setTitle(fp.histogram_title, size=f"{theme.FONT_POINTS}pt")
        x0, x1, y0, y1 = (float(v) for v in (fp.xs[0], fp.xs[-1], fp.ys[0], fp.ys[-1]))
        dx, dy = (x1 - x0) / (len(fp.xs) - 1), (y1 - y0) / (len(fp.ys) - 1)
        self._rect = QRectF(x0 - dx / 2, y0 - dy / 2, x1 - x0 + dx, y1 - y0 + dy)
        self._redraw()

    def _redraw(self) -> None:
        fp = self._last
        if fp is None:
            return
        k = min(self.slider.value(), len(fp.times) - 1)
        levels = self._levels
        for image, values in zip(self.images, (fp.density[k], fp.histogram[k]), strict=True):
            image.setImage(values, levels=levels, autoLevels=False)
            image.setRect(self._rect)  # after setImage: the rect scales the image's pixels
        self.time_label.setText(fp.labels[k])
        self.caption.setText(
            f"{fp.equation}.  At {fp.labels[k]}: TV(p_t, particles) = {fp.tv[k]:.3f}, "
            f"sampling noise alone {fp.floor[k]:.3f} ({fp.particles:,} exact draws from p_t);  "
            f"TV(p_t, {fp.stationary_name}) = {fp.tv_stationary[k]:.3f}.  {fp.method}"
        )
