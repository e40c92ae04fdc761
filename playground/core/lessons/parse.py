"""Reading a lesson file (TOML, or JSON of the same structure): every field checked, with
one clear message naming the file, the step and the field for the first thing wrong."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import hyperparameters as hpm
from ..data import ALL_DATASETS, parse_dataset_spec
from ..files import FileRefusedError, parse_json, read_file
from ..models import MODELS
from ..preset_files import BUNDLE_SUFFIX, CONFIG
from ..presets import SHIPPED_PRESETS, read_preset_info
from ..snapshots import PICTURES
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
)
from .tables import MAX_TEXT_CHARS, LessonError, Table, a_repr, close_match

__all__ = [
    "LessonError",
    "Lesson",
    "load_lesson",
    "LESSON_SUFFIXES",
    "MAX_LESSON_STEPS",
    "MAX_RUN_STEPS",
    "MAX_TEXT_CHARS",
    "SHIPPED_LESSONS",
    "shipped_lessons",
    "find_lesson",
]

#: the lessons shipped with the playground (``lessons/`` at the repository's root, beside
#: ``presets/``)
SHIPPED_LESSONS = Path(__file__).resolve().parents[3] / "lessons"

#: the suffixes a lesson file may have (the format follows the suffix)
LESSON_SUFFIXES = (".toml", ".json")
#: the most steps a lesson may hold
MAX_LESSON_STEPS = 200
#: the most training steps one run step may ask for
MAX_RUN_STEPS = 1_000_000
#: the file kind of :data:`..files.LIMITS` a lesson is read as (text, 1 MiB)
FILE_KIND = "notes"

_TOP_FIELDS = ("title", "description", "step")
_FIELDS = {
    "preset": ("preset", "view"),
    "session": ("model", "dataset", "seed", "hyperparameters", "view"),
    "tab": ("view",),
    "note": ("title", "text"),
    "run": ("steps", "view", "seconds"),
    "predict": ("question", "view", "reveal"),
    "compare": ("left", "right", "view"),
}
_SIDE_FIELDS = ("model", "dataset", "seed", "hyperparameters")


@dataclass(frozen=True)
class Lesson:
    """A checked lesson.

    Attributes:
        title: the lesson's title.
        description: a paragraph (may be empty).
        steps: the steps, in order; ``steps[i].index == i``.
        path: the lesson file.
    """

    title: str
    description: str
    steps: tuple[Step, ...]
    path: Path

    @property
    def recordings_dir(self) -> Path:
        """The folder of the lesson's fallback recordings: ``<stem>.recordings/`` beside
        the lesson file."""
        return self.path.parent / f"{self.path.stem}.recordings"


@dataclass(frozen=True)
class _Shown:
    """What the current session is, as far as a view check needs: model and data classes."""

    model: type
    data: type
    label: str


class _Reader:
    """Builds the steps of one lesson file, keeping the current session for view checks."""

    def __init__(self, path: Path):
        self.path = path
        self.shown: _Shown | None = None

    # ------------------------------------------------------------------ views
    def view(self, t: Table, *, required: bool = False, shown: list[_Shown] | None = None):
        value = t.table.get("view")
        if value is None:
            if required:
                t.fail("view is missing")
            return None
        if not isinstance(value, str) or value not in PICTURES:
            valid = list(PICTURES)
            near = close_match(str(value), valid)
            t.fail(f"unknown view {a_repr(value)}; {near}views: {', '.join(valid)}")
        for s in self._current() if shown is None else shown:
            picture = PICTURES[value]
            lacks = picture.needs and not set(picture.needs) & set(s.model.capabilities)
            if lacks or (picture.data is not None and picture.data != s.data.kind):
                offered = [
                    n
                    for n, p in PICTURES.items()
                    if not (p.needs and not set(p.needs) & set(s.model.capabilities))
                    and (p.data is None or p.data == s.data.kind)
                ]
                t.fail(
                    f"view {value!r} is not shown by {s.label}; its capabilities allow: "
                    f"{', '.join(offered)}"
                )
        return value

    def _current(self) -> list[_Shown]:
        return [] if self.shown is None else [self.shown]

    def need_session(self, t: Table) -> None:
        if self.shown is None:
            t.fail("no session is open yet: put a preset or a session step before it")

    # -------------------------------------------------------------- opening
    def preset(self, t: Table, name: str, ref: Any, index: int) -> tuple[PresetStep, _Shown]:
        if not isinstance(ref, str) or not ref.strip():
            t.fail(f"{name} must be a preset's name or path, got {a_repr(ref)}")
        found = self._find_preset(ref)
        if found is None:
            shipped = sorted(p.name for p in SHIPPED_PRESETS.glob("*") if (p / CONFIG).is_file())
            t.fail(
                f"{name}: no preset {ref!r} (not a shipped preset, nor a preset folder or "
                f"{BUNDLE_SUFFIX} bundle next to the lesson); {close_match(ref, shipped)}"
                f"shipped: {', '.join(shipped)}"
            )
        try:
            info = read_preset_info(found)
        except ValueError as e:
            t.fail(f"{name} {ref!r}: {e}")
        model = MODELS.get(info.model)
        if model is None:
            t.fail(f"{name} {ref!r}: its model {info.model!r} is not one of this playground's")
        data = self._data_class(t, name, info.dataset)
        shown = _Shown(model, data, f"{info.model} on {info.dataset}")
        return PresetStep(index=index, preset=found, view=None, name=ref), shown

    def _find_preset(self, ref: str) -> Path | None:
        plain = not any(c in ref for c in "/\\") and not ref.endswith(BUNDLE_SUFFIX)
        if plain and (SHIPPED_PRESETS / ref / CONFIG).is_file():
            return SHIPPED_PRESETS / ref
        p = Path(ref).expanduser()
        p = p if p.is_absolute() else self.path.parent / p
        if (p / CONFIG).is_file() or (p.is_file() and p.name.endswith(BUNDLE_SUFFIX)):
            return p
        return None

    def _data_class(self, t: Table, name: str, spec: Any) -> type:
        if not isinstance(spec, str) or not spec:
            t.fail(f"{name} must be a dataset name, got {a_repr(spec)}")
        try:
            data_name, _ = parse_dataset_spec(spec)
        except ValueError as e:
            t.fail(f"{name}: {e}")
        return ALL_DATASETS[data_name]

    def session(self, t: Table, prefix: str, index: int) -> tuple[SessionStep, _Shown]:
        model_name = t.table.get("model")
        if not isinstance(model_name, str) or model_name not in MODELS:
            if model_name is None:
                t.fail(f"{prefix}model is missing")
            valid = sorted(MODELS)
            t.fail(
                f"{prefix}model: unknown model {a_repr(model_name)}; "
                f"{close_match(str(model_name), valid)}models: {', '.join(valid)}"
            )
        model = MODELS[model_name]
        if t.table.get("dataset") is None:
            t.fail(f"{prefix}dataset is missing")
        dataset = t.table["dataset"]
        data = self._data_class(t, f"{prefix}dataset", dataset)
        if not model.fits(data):
            t.fail(f"{prefix}dataset: {model_name} does not train on {dataset}")
        seed = t.integer("seed", 0, 2**31 - 1, default=0)
        hp = t.table.get("hyperparameters", {})
        if not isinstance(hp, dict):
            t.fail(f"{prefix}hyperparameters must be a table, got {a_repr(hp)}")
        try:
            hpm.from_dict(model.Config, hp)
        except (ValueError, TypeError) as e:
            t.fail(f"{prefix}hyperparameters: {e}")
        step = SessionStep(
            index=index, model=model_name, dataset=dataset, seed=seed, hyperparameters=dict(hp)
        )
        return step, _Shown(model, data, f"{model_name} on {dataset}")

    # ------------------------------------------------------------------ steps
    def step(self, where: str, raw: Any, index: int) -> Step:
        if not isinstance(raw, dict):
            raise LessonError(f"{where}: must be a table, got {a_repr(raw)}")
        kind = raw.get("kind")
        if kind not in STEP_KINDS:
            got = "kind is missing" if kind is None else f"unknown kind {a_repr(kind)}"
            raise LessonError(
                f"{where}: {got}; {close_match(str(kind), list(STEP_KINDS))}"
                f"kinds: {', '.join(STEP_KINDS)}"
            )
        t = Table(f"{where} ({kind})", raw, _FIELDS[kind])
        build: Callable[[Table, int], Step] = getattr(self, f"_{kind}")
        return build(t, index)

    def _preset(self, t: Table, index: int) -> Step:
        if "preset" not in t.table:
            t.fail("preset is missing")
        step, self.shown = self.preset(t, "preset", t.table["preset"], index)
        return PresetStep(index, step.preset, self.view(t), step.name)

    def _session(self, t: Table, index: int) -> Step:
        step, self.shown = self.session(t, "", index)
        return SessionStep(
            index, step.model, step.dataset, step.seed, step.hyperparameters, self.view(t)
        )

    def _tab(self, t: Table, index: int) -> Step:
        self.need_session(t)
        return TabStep(index, self.view(t, required=True))

    def _note(self, t: Table, index: int) -> Step:
        return NoteStep(index, t.text("title", max_chars=200), t.text("text", required=True))

    def _run(self, t: Table, index: int) -> Step:
        self.need_session(t)
        steps = t.integer("steps", 1, MAX_RUN_STEPS)
        return RunStep(index, steps, self.view(t), t.seconds("seconds"))

    def _predict(self, t: Table, index: int) -> Step:
        self.need_session(t)
        question = t.text("question", required=True)
        return PredictStep(index, question, self.view(t, required=True), t.text("reveal"))

    def _compare(self, t: Table, index: int) -> Step:
        sides, shown = [], []
        for name in ("left", "right"):
            raw = t.table.get(name)
            if raw is None:
                t.fail(f"{name} is missing")
            if isinstance(raw, dict):
                side_table = Table(f"{t.where}: {name}", raw, _SIDE_FIELDS)
                side, s = self.session(side_table, "", index)
            else:
                side, s = self.preset(t, name, raw, index)
            sides.append(side)
            shown.append(s)
        return CompareStep(index, sides[0], sides[1], self.view(t, shown=shown))


def _parse(path: Path, data: bytes) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return parse_json(data, str(path))
        except FileRefusedError as e:
            raise LessonError(str(e)) from None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise LessonError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except tomllib.TOMLDecodeError as e:
        raise LessonError(f"{path}: not valid TOML ({e})") from None


def load_lesson(path: str | os.PathLike) -> Lesson:
    """Read and check a lesson file.

    The file is read through :func:`..files.read_file` (a regular file of at most 1 MiB);
    a ``.toml`` file is parsed as TOML, a ``.json`` file as JSON (nesting capped). Every
    step is checked: its kind and fields (unknown ones refused), numbers and their ranges,
    presets (a shipped preset's name or a path relative to the lesson file; it must exist
    and its ``config.json`` be valid), models, datasets and hyperparameters against the
    registries, and each view against :data:`..snapshots.PICTURES` and the capabilities
    of the session it is shown for (a picture's further conditions, such as known modes,
    are left to the app).

    Arguments:
        path: a ``.toml`` or ``.json`` lesson file.

    Returns:
        The :class:`Lesson`, its path resolved.

    Raises:
        LessonError: one line naming the file, the step (1-based) and the field.
    """
    path = Path(path).expanduser().resolve()
    if path.suffix.lower() not in LESSON_SUFFIXES:
        raise LessonError(f"{path}: a lesson is a {' or '.join(LESSON_SUFFIXES)} file")
    try:
        data = read_file(path, FILE_KIND)
    except FileRefusedError as e:
        raise LessonError(str(e).replace("a notes file", "a lesson")) from None
    top = Table(str(path), _parse(path, data), _TOP_FIELDS)
    title = top.text("title", required=True, max_chars=200)
    description = top.text("description")
    raw_steps = top.table.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        top.fail("a lesson needs at least one step ([[step]] tables, or a JSON list 'step')")
    if len(raw_steps) > MAX_LESSON_STEPS:
        top.fail(f"{len(raw_steps)} steps, more than {MAX_LESSON_STEPS}")
    reader = _Reader(path)
    steps = tuple(reader.step(f"{path}: step {i + 1}", raw, i) for i, raw in enumerate(raw_steps))
    return Lesson(title=title, description=description, steps=steps, path=path)


def shipped_lessons() -> list[Path]:
    """The lesson files shipped in :data:`SHIPPED_LESSONS`, sorted by name (empty if the
    folder is missing)."""
    if not SHIPPED_LESSONS.is_dir():
        return []
    return sorted(p for p in SHIPPED_LESSONS.iterdir() if p.suffix in LESSON_SUFFIXES)


def find_lesson(ref: str | os.PathLike) -> Path:
    """A lesson file from a path, or a shipped lesson's name (``flows`` is
    ``lessons/flows.toml``) when no file ``ref`` exists.

    Raises:
        LessonError: neither a file nor a shipped lesson (the message lists those).
    """
    path = Path(ref).expanduser()
    if path.exists():
        return path
    for shipped in shipped_lessons():
        if str(ref) in (shipped.stem, shipped.name):
            return shipped
    names = [p.stem for p in shipped_lessons()]
    raise LessonError(
        f"{ref}: no such lesson file; {close_match(str(ref), names)}shipped lessons: "
        f"{', '.join(names) or 'none'}"
    )
