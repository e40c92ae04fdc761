"""The steps of a lesson: one frozen dataclass per kind, and their normalised form (the
plain data a recording's digest is computed from)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

__all__ = [
    "PresetStep",
    "SessionStep",
    "TabStep",
    "NoteStep",
    "RunStep",
    "PredictStep",
    "CompareStep",
    "Step",
    "STEP_KINDS",
    "normalised",
]


@dataclass(frozen=True)
class PresetStep:
    """Open a preset, paused at its trained state.

    Attributes:
        index: the step's place in the lesson (0-based).
        preset: the preset folder or ``.dgmpreset`` bundle (resolved, it exists).
        view: the tab to show, or ``None`` (the preset's own view).
        name: the preset as the lesson names it (``"gan-ring8"``, ``"../my/preset"``).
    """

    kind: ClassVar[str] = "preset"
    is_live: ClassVar[bool] = False
    index: int
    preset: Path
    view: str | None = None
    name: str = ""


@dataclass(frozen=True)
class SessionStep:
    """Open a fresh (untrained) session.

    Attributes:
        index: the step's place in the lesson (0-based).
        model, dataset: a model name and a dataset spec, as ``python -m playground list``.
        seed: the session's seed.
        hyperparameters: field name to value (checked against the model's config).
        view: the tab to show, or ``None`` (the app's first).
    """

    kind: ClassVar[str] = "session"
    is_live: ClassVar[bool] = False
    index: int
    model: str
    dataset: str
    seed: int = 0
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    view: str | None = None


@dataclass(frozen=True)
class TabStep:
    """Show one tab (view) of the current session."""

    kind: ClassVar[str] = "tab"
    is_live: ClassVar[bool] = False
    index: int
    view: str


@dataclass(frozen=True)
class NoteStep:
    """Show a note in the explain panel: ``title`` (may be empty) and ``text`` (markdown)."""

    kind: ClassVar[str] = "note"
    is_live: ClassVar[bool] = False
    index: int
    title: str
    text: str


@dataclass(frozen=True)
class RunStep:
    """Train the current session ``steps`` steps live (the lesson's live step).

    Attributes:
        index: the step's place in the lesson (0-based).
        steps: training steps (positive).
        view: the view shown and recorded, or ``None`` (the current tab).
        seconds: the live budget in wall-clock seconds: a lecture machine slower than
            this plays the step's recording instead; ``None``: no budget.
    """

    kind: ClassVar[str] = "run"
    is_live: ClassVar[bool] = True
    index: int
    steps: int
    view: str | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class PredictStep:
    """ "Predict, then reveal": a card asks ``question`` and hides ``view`` until the next
    key, then shows the view and ``reveal`` (may be empty)."""

    kind: ClassVar[str] = "predict"
    is_live: ClassVar[bool] = False
    index: int
    question: str
    view: str
    reveal: str = ""


@dataclass(frozen=True)
class CompareStep:
    """Two presets or sessions side by side, showing ``view`` (``None``: each one's own).

    A compare step has no live part and leaves the current session as it was: tab, run
    and predict steps after it act on the session the last preset or session step opened.
    Its sides carry the compare step's own ``index``.
    """

    kind: ClassVar[str] = "compare"
    is_live: ClassVar[bool] = False
    index: int
    left: PresetStep | SessionStep
    right: PresetStep | SessionStep
    view: str | None = None


Step = PresetStep | SessionStep | TabStep | NoteStep | RunStep | PredictStep | CompareStep

#: step kind -> its class, in the order the lesson format lists them
STEP_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (PresetStep, SessionStep, TabStep, NoteStep, RunStep, PredictStep, CompareStep)
}


def normalised(step: Step) -> dict[str, Any]:
    """A step as plain, JSON-ready data that does not depend on where the lesson lies: its
    kind and fields, a preset by the name the lesson gives it, without its index."""
    if isinstance(step, PresetStep):
        return {"kind": "preset", "preset": step.name, "view": step.view}
    if isinstance(step, SessionStep):
        return {
            "kind": "session",
            "model": step.model,
            "dataset": step.dataset,
            "seed": step.seed,
            "hyperparameters": dict(sorted(step.hyperparameters.items())),
            "view": step.view,
        }
    if isinstance(step, CompareStep):
        return {
            "kind": "compare",
            "left": normalised(step.left),
            "right": normalised(step.right),
            "view": step.view,
        }
    out: dict[str, Any] = {"kind": step.kind}
    for f in fields(step):
        if f.name != "index":
            out[f.name] = getattr(step, f.name)
    return out
