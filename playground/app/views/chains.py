"""The Langevin-chains view: particles with fading trails moving over the target's density,
with live controls for the sampler, the step size, the number of chains and their start."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

# the settings module is plain Python: the view is built before torch is imported
from ...core.chain_settings import CHAIN_SAMPLERS, CHAIN_SOURCES, CHAIN_STARTS, ChainSettings
from .. import theme
from ..commands import SetChainSettings
from ..flow_layout import FlowLayout, labelled
from ..qt_util import signals_blocked
from .base import View

if TYPE_CHECKING:
    from ...core.snapshots.chains import Chains

__all__ = ["ChainsView", "LadderSpinBox", "LadderDoubleSpinBox", "TRAIL_BUCKETS", "LOG_RANGE"]

#: the colour scale shows the top LOG_RANGE nats of the picture (as the density view)
LOG_RANGE = 10.0
#: trails are drawn as this many curves, older segments fainter
TRAIL_BUCKETS = 4
#: trail opacity of the oldest and the newest bucket (0-255)
TRAIL_ALPHA = (45, 210)
#: trail segments longer than this fraction of the box are not drawn
MAX_JUMP = 0.15
#: chains' marker size in pixels: visible from the back of a lecture hall
POINT_SIZE = 9
#: the annealed sampler's first epsilon: 0.2 sigma_L^2 at sigma_L = 0.05 (as NCSN's default)
ANNEALED_STEP = 5e-4
#: at most this many modes are listed one by one in the caption
LISTED_MODES = 4

SAMPLER_NAMES = {"langevin": "Langevin", "mala": "MALA", "annealed": "annealed Langevin"}
SOURCE_NAMES = {"model": "model", "exact": "exact target"}
START_NAMES = {"uniform": "uniform (box)", "prior": "prior N(0, I)", "data": "data points"}
#: a light sequential map, white to blue, so the orange chains stand out everywhere
BACKGROUND_MAP = pg.ColorMap(
    [0.0, 0.4, 1.0], [(252, 252, 252), (166, 206, 227), (31, 86, 150)], name="chains"
)
_LADDER = tuple(m * 10.0**e for e in range(-6, 6) for m in (1, 2, 5))


def _ladder_step(value: float, steps: int, low: float, high: float) -> float:
    """``value`` moved ``steps`` rungs along 1, 2, 5, 10, 20, ..., clipped to [low, high]."""
    for _ in range(abs(steps)):
        if steps > 0:
            value = next((v for v in _LADDER if v > value * (1 + 1e-9)), high)
        else:
            value = next((v for v in reversed(_LADDER) if v < value * (1 - 1e-9)), low)
    return min(max(value, low), high)


class LadderDoubleSpinBox(QDoubleSpinBox):
    """A float spin box whose arrows step along 1, 2, 5 x 10^k and that shows ``%.3g``."""

    def __init__(self, low: float, high: float, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(8)
        self.setRange(low, high)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt's name)
        self.setValue(_ladder_step(self.value(), steps, self.minimum(), self.maximum()))

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos


class LadderSpinBox(QSpinBox):
    """An integer spin box whose arrows step along 1, 2, 5, 10, 20, ..."""

    def __init__(self, low: int, high: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setRange(low, high)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt's name)
        value = _ladder_step(float(self.value()), steps, self.minimum(), self.maximum())
        self.setValue(int(round(value)))


def _pen(alpha: int) -> Any:
    c = theme.MODEL_COLOR
    return pg.mkPen(QColor(c.red(), c.green(), c.blue(), alpha), width=2)


class ChainsView(View):
    """Langevin chains over the target's picture, and the controls that steer them.

    The background is the snapshot's picture (``log p``, or ``-E`` for an EBM) in one
    reused ``ImageItem``; trails are ``TRAIL_BUCKETS`` ``PlotCurveItem`` (segment pairs),
    older ones fainter; the chains are one ``ScatterPlotItem``. Every control change emits
    :attr:`settings_changed` with the new :class:`ChainSettings` (the worker applies it
    between frames); the view never calls the model. ``show_snapshot`` offers in the
    combos only what the snapshot's ``options`` allow, without emitting.
    """

    name = "chains"
    title = "Langevin chains"
    settings_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # the window posts every view's command to the worker
        self.settings_changed.connect(lambda s: self.command.emit(SetChainSettings(s)))
        self.source = QComboBox()
        self.source.setToolTip("Follow the model's score or the target's exact score")
        self.sampler = QComboBox()
        self.sampler.setToolTip(
            "Langevin: x += (eta/2) grad log p + sqrt(eta) eps;  MALA: with a "
            "Metropolis-Hastings test;  annealed: noise levels sigma_1 > ... > sigma_L"
        )
        self.step = LadderDoubleSpinBox(1e-6, 10.0)
        self.step.setToolTip("Step eta (data units squared); annealed: epsilon, at sigma_L")
        self.chains = LadderSpinBox(1, 2000)
        self.chains.setToolTip("Number of chains")
        self.steps_per_frame = LadderSpinBox(1, 1000)
        self.steps_per_frame.setToolTip("Langevin steps between two pictures")
        self.steps_per_level = LadderSpinBox(1, 100_000)
        self.steps_per_level.setToolTip("Annealed: steps at each noise level (T)")
        self.start = QComboBox()
        self.start.setToolTip("Where the chains start after a restart")
        self.restart_button = QPushButton("Restart chains")
        self.caption = theme.caption_label()

        self._restart = 0
        self._step_by_kind = {"plain": 0.01, "annealed": ANNEALED_STEP}
        self._options: dict | None = None
        #: the sampler whose step the step box holds
        self._sampler_shown: str | None = "langevin"
        self._fill(self.source, CHAIN_SOURCES, SOURCE_NAMES, "model")
        self._fill(self.sampler, CHAIN_SAMPLERS, SAMPLER_NAMES, "langevin")
        self._fill(self.start, CHAIN_STARTS, START_NAMES, "uniform")
        self.set_settings(ChainSettings())

        # what runs (source, sampler, start), then how much (step, counts): one flowing
        # row of label+control pairs that wraps when the view is narrow (projector fonts)
        controls = QWidget()
        flow = FlowLayout(controls)
        flow.setContentsMargins(0, 0, 0, 0)
        self._level_label = QLabel("steps/level:")
        for label, widget in (
            ("source:", self.source),
            ("sampler:", self.sampler),
            ("start:", self.start),
            (None, self.restart_button),
            ("step:", self.step),
            ("chains:", self.chains),
            ("steps/frame:", self.steps_per_frame),
            (self._level_label, self.steps_per_level),
        ):
            flow.addWidget(labelled(label, widget))

        self.canvas, self.plot, self.image, self.bar = theme.make_heatmap(
            BACKGROUND_MAP, "log p(x) [nats]"
        )
        self.trail_items = []
        for b in range(TRAIL_BUCKETS):
            alpha = TRAIL_ALPHA[0] + (TRAIL_ALPHA[1] - TRAIL_ALPHA[0]) * b / max(
                TRAIL_BUCKETS - 1, 1
            )
            item = pg.PlotCurveItem(pen=_pen(int(alpha)), connect="pairs")
            item.setZValue(5 + b)
            self.plot.addItem(item)
            self.trail_items.append(item)
        self.points = pg.ScatterPlotItem(
            size=POINT_SIZE,
            pen=pg.mkPen(QColor(90, 30, 0), width=1),
            brush=pg.mkBrush(theme.MODEL_COLOR),
            pxMode=True,
        )
        self.points.setZValue(20)
        self.plot.addItem(self.points)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas, 1)

        self._box: tuple[float, float, float, float] | None = None
        self._title = ""
        self._update_level_visibility()
        self.source.currentIndexChanged.connect(self._source_changed)
        self.sampler.currentIndexChanged.connect(self._sampler_changed)
        self.start.currentIndexChanged.connect(self._emit)
        for spin in (self.step, self.chains, self.steps_per_frame, self.steps_per_level):
            spin.valueChanged.connect(self._emit)
        self.restart_button.clicked.connect(self._restart_clicked)

    # ------------------------------------------------------------------ settings

    @property
    def settings(self) -> ChainSettings:
        """The settings the controls show now."""
        return ChainSettings(
            source=self.source.currentData() or "model",
            sampler=self.sampler.currentData() or "langevin",
            step_size=float(self.step.value()),
            n_chains=int(self.chains.value()),
            steps_per_frame=int(self.steps_per_frame.value()),
            start=self.start.currentData() or "uniform",
            restart=self._restart,
            steps_per_level=int(self.steps_per_level.value()),
        )

    def set_settings(self, settings: ChainSettings) -> None:
        """Show ``settings`` in the controls, without emitting :attr:`settings_changed`."""
        settings = settings.validated()
        widgets = (
            self.source,
            self.sampler,
            self.step,
            self.chains,
            self.steps_per_frame,
            self.steps_per_level,
            self.start,
        )
        with signals_blocked(*widgets):
            for combo, name in (
                (self.source, settings.source),
                (self.sampler, settings.sampler),
                (self.start, settings.start),
            ):
                i = combo.findData(name)
                if i >= 0:
                    combo.setCurrentIndex(i)
            self.step.setValue(settings.step_size)
            self._step_by_kind[self._kind(settings.sampler)] = settings.step_size
            self.chains.setValue(settings.n_chains)
            self.steps_per_frame.setValue(settings.steps_per_frame)
            self.steps_per_level.setValue(settings.steps_per_level)
            self._restart = settings.restart
            self._sampler_shown = self.sampler.currentData()
        if hasattr(self, "_level_label"):
            self._update_level_visibility()

    @staticmethod
    def _kind(sampler: str | None) -> str:
        return "annealed" if sampler == "annealed" else "plain"

    @staticmethod
    def _fill(combo: QComboBox, names: tuple[str, ...], labels: dict, keep: str | None) -> None:
        """Offer ``names`` in ``combo`` (signals blocked), keeping ``keep`` if offered."""
        current = [combo.itemData(i) for i in range(combo.count())]
        with signals_blocked(combo):
            if current != list(names):
                combo.clear()
                for name in names:
                    combo.addItem(labels.get(name, name), name)
            i = combo.findData(keep)
            combo.setCurrentIndex(i if i >= 0 else 0)

    def _offer(self, swap_step: bool = True) -> None:
        """Refill the sampler and start combos for the source on show; ``swap_step``: a
        change between plain and annealed samplers brings back that kind's step (only on
        a user's change, which is then emitted)."""
        if not self._options:
            return
        source = self.source.currentData()
        if source not in self._options:
            return
        offered = self._options[source]
        before = self._sampler_shown
        self._fill(self.sampler, tuple(offered["samplers"]), SAMPLER_NAMES, before)
        self._fill(self.start, tuple(offered["starts"]), START_NAMES, self.start.currentData())
        if swap_step:
            self._swap_step(before, self.sampler.currentData())
        else:
            self._sampler_shown = self.sampler.currentData()
        self._update_level_visibility()

    def _swap_step(self, before: str | None, after: str | None) -> None:
        """Plain and annealed samplers keep their own step (their scales differ ~100x)."""
        self._sampler_shown = after
        if self._kind(before) == self._kind(after):
            return
        self._step_by_kind[self._kind(before)] = float(self.step.value())
        with signals_blocked(self.step):
            self.step.setValue(self._step_by_kind[self._kind(after)])

    def _update_level_visibility(self) -> None:
        annealed = self.sampler.currentData() == "annealed"
        self.steps_per_level.setVisible(annealed)
        self._level_label.setVisible(annealed)
        pair = self.steps_per_level.parentWidget()
        if pair is not None:  # its label+control pair in the flowing row
            pair.setVisible(annealed)

    def _emit(self, *_: Any) -> None:
        self.settings_changed.emit(self.settings)

    def _source_changed(self, *_: Any) -> None:
        self._offer()
        self._emit()

    def _sampler_changed(self, *_: Any) -> None:
        self._swap_step(self._sampler_shown, self.sampler.currentData())
        self._update_level_visibility()
        self._emit()

    def _restart_clicked(self) -> None:
        self._restart += 1
        self._emit()

    # ------------------------------------------------------------------ drawing

    def clear(self) -> None:
        """Forget the session's picture (a new model or dataset is coming)."""
        self._box = None
        self._options = None
        self.image.clear()
        for item in self.trail_items:
            item.setData([], [])
        self.points.clear()
        self.caption.setText("")
        self._set_title("")

    def show_snapshot(self, snapshot: Any) -> None:
        """Draw ``snapshot.chains`` (a core :class:`Chains`) in ``snapshot.box``."""
        c: Chains | None = getattr(snapshot, "chains", None)
        if c is None:
            return
        box = tuple(float(v) for v in snapshot.box)
        if box != self._box:
            self._box = box
            theme.fix_range(self.plot, box)
        if c.options and c.options != self._options:
            self._options = c.options
            self._fill(self.source, tuple(c.options), SOURCE_NAMES, self.source.currentData())
            self._offer(swap_step=False)
        self._draw_background(c)
        self._draw_chains(c)
        self.caption.setText(caption(c))
        self._set_title(c.background_label)

    def _set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self.plot.setTitle(title or None, size=f"{theme.FONT_POINTS + 1}pt")

    def _draw_background(self, c: Chains) -> None:
        if c.background is None:
            self.image.clear()
            return
        img = c.background
        label = "log p(x) [nats]" if c.normalized else "-E(x) [nats]"
        if label != self.bar.getAxis("right").labelText:
            theme.set_bar_label(self.bar, label)
        top = float(img.max())
        high = math.ceil(top * 2) / 2
        levels = (high - LOG_RANGE, high)
        self.image.setImage(img, levels=levels, autoLevels=False)
        if tuple(self.bar.levels()) != levels:
            self.bar.setLevels(levels)
        xs, ys = c.xs, c.ys
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self.image.setRect(
            QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
        )

    def _clip(self, a: np.ndarray) -> np.ndarray:
        """Far-away chains drawn at the edge of a margin around the box (Qt cannot paint
        lines to 1e30), and no NaN."""
        xmin, xmax, ymin, ymax = self._box
        w, h = xmax - xmin, ymax - ymin
        lo = np.array([xmin - w, ymin - h], dtype=np.float32)
        hi = np.array([xmax + w, ymax + h], dtype=np.float32)
        return np.clip(np.nan_to_num(a, nan=0.0), lo, hi)

    def _draw_chains(self, c: Chains) -> None:
        self.points.setData(pos=self._clip(c.positions))
        trails = self._clip(c.trails)
        segments = trails.shape[0] - 1
        xmin, xmax, ymin, ymax = self._box
        max_jump = MAX_JUMP * max(xmax - xmin, ymax - ymin)
        for b, item in enumerate(self.trail_items):
            # bucket b holds the segments s with floor(s * B / segments) == b (b = B-1 newest)
            first = math.ceil(b * segments / TRAIL_BUCKETS)
            last = math.ceil((b + 1) * segments / TRAIL_BUCKETS)
            if segments <= 0 or last <= first:
                item.setData([], [])
                continue
            pairs = np.stack([trails[first:last], trails[first + 1 : last + 1]], axis=2)
            pairs = pairs.reshape(-1, 2, 2)
            # long jumps (annealed Langevin at a large sigma) would cover the picture
            short = np.linalg.norm(pairs[:, 1] - pairs[:, 0], axis=1) <= max_jump
            xy = pairs[short].reshape(-1, 2)
            item.setData(xy[:, 0], xy[:, 1], connect="pairs")


