"""Lessons: a file (TOML or JSON, no code) of steps a lecturer plays in front of a hall:
open a preset or a session, show a tab, a note, train live, "predict, then reveal",
compare two sessions; each live step with a fallback recording made when the lesson was
built (the builder is :mod:`playground.app.lesson_build`, it draws views)."""

from .parse import (
    LESSON_SUFFIXES,
    MAX_LESSON_STEPS,
    MAX_RUN_STEPS,
    SHIPPED_LESSONS,
    Lesson,
    LessonError,
    find_lesson,
    load_lesson,
    shipped_lessons,
)
from .recordings import (
    RECORDINGS_INDEX,
    RecordingInfo,
    lesson_digest,
    read_recordings,
    recording_name,
    step_digest,
    step_key,
    write_recordings_index,
)
from .steps import (
    STEP_KINDS,
    CompareStep,
    NoteStep,
    PredictStep,
    PresetStep,
    RunStep,
    SessionStep,
    Step,
    TabStep,
    normalised,
)

__all__ = [
    "Lesson",
    "LessonError",
    "load_lesson",
    "LESSON_SUFFIXES",
    "MAX_LESSON_STEPS",
    "MAX_RUN_STEPS",
    "Step",
    "STEP_KINDS",
    "PresetStep",
    "SessionStep",
    "TabStep",
    "NoteStep",
    "RunStep",
    "PredictStep",
    "CompareStep",
    "normalised",
    "RECORDINGS_INDEX",
    "RecordingInfo",
    "read_recordings",
    "recording_name",
    "step_key",
    "step_digest",
    "lesson_digest",
    "write_recordings_index",
    "SHIPPED_LESSONS",
    "shipped_lessons",
    "find_lesson",
]
