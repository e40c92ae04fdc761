"""The critic view: D(x) or the critic value over the plane, real and fake samples, and
where the next generator update pushes each fake sample."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from .. import theme
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.critic import GeneratorGradients

__all__ = ["CriticView", "critic_levels", "probability_levels", "arrow_segments"]

#: purple (looks fake) - white (undecided, D = 1/2) - green (looks real), as ColorBrewer's
#: PRGn: neither end is the blue of the data or the orange of the samples drawn over it
CRITIC_COLORMAP = pg.ColorMap(
    pos=[0.0, 0.25, 0.5, 0.75, 1.0],
    color=[(64, 0, 75), (153, 112, 171), (247, 247, 247), (90, 174, 97), (0, 68, 27)],
)
#: the longest generator-update arrow, as a fraction of the box width
ARROW_FRACTION = 0.08
#: arrow heads: length as a fraction of the longest arrow, half-angle in radians
HEAD_FRACTION, HEAD_ANGLE = 0.3, math.radians(28)
#: the robust range of a critic value ignores this percentage of extreme grid values
ROBUST_PERCENTILE = 98.0
#: what the colour shows, by CriticImage.label
CAPTIONS = {
    "D(x)": "D(x): the discriminator's probability that x is real",
    "critic": "critic value: higher where x looks real (only differences matter)",
}
#: the generator-update arrows: black on a white rim, legible on both dark ends of the map
#: and on its white middle
ARROW_PEN = pg.mkPen((0, 0, 0), width=2)
ARROW_RIM_PEN = pg.mkPen((255, 255, 255), width=5)


def _nice_ceiling(r: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k at least ``r`` (so levels change in steps)."""
    if not math.isfinite(r) or r <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(r))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * base >= r * (1 - 1e-9):
            return m * base
    return 10.0 * base


def _round_up(r: float) -> float:
    """``r`` rounded up to one significant digit (0.048 -> 0.05, 0.051 -> 0.06)."""
    if not math.isfinite(r) or r <= 0:
        return 0.0
    base = 10.0 ** math.floor(math.log10(r))
    return math.ceil(r / base * (1 - 1e-9)) * base


def probability_levels(values: np.ndarray) -> tuple[float, float]:
    """Colour levels of D(x) in ``[0, 1]``, centred on the values present.

    After a mode collapse D(x) sits near 1/2 almost everywhere and a fixed ``[0, 1]``
    scale is almost white. The range is the 2nd-98th percentile of the grid's values,
    made symmetric around 1/2 when it contains 1/2 (undecided stays white) or else around
    their median, its half-width rounded up to one significant digit (so the colour bar
    changes in steps) and at least 0.01, clipped to ``[0, 1]``.
    """
    finite = np.clip(values[np.isfinite(values)], 0.0, 1.0)
    if finite.size == 0:
        return (0.0, 1.0)
    low, high = np.percentile(finite, [100 - ROBUST_PERCENTILE, ROBUST_PERCENTILE])
    centre = 0.5 if low <= 0.5 <= high else float(np.median(finite))
    r = max(_round_up(max(centre - float(low), float(high) - centre)), 0.01)
    if centre != 0.5:  # a drifting centre moves in steps of r's last digit
        step = 10.0 ** math.floor(math.log10(r))
        centre = round(centre / step) * step
    return (round(max(0.0, centre - r), 6), round(min(1.0, centre + r), 6))


def critic_levels(values: np.ndarray, label: str) -> tuple[float, float]:
    """Colour levels: for D(x) the range of the values present (:func:`probability_levels`);
    for a critic value a symmetric robust range.

    The range is centred on 0 when 0 lies among the values (hinge and least-squares critics
    give 0 a meaning), else on their median (a Wasserstein critic drifts by a constant).
    """
    if label == "D(x)":
        return probability_levels(values)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (-1.0, 1.0)
    low, high = np.percentile(finite, [100 - ROBUST_PERCENTILE, ROBUST_PERCENTILE])
    centre = 0.0 if low <= 0.0 <= high else float(np.median(finite))
    if centre != 0.0:
        # a drifting centre moves in steps too, so the colour bar does not repaint every frame
        step = _nice_ceiling(abs(centre)) / 10
        centre = round(centre / step) * step
    r = _nice_ceiling(float(np.percentile(np.abs(finite - centre), ROBUST_PERCENTILE)))
    return (centre - r, centre + r)


def arrow_segments(
    start: np.ndarray, direction: np.ndarray, length: float
) -> tuple[np.ndarray, np.ndarray]:
    """Line pairs ``(x, y)`` for ``connect='pairs'``: a shaft and two head strokes per arrow.

    Arrows are scaled together so the longest is ``length`` long (directions keep their
    relative sizes); zero directions give zero-length arrows.
    """
    d = np.asarray(direction, dtype=np.float64)
    p = np.asarray(start, dtype=np.float64)
    norms = np.linalg.norm(d, axis=1)
    longest = float(norms.max()) if norms.size and np.isfinite(norms).all() else 0.0
    scale = length / longest if longest > 0 else 0.0
    tip = p + scale * d
    unit = np.divide(d, norms[:, None], out=np.zeros_like(d), where=norms[:, None] > 0)
    head = HEAD_FRACTION * length * np.minimum(1.0, 2.0 * scale * norms / length)[:, None]
    c, s = math.cos(HEAD_ANGLE), math.sin(HEAD_ANGLE)
    back = -unit
    left = np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], 1)
    right = np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], 1)
    # per arrow: start-tip, tip-left barb, tip-right barb
    pts = np.stack([p, tip, tip, tip + head * left, tip, tip + head * right], 1).reshape(-1, 2)
    return pts[:, 0], pts[:, 1]


