"""Rewind and fork training: a ring of checkpoints within a memory budget, and exact replay."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import hyperparameters as hpm
from .checkpoint_state import Checkpoint, capture, restore, truncated
from .history import History
from .session import Session

__all__ = [
    "Checkpoint",
    "CheckpointRing",
    "DEFAULT_BUDGET_BYTES",
    "MAX_COUNT",
    "TENSOR_OVERHEAD_BYTES",
    "held_bytes",
    "NotReplayableError",
    "NOT_REPLAYABLE",
    "replay_problem",
    "capture",
    "restore",
    "rewind",
    "fork",
    "ForkPoint",
    "fork_point",
    "session_from",
]

#: models whose replay is known not to repeat a run bit for bit, with the reason (none
#: so far: hidden state is captured generically, see :func:`capture`, and dropout is
#: checked by :func:`replay_problem`); :func:`rewind` and :func:`fork` refuse them
NOT_REPLAYABLE: dict[str, str] = {}


class NotReplayableError(RuntimeError):
    """Rewinding or forking a model whose replay is known not to be exact."""


#: the ring's default memory budget (issue 17: 256 MB), bytes of tensors
DEFAULT_BUDGET_BYTES = 256 * 2**20
#: the ring's default most checkpoints: generous, so that for the 2D models (0.1 to 1.6 MiB
#: a checkpoint with Adam's moments) the budget binds and the spacing stays small; the
#: tiniest models (a planar flow: 1 KiB) stop here, at a few MiB
MAX_COUNT = 4096
#: bytes a checkpoint holds per tensor beyond its data: the tensor's Python object, its
#: dictionary entry, the allocator's rounding (measured with tracemalloc: 180 to 300 bytes
#: a tensor for the 2D models), counted so that the budget bounds the ring's real memory
TENSOR_OVERHEAD_BYTES = 320


def _tensors(value: Any) -> int:
    """How many tensors ``value`` (a checkpoint's part) holds."""
    if isinstance(value, torch.Tensor):
        return 1
    if isinstance(value, dict):
        return sum(_tensors(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_tensors(v) for v in value)
    return 0


def held_bytes(checkpoint: Checkpoint) -> int:
    """The memory ``checkpoint`` holds: its tensors' bytes plus
    :data:`TENSOR_OVERHEAD_BYTES` per tensor."""
    parts = (checkpoint.weights, checkpoint.optimizers, checkpoint.hidden)
    return checkpoint.nbytes + TENSOR_OVERHEAD_BYTES * sum(_tensors(p) for p in parts)


class CheckpointRing:
    """Checkpoints of one run, spaced to cover the whole run within a memory budget.

    :meth:`maybe_save` after each step keeps the steps that are multiples of a spacing
    ``k`` (1 at first); when the ring holds more than ``budget_bytes`` or ``max_count``
    checkpoints, the oldest checkpoint off the spacing ``2 k`` is dropped, one at a time
    (the first one held stays), and once all are on it ``k`` doubles. So the ring stays
    full: the old part of a run at spacing ``2 k``, the recent part at ``k``, a mean
    spacing of ``N / held`` steps after ``N`` steps (a replay, hence a rewind or a scrub,
    is about half as long as with every other checkpoint dropped at once), from step 0
    to within ``k`` of step ``N``. At least one is always kept.

    Arguments:
        budget_bytes: the most bytes the checkpoints may hold (see :func:`held_bytes`).
        max_count: the most checkpoints kept.

    Raises:
        ValueError: a budget below 1 byte or a count below 2.
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES, max_count: int = MAX_COUNT):
        if budget_bytes < 1 or max_count < 2:
            raise ValueError(
                f"budget_bytes must be >= 1 and max_count >= 2, got {budget_bytes} and {max_count}"
            )
        self.budget_bytes, self.max_count = int(budget_bytes), int(max_count)
        self.spacing = 1
        self._ring: dict[int, Checkpoint] = {}
        self._steps: list[int] = []
        self._held: dict[int, int] = {}  # step -> held_bytes of its checkpoint
        self._nbytes = 0  # kept as checkpoints come and go: maybe_save runs after every step

    @property
    def steps(self) -> list[int]:
        """The steps held, ascending."""
        return list(self._steps)

    @property
    def nbytes(self) -> int:
        """Bytes the checkpoints hold: their tensors and the objects around them (see
        :func:`held_bytes`)."""
        return self._nbytes

    def set_budget(self, budget_bytes: int) -> None:
        """Hold at most ``budget_bytes`` from now on, thinning the ring at once if needed.

        Raises:
            ValueError: a budget below 1 byte.
        """
        if budget_bytes < 1:
            raise ValueError(f"budget_bytes must be >= 1, got {budget_bytes}")
        self.budget_bytes = int(budget_bytes)
        self._thin()

    def __len__(self) -> int:
        return len(self._steps)

    def maybe_save(self, session: Session) -> bool:
        """Save ``session`` if its step is on the spacing (replacing a checkpoint of the
        same step); thin the ring if it is over budget. Returns whether it saved."""
        step = session.step_count
        if step % self.spacing:
            return False
        self.add(capture(session))
        return step in self._ring

    def add(self, checkpoint: Checkpoint) -> None:
        """Put ``checkpoint`` in the ring, then thin it to the budget and count."""
        step = checkpoint.step
        if step in self._ring:
            self._nbytes -= self._held[step]
        else:
            bisect.insort(self._steps, step)
        self._ring[step], self._held[step] = checkpoint, held_bytes(checkpoint)
        self._nbytes += self._held[step]
        self._thin()

    def _thin(self) -> None:
        """Drop the oldest checkpoints off twice the spacing (then double the spacing)
        until within budget and count; the first checkpoint held stays."""
        while len(self._steps) > 1 and (
            len(self._steps) > self.max_count or self._nbytes > self.budget_bytes
        ):
            coarse = 2 * self.spacing
            i = next((i for i, s in enumerate(self._steps) if i and s % coarse), None)
            if i is None:
                self.spacing = coarse
                continue
            self._drop(self._steps.pop(i))

    def _drop(self, step: int) -> None:
        del self._ring[step]
        self._nbytes -= self._held.pop(step)

    def nearest_before(self, step: int) -> Checkpoint:
        """The checkpoint at ``step`` or the latest before it.

        Raises:
            LookupError: none is at or before ``step``.
        """
        i = bisect.bisect_right(self._steps, step)
        if i == 0:
            raise LookupError(f"no checkpoint at or before step {step}; held: {self._steps[:5]}")
        return self._ring[self._steps[i - 1]]

    def discard_after(self, step: int) -> None:
        """Drop the checkpoints after ``step`` (a rewound run's undone future)."""
        for s in [s for s in self._steps if s > step]:
            self._drop(s)
        self._steps = [s for s in self._steps if s <= step]


def replay_problem(session: Session) -> str | None:
    """Why replaying ``session`` would not repeat its run bit for bit, or ``None``.

    Known causes: the model is in :data:`NOT_REPLAYABLE`, or it trains with dropout
    (``dropout`` > 0 in its config, or an active ``nn.Dropout``), which draws from torch's
    global generator: other code (the app's pictures) may draw from it between steps, so
    the masks of a replay are not those of the run. With ``dropout=0`` the PixelCNNs
    replay exactly."""
    if session.model_name in NOT_REPLAYABLE:
        return NOT_REPLAYABLE[session.model_name]
    dropout = float(getattr(session.config, "dropout", 0.0) or 0.0) > 0 or any(
        isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0
        for m in session.model.modules()
    )
    if dropout:
        return (
            "its dropout draws from torch's global generator, which other code may draw "
            "from between steps; set dropout=0 to rewind or fork it"
        )
    return None


def _check_replayable(session: Session) -> None:
    problem = replay_problem(session)
    if problem is not None:
        raise NotReplayableError(f"{session.model_name} cannot be rewound exactly: {problem}")


def _go_to(session: Session, ring: CheckpointRing, step: int) -> None:
    """Restore the nearest checkpoint at or before ``step`` and replay to ``step``."""
    restore(session, ring.nearest_before(step))
    while session.step_count < step:
        session.step()


def rewind(session: Session, ring: CheckpointRing, step: int) -> None:
    """Put ``session`` back at ``step`` exactly: restore the nearest checkpoint at or
    before it and replay the steps in between (the same batches, noise and updates, bit
    for bit, on the same device); the ring forgets the checkpoints after ``step``.

    Raises:
        ValueError: ``step`` is negative or after the session's step.
        LookupError: the ring holds no checkpoint at or before ``step``.
        NotReplayableError: :func:`replay_problem` names a reason the replay would not
            be exact (the model is in :data:`NOT_REPLAYABLE`, or trains with dropout).
    """
    _check_replayable(session)
    if not 0 <= step <= session.step_count:
        raise ValueError(f"cannot rewind to step {step}: the run is at {session.step_count}")
    _go_to(session, ring, step)
    ring.discard_after(step)


@dataclass(frozen=True)
class ForkPoint:
    """Everything needed to start a branch of a run at ``step`` in another session (another
    worker, a Compare pane): the nearest checkpoint at or before ``step``, the history up
    to it, and the run's identity. Its tensors are copies: it may cross threads.

    Attributes:
        model, dataset, seed, device: the run's (``dataset`` as its spec string).
        checkpoint: the :class:`Checkpoint` at or before ``step``.
        history: the run's :class:`~.history.History` truncated to ``checkpoint.step``.
        step: the step the branch starts at (replayed from the checkpoint).
        points: the ``(n, 2)`` points of a drawn or imported ``points`` dataset, else ``None``.
        chain_settings: the Langevin chains view's settings.
    """

    model: str
    dataset: str
    seed: int
    device: str
    checkpoint: Checkpoint = field(repr=False)
    history: History = field(repr=False)
    step: int
    points: Any = field(default=None, repr=False)
    chain_settings: Any = field(default=None, repr=False)


def fork_point(session: Session, ring: CheckpointRing, step: int) -> ForkPoint:
    """The :class:`ForkPoint` of ``session``'s run at ``step`` (``session`` is untouched).

    Raises:
        ValueError: ``step`` is negative or after the session's step.
        LookupError, NotReplayableError: as :func:`rewind`.
    """
    _check_replayable(session)
    if not 0 <= step <= session.step_count:
        raise ValueError(f"cannot fork at step {step}: the run is at {session.step_count}")
    checkpoint = ring.nearest_before(step)
    return ForkPoint(
        session.model_name,
        session.dataset_name,
        session.seed,
        str(session.device),
        checkpoint,
        truncated(session.history, checkpoint.step),
        int(step),
        points=session.points,
        chain_settings=session.chain_settings,
    )


def session_from(point: ForkPoint, changes: dict[str, Any] | None = None) -> Session:
    """A new session at ``point.step``: built like the run, restored from the point's
    checkpoint, replayed to ``point.step`` (bit for bit the run's state there), then
    ``changes`` applied (live fields only).

    Raises:
        ValueError: ``changes`` holds a field that needs a rebuild (named in the message).
        HyperparameterError: an unknown field or a bad value.
    """
    checkpoint = point.checkpoint
    new = Session(
        point.model,
        point.dataset,
        hpm.to_dict(checkpoint.config),
        seed=point.seed,
        device=point.device,
        points=point.points,
    )
    new.history = truncated(point.history, checkpoint.step)
    if point.chain_settings is not None:
        new.chain_settings = point.chain_settings
    restore(new, checkpoint)
    while new.step_count < point.step:
        new.step()
    if changes:
        resets = new.set_hyperparameters(changes)
        if resets:
            raise ValueError(
                f"a fork can change live fields only; these need a rebuild: {', '.join(resets)}"
            )
    return new


def fork(
    session: Session, ring: CheckpointRing, step: int, changes: dict[str, Any] | None = None
) -> Session:
    """A new session at ``step`` of ``session``'s run with live hyperparameters changed
    (a learning rate, a batch size); ``session`` and ``ring`` are untouched.

    Arguments:
        changes: field name to new value; only live fields (no architecture change).

    Raises:
        ValueError: ``step`` is out of range, or ``changes`` holds a field that needs a
            rebuild (named in the message).
        HyperparameterError: an unknown field or a bad value.
        LookupError, NotReplayableError: as :func:`rewind`.
    """
    return session_from(fork_point(session, ring, step), changes)
