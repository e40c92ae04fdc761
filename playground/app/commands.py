"""The messages between the window and the training worker: the commands the window sends
(small typed messages, superqt's ``send()``), each applied between two training steps (see
:meth:`~.worker.TrainingWorker.post`), and the :class:`SessionInfo` the worker sends back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Command",
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
