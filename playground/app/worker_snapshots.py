"""The training worker's schedule of pictures and evaluations: when to snapshot, on
which budget, from the cache or anew; held-out evaluation beside training; and the progress
reports between frames. A mixin of :class:`~.worker.TrainingWorker`, on its thread."""

from __future__ import annotations

import queue
import time
from typing import Any

from .pacing import EVAL_SAMPLES
from .snapshots import Frame, Progress

__all__ = ["SnapshotSchedule", "PROGRESS_SECONDS", "CACHED_PICTURES"]

#: seconds between two :class:`~.snapshots.Progress` reports while training plays or a
#: picture is being computed
PROGRESS_SECONDS = 0.25
#: full pictures kept per session state (weights and hyperparameters at a step, views), so
#: a tab shown again while paused draws at once
CACHED_PICTURES = 8


class SnapshotSchedule:
    """Snapshots, evaluations and progress of a :class:`~.worker.TrainingWorker` (which
    owns the attributes used here: ``session``, ``pacing``, ``playing``, ``generation``,
    ``progress``, ``_snapshotter``, ``_frozen``, ``_evaluations``, ``_cache``, ``_rate``,
    ``_next_progress``, ``_reported_computing``, ``_stepping_until``, ``_publish``)."""

    def _count_steps(self) -> None:
        """Record the throughput; start a held-out evaluation when :attr:`pacing` says so
        and the snapshot thread is free."""
        now = time.perf_counter()
        self._rate.append((now, self.session.step_count))
        while now - self._rate[0][0] > 2.0:
            self._rate.popleft()
        if self.pacing.evaluation_due(now) and self._snapshotter.idle:
            self._evaluate(now)

    def _evaluate(self, now: float) -> None:
        """Evaluate a frozen copy on the snapshot thread (training goes on); the metrics
        are recorded by :meth:`_record_evaluations` at the copy's step."""
        frozen = self._frozen = self.session.frozen_copy(self._frozen)
        generation, queue_ = self.generation, self._evaluations
        # not due again for a period (an evaluation stopped for a picture is retried then)
        self.pacing.evaluated(now, self.pacing.evaluation_cost)

        def job(_budget: Any) -> None:
            start = time.perf_counter()
            metrics = frozen.evaluate(EVAL_SAMPLES)
            queue_.put((generation, frozen.step, metrics, time.perf_counter() - start))

        self._snapshotter.submit(job, "held-out metrics", kind="evaluation")

    def _record_evaluations(self) -> None:
        """Record the metrics of finished evaluations of this session in its history."""
        while True:
            try:
                generation, step, metrics, cost = self._evaluations.get_nowait()
            except queue.Empty:
                return
            if generation == self.generation:
                self.session.record_evaluation(step, metrics)
                self.pacing.evaluated(time.perf_counter(), cost)

    def _steps_per_second(self) -> float:
        if self.playing and len(self._rate) > 1:
            (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
            return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0
        return 0.0

    def _maybe_progress(self) -> None:
        """Report the step and what is being computed, a few times a second while training
        plays or a picture is computed (and once more when it is done)."""
        now = time.perf_counter()
        computing = self._snapshotter.progress
        if now < self._next_progress or not (self.playing or computing or self._reported_computing):
            return
        self._next_progress = now + PROGRESS_SECONDS
        self._reported_computing = bool(computing)
        s = self.session
        self.progress.emit(
            Progress(
                s.step_count,
                self._steps_per_second(),
                self.playing,
                dict(s.last_terms),
                computing,
                self.generation,
            )
        )

    def _maybe_snapshot(self) -> None:
        now = time.perf_counter()
        pacing, snapshotter = self.pacing, self._snapshotter
        if not pacing.snapshot_due(now, self.playing, self._slow):
            return
        if not snapshotter.idle:
            if pacing.forced and snapshotter.running_kind == "evaluation":
                snapshotter.cancel("evaluation")  # the user's picture first
            return  # busy: this snapshot is dropped (or, if forced, retried next time)
        # lock-step training (PlayUntil) draws previews as Play does
        session, playing = self.session, self.playing or now < self._stepping_until
        state = (self._steps_per_second(), playing, self.generation)
        model_views, record_views = pacing.model_views, pacing.record_views
        # the training record's pictures (curves) are built here: History is not thread-safe
        if not model_views:  # the record only: cheap
            start = time.thread_time()
            frame = Frame(session.snapshot(views=record_views), *state)
            pacing.snapshot_taken(now, time.thread_time() - start)
            self._publish(frame)
            return
        pacing.snapshot_taken(now, snapshotter.cost)
        record = session.snapshot(views=record_views).parts if record_views else {}
        # full pictures are kept per session state; a live view (the chains) moves anyway
        key = None if pacing.live else (self.generation, session.step_count, id(session.config))
        key = key and (*key, model_views)
        cached = None if playing or key is None else self._cache.get(key)
        if cached is not None:
            self._publish(Frame(cached.with_parts(**record), *state))
            return
        frozen = self._frozen = session.frozen_copy(self._frozen)
        cache, publish = self._cache, self._publish

        def job(budget: Any) -> Frame:
            from ..core.sampling.budget import working

            snapshot = frozen.snapshot(model_views)
            if snapshot.previews and not playing:
                # paused: the preview now, the full picture next (stopped if unwanted)
                publish(Frame(snapshot.with_parts(**record), *state))
                with working(budget.full()):
                    snapshot = frozen.snapshot(model_views)
            if key is not None and not snapshot.previews:
                while len(cache) >= CACHED_PICTURES:
                    cache.pop(next(iter(cache)))
                cache[key] = snapshot
            return Frame(snapshot.with_parts(**record), *state)

        what = ", ".join(self._titles(model_views))
        snapshotter.submit(job, what, quick=True)

    @staticmethod
    def _titles(views: tuple[str, ...]) -> list[str]:
        return [v.replace("_", " ") for v in views]