def caption(c: Chains) -> str:
    """One line about the chains: sampler, step, steps, acceptance, level and modes."""
    s = c.settings
    step = "epsilon" if s.sampler == "annealed" else "eta"
    parts = [SAMPLER_NAMES.get(s.sampler, s.sampler), f"{step} = {s.step_size:.3g}"]
    parts.append(f"{c.steps} steps, {len(c.positions)} chains")
    if c.acceptance_rate is not None:
        parts.append(f"acceptance {100 * c.acceptance_rate:.0f}%")
    if c.sigma is not None:
        level = (
            "" if c.level is None or c.levels is None else f" (level {c.level + 1} of {c.levels})"
        )
        parts.append(f"sigma = {c.sigma:.3g}{level}")
    if c.chain_mode_weights is not None and c.target_mode_weights is not None:
        k = len(c.chain_mode_weights)
        if k <= LISTED_MODES:
            chains = " / ".join(f"{w:.2f}" for w in c.chain_mode_weights)
            target = " / ".join(f"{w:.2f}" for w in c.target_mode_weights)
            parts.append(f"chains per mode {chains} (target {target})")
        elif c.modes_visited is not None:
            parts.append(f"modes visited {c.modes_visited} of {k}")
    if c.non_finite_restarts:
        parts.append(f"{c.non_finite_restarts} diverged chains restarted (step too large?)")
    return "    ".join(parts)
