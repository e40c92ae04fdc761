"""The score-field view: the model's score s(x, sigma) as arrows beside the score of the
target noised to the same level, one noise level at a time (a slider over the levels)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from .. import theme
from ..qt_util import signals_blocked
from .base import View
from .critic import arrow_segments

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.score import ScoreField

__all__ = ["ScoreFieldView", "ARROW_CELLS"]

#: the length of a reference arrow (the REFERENCE_PERCENTILE of |s| over both plots at the
#: level on show), in grid cells; longer arrows are capped at ARROW_CAP_CELLS
ARROW_CELLS = 0.8
REFERENCE_PERCENTILE = 95.0
ARROW_CAP_CELLS = 1.2
MODEL_TITLE = "model score s(x, sigma)"
#: ScoreField.true_method's values (core.snapshots.score's EXACT and CLEAN, spelled here:
#: importing the core would import torch before the window shows; a test checks they agree)
EXACT, CLEAN = "exact", "clean data score"
#: the target plot's title; "of the noised data" or "(of the clean data)" follows
TRUE_TITLE = "true score"


def _capped(field: np.ndarray, k: float, cap: float) -> tuple[np.ndarray, float]:
    """``field * k`` with lengths capped at ``cap``, and its longest length (for
    :func:`arrow_segments`, which then draws the arrows at scale 1)."""
    d = np.nan_to_num(np.asarray(field, dtype=np.float64)) * k
    norms = np.linalg.norm(d, axis=1)
    shrink = np.minimum(1.0, cap / np.maximum(norms, 1e-300))
    d = d * shrink[:, None]
    return d, float(np.linalg.norm(d, axis=1).max()) if len(d) else 0.0


class ScoreFieldView(View):
    """Two plots fixed to the data box: the model's score arrows and the exact target's,
    drawn at one shared scale per level (so errors show as different arrows; the longest
    ~5% are capped at ARROW_CAP_CELLS), light data
    points underneath, and a slider over the noise levels. Moving the slider redraws from
    the snapshot's arrays; the model is never called."""

    name = "score_field"
    title = "Score field"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimum(0)
        self.slider.setMaximum(0)
        self.slider.setToolTip("Noise level: largest sigma on the left")
        self.sigma_label = QLabel("")
        # the caption has a row of its own: beside the slider it squeezed the slider
        self.caption = theme.caption_label()
        bar = QHBoxLayout()
        bar.addWidget(self.sigma_label)
        bar.addWidget(self.slider, 1)

        self.model_canvas, self.model_plot = self._make_plot(MODEL_TITLE)
        self.true_canvas, self.true_plot = self._make_plot(TRUE_TITLE)
        arrow_pen = pg.mkPen((15, 15, 15), width=2)
        self.model_arrows = pg.PlotCurveItem(pen=arrow_pen, connect="pairs")
        self.true_arrows = pg.PlotCurveItem(pen=arrow_pen, connect="pairs")
        data_brush = theme.brush(theme.DATA_COLOR, 60)
        self.model_data = pg.ScatterPlotItem(size=5, pen=None, brush=data_brush)
        self.true_data = pg.ScatterPlotItem(size=5, pen=None, brush=data_brush)
        for plot, data, arrows in (
            (self.model_plot, self.model_data, self.model_arrows),
            (self.true_plot, self.true_data, self.true_arrows),
        ):
            plot.addItem(data)
            plot.addItem(arrows)
            arrows.setZValue(5)

        plots = QHBoxLayout()
        plots.addWidget(self.model_canvas, 1)
        plots.addWidget(self.true_canvas, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.caption)
        layout.addLayout(plots, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._data: np.ndarray | None = None
        self._field: ScoreField | None = None
        self.arrow_count = 0
        self._true_title = TRUE_TITLE
        self.slider.valueChanged.connect(self._redraw)

    @staticmethod
    def _make_plot(title: str) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem]:
        canvas = pg.GraphicsLayoutWidget()
        plot = theme.make_plot(title=title)
        theme.set_axis_titles(plot, *theme.DATA_AXES)
        canvas.addItem(plot)
        return canvas, plot

    @property
    def level(self) -> int:
        """The index of the noise level on show."""
        return self.slider.value()

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._data, self._field = None, None, None
        for item in (self.model_arrows, self.true_arrows):
            item.setData([], [])
        self.model_data.clear()
        self.true_data.clear()
        self.caption.setText("")
        self.sigma_label.setText("")
        self.arrow_count = 0

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.score_field`` at the slider's level."""
        f = snapshot.score_field
        if f is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.model_plot, snapshot.box)
            theme.fix_range(self.true_plot, snapshot.box)
        if not theme.same_array(f.data, self._data):
            self._data = f.data
            for scatter in (self.model_data, self.true_data):
                if f.data is None:
                    scatter.clear()
                else:
                    scatter.setData(pos=f.data)
        levels = f.model.shape[0]
        self.true_canvas.setVisible(f.true is not None)
        self._field = f
        if self.slider.maximum() != levels - 1:
            with signals_blocked(self.slider):
                self.slider.setMaximum(levels - 1)
                # start at the smallest noise: the score of (nearly) the data
                self.slider.setValue(levels - 1)
        self.slider.setVisible(levels > 1)
        self._redraw()

    def _redraw(self) -> None:
        f = self._field
        if f is None:
            return
        i = min(self.slider.value(), f.model.shape[0] - 1)
        gx, gy = np.meshgrid(f.xs, f.ys)
        start = np.stack([gx.ravel(), gy.ravel()], 1)
        model = f.model[i].reshape(-1, 2)
        true = None if f.true is None else f.true[i].reshape(-1, 2)
        cell = min(
            (f.xs[-1] - f.xs[0]) / max(len(f.xs) - 1, 1),
            (f.ys[-1] - f.ys[0]) / max(len(f.ys) - 1, 1),
        )
        # one scale for both plots: an arrow of the reference length (the 95th percentile of
        # either field's |s|) is ARROW_CELLS cells long; the few longer ones (an untrained
        # model far from the data) are capped at ARROW_CAP_CELLS so they do not shrink the rest
        fields = [model] if true is None else [model, true]
        norms = np.concatenate([np.linalg.norm(v, axis=1) for v in fields])
        reference = float(np.percentile(norms, REFERENCE_PERCENTILE)) if norms.size else 0.0
        if not np.isfinite(reference) or reference <= 0:
            reference = float(norms.max()) if norms.size and np.isfinite(norms).all() else 0.0
        k = ARROW_CELLS * cell / reference if reference > 0 else 0.0
        for arrows, field in ((self.model_arrows, model), (self.true_arrows, true)):
            if field is None:
                arrows.setData([], [])
                continue
            x, y = arrow_segments(start, *_capped(field, k, ARROW_CAP_CELLS * cell))
            arrows.setData(x, y, connect="pairs")
        self.arrow_count = len(start)
        levels = f.model.shape[0]
        if f.sigmas is None:
            self.sigma_label.setText("sigma = 0 (no noise)")
        else:
            text = f"sigma = {float(f.sigmas[i]):.3g}"
            if f.level_labels is not None:  # a DDPM: the step, and its noise std
                text = f"{f.level_labels[i]}   (noise std {float(f.sigmas[i]):.3g})"
            if levels > 1:
                text += f"   (level {i + 1} of {levels})"
            self.sigma_label.setText(text)
        parts = [f"arrow of {ARROW_CELLS:g} cell: |s| = {reference:.3g}"]
        if true is not None:
            err = float(np.linalg.norm(model - true, axis=1).mean())
            parts.append(f"mean |s_model - s_true| = {err:.3g}")
        method = f.true_method[i] if i < len(f.true_method) else EXACT
        sigma = 0.0 if f.sigmas is None else float(f.sigmas[i])
        if true is not None and method not in (EXACT, CLEAN):  # the Monte-Carlo estimate
            parts.append(f"true: {method} (the noised empirical distribution's score)")
        elif true is not None and method == CLEAN:
            parts.append("true: the clean data's score (no Monte-Carlo estimate at this noise)")
        self.caption.setText("   ".join(parts))
        if method == CLEAN:
            title = TRUE_TITLE + " (of the clean data)"
        elif sigma > 0:
            title = TRUE_TITLE + " of the noised data"
        else:
            title = TRUE_TITLE
        if title != self._true_title:
            self._true_title = title
            self.true_plot.setTitle(title, size=f"{theme.FONT_POINTS + 2}pt")
