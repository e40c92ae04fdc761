"""The conditionals view of an autoregressive model: on the plane, the joint P(x1, x2) over
the grid's cells, the first dimension's marginal and the second's conditional given a bin
chosen with a slider; on images, a sample drawn pixel by pixel with each pixel's predictive
distribution, played as an animation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .. import theme
from ..qt_util import signals_blocked
from .base import View
from .conditionals_pixels import PixelPage
from .curve_panel import nice_above

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.conditionals import PlaneConditionals

__all__ = ["ConditionalsView", "JOINT_COLORMAP", "BAR_COLOR", "SELECTED_COLOR", "TARGET_COLOR"]

#: white (no mass) to dark blue: the orange column marker reads over every level
JOINT_COLORMAP = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (20, 60, 130)])
#: the model's bars, the chosen bin's bar, the data's step line
BAR_COLOR, SELECTED_COLOR, TARGET_COLOR = (
    theme.brush(theme.MODEL_COLOR, 140),
    theme.MODEL_COLOR,
    theme.DATA_COLOR,
)
AXIS_NAMES = ("x1", "x2")


def _edges(centres: np.ndarray) -> np.ndarray:
    """The ``K + 1`` edges of equal bins with these ``K`` centres."""
    w = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
    return np.append(centres - w / 2, centres[-1] + w / 2).astype(np.float64)


class _BarPanel:
    """A plot of ``K`` bars (the model) with the data's step line over them and the chosen
    bar outlined in orange."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, row: int, x: str, y: str):
        self.plot = theme.make_plot(title=" ")
        self.titles(x, y)
        vb = self.plot.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.disableAutoRange()
        canvas.addItem(self.plot, row=row, col=0)
        self.bars = pg.BarGraphItem(x=[], height=[], width=1.0, brush=BAR_COLOR, pen=None)
        self.chosen = pg.BarGraphItem(
            x=[], height=[], width=1.0, brush=None, pen=pg.mkPen(SELECTED_COLOR, width=3)
        )
        self.target = pg.PlotDataItem(stepMode="center", pen=pg.mkPen(TARGET_COLOR, width=2))
        for item in (self.bars, self.chosen, self.target):
            self.plot.addItem(item)

    def titles(self, x: str, y: str = "probability") -> None:
        """Title the axes; the ticks show the probabilities as they are (pyqtgraph 0.14
        scales an axis below 1 by 1,000 when no SI range is set, however
        ``enableAutoSIPrefix`` is set)."""
        if self.plot.getAxis("bottom").labelText == x:
            return
        theme.set_axis_titles(self.plot, x, y)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setSIPrefixEnableRanges(())

    def set(self, title: str, centres, probs, target, chosen: int | None) -> None:
        """Draw ``probs (K,)`` as bars at ``centres``, ``target (K,)`` as a step line (or
        none) and outline bar ``chosen``."""
        w = float(centres[1] - centres[0]) if len(centres) > 1 else 1.0
        self.plot.setTitle(title, size=f"{theme.FONT_POINTS}pt")
        self.bars.setOpts(x=centres, height=probs, width=w)
        if chosen is None:
            self.chosen.setOpts(x=[], height=[], width=w)
        else:
            self.chosen.setOpts(x=[centres[chosen]], height=[probs[chosen]], width=w)
        if target is None:
            self.target.setData([], [])
        else:
            self.target.setData(_edges(centres), target)
        top = float(max(probs.max(), 0.0 if target is None else target.max(), 1e-6))
        edges = _edges(centres)
        self.plot.setRange(
            xRange=(edges[0], edges[-1]), yRange=(0.0, nice_above(top * 1.05)), padding=0.0
        )


