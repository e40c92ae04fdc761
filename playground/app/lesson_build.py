"""Building a lesson: replay it headless and record each live (run) step, so the lecture
has a fallback that plays when live training is too slow or diverges on the day.

``python -m playground lesson build FILE`` calls :func:`build_lesson`. The lesson is
replayed step by step with core sessions, as the player would: a preset step loads the
preset (paused at its trained state), a session step builds a fresh session, tab and
predict steps change the current view, and each run step trains the current session on
the current view while :func:`~.recording.record_headless` draws it, into
``<lesson>.recordings/step-NN.gif``, indexed by ``recordings.json`` with the digest of the
lesson up to that step (:func:`playground.core.lessons.step_digest`). A compare step has
no live part, so nothing is recorded for it, and it leaves the current session as it was.

Everything is recorded into a temporary folder first: a build that fails (a step that
diverges, a view a session does not show) leaves the previous recordings as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.lessons import (
    CompareStep,
    Lesson,
    LessonError,
    PredictStep,
    PresetStep,
    RunStep,
    SessionStep,
    TabStep,
    load_lesson,
    recording_name,
    write_recordings_index,
)

__all__ = [
    "BuildReport",
    "StepBuild",
    "build_lesson",
    "RECORDING_FRAMES",
    "RECORDING_SIZE",
    "RECORDING_FPS",
]

#: about how many frames a run step's recording holds (after its first)
RECORDING_FRAMES = 36
#: the recordings' (width, height) in pixels: small GIFs (a few hundred kB each) that a
#: projector still shows sharply at the explain panel's side
RECORDING_SIZE = (480, 360)
#: playback frames per second of a recording
RECORDING_FPS = 8.0


@dataclass(frozen=True)
class StepBuild:
    """What building one step did.

    Attributes:
        index: the step's index (0-based).
        kind: the step's kind.
        seconds: wall-clock seconds the step took to replay (and record).
        recording: the GIF written for a run step, else ``None``.
        frames: the recording's frames (0 for other steps).
        steps: training steps the recording covers (0 for other steps).
        view: the view shown after the step (``None`` before any session).
    """

    index: int
    kind: str
    seconds: float
    recording: Path | None = None
    frames: int = 0
    steps: int = 0
    view: str | None = None


@dataclass(frozen=True)
class BuildReport:
    """A built lesson: the lesson, each step's build and the index file written."""

    lesson: Lesson
    steps: tuple[StepBuild, ...]
    seconds: float
    index: Path

    @property
    def recordings(self) -> list[StepBuild]:
        """The run steps' builds, in order."""
        return [s for s in self.steps if s.recording is not None]


class _Replay:
    """The current session and view of a lesson being replayed."""

    def __init__(self, lesson: Lesson, device: str):
        self.lesson, self.device = lesson, device
        self.session: Any = None
        self.view: str | None = None

    def fail(self, index: int, kind: str, message: str) -> None:
        raise LessonError(f"{self.lesson.path}: step {index + 1} ({kind}): {message}")

    def open_preset(self, step: PresetStep) -> None:
        from ..core.presets import load_preset, read_preset_info

        self.session = load_preset(step.preset, device=self.device)
        self.show(step.index, step.kind, step.view or read_preset_info(step.preset).view)

    def open_session(self, step: SessionStep) -> None:
        from ..core.training.session import Session

        self.session = Session(
            step.model, step.dataset, step.hyperparameters, seed=step.seed, device=self.device
        )
        self.show(step.index, step.kind, step.view)

    def show(self, index: int, kind: str, view: str | None) -> None:
        """Make ``view`` the current one (``None``: keep it if the session shows it, else
        the session's first view)."""
        from .preview import default_view
        from .views import VIEW_CLASSES

        offered = [v for v in VIEW_CLASSES if v in self.session.available_views]
        if view is None:
            view = self.view if self.view in offered else default_view(self.session)
        if view not in offered:
            s = self.session
            self.fail(
                index,
                kind,
                f"{s.model_name} on {s.dataset_name} has no view {view!r}; "
                f"views: {', '.join(offered)}",
            )
        self.view = view

    def run(self, step: RunStep, folder: Path, frames: int, size, fps) -> dict[str, Any]:
        from ..core.models.errors import NonFiniteLossError
        from .recording import record_headless

        self.show(step.index, step.kind, step.view)
        out = folder / recording_name(step.index)
        try:
            rec = record_headless(
                self.session, self.view, out, steps=step.steps, frames=frames, size=size, fps=fps
            )
        except NonFiniteLossError as e:
            self.fail(step.index, step.kind, f"training diverged: {e}")
        return {
            "steps": rec.steps,
            "seconds": round(rec.seconds, 3),
            "frames": rec.frames,
            "view": self.view,
            "final_step": int(self.session.step_count),
        }


def build_lesson(
    path: str | os.PathLike,
    progress: Callable[[int, int, str], Any] | None = None,
    *,
    frames: int = RECORDING_FRAMES,
    size: tuple[int, int] = RECORDING_SIZE,
    fps: float = RECORDING_FPS,
    device: str = "cpu",
) -> BuildReport:
    """Replay a lesson headless and record every run step (see the module's docstring).

    Trains with one torch thread (as the app's training thread), on ``device`` (the CPU by
    default, so a build is the same on every machine); needs a QApplication, created
    offscreen where there is no display.

    Arguments:
        path: the lesson file.
        progress: ``progress(done, total, text)`` before each step (``done`` steps of
            ``total`` built; ``text`` says which) and once at the end.
        frames: about how many frames each recording holds.
        size: the recordings' (width, height) in pixels.
        fps: playback frames per second.
        device: where the sessions train.

    Returns:
        The :class:`BuildReport`.

    Raises:
        LessonError: the lesson does not load, a step shows a view its session does not
            offer, or a run step diverged (the step and the loss term named); the
            previous recordings are left as they were.
    """
    import torch

    lesson = load_lesson(path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    replay = _Replay(lesson, device)
    folder = lesson.recordings_dir
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    built: list[StepBuild] = []
    entries: dict[int, dict[str, Any]] = {}
    total = len(lesson.steps)
    try:
        for step in lesson.steps:
            if progress is not None:
                progress(step.index, total, f"step {step.index + 1}/{total} ({step.kind})")
            t = time.perf_counter()
            out = None
            if isinstance(step, PresetStep):
                replay.open_preset(step)
            elif isinstance(step, SessionStep):
                replay.open_session(step)
            elif isinstance(step, (TabStep, PredictStep)):
                replay.show(step.index, step.kind, step.view)
            elif isinstance(step, RunStep):
                entries[step.index] = replay.run(step, tmp, frames, size, fps)
                out = folder / recording_name(step.index)
            elif isinstance(step, CompareStep):
                pass  # no live part; the current session stays
            entry = entries.get(step.index, {})
            built.append(
                StepBuild(
                    step.index,
                    step.kind,
                    time.perf_counter() - t,
                    out,
                    entry.get("frames", 0),
                    entry.get("steps", 0),
                    replay.view,
                )
            )
        _install(tmp, folder)
        index = write_recordings_index(lesson, entries)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        torch.set_num_threads(threads)
    if progress is not None:
        progress(total, total, "done")
    return BuildReport(lesson, tuple(built), time.perf_counter() - t0, index)


def _install(tmp: Path, folder: Path) -> None:
    """Move the new recordings from ``tmp`` into ``folder``, removing the old ones (the
    ``step-*.gif`` files and the index) first."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("step-*.gif"):
        old.unlink()
    for new in sorted(tmp.glob("step-*.gif")):
        os.replace(new, folder / new.name)