class CriticView(View):
    """Critic heatmap (one reused ``ImageItem``, explicit levels, labelled colour bar), real
    and fake samples (two ``ScatterPlotItem`` s and a legend), and a *generator gradients*
    toggle that draws the generator's update arrows as one ``connect='pairs'`` curve.

    Signals:
        parts_changed: the snapshot parts it needs changed (see :meth:`snapshot_parts`).
    """

    name = "critic"
    title = "Critic"
    parts = ("critic", "gradients")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.arrows_box = QCheckBox("generator gradients")
        self.arrows_box.setToolTip(
            "Arrows: where the next generator update moves each fake sample (-dL_G/dx)"
        )
        self.caption = theme.caption_label(align_right=True)
        bar = QHBoxLayout()
        bar.addWidget(self.arrows_box)
        bar.addWidget(self.caption, 1)

        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(CRITIC_COLORMAP, "D(x)")
        self.bar.setLevels((0.0, 1.0))

        legend = self.plot.addLegend(offset=(10, 10), labelTextSize=f"{theme.FONT_POINTS}pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        # real points are few and tightly clustered on mixtures: larger, white-rimmed, on top
        self.real = pg.ScatterPlotItem(
            size=10, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(theme.DATA_COLOR), name="real"
        )
        self.fake = pg.ScatterPlotItem(
            size=7, pen=pg.mkPen("k", width=1), brush=pg.mkBrush(theme.MODEL_COLOR), name="fake"
        )
        self.arrows = pg.PlotCurveItem(pen=ARROW_PEN, connect="pairs")
        self.arrow_rims = pg.PlotCurveItem(pen=ARROW_RIM_PEN, connect="pairs")
        for item in (self.real, self.fake, self.arrow_rims, self.arrows):
            self.plot.addItem(item)
        self.real.setZValue(4)
        self.arrow_rims.setZValue(5)
        self.arrows.setZValue(6)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._real: np.ndarray | None = None
        self._label: str | None = None
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.arrow_count = 0
        self.arrows_box.toggled.connect(self._on_toggle)

    def snapshot_parts(self) -> tuple[str, ...]:
        """The snapshot parts this view draws: the critic, and the gradients when toggled."""
        return ("critic", "gradients") if self.arrows_box.isChecked() else ("critic",)

    def clear(self) -> None:
        """Forget the session's picture."""
        self._box, self._real, self._label = None, None, None
        self.image.clear()
        self.real.clear()
        self.fake.clear()
        self.caption.setText("")
        for item in (self.arrows, self.arrow_rims):
            item.setData([], [])
        self.arrow_count = 0

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.critic`` and, if toggled on, ``snapshot.gradients``."""
        c = snapshot.critic
        if c is None:
            return
        if snapshot.box != self._box:
            self._box = snapshot.box
            theme.fix_range(self.plot, snapshot.box)
        if c.label != self._label:
            self._label = c.label
            theme.set_bar_label(self.bar, c.label)
        values = np.ascontiguousarray(np.nan_to_num(c.values), dtype=np.float32)
        levels = critic_levels(values, c.label)
        self.image.setImage(values, levels=levels, autoLevels=False)
        if tuple(self.bar.levels()) != levels:
            self.bar.setLevels(levels)
        low, high = levels
        self.caption.setText(
            f"{CAPTIONS.get(c.label, c.label)}; colour range: {c.label} from {low:.3g} "
            f"to {high:.3g} (the values present)"
        )
        self.levels = levels
        res_y, res_x = values.shape
        xs, ys = c.xs, c.ys
        # pixel centres sit on the grid points xs, ys
        dx = (xs[-1] - xs[0]) / max(res_x - 1, 1)
        dy = (ys[-1] - ys[0]) / max(res_y - 1, 1)
        self.image.setRect(
            QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        )
        if c.real is None:
            self._real = None
            self.real.clear()
        elif not theme.same_array(c.real, self._real):
            self._real = c.real
            self.real.setData(pos=c.real)
        self.fake.setData(pos=c.fake)
        self._draw_arrows(snapshot.gradients if self.arrows_box.isChecked() else None)

    def _draw_arrows(self, g: GeneratorGradients | None) -> None:
        if g is None or self._box is None or len(g.fake) == 0:
            for item in (self.arrows, self.arrow_rims):
                item.setData([], [])
            self.arrow_count = 0
            return
        width = self._box[1] - self._box[0]
        x, y = arrow_segments(g.fake, g.direction, ARROW_FRACTION * width)
        for item in (self.arrows, self.arrow_rims):
            item.setData(x, y, connect="pairs")
        self.arrow_count = len(g.fake)

    def _on_toggle(self, on: bool) -> None:
        if not on:
            self._draw_arrows(None)
        self.parts_changed.emit()
