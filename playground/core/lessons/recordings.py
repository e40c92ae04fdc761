"""The fallback recordings of a lesson's live steps: their index (``recordings.json``),
their file names and the digests that tell a recording made for this lesson from one made
before the lesson changed."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import FileRefusedError, parse_json, read_file
from .parse import Lesson, LessonError
from .steps import RunStep, normalised

__all__ = [
    "RECORDINGS_INDEX",
    "RECORDING_MAX_BYTES",
    "RecordingInfo",
    "recording_name",
    "step_key",
    "step_digest",
    "lesson_digest",
    "read_recordings",
    "write_recordings_index",
]

#: the index file in a lesson's recordings folder
RECORDINGS_INDEX = "recordings.json"
#: the largest recording the index may list (the shipped ones are about 1 MB)
RECORDING_MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class RecordingInfo:
    """One run step's fallback recording, as the index describes it.

    Attributes:
        path: the GIF (it exists).
        steps: the training steps it covers.
        seconds: the wall-clock seconds the build took to train and draw them.
        frames: the frames it holds.
        view: the view it shows.
        final_step: the session's step count at its last frame.
        stale: the lesson changed (this step or one before it) since it was recorded.
    """

    path: Path
    steps: int
    seconds: float
    frames: int
    view: str
    final_step: int
    stale: bool


def recording_name(index: int) -> str:
    """The GIF of step ``index`` (0-based): ``step-NN.gif``, NN = ``index + 1``."""
    return f"step-{step_key(index)}.gif"


def step_key(index: int) -> str:
    """The key of step ``index`` (0-based) in the index: its 1-based number, 2 digits."""
    return f"{index + 1:02d}"


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def step_digest(lesson: Lesson, index: int) -> str:
    """The SHA-256 (hex) of step ``index`` and every step before it, in their normalised
    form (:func:`.steps.normalised`): it changes when any of them changes, so a recording
    made before is known to be stale.

    Raises:
        IndexError: ``index`` is not a step of the lesson.
    """
    if not 0 <= index < len(lesson.steps):
        raise IndexError(f"step index {index} outside 0..{len(lesson.steps) - 1}")
    return _digest([normalised(s) for s in lesson.steps[: index + 1]])


def lesson_digest(lesson: Lesson) -> str:
    """The SHA-256 (hex) of the whole lesson: its title, description and every step."""
    steps = [normalised(s) for s in lesson.steps]
    return _digest({"title": lesson.title, "description": lesson.description, "steps": steps})


def _field(where: str, entry: dict, name: str, kind: type, low: float = 0) -> Any:
    value = entry.get(name)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
    if not ok or (kind is not str and value < low):
        raise LessonError(f"{where}: {name} must be a {kind.__name__} >= {low}, got {value!r}")
    return value


def _check_recording(path: Path, folder: Path) -> None:
    """Refuse a recording that is a link out of its folder or larger than
    :data:`RECORDING_MAX_BYTES` (nothing is read from it here)."""
    real = path.resolve()
    if real.parent != folder.resolve():
        raise LessonError(f"{path}: a link that leads out of its folder (to {real})")
    size = real.stat().st_size
    if size > RECORDING_MAX_BYTES:
        raise LessonError(
            f"{path}: {size / 1e6:.1f} MB, more than the {RECORDING_MAX_BYTES / 1e6:.0f} MB "
            "a recording may take"
        )


def read_recordings(lesson: Lesson) -> dict[int, RecordingInfo]:
    """The recordings of ``lesson``'s run steps, keyed by the step's 0-based index.

    Read from ``lesson.recordings_dir / recordings.json`` (a guarded read, at most 1 MiB).
    Only run steps whose GIF is there are listed; an entry for a step that is no longer a
    run step is left out, and each listed one is :attr:`~RecordingInfo.stale` when the
    lesson changed since the build (:func:`step_digest` differs).

    Returns:
        Step index to :class:`RecordingInfo`; empty when there is no index file.

    Raises:
        LessonError: the index file is unreadable, not JSON, or an entry is malformed
            (one line naming the file and the entry); a GIF that is a link out of the
            folder or over :data:`RECORDING_MAX_BYTES`.
    """
    where = lesson.recordings_dir / RECORDINGS_INDEX
    if not where.exists():
        return {}
    try:
        data = parse_json(read_file(where, "config"), str(where))
    except FileRefusedError as e:
        raise LessonError(str(e)) from None
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, dict):
        raise LessonError(f"{where}: must be an object with an object 'steps'")
    out: dict[int, RecordingInfo] = {}
    for key, entry in steps.items():
        here = f"{where}: steps.{key}"
        if not (isinstance(key, str) and key.isdigit() and isinstance(entry, dict)):
            raise LessonError(f"{here}: must be a step number with an object")
        index = int(key) - 1
        if not (0 <= index < len(lesson.steps) and isinstance(lesson.steps[index], RunStep)):
            continue
        if entry.get("file") != recording_name(index):
            raise LessonError(f"{here}: file must be {recording_name(index)!r}")
        path = lesson.recordings_dir / recording_name(index)
        if not path.is_file():
            continue
        _check_recording(path, lesson.recordings_dir)
        out[index] = RecordingInfo(
            path=path,
            steps=_field(here, entry, "steps", int, 1),
            seconds=float(_field(here, entry, "seconds", float)),
            frames=_field(here, entry, "frames", int, 1),
            view=_field(here, entry, "view", str),
            final_step=_field(here, entry, "final_step", int),
            stale=_field(here, entry, "digest", str) != step_digest(lesson, index),
        )
    return out


def write_recordings_index(lesson: Lesson, entries: dict[int, dict[str, Any]]) -> Path:
    """Write ``recordings.json`` for ``lesson`` (atomically: a temporary file renamed).

    Arguments:
        lesson: the lesson.
        entries: run step index (0-based) to ``steps``, ``seconds``, ``frames``, ``view``,
            ``final_step``; the file name and the digest are added here.

    Returns:
        The index file's path.
    """
    folder = lesson.recordings_dir
    folder.mkdir(parents=True, exist_ok=True)
    steps = {
        step_key(i): {
            "file": recording_name(i),
            "digest": step_digest(lesson, i),
            **{k: e[k] for k in ("steps", "seconds", "frames", "view", "final_step")},
        }
        for i, e in sorted(entries.items())
    }
    text = json.dumps({"lesson_digest": lesson_digest(lesson), "steps": steps}, indent=2)
    fd, tmp = tempfile.mkstemp(prefix=".recordings.", suffix=".json", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.chmod(tmp, 0o644)
    path = folder / RECORDINGS_INDEX
    os.replace(tmp, path)
    return path