class _PlanePage(QWidget):
    """The joint heatmap on the left; the marginal and the conditional bars on the right; a
    slider over the first dimension's bins below."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(
            JOINT_COLORMAP, "P(x1, x2) of a cell"
        )
        self.plot.setTitle("Model joint over the cells", size=f"{theme.FONT_POINTS}pt")
        self.marker = pg.PlotCurveItem(pen=pg.mkPen(SELECTED_COLOR, width=3))
        self.marker.setZValue(2)
        self.plot.addItem(self.marker)
        self.bars_canvas = pg.GraphicsLayoutWidget()
        self.marginal = _BarPanel(self.bars_canvas, 0, "x1", "probability")
        self.conditional = _BarPanel(self.bars_canvas, 1, "x2", "probability")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("The bin a of the dimension generated first")
        self.slider_label = QLabel("")
        self.slider_label.setMinimumWidth(230)
        self.caption = theme.caption_label()
        row = QHBoxLayout()
        row.addWidget(self.slider, 1)
        row.addWidget(self.slider_label)
        plots = QHBoxLayout()
        plots.addWidget(self.canvas, 1)
        plots.addWidget(self.bars_canvas, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(plots, 1)
        layout.addWidget(self.caption)
        self.last: PlaneConditionals | None = None
        self._box: tuple | None = None
        self.slider.valueChanged.connect(self.redraw)

    @property
    def chosen(self) -> int:
        """The bin ``a`` of the first dimension the slider chooses."""
        return self.slider.value()

    def clear(self) -> None:
        self.last, self._box = None, None
        self.image.clear()
        self.marker.setData([], [])
        self.caption.setText("")

    def show_picture(self, c: PlaneConditionals) -> None:
        xe, ye = _edges(c.x_centres), _edges(c.y_centres)
        box = (float(xe[0]), float(xe[-1]), float(ye[0]), float(ye[-1]))
        k = len(c.marginal)
        if self.last is None or len(self.last.marginal) != k:
            with signals_blocked(self.slider):
                self.slider.setRange(0, k - 1)
                self.slider.setValue(int(np.argmax(c.marginal)))
        # rows are x2 (y), columns x1 (x): the joint is stored [x1 bin, x2 bin]
        joint = np.ascontiguousarray(c.joint.T)
        high = nice_above(max(float(joint.max()), 1e-9))
        self.image.setImage(joint, levels=(0.0, high), autoLevels=False)
        if (box, k) != self._box:  # after an image is set: setRect scales by its size
            self._box = (box, k)
            theme.fix_range(self.plot, box)
            self.image.setRect(QRectF(box[0], box[2], box[1] - box[0], box[3] - box[2]))
        if tuple(self.bar.levels()) != (0.0, high):
            self.bar.setLevels((0.0, high))
        self.last = c
        self.redraw()

    def redraw(self) -> None:
        c = self.last
        if c is None:
            return
        a = min(self.chosen, len(c.marginal) - 1)
        first, second = AXIS_NAMES[c.first], AXIS_NAMES[1 - c.first]
        centres = (c.x_centres, c.y_centres)
        fc, sc = centres[c.first], centres[1 - c.first]
        tm = None if c.target_marginal is None else c.target_marginal
        tc = None if c.target_conditional is None else c.target_conditional[a]
        self.marginal.set(f"p({first})", fc, c.marginal, tm, a)
        self.conditional.set(f"p({second} | {first} = bin {a})", sc, c.conditional[a], tc, None)
        self.marginal.titles(first)
        self.conditional.titles(second)
        lo, hi = _edges(fc)[a], _edges(fc)[a + 1]
        self.slider_label.setText(f"{first} bin a = {a}: [{lo:.2f}, {hi:.2f})")
        # the chosen bin's column (or row) of cells on the heatmap
        other = _edges(sc)
        xs, ys = [lo, hi, hi, lo, lo], [other[0], other[0], other[-1], other[-1], other[0]]
        self.marker.setData(*((xs, ys) if c.first == 0 else (ys, xs)))
        data = (
            f"blue steps: the data's cells ({c.target_method})"
            if c.target_method
            else "the data's cells cannot be computed"
        )
        self.caption.setText(
            f"{len(c.marginal)} x {len(c.marginal)} cells; P({first}, {second}) = "
            f"p({first}) p({second} | {first}), one network pass per bin of {first}; "
            f"orange bars: the model (outlined: bin a); {data}"
        )


class ConditionalsView(View):
    """An autoregressive model's conditionals: the plane page (joint, marginal, conditional
    given the slider's bin; the slider redraws from the snapshot's arrays, no model call)
    or the pixel page (:class:`~.conditionals_pixels.PixelPage`: a sample drawn pixel by
    pixel, with Play, Pause and Restart)."""

    name = "conditionals"
    title = "Conditionals"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plane = _PlanePage()
        self.pixels = PixelPage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plane)
        self.stack.addWidget(self.pixels)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    @property
    def slider(self) -> QSlider:
        """The plane page's slider over the first dimension's bins."""
        return self.plane.slider

    @property
    def play(self) -> QPushButton:
        """The pixel page's Play/Pause button."""
        return self.pixels.play

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self.plane.clear()
        self.pixels.clear()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.conditionals`` on the page of its kind."""
        c = snapshot.conditionals
        if c is None:
            return
        if c.kind == "plane":
            self.stack.setCurrentWidget(self.plane)
            self.plane.show_picture(c)
        else:
            self.stack.setCurrentWidget(self.pixels)
            self.pixels.show_picture(c)
