"""The messages between the window and the training worker: the commands the window sends
(small typed messages, superqt's ``send()``), each applied between two training steps (see
:meth:`~.worker.TrainingWorker.post`), and the :class:`SessionInfo` the worker sends back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Command",
    "SetPoints",
    "Play",
    "Pause",
    "Step",
    "PlayUntil",
    "SlowMotion",
    "Reset",
    "SetSeed",
    "SetHyperparameters",
    "SetDevice",
    "Rebuild",
    "SetViews",
    "SetChainSettings",
    "OpenPreset",
    "SavePreset",
    "Quit",
    "SessionInfo",
    "StartFrom",
    "ScrubTo",
    "ScrubEnd",
    "Rewind",
    "RequestForkPoint",
    "SetCheckpointBudget",
]


@dataclass(frozen=True)
class Command:
    """A message for the worker. Subclasses are frozen dataclasses of their arguments."""

    #: whether it only means something once a session exists (before the first one is
    #: built, or after it failed to build, such a command is dropped)
    needs_session: ClassVar[bool] = True


@dataclass(frozen=True)
class Play(Command):
    """Train continuously."""

    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class Pause(Command):
    """Stop training after the current chunk; the views draw the paused state."""

    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class Step(Command):
    """One training step while paused; ``part``: one half of a GAN iteration only
    (``"critic"`` or ``"generator"``, see ``Session.parts``)."""

    part: str | None = None


@dataclass(frozen=True)
class PlayUntil(Command):
    """Lock-step: train now until the step count reaches ``step``, then stay paused (a
    session already there does nothing). The steps run between two commands, so the
    sender keeps ``step`` a fraction of a second ahead (see :mod:`.lockstep`)."""

    step: int


@dataclass(frozen=True)
class SlowMotion(Command):
    """Slow motion on or off (models with parts: half an iteration, then a pause)."""

    on: bool
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class Reset(Command):
    """Re-initialise the session from its seed (step 0)."""


@dataclass(frozen=True)
class SetSeed(Command):
    """Change the seed and reset."""

    seed: int


@dataclass(frozen=True)
class SetHyperparameters(Command):
    """Apply hyperparameter ``changes`` (field name to value); ``allow_reset``: changes of
    architecture fields rebuild the model (otherwise they are not applied)."""

    changes: Mapping[str, Any]
    allow_reset: bool = False


@dataclass(frozen=True)
class SetDevice(Command):
    """Move training to ``device`` (``cpu``, ``cuda:0``, ...); a failure keeps the old one."""

    device: str


@dataclass(frozen=True)
class Rebuild(Command):
    """A new session of ``model`` on ``dataset`` (same seed and device)."""

    model: str
    dataset: str
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class SetViews(Command):
    """The pictures to snapshot: those the visible view draws."""

    views: tuple[str, ...]
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class SetChainSettings(Command):
    """What the Langevin chains view runs (a ``ChainSettings``), kept for later sessions."""

    settings: Any
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class OpenPreset(Command):
    """Replace the session by the preset at ``path``, paused at its trained state.

    ``view_parts`` maps each view of the window to the pictures it draws: the worker reads
    the preset's description and snapshots its view's pictures first."""

    path: str
    view_parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class SavePreset(Command):
    """Save the session as a preset at ``path`` (``.dgmpreset``: a bundle, else a folder),
    with a PNG ``preview``, its ``title``, ``description`` and ``notes``, and the ``view``
    it opens on."""

    path: str
    preview: bytes | None = field(default=None, repr=False)
    title: str | None = None
    description: str | None = None
    notes: str | None = None
    view: str | None = None


@dataclass(frozen=True)
class Quit(Command):
    """End the worker's loop (commands queued after it are dropped)."""

    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class SessionInfo:
    """The worker's session, for the pickers (``datasets``: those the model trains on),
    the hyperparameter form (``fields``, ``config``), the tabs (``views``) and the
    transport's half-step buttons (``parts``: ``("critic", "generator")`` for a GAN)."""

    model: str
    dataset: str
    seed: int
    device: str
    config: Any
    fields: list
    views: list[str]
    datasets: list[str]
    parts: tuple[str, ...] = ()
    #: the points a session on ``points`` trains on (``(n, 2)`` float32 tensor), else None
    points: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class StartFrom(Command):
    """Replace the session by a branch of another run: ``point`` (a ``ForkPoint``, see
    :func:`playground.core.training.checkpoints.session_from`) restored and replayed to
    its step, then ``changes`` (live fields: field name to value) applied; paused there."""

    point: Any = field(repr=False)
    changes: Mapping[str, Any] = field(default_factory=dict)
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class ScrubTo(Command):
    """Pause and show the run at ``step`` (the timeline): the views draw a copy of the model
    restored from the checkpoint nearest before ``step`` and replayed exactly to it; the
    live run is untouched. ``step`` at or after the live step: back to live."""

    step: int


@dataclass(frozen=True)
class ScrubEnd(Command):
    """Back to the live end of the run: the views draw the session's own step again."""


@dataclass(frozen=True)
class Rewind(Command):
    """Continue training from ``step``: the session goes back to it exactly (restore and
    replay) and the steps after it are discarded (the checkpoint ring forgets them)."""

    step: int


@dataclass(frozen=True)
class RequestForkPoint(Command):
    """Ask for the ``ForkPoint`` of the run at ``step`` (the worker's ``fork_point_ready``
    signal answers; see :func:`playground.core.training.checkpoints.fork_point`)."""

    step: int


@dataclass(frozen=True)
class SetCheckpointBudget(Command):
    """Keep the checkpoint ring within ``budget_bytes`` (kept for every later session)."""

    budget_bytes: int
    needs_session: ClassVar[bool] = False


@dataclass(frozen=True)
class SetPoints(Command):
    """Train the session's model on these 2D points (drawn or imported; ``(n, 2)`` float32
    numpy or torch, ``n >= 2``), named ``name`` in messages: a new session on the dataset
    ``points`` (same seed, device and hyperparameters but the objective); a model that
    cannot use them keeps its session and says why."""

    points: Any = field(repr=False)
    name: str = "drawn points"
