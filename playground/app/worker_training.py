"""The training worker's steps: a chunk of steps while playing, slow motion's halves, a
single step, lock-step's ``PlayUntil``, and what a non-finite loss does. A mixin of
:class:`~.worker.TrainingWorker`, on its thread."""

from __future__ import annotations

import time

from .commands import PlayUntil, Step

__all__ = ["TrainingSteps", "SLOW_MOTION_SECONDS"]

#: slow motion (models with parts, e.g. GANs): the pause after each half of an iteration
SLOW_MOTION_SECONDS = 0.5


class TrainingSteps:
    """How a :class:`~.worker.TrainingWorker` trains (it owns the attributes used here:
    ``session``, ``pacing``, ``playing``, ``slow_motion``, ``diverged``, ``_slow_due``,
    ``_slow_phase``, ``_quit``, ``_stepping_until``, ``_set_playing``, ``_count_steps``;
    :class:`~.worker_timeline.TimelineCommands` gives ``_after_step``, called after every
    step the session takes, and ``_timeline_progress``)."""

    @property
    def _slow(self) -> bool:
        return self.slow_motion and bool(self.session.parts)

    def _train_half(self) -> None:
        """Slow motion: one half of an iteration (``n_critic`` critic updates, or
        ``n_generator`` generator updates) when due, then a snapshot and a pause."""
        from ..core.models.base import NonFiniteLossError

        if time.perf_counter() < self._slow_due:
            return
        session = self.session
        part = session.parts[self._slow_phase % len(session.parts)]
        repeats = max(1, int(getattr(session.config, f"n_{part}", 1)))
        try:
            for _ in range(repeats):
                session.step(part)
                self._after_step(part)
        except NonFiniteLossError as e:
            self._diverged(e)
            return
        self._timeline_progress()
        self._slow_phase += 1
        self.pacing.request_snapshot()
        self._slow_due = time.perf_counter() + SLOW_MOTION_SECONDS
        self._count_steps()

    def _train_chunk(self) -> None:
        from ..core.models.base import NonFiniteLossError

        session, end = self.session, self.pacing.chunk_end(time.perf_counter())
        try:
            session.step()
            self._after_step()
            while time.perf_counter() < end:
                session.step()
                self._after_step()
        except NonFiniteLossError as e:
            self._diverged(e)
            return
        self._count_steps()
        self._timeline_progress()

    def _diverged(self, error: Exception) -> None:
        self._set_playing(False)
        self.pacing.request_snapshot()
        self.diverged.emit(error)

    def _step(self, command: Step) -> None:
        from ..core.models.base import NonFiniteLossError

        if not self.playing:
            try:
                self.session.step(command.part)
                self._after_step(command.part)
            except NonFiniteLossError as e:
                self.diverged.emit(e)
            self._timeline_progress(force=True)
            self.pacing.request_snapshot()

    def _play_until(self, command: PlayUntil) -> None:
        """Train to ``command.step`` now, paused before and after (lock-step: the sender
        paces both sides); a quit request stops it between two steps."""
        from ..core.models.base import NonFiniteLossError

        if self.playing:
            self._set_playing(False)
        session = self.session
        if session.step_count >= command.step:
            return
        try:
            while session.step_count < command.step and not self._quit.is_set():
                session.step()
                self._after_step()
        except NonFiniteLossError as e:
            self._diverged(e)
            return
        self._count_steps()
        self._timeline_progress()
        self._stepping_until = time.perf_counter() + 1.0  # pictures: previews, as in Play
        if self.pacing.snapshot_due(time.perf_counter(), True):  # at the pace of Play
            self.pacing.request_snapshot()
