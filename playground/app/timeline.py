"""The timeline under the views (issue 17): scrub back through training, go back to the
live end, continue from a step (rewind) or fork there.

Dragging the timeline pauses training; the views then draw the model at the chosen step
(the worker restores a view-only copy from the checkpoint nearest before it and replays it
exactly to the step). Keys: ``[`` / ``]`` one checkpoint back / forward, End back to live.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from .commands import Play, RequestForkPoint, Rewind, ScrubEnd, ScrubTo
from .qt_util import signals_blocked

__all__ = ["Timeline", "TimelineSlider", "SCRUB_COALESCE_MS", "rewind_question"]

#: while dragging, at most one ScrubTo per this many ms (the newest position wins)
SCRUB_COALESCE_MS = 40
#: the most checkpoint marks drawn (a ring holds up to thousands: every n-th is drawn)
_MAX_MARKS = 400


#: the slider's tooltip
SLIDER_TIP = (
    "Drag to scrub back through training: the views show the checkpoint nearest the "
    "slider (the ticks); Step (Right) then shows the next step exactly; [ and ] move one "
    "checkpoint; End: back to live"
)


def rewind_question(step: int, live_step: int) -> str:
    """What the window asks before training goes on from ``step`` of a run at ``live_step``."""
    n = max(0, live_step - step)
    return (
        f"Continue from step {step:,}? The {n:,} steps after it are discarded; "
        "Fork here keeps both."
    )


class TimelineSlider(QSlider):
    """A horizontal slider over the run's steps with the checkpoint steps marked under the
    groove (the steps a scrub restores from without replaying).

    Attributes:
        marks: the checkpoint steps marked, ascending.
    """

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.marks: tuple[int, ...] = ()
        self.setRange(0, 0)
        self.setMinimumHeight(28)

    def set_marks(self, steps: tuple[int, ...]) -> None:
        """Mark ``steps`` (checkpoint steps); drawn on the next paint."""
        if len(steps) > _MAX_MARKS:
            steps = steps[:: -(-len(steps) // _MAX_MARKS)]
        if steps != self.marks:
            self.marks = steps
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        """The slider, then a short tick under the groove at each checkpoint step."""
        super().paintEvent(event)
        if not self.marks or self.maximum() <= self.minimum():
            return
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = groove.width() - handle.width()
        left = groove.x() + handle.width() // 2
        painter = QPainter(self)
        color = QColor(self.palette().color(self.foregroundRole()))
        color.setAlpha(140)
        painter.setPen(QPen(color, 1))
        bottom = self.rect().bottom()
        for step in self.marks:
            x = left + QStyle.sliderPositionFromValue(
                self.minimum(), self.maximum(), step, span, option.upsideDown
            )
            painter.drawLine(x, bottom - 4, x, bottom)
        painter.end()

    def mark_rect(self) -> QRect:
        """The strip the marks are drawn in (for tests and tooltips)."""
        r = self.rect()
        return QRect(r.x(), r.bottom() - 4, r.width(), 5)


class Timeline(QWidget):
    """The bar under the views: a slider from step 0 to the live step with the checkpoints
    marked, ``step 1,200 of 5,000 — scrubbed back`` (or ``live``), and the buttons
    *Fork here* and *Back to live*. A run that cannot be replayed exactly (dropout) gets a
    disabled timeline whose label and tooltip say why.

    It posts :class:`~.commands.ScrubTo` (coalesced while dragging), :class:`ScrubEnd`,
    :class:`RequestForkPoint`, and on Play while scrubbed back asks
    ``window.confirm(rewind_question(...))`` and posts :class:`Rewind` then Play.

    Arguments:
        window: the :class:`~.main_window.MainWindow` (its ``post``, ``confirm``,
            ``show_banner``).

    Attributes:
        state: the worker's last :class:`~.timeline_state.TimelineState` (``None`` first).
        slider, label, fork_button, live_button: the parts.
    """

    def __init__(self, window: Any) -> None:
        super().__init__()
        self._window = window
        self.state: Any = None
        self._pending: int | None = None  # a position waiting for the coalescing timer
        self._target: int | None = None  # the last position asked for, until shown
        self.slider = TimelineSlider()
        self.slider.setToolTip(SLIDER_TIP)
        self.label = QLabel("timeline: starting\u2026")
        self.label.setMinimumWidth(260)
        # a narrow window clips the label's end (the memory) rather than the buttons
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.fork_button = QPushButton("Fork here")
        self.fork_button.setToolTip("Open a branch of this run from the step shown")
        self.live_button = QPushButton("Back to live")
        self.live_button.setToolTip("Show the live end of the run again (End)")
        self.live_button.setEnabled(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)  # takes the room the buttons leave
        row.addWidget(self.fork_button)
        row.addWidget(self.live_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.setSpacing(2)
        layout.addWidget(self.slider)
        layout.addLayout(row)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SCRUB_COALESCE_MS)
        self._timer.timeout.connect(self._post_pending)
        self.slider.valueChanged.connect(self._on_value)
        self.fork_button.clicked.connect(self.fork_here)
        self.live_button.clicked.connect(self.back_to_live)
        self.setEnabled(False)

    @classmethod
    def install(cls, window: Any, layout: QBoxLayout) -> Timeline:
        """Build the timeline of ``window``, add it to ``layout`` (under the views), connect
        it to the window's worker and add its keys; returns it."""
        timeline = cls(window)
        layout.addWidget(timeline)
        worker = window.worker
        worker.timeline_changed.connect(timeline.show_state)
        worker.fork_point_ready.connect(timeline.open_fork)
        worker.play_asked.connect(timeline.ask_rewind)
        keys = (
            ("[", timeline.previous_checkpoint),
            ("]", timeline.next_checkpoint),
            ("End", timeline.back_to_live),
        )
        # bound methods: PySide holds them weakly (a lambda would keep the window alive)
        timeline.keys = [QShortcut(QKeySequence(k), window, slot) for k, slot in keys]
        return timeline

    # ------------------------------------------------------------ from the worker
    def show_state(self, state: Any) -> None:
        """Show the worker's :class:`~.timeline_state.TimelineState`."""
        self.state = state
        if state.shown_step == self._target or not self._timer.isActive():
            self._target = None  # shown (or the worker went back to live by itself)
        if state.problem is not None:
            self.setEnabled(False)
            self.label.setText("timeline off: this run cannot be replayed exactly")
            tip = f"No timeline for this run: {state.problem}"
            for widget in (self, self.slider, self.label, self.fork_button):
                widget.setToolTip(tip)
            return
        self.setEnabled(True)
        self.setToolTip("")
        self.label.setToolTip("")
        self.fork_button.setToolTip("Open a branch of this run from the step shown")
        self.slider.setToolTip(SLIDER_TIP)
        self.slider.set_marks(state.checkpoints)
        first = state.checkpoints[0] if state.checkpoints else state.live_step
        if not self.slider.isSliderDown() and not self._timer.isActive():
            with signals_blocked(self.slider):
                self.slider.setRange(first, state.live_step)
                shown = state.shown_step
                self.slider.setValue(state.live_step if shown is None else shown)
        self.live_button.setEnabled(state.shown_step is not None)
        self._show_label()

    def _show_label(self) -> None:
        state = self.state
        count = len(state.checkpoints)
        memory = (
            f"{count:,} checkpoint{'s' if count != 1 else ''}, "
            f"{state.nbytes / 2**20:,.0f}/{state.budget_bytes / 2**20:,.0f} MiB"
        )
        if state.shown_step is None:
            text = f"Timeline: step {state.live_step:,} \u2014 live"
        else:
            shown, live = state.shown_step, state.live_step
            text = f"Timeline: step {shown:,} of {live:,} \u2014 scrubbed back"
        self.label.setText(f"{text}   \u00b7   {memory}")
        self.label.setToolTip(
            f"{text}. The worker keeps {memory} of its budget (gui --checkpoint-mb N): "
            "weights, optimizer state, random states and history, spaced to cover the run."
        )

    def open_fork(self, point: Any) -> None:
        """The worker's fork point: open the branch (``playground.app.fork.open_fork``)."""
        try:
            from .fork import open_fork
        except ImportError as e:
            self._window.show_banner(f"Forking is not available in this build: {e}", "warning")
            return
        open_fork(self._window, point)

    def ask_rewind(self, step: int) -> None:
        """Play came while scrubbed back to ``step``: continue from it if the user agrees
        (the steps after it are discarded), else stay scrubbed back, paused."""
        live = self.state.live_step if self.state is not None else step
        if self._window.confirm(rewind_question(step, live)):
            self._window.post(Rewind(step))
            self._window.post(Play())

    # ------------------------------------------------------------ from the user
    @property
    def shown_step(self) -> int | None:
        """The step the views show (scrubbed back), the pending scrub's, or ``None`` (live)."""
        if self._target is not None:
            return self._target
        return None if self.state is None else self.state.shown_step

    def scrub_to(self, step: int) -> None:
        """Show ``step``: posted at once, then at most one command per
        :data:`SCRUB_COALESCE_MS` while dragging (the newest position wins)."""
        self._pending = self._target = int(step)
        if not self._timer.isActive():
            self._post_pending()

    def snap(self, value: int) -> int | None:
        """The slider position ``value`` snapped to the nearest checkpoint (a step the
        views show at once, with no replay), or ``None`` when the live step is nearer."""
        if self.state is None or not self.state.checkpoints:
            return int(value)
        marks, live = self.state.checkpoints, self.state.live_step
        nearest = min(marks, key=lambda c: abs(c - value))
        return None if abs(live - value) < abs(nearest - value) or nearest >= live else nearest

    def _on_value(self, value: int) -> None:
        """A slider move (drag, click, wheel): snapped to the nearest checkpoint, so the
        views follow the hand without replaying; ``Step`` then walks forward one exact
        step at a time, and ``[`` ``]`` go checkpoint by checkpoint."""
        step = self.snap(value)
        if step is None:
            self.back_to_live()
            return
        if step != value:
            with signals_blocked(self.slider):
                self.slider.setValue(step)
        self.scrub_to(step)

    def _post_pending(self) -> None:
        """Post the newest position; positions until the timer fires wait, then the newest
        of them goes."""
        if self._pending is not None:
            step, self._pending = self._pending, None
            self._window.post(ScrubTo(step))
            self._timer.start()

    def back_to_live(self) -> None:
        """Show the live end of the run again."""
        self._pending = self._target = None
        self._timer.stop()
        if self.isEnabled():
            self._window.post(ScrubEnd())

    def fork_here(self) -> None:
        """Ask the worker for the fork point of the step shown (the live step when live)."""
        if self.state is None or not self.isEnabled():
            return
        shown = self.shown_step
        self._window.post(RequestForkPoint(self.state.live_step if shown is None else shown))

    def _move_checkpoint(self, forward: bool) -> None:
        if self.state is None or not self.isEnabled():
            return
        live = self.state.live_step
        shown = self.shown_step if self.shown_step is not None else live
        marks = self.state.checkpoints
        if forward:
            later = [c for c in marks if c > shown]
            if not later or later[0] >= live:
                self.back_to_live()
                return
            self.scrub_to(later[0])
        else:
            earlier = [c for c in marks if c < shown]
            if earlier:
                self.scrub_to(earlier[-1])
        with signals_blocked(self.slider):
            self.slider.setValue(self._target if self._target is not None else live)

    def previous_checkpoint(self) -> None:
        """Scrub back to the checkpoint before the step shown (``[``)."""
        self._move_checkpoint(False)

    def next_checkpoint(self) -> None:
        """Scrub forward to the checkpoint after the step shown, or back to live (``]``)."""
        self._move_checkpoint(True)
