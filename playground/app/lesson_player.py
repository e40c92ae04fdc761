"""``python -m playground lesson FILE``: the app opened on a lesson, in presentation mode
(:func:`open_lesson`). The player itself is :mod:`.lesson_control` (re-exported here); it
does not import the main window, so the window's File menu can open lessons too."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from .lesson_control import (
    BACK_KEYS,
    NEXT_KEYS,
    LessonPlayer,
    current_player,
    open_lesson_in,
    play_lesson,
)

__all__ = [
    "open_lesson",
    "first_session",
    "LessonPlayer",
    "play_lesson",
    "current_player",
    "open_lesson_in",
    "NEXT_KEYS",
    "BACK_KEYS",
]


def first_session(lesson: Any) -> tuple[str, str, int]:
    """The model, dataset and seed of the lesson's first preset or session step (the
    window's first session; the step itself then opens it), or the app's default."""
    from ..core.presets import read_preset_info

    for step in lesson.steps:
        if step.kind == "preset":
            info = read_preset_info(step.preset)
            return info.model, info.dataset, 0
        if step.kind == "session":
            return step.model, step.dataset, step.seed
    return "realnvp", "moons", 0


def open_lesson(path: str | Path, presenting: bool = True, argv: list[str] | None = None) -> int:
    """Open the app on a lesson and run the event loop (``python -m playground lesson``).

    The window opens paused on the lesson's first session, in presentation mode
    (``presenting``), and shows the lesson's first step.

    Arguments:
        path: the lesson file (``.toml`` or ``.json``).
        presenting: full screen, large fonts (F11 turns it off).
        argv: Qt's command-line arguments (default: the program name only).

    Returns:
        The event loop's exit code; 2, with one sentence on stderr and no window, for a
        lesson that cannot be used (its :class:`~playground.core.lessons.LessonError`)
        or where there is no display.
    """
    from ..core.lessons import LessonError, load_lesson
    from .main import make_app
    from .main_window import MainWindow
    from .window_geometry import place_window
    from .worker_thread import exit_if_abandoned

    try:
        lesson = load_lesson(path)
        model, dataset, seed = first_session(lesson)
    except (LessonError, ValueError) as e:
        print(e, file=sys.stderr)
        return 2
    app = make_app(argv)
    if app is None:
        return 2
    window = MainWindow(model, dataset, seed=seed, paused=True)
    place_window(window, window.settings)
    window.show()
    if presenting:
        window.presentation_mode.set(True)
    play_lesson(window, lesson)
    QTimer.singleShot(0, window.start)
    app.aboutToQuit.connect(window.shutdown)
    return exit_if_abandoned(app.exec())
