"""When the training thread trains, evaluates and snapshots: a plain schedule of the clock
and the costs measured so far (no Qt, no torch), so it can be tested with made-up numbers.

The per-picture rate caps, the pictures that move while training is paused and the
pictures built from the training record come from the core's picture registry
(:data:`playground.core.snapshots.PICTURES`): this module names no view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "Pacing",
    "CHUNK_SECONDS",
    "SNAPSHOT_RATE",
    "MIN_RATE",
    "SNAPSHOT_SHARE",
    "MIN_RATE_LOAD",
    "EVAL_SECONDS",
    "EVAL_SHARE",
    "EVAL_SAMPLES",
]

#: a training chunk lasts about this long; a command waits at most this much
CHUNK_SECONDS = 0.02
#: snapshots per second of the visible view: at most SNAPSHOT_RATE, at least MIN_RATE (for
#: pictures without a rate cap of their own), and in between a frame's CPU time (its
#: snapshot on the snapshot thread plus its drawing on the GUI thread) is at most
#: SNAPSHOT_SHARE of the time. Both hold the GIL part of the time, and where the cores are
#: busy (two cores, other programs) they take their CPU time from training: a snapshot
#: thread busy 25% of the time cost training 5-15% of its steps, one busy 10% about 1-7%
#: (a DDPM's diffusion process costs ~200 ms: one every 2.5 s, animated by the view in
#: between; a GAN's critic ~15 + 5 ms of drawing: 4 per second; a RealNVP density ~35 + 5
#: ms: the minimum rate, 3 per second).
SNAPSHOT_RATE, MIN_RATE, SNAPSHOT_SHARE = 8.0, 3.0, 0.08
#: the minimum rate holds only while it keeps the snapshot thread at most this busy: a
#: picture of a second (an NCSN's annealed Langevin preview) keeps to its share instead,
#: so no view halves training
MIN_RATE_LOAD = 0.25
#: held-out metrics every EVAL_SECONDS of training at least, on EVAL_SAMPLES samples
EVAL_SECONDS, EVAL_SAMPLES = 5.0, 2000
#: the most of the time that held-out evaluation (on the snapshot thread, beside training)
#: may take: a slow evaluation (a DDPM samples through all its timesteps, an NCSN runs
#: annealed Langevin: ~5 s) comes less often, and pictures wait for it less
EVAL_SHARE = 0.2
#: how fast the drawing cost follows new measurements (exponential average)
_DRAW_SMOOTHING = 0.3


class Pacing:
    """The training thread's schedule: how long a chunk of steps lasts, when the next
    held-out evaluation and the next snapshot are due, and which views are snapshot.

    Times are ``time.perf_counter()`` seconds and costs are seconds, both given by the
    caller, so the schedule is a pure function of what it was told.

    Arguments:
        pictures: picture name to its registry entry (anything with ``rate``, ``live`` and
            ``reads_model``); default: the core's :data:`~playground.core.snapshots.PICTURES`,
            imported on first use (it imports torch). Unknown names get no cap.
        views: the pictures to snapshot (those the visible view draws).
        snapshot_rate, min_rate, snapshot_share: see :data:`SNAPSHOT_RATE`.
        chunk_seconds: see :data:`CHUNK_SECONDS`.
        eval_seconds, eval_share: see :data:`EVAL_SECONDS` and :data:`EVAL_SHARE`.

    Attributes:
        next_snapshot, next_evaluation: when the next periodic snapshot and evaluation are
            due.
        evaluation_cost: seconds the last evaluation took (0 after a restart).
        draw_cost: CPU seconds the GUI spends per drawn frame (an average, see :meth:`drawn`).
        forced: a snapshot is due at the next chance, whatever the clock says (a pause, a
            step, new views); cleared by :meth:`snapshot_taken`.
    """

    def __init__(
        self,
        pictures: Mapping[str, Any] | None = None,
        *,
        views: Iterable[str] = (),
        snapshot_rate: float = SNAPSHOT_RATE,
        min_rate: float = MIN_RATE,
        snapshot_share: float = SNAPSHOT_SHARE,
        chunk_seconds: float = CHUNK_SECONDS,
        eval_seconds: float = EVAL_SECONDS,
        eval_share: float = EVAL_SHARE,
    ):
        self._pictures = pictures
        self.snapshot_rate, self.min_rate = snapshot_rate, min_rate
        self.snapshot_share, self.chunk_seconds = snapshot_share, chunk_seconds
        self.eval_seconds, self.eval_share = eval_seconds, eval_share
        self.next_snapshot = self.next_evaluation = 0.0
        self.evaluation_cost = 0.0
        self.draw_cost = 0.0
        self.forced = True
        self.views: tuple[str, ...] = ()
        self._derived: tuple[bool, float, bool, tuple[str, ...], tuple[str, ...]] | None = None
        self.set_views(views)

    # ------------------------------------------------------------------ the views
    @property
    def pictures(self) -> Mapping[str, Any]:
        """Picture name to registry entry (the core's registry unless one was given)."""
        if self._pictures is None:
            from ..core.snapshots import PICTURES

            self._pictures = PICTURES
        return self._pictures

    def set_views(self, views: Iterable[str]) -> None:
        """Snapshot ``views`` from now on, starting at once (their drawing cost is learnt
        afresh)."""
        self.views, self.forced, self._derived = tuple(views), True, None
        self.draw_cost = 0.0

    def _derive(self) -> tuple[bool, float, bool, tuple[str, ...], tuple[str, ...]]:
        if self._derived is None:
            entries = [self.pictures.get(v) for v in self.views]
            caps = [p.rate for p in entries if p is not None and p.rate is not None]
            record = tuple(
                v for v, p in zip(self.views, entries, strict=True) if p and not p.reads_model
            )
            self._derived = (
                any(p is not None and p.live for p in entries),
                min([self.snapshot_rate, *caps]),
                bool(caps),
                tuple(v for v in self.views if v not in record),
                record,
            )
        return self._derived

    @property
    def live(self) -> bool:
        """Whether a view on show moves while training is paused (snapshot on the clock)."""
        return self._derive()[0]

    @property
    def rate_cap(self) -> float:
        """The most snapshots per second: :attr:`snapshot_rate`, or a view's lower cap."""
        return self._derive()[1]

    @property
    def model_views(self) -> tuple[str, ...]:
        """The views drawn from the model's weights (built on the snapshot thread)."""
        return self._derive()[3]

    @property
    def record_views(self) -> tuple[str, ...]:
        """The views drawn from the training record only (built on the training thread)."""
        return self._derive()[4]

    # ------------------------------------------------------------------ training
    def chunk_end(self, now: float) -> float:
        """When a chunk of steps that starts ``now`` should end."""
        return now + self.chunk_seconds

    # ---------------------------------------------------------------- evaluation
    @property
    def evaluation_period(self) -> float:
        """Seconds between evaluations: :attr:`eval_seconds`, or longer after a slow one, so
        evaluating takes at most :attr:`eval_share` of the training time."""
        return max(self.eval_seconds, self.evaluation_cost / self.eval_share)

    def evaluation_due(self, now: float) -> bool:
        """Whether the held-out evaluation is due at ``now``."""
        return now >= self.next_evaluation

    def evaluated(self, now: float, cost: float) -> None:
        """An evaluation that took ``cost`` seconds ended at ``now``."""
        self.evaluation_cost = cost
        self.next_evaluation = now + self.evaluation_period

    def postpone_evaluation(self, now: float) -> None:
        """Wait a whole period from ``now`` (play after a pause waits as long as after an
        evaluation: pressing play and pause again and again never evaluates more often)."""
        self.next_evaluation = now + self.evaluation_period

    def restarted(self, now: float) -> None:
        """A new run (reset, seed, rebuild, preset): forget the costs, snapshot at once."""
        self.evaluation_cost = 0.0
        self.postpone_evaluation(now)
        self.forced = True

    # ----------------------------------------------------------------- snapshots
    def request_snapshot(self) -> None:
        """Snapshot at the next chance, whatever the clock says."""
        self.forced = True

    def snapshot_due(self, now: float, playing: bool, slow: bool = False) -> bool:
        """Whether a snapshot is due at ``now``: one was requested, or the clock says so while
        training plays (or a :attr:`live` view moves). In slow motion (``slow``) snapshots
        come once per half step, requested, never on the clock."""
        if self.forced:
            return True
        return (playing or self.live) and not slow and now >= self.next_snapshot

    def drawn(self, cost: float) -> None:
        """The GUI drew a frame and spent ``cost`` CPU seconds since the one before (any
        thread may call this: it only updates :attr:`draw_cost`)."""
        self.draw_cost += _DRAW_SMOOTHING * (cost - self.draw_cost)

    def snapshot_period(self, cost: float) -> float:
        """Seconds until the next snapshot after one that costs ``cost`` CPU seconds to
        build (plus :attr:`draw_cost` to draw): at most :attr:`rate_cap` per second; costly
        ones keep to :attr:`snapshot_share`, but views without a cap of their own come at
        least :attr:`min_rate` times a second while that keeps the snapshot thread at most
        :data:`MIN_RATE_LOAD` busy."""
        period = (cost + self.draw_cost) / self.snapshot_share
        if not self._derive()[2] and (cost + self.draw_cost) * self.min_rate <= MIN_RATE_LOAD:
            period = min(1.0 / self.min_rate, period)
        return max(1.0 / self.rate_cap, period)

    def snapshot_taken(self, now: float, cost: float) -> None:
        """A snapshot was started at ``now``; recent ones cost ``cost`` seconds each."""
        self.forced = False
        self.next_snapshot = now + self.snapshot_period(cost)
