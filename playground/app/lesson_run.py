"""A lesson's live step: train the window's session exactly ``steps`` steps, a small
increment at a time (:class:`~.commands.PlayUntil`, paced by :class:`~.lockstep.LockStep`),
and watch the clock: a run projected to take longer than its budget, or a loss that
diverges, is reported so the player can play the step's recording instead.

:class:`Projection` is the watchdog's arithmetic (no Qt), :class:`RunDriver` the Qt part.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from .commands import Pause, PlayUntil
from .lockstep import LockStep

__all__ = ["Projection", "RunDriver", "WARMUP_SECONDS", "RATE_WINDOW_SECONDS", "TICK_MS"]

#: the watchdog judges no run before it trained this long (s), unless the budget is shorter:
#: the first rounds are small (lock-step increments start at one step) and slower than the rest
WARMUP_SECONDS = 1.5
#: the speed a projection uses: steps per second over this last stretch of the run (s)
RATE_WINDOW_SECONDS = 1.0
#: the driver looks at the step count this often (ms)
TICK_MS = 15


class Projection:
    """How long a run of ``steps`` steps will take at its recent speed.

    Arguments:
        steps: the run's length (steps).
        budget: the wall-clock seconds it may take (``None``: no limit).
        warmup: seconds before the first judgement (see :data:`WARMUP_SECONDS`).
        window: seconds of recent progress the speed is measured over.

    Attributes:
        projected: the last projected total duration (s), ``math.inf`` without progress,
            ``None`` before the first judgement.
    """

    def __init__(
        self,
        steps: int,
        budget: float | None,
        warmup: float = WARMUP_SECONDS,
        window: float = RATE_WINDOW_SECONDS,
    ):
        self.steps, self.budget = int(steps), budget
        self.warmup, self.window = warmup, window
        self.projected: float | None = None
        self._samples: deque[tuple[float, int]] = deque([(0.0, 0)])

    def update(self, elapsed: float, done: int) -> float | None:
        """Record ``done`` steps after ``elapsed`` seconds; returns the projected total
        seconds (elapsed plus the remaining steps at the speed of the last
        :attr:`window` seconds), or ``None`` while warming up."""
        self._samples.append((elapsed, done))
        while len(self._samples) > 2 and self._samples[1][0] <= elapsed - self.window:
            self._samples.popleft()
        if elapsed < min(self.warmup, self.budget if self.budget is not None else math.inf):
            return None
        then, before = self._samples[0]
        rate = (done - before) / (elapsed - then) if elapsed > then else 0.0
        remaining = max(0, self.steps - done)
        if remaining == 0:
            self.projected = elapsed
        else:
            self.projected = elapsed + remaining / rate if rate > 0 else math.inf
        return self.projected

    @property
    def over_budget(self) -> bool:
        """Whether the last projection exceeds the budget."""
        return (
            self.budget is not None and self.projected is not None and self.projected > self.budget
        )


class RunDriver(QObject):
    """Trains a window's session to a target step in lock-step rounds and watches it.

    Arguments:
        window: the :class:`~.main_window.MainWindow` (its ``worker``).
        parent: the QObject it goes with (default: ``window``).

    Signals:
        finished(int, float): the target step was reached; the step and the seconds taken.
        too_slow(float): the run is projected to take longer than its budget (projected
            total seconds); it goes on until :meth:`stop`.
        failed(str): training stopped (a diverging loss, an error): the worker's message.
        interrupted(): the session was reset or replaced meanwhile (Reset, a preset): the
            run stopped there.

    Attributes:
        start_step, target: the step count when the run started and the one it trains to.
        projection: the :class:`Projection` of the run (``None`` before the first).
    """

    finished = Signal(int, float)
    too_slow = Signal(float)
    failed = Signal(str)
    interrupted = Signal()

    def __init__(self, window: Any, parent: QObject | None = None):
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.schedule = LockStep()
        self.start_step = self.target = 0
        self._posted = 0  # the last target posted
        self._generation = 0  # the worker's session generation the run trains
        self.projection: Projection | None = None
        self._t0 = 0.0
        self._warned = False
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        window.worker.diverged.connect(self._on_diverged)
        window.worker.problem.connect(self._on_problem)

    @property
    def running(self) -> bool:
        """Whether a run is being driven."""
        return self._timer.isActive()

    @property
    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self._t0

    def _count(self) -> int | None:
        session = self.window.worker.session  # an int read across threads, as compare_play
        return session.step_count if session is not None else None

    def start(self, steps: int, budget: float | None) -> bool:
        """Train ``steps`` more steps from the session's step count now, with ``budget``
        seconds (``None``: no limit); returns ``False`` when there is no session yet."""
        count = self._count()
        if count is None:
            return False
        self.start_step, self.target = count, count + int(steps)
        self._posted = count
        self._generation = self.window.worker.generation
        self.projection = Projection(steps, budget)
        self.schedule.restart()
        self._warned = False
        self._t0 = time.perf_counter()
        self.window.post(Pause())
        self._timer.start()
        return True

    def stop(self) -> int:
        """Stop driving: the round in progress finishes, then the session stays paused.
        Returns the step it stops at (the round's target, or the count now)."""
        count = self._count() or 0
        if self.running:
            self._timer.stop()
            self.window.worker.post(Pause())
        return max(count, self._posted)

    def _tick(self) -> None:
        count = self._count()
        if count is None:
            return
        if self.window.worker.generation != self._generation:
            self._timer.stop()
            self.interrupted.emit()
            return
        if count >= self.target:
            self._timer.stop()
            self.window.worker.post(Pause())  # paused: the views draw the final step
            self.finished.emit(count, self.elapsed)
            return
        target = self.schedule.next_target([count], time.perf_counter())
        if target is not None:
            self._posted = min(target, self.target)
            self.window.worker.post(PlayUntil(self._posted))
        projection = self.projection
        projection.update(self.elapsed, count - self.start_step)
        if projection.over_budget and not self._warned:
            self._warned = True
            self.too_slow.emit(projection.projected)

    def _on_diverged(self, error: Any) -> None:
        if self.running:
            self._timer.stop()
            self.failed.emit(str(error))

    def _on_problem(self, message: str) -> None:
        if self.running and message.startswith("Training paused"):
            self._timer.stop()
            self.failed.emit(message)
