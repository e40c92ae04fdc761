"""The training worker's timeline (issue 17): a ring of checkpoints of the run, scrubbing
back through it (the views draw a view-only copy of the model at the chosen step), rewinding
the run to a step, and fork points. A mixin of :class:`~.worker.TrainingWorker`, on its
thread.

A step the session took is replayed exactly from the checkpoint nearest before it: the same
batches and noise (restored generators), and what the user changed between two steps is
replayed at the same step too: a live hyperparameter (a learning rate) and the halves of a
GAN iteration taken in slow motion or with the half-step buttons."""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from typing import Any

from PySide6.QtCore import Signal

from .commands import (
    Play,
    RequestForkPoint,
    Rewind,
    ScrubEnd,
    ScrubTo,
    SetCheckpointBudget,
    Step,
)
from .timeline_state import (
    DEFAULT_CHECKPOINT_BYTES,
    TIMELINE_SECONDS,
    TimelineState,
    least_spacing,
)

__all__ = ["TimelineCommands"]


class TimelineCommands:
    """The timeline of a :class:`~.worker.TrainingWorker` (which owns ``session``,
    ``playing``, ``pacing``, ``generation``, ``chain_settings``, ``problem``,
    ``playing_changed``, ``config_changed``, ``_snapshotter``, ``_frozen``, ``_cache``,
    ``_rate``, ``_set_playing``, ``_play``, ``_step`` and the snapshot schedule this class
    extends: it comes first among the worker's bases).

    Signals:
        timeline_changed(TimelineState): after a scrub, a rewind, a restart, and a few times
            a second while training plays.
        fork_point_ready(ForkPoint): the answer to :class:`~.commands.RequestForkPoint`.
        play_asked(int): Play came while scrubbed back to this step: the window asks
            whether to continue from it (the steps after it would be discarded).

    Attributes:
        checkpoint_budget: the ring's budget in bytes, kept for every later session.
        scrubbed_to: the step the views show when scrubbed back, else ``None``.
        last_scrub: ``(step, steps replayed, seconds, CPU seconds)`` of the last scrub's
            restore and replay.
    """

    timeline_changed = Signal(object)
    fork_point_ready = Signal(object)
    play_asked = Signal(int)

    checkpoint_budget: int = DEFAULT_CHECKPOINT_BYTES
    scrubbed_to: int | None = None
    #: the last scrub's step, the steps it replayed, and the seconds (wall clock, then
    #: this thread's CPU) its restore and replay took (``None`` before the first)
    last_scrub: tuple[int, int, float, float] | None = None
    _ring: Any = None  # the CheckpointRing of the session (None: not replayable)
    _ring_problem: str | None = None
    _scrub: Any = None  # a second Session of the run, restored in place to scrub
    _scrub_at: int | None = None  # the run's step the scrub session holds (None: stale)
    _scrub_frozen: Any = None
    _scrub_pending: int | None = None  # a scrub target not yet replayed to (newest wins)
    _configs: dict | None = None  # step -> config in force for the step after it
    _parts: dict | None = None  # step -> the half ("critic", "generator") taken as it
    _config_seen: Any = None
    _timeline_due = 0.0
    _save_costs: deque  # seconds of the last few checkpoints
    _step_cost = 0.0  # seconds of one training step (smoothed)
    _trained = 0.0  # the session's train_seconds at the last step
    _emitted: tuple = ()

    def _timeline_handlers(self) -> dict[type, Any]:
        """The worker's handlers of the timeline commands; Play while scrubbed back asks
        the window first (see :attr:`play_asked`), Step shows the next step."""
        return {
            ScrubTo: self._scrub_to,
            ScrubEnd: self._scrub_end,
            Rewind: self._rewind,
            RequestForkPoint: self._request_fork_point,
            SetCheckpointBudget: self._set_checkpoint_budget,
            Play: self._timeline_play,
            Step: self._timeline_step,
        }

    # ------------------------------------------------------------ the ring
    def _timeline_restarted(self) -> None:
        """A new session (or a reset, seed, rebuild, preset, branch): a new ring holding
        the session's present step; no scrubbing."""
        from ..core.training.checkpoints import CheckpointRing, capture, replay_problem

        session = self.session
        self.scrubbed_to = self._scrub_pending = self._scrub_at = None
        self._scrub = self._scrub_frozen = None
        self._configs, self._parts = {}, {}
        self._config_seen = session.config
        self._trained = session.train_seconds
        self._save_costs = deque(maxlen=8)
        self._ring_problem = replay_problem(session)
        self._ring = None
        if self._ring_problem is None:
            self._ring = CheckpointRing(self.checkpoint_budget)
            self._ring.add(capture(session))
        self._emit_timeline()

    def _after_step(self, part: str | None = None) -> None:
        """After each training step: note a live change made before it and the half it
        was, and keep a checkpoint when on the ring's spacing."""
        session, ring = self.session, self._ring
        if ring is None:
            return
        if session.config is not self._config_seen:
            self._config_seen = session.config
            self._configs[session.step_count - 1] = session.config
        if part is not None:
            self._parts[session.step_count] = part
        step_cost, self._trained = session.train_seconds - self._trained, session.train_seconds
        self._step_cost = 0.9 * self._step_cost + 0.1 * step_cost if self._step_cost else step_cost
        start = time.perf_counter()
        if ring.maybe_save(session):
            self._save_costs.append(time.perf_counter() - start)
            if len(self._save_costs) >= 3:  # the least of the last few: a busy moment
                # of the machine must not space the checkpoints out for good
                cost = min(self._save_costs)
                ring.spacing = least_spacing(ring.spacing, cost, self._step_cost)

    def _timeline_progress(self, force: bool = False) -> None:
        """Report the timeline a few times a second while training plays (``force``: now),
        and once more when it changed while paused."""
        now = time.perf_counter()
        if not force and self._timeline_key() == self._emitted:
            return
        if force or not self.playing or now >= self._timeline_due:
            self._timeline_due = now + TIMELINE_SECONDS
            self._emit_timeline()

    def _timeline_key(self) -> tuple:
        ring = self._ring
        return (
            self.session.step_count,
            self.scrubbed_to,
            len(ring) if ring is not None else 0,
            self.generation,
        )

    def _emit_timeline(self) -> None:
        ring, session = self._ring, self.session
        self._emitted = self._timeline_key()
        self.timeline_changed.emit(
            TimelineState(
                session.step_count,
                self.scrubbed_to,
                tuple(ring.steps) if ring is not None else (),
                ring.nbytes if ring is not None else 0,
                self.checkpoint_budget,
                self._ring_problem,
                self.generation,
            )
        )

    def _replay(self, target: Any, step: int) -> int:
        """Bring ``target`` (the session or the scrub session) to the run's ``step``: restore
        the nearest checkpoint before it (unless ``target`` is on the way already, the
        scrub session after a scrub to an earlier step), replay the steps in between with
        the live changes and halves the run had, then apply the change made at ``step``.
        Returns how many steps it replayed.

        Raises:
            LookupError: the ring holds no checkpoint at or before ``step``.
            NonFiniteLossError: a replayed step could not be taken (not a diverging one).
        """
        from ..core.models.errors import DivergingLossError
        from ..core.training.checkpoint_state import restore, truncated

        checkpoint = self._ring.nearest_before(step)
        on_the_way = (
            target is self._scrub and self._scrub_at is not None
        ) and checkpoint.step <= self._scrub_at <= step
        if not on_the_way:
            if target is not self.session:  # the scrub session: the run's curves to here
                target.history = truncated(self.session.history, checkpoint.step)
            restore(target, checkpoint)
        replayed = step - target.step_count
        while target.step_count < step:
            self._apply_config(target, target.step_count)
            try:
                target.step(self._parts.get(target.step_count + 1))
            except DivergingLossError:
                pass  # the run took this step too (and went on): so does the replay
        self._apply_config(target, step)
        return replayed

    def _apply_config(self, target: Any, step: int) -> None:
        config = self._configs.get(step)
        if config is not None and target.config is not config:
            target.config = config
            target.model.apply_live(config)

    def _check_ring(self, what: str) -> bool:
        if self._ring is None:
            self.problem.emit(f"Cannot {what}: {self._ring_problem or 'no timeline yet'}")
            return False
        return True

    # ------------------------------------------------------------ commands
    def _set_checkpoint_budget(self, command: SetCheckpointBudget) -> None:
        budget = int(command.budget_bytes)
        if budget < 1:
            self.problem.emit(f"Checkpoint budget not changed: {budget} bytes is below 1")
            return
        self.checkpoint_budget = budget
        if self._ring is not None:
            self._ring.set_budget(budget)
            self._emit_timeline()

    def _scrub_to(self, command: ScrubTo) -> None:
        if not self._check_ring("scrub back"):
            return
        self._set_playing(False)
        step = max(int(command.step), self._ring.steps[0])
        if step >= self.session.step_count:
            self._scrub_end(ScrubEnd())
            return
        self.scrubbed_to = self._scrub_pending = step
        self._snapshotter.cancel("picture")  # the picture of another step is not wanted
        self.pacing.request_snapshot()

    def _scrub_end(self, _: ScrubEnd) -> None:
        if self.scrubbed_to is not None:
            self.scrubbed_to = self._scrub_pending = None
            self._snapshotter.cancel("picture")
            self.pacing.request_snapshot()
        self._emit_timeline()

    def _timeline_play(self, command: Play) -> None:
        if self.scrubbed_to is None:
            self._play(command)
            return
        self.playing_changed.emit(False)  # the transport's button goes back to Play
        self.play_asked.emit(self.scrubbed_to)

    def _timeline_step(self, command: Step) -> None:
        """Step while scrubbed back: show the next step of the run (the live run is
        untouched); a half step is refused, saying how to go on."""
        if self.scrubbed_to is None:
            self._step(command)
        elif command.part is None:
            self._scrub_to(ScrubTo(self.scrubbed_to + 1))
        else:
            self.problem.emit(
                f"The views show step {self.scrubbed_to:,} of the timeline: press Play to "
                "continue from it, or End to go back to the live run, before a half step"
            )

    def _rewind(self, command: Rewind) -> None:
        from ..core.training.checkpoints import NotReplayableError

        if not self._check_ring("rewind"):
            return
        session, step = self.session, int(command.step)
        if step == session.step_count:  # nothing to discard: back to live
            self._scrub_end(ScrubEnd())
            return
        if not self._ring.steps[0] <= step <= session.step_count:
            self.problem.emit(
                f"Cannot rewind to step {step}: the timeline holds steps "
                f"{self._ring.steps[0]:,} to {session.step_count:,}"
            )
            return
        self._set_playing(False)
        try:
            self._replay(session, step)
        except (LookupError, NotReplayableError, FloatingPointError) as e:
            self.problem.emit(f"Cannot rewind to step {step}: {e}")
            return
        self._ring.discard_after(step)
        self._configs = {s: c for s, c in self._configs.items() if s <= step}
        self._parts = {s: p for s, p in self._parts.items() if s <= step}
        self._config_seen, self._trained = session.config, session.train_seconds
        self.scrubbed_to = self._scrub_pending = self._scrub_at = None
        # the views drop the discarded future's pictures and curves
        self.generation += 1
        self._rate.clear()
        self._snapshotter.cancel()
        self._cache.clear()
        self.config_changed.emit(session.config)
        self.pacing.request_snapshot()
        self._emit_timeline()

    def _request_fork_point(self, command: RequestForkPoint) -> None:
        """Emit the fork point of ``command.step``: its checkpoint is taken at that very
        step (the scrub session is replayed to it), so a branch starts with no replay."""
        from ..core.training.checkpoint_state import capture, truncated
        from ..core.training.checkpoints import fork_point

        if not self._check_ring("fork"):
            return
        step = int(command.step)
        try:
            point = fork_point(self.session, self._ring, step)
            if point.checkpoint.step != step:
                scrub = self._scrub_session()
                shown = self._scrub_at
                try:
                    self._replay(scrub, step)
                except Exception:
                    self._scrub_at = None  # replayed part way: stale
                    raise
                self._scrub_at = step
                if self.scrubbed_to is not None and shown != step:  # the view's step again
                    self._scrub_pending = self.scrubbed_to
                point = dataclasses.replace(
                    point,
                    checkpoint=capture(scrub),
                    history=truncated(self.session.history, step),
                )
        except Exception as e:  # noqa: BLE001 - the run goes on; the message says why
            self.problem.emit(f"Cannot fork at step {step}: {e}")
            return
        self.fork_point_ready.emit(point)

    # ------------------------------------------------------------ scrubbing
    def _scrub_session(self) -> Any:
        """The view-only copy of the run (built once per session, restored in place)."""
        from ..core import hyperparameters as hpm
        from ..core.training import Session

        if self._scrub is None:
            s = self.session
            self._scrub = Session(
                s.model_name,
                s.dataset_name,
                hpm.to_dict(s.config),
                seed=s.seed,
                device=str(s.device),
                points=s.points,
            )
            self._scrub.divergence_watch = None  # a replay never pauses anything
            self._scrub_at = self._scrub_frozen = None
        if self.chain_settings is not None:
            self._scrub.set_chain_settings(self.chain_settings)
        return self._scrub

    def _maybe_snapshot(self) -> None:
        """While scrubbed back: replay the scrub session to the newest target, then take
        the snapshot of it (the worker's own schedule, with the scrub session in the
        session's place); live: the session's snapshot."""
        if self.scrubbed_to is None:
            super()._maybe_snapshot()
            if not self.playing:  # while playing: after each chunk, a few times a second
                self._timeline_progress()
                if (
                    self._scrub is None
                    and self._ring is not None
                    and self.session.step_count > 0
                    and self._commands.empty()
                ):
                    # built while idle, so the first move of the timeline need not wait
                    self._scrub_session()
            return
        if self._scrub_pending is not None:
            step, self._scrub_pending = self._scrub_pending, None
            try:
                start, cpu = time.perf_counter(), time.thread_time()
                replayed = self._replay(self._scrub_session(), step)
                self._scrub_at = step
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - start
                self.last_scrub = (step, replayed, wall, cpu)
            except Exception as e:  # noqa: BLE001 - back to live, saying why
                self.scrubbed_to = self._scrub_at = None
                self.problem.emit(f"Cannot show step {step}: {type(e).__name__}: {e}")
                self.pacing.request_snapshot()
                self._emit_timeline()
                return
            self._emit_timeline()
        if self._scrub_at is None:
            return
        live, frozen = self.session, self._frozen
        self.session, self._frozen = self._scrub, self._scrub_frozen
        try:
            super()._maybe_snapshot()
        finally:
            self._scrub_frozen = self._frozen
            self.session, self._frozen = live, frozen
