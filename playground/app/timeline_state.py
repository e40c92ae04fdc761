"""What the timeline under the views is told (:class:`TimelineState`) and how far apart the
worker keeps checkpoints (:func:`least_spacing`), issue 17. No Qt here: plain values."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "TimelineState",
    "DEFAULT_CHECKPOINT_BYTES",
    "TIMELINE_SECONDS",
    "SAVE_SHARE",
    "least_spacing",
]

#: the checkpoint ring's default budget (issue 17: 256 MB), bytes of tensors
DEFAULT_CHECKPOINT_BYTES = 256 * 2**20
#: seconds between two :class:`TimelineState` reports while training plays
TIMELINE_SECONDS = 0.25
#: the most share of training time the checkpoints may take: the ring's spacing is at
#: least the power of two that keeps a checkpoint's cost (a RealNVP's: 2 ms, a fifth of a
#: step) below this share of the steps between two checkpoints
SAVE_SHARE = 0.03


def least_spacing(spacing: int, save_seconds: float, step_seconds: float) -> int:
    """``spacing`` doubled until a checkpoint every ``spacing`` steps costs at most
    :data:`SAVE_SHARE` of the training time (``save_seconds`` a checkpoint,
    ``step_seconds`` a step); at most 2**20."""
    while spacing < 2**20 and spacing * SAVE_SHARE * step_seconds < save_seconds:
        spacing *= 2
    return spacing


@dataclass(frozen=True)
class TimelineState:
    """What the timeline under the views shows.

    Attributes:
        live_step: the session's step (the end of the timeline).
        shown_step: the step the views show when scrubbed back, else ``None`` (live).
        checkpoints: the steps the ring holds, ascending (marked on the timeline).
        nbytes, budget_bytes: bytes the ring holds (``CheckpointRing.nbytes``), its budget.
        problem: why this run has no timeline (it cannot be replayed exactly), else ``None``.
        generation: as :attr:`~.snapshots.Frame.generation`.
    """

    live_step: int
    shown_step: int | None
    checkpoints: tuple[int, ...]
    nbytes: int
    budget_bytes: int
    problem: str | None
    generation: int
