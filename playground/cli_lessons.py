"""Command line of lessons: ``lesson FILE`` (play it in the app, presentation mode),
``lesson check FILE`` (validate it and list its steps) and ``lesson build FILE`` (record
every live step headless, as the lesson's fallback)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_parsers", "cmd_lesson", "describe_step", "ACTIONS"]

#: the words that may come before FILE (none: play the lesson)
ACTIONS = ("build", "check")


def add_parsers(sub: Any) -> None:
    """Add ``lesson`` to the command line's subparsers ``sub``."""
    le = sub.add_parser(
        "lesson",
        help="play a lesson in presentation mode; `lesson check FILE`, `lesson build FILE`",
        description="`lesson FILE` opens the app on a lesson (a .toml or .json file of "
        "steps, or a shipped lesson's name: flows, gans, diffusion) in presentation mode. "
        "`lesson check FILE` validates it and lists its steps and recordings. `lesson "
        "build FILE` replays it headless and records each run step into "
        "FILE_STEM.recordings/, the fallback the player shows if live training is too "
        "slow or diverges.",
    )
    le.add_argument(
        "words",
        nargs="+",
        metavar="WORD",
        help="FILE, check FILE or build FILE (a path or a shipped lesson's name)",
    )
    le.add_argument("--frames", type=int, default=None, help="build: frames per recording")
    le.add_argument(
        "--window", action="store_true", help="play in a window, not in presentation mode"
    )


def describe_step(step: Any) -> str:
    """One line for a step: its number, kind and what it does."""
    from .core.lessons import CompareStep, NoteStep, PredictStep, PresetStep, RunStep, SessionStep

    def side(s: Any) -> str:
        if isinstance(s, PresetStep):
            return s.name
        hp = "".join(f", {k}={v}" for k, v in sorted(s.hyperparameters.items()))
        return f"{s.model} on {s.dataset} (seed {s.seed}{hp})"

    view = f" [{step.view}]" if getattr(step, "view", None) else ""
    if isinstance(step, (PresetStep, SessionStep)):
        what = side(step)
    elif isinstance(step, NoteStep):
        what = step.title or step.text.strip().splitlines()[0][:60]
    elif isinstance(step, RunStep):
        budget = f", live budget {step.seconds:g} s" if step.seconds else ""
        what = f"train {step.steps:,} steps{budget}"
    elif isinstance(step, PredictStep):
        what = step.question
    elif isinstance(step, CompareStep):
        what = f"{side(step.left)} | {side(step.right)}"
    else:
        what = "show"
    return f"{step.index + 1:3d}. {step.kind:8s}{what}{view}".rstrip()


def _words(args: argparse.Namespace) -> tuple[str, str]:
    words = args.words
    if len(words) == 1 and words[0] not in ACTIONS:
        return "play", words[0]
    if len(words) == 2 and words[0] in ACTIONS:
        return words[0], words[1]
    raise ValueError(
        f"lesson {' '.join(words)}: expected `lesson FILE`, `lesson check FILE` or "
        "`lesson build FILE`"
    )


def cmd_lesson(args: argparse.Namespace) -> int:
    """Run ``lesson [build|check] FILE`` (see :func:`add_parsers`); 0 when done, 2 with one
    line on stderr for a lesson that cannot be used (raised as ``ValueError``)."""
    action, ref = _words(args)
    from .core.lessons import find_lesson, load_lesson

    path = find_lesson(ref)
    if action == "play":
        from .app.display import missing_display_message

        message = missing_display_message()
        if message:
            print(message, file=sys.stderr)
            return 2
        load_lesson(path)  # a bad lesson answers before Qt starts
        from .app.lesson_player import open_lesson

        return open_lesson(path, presenting=not args.window)
    if action == "check":
        return _check(load_lesson(path))
    return _build(path, args.frames)


def _check(lesson: Any) -> int:
    from .core.lessons import RunStep, read_recordings

    print(f"{lesson.title} ({lesson.path})")
    for step in lesson.steps:
        print(describe_step(step))
    runs = [s for s in lesson.steps if isinstance(s, RunStep)]
    recordings = read_recordings(lesson)
    for step in runs:
        rec = recordings.get(step.index)
        if rec is None:
            state = "missing (python -m playground lesson build FILE)"
        else:
            state = f"{rec.path.name}, {rec.frames} frames, {rec.steps:,} steps"
            state += ", STALE: the lesson changed since the build" if rec.stale else ", up to date"
        print(f"recording of step {step.index + 1}: {state}")
    return 0


def _build(path: Any, frames: int | None) -> int:
    from .cli_presets import offscreen_without_display

    offscreen_without_display()
    from .app.lesson_build import RECORDING_FRAMES, build_lesson

    if frames is not None and not 1 <= frames <= 200:
        raise ValueError(f"--frames must be in 1..200, got {frames}")

    def progress(done: int, total: int, text: str) -> None:
        print(f"building: {text}", file=sys.stderr, flush=True)

    report = build_lesson(path, progress, frames=frames or RECORDING_FRAMES)
    out = {
        "lesson": str(report.lesson.path),
        "seconds": round(report.seconds, 2),
        "index": str(report.index),
        "recordings": [
            {
                "step": s.index + 1,
                "file": str(s.recording),
                "frames": s.frames,
                "steps": s.steps,
                "view": s.view,
                "seconds": round(s.seconds, 2),
            }
            for s in report.recordings
        ],
    }
    print(json.dumps(out))
    return 0
