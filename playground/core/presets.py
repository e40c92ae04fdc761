"""Presets: a trained session as ``config.json`` + ``model.safetensors`` + ``history.json``
(and optionally the optimizer state, a preview and notes), as a folder or a ``.dgmpreset``
bundle; the file formats themselves are in :mod:`.preset_files`, what config and history
may hold in :mod:`.preset_schema`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

from .. import __version__
from .models import MODELS
from .preset_files import (
    BUNDLE_MEMBERS,
    BUNDLE_SUFFIX,
    CONFIG,
    HISTORY,
    NOTES,
    OPTIMIZER,
    OPTIMIZER_METADATA,
    PREVIEW,
    WEIGHTS,
    PresetError,
    PresetFiles,
    load_tensors,
    one_line,
    optimizer_tensors,
    restore_optimizers,
    zip_folder,
)
from .preset_points import preset_points, write_points
from .preset_schema import (
    DESCRIPTION_MAX_CHARS,
    HISTORY_MAX_CURVES,
    HISTORY_MAX_LOADED_POINTS,
    HISTORY_MAX_POINTS,
    HISTORY_MAX_TOTAL_POINTS,
    MAX_STEPS,
    PNG_SIGNATURE,
    SCHEMA_VERSION,
    SEED_RANGE,
    TITLE_MAX_CHARS,
    check_config,
    check_history,
    check_model,
    check_preview,
)
from .training.history import History
from .training.session import Session

__all__ = [
    "SCHEMA_VERSION",
    "BUNDLE_SUFFIX",
    "SHIPPED_PRESETS",
    "HISTORY_MAX_POINTS",
    "HISTORY_MAX_LOADED_POINTS",
    "HISTORY_MAX_TOTAL_POINTS",
    "HISTORY_MAX_CURVES",
    "MAX_STEPS",
    "SEED_RANGE",
    "TITLE_MAX_CHARS",
    "DESCRIPTION_MAX_CHARS",
    "PresetError",
    "PresetInfo",
    "save_preset",
    "load_preset",
    "read_preset_info",
    "shipped_presets",
]

#: the presets shipped with the playground, one folder each
SHIPPED_PRESETS = Path(__file__).resolve().parents[2] / "presets"


@dataclass(frozen=True)
class PresetInfo:
    """What a gallery shows of a preset, read without building its model.

    Attributes:
        path: the preset folder or ``.dgmpreset`` bundle.
        title: a short title (default ``"MODEL on DATASET"``).
        description: one line (may be empty).
        family: the model's family (``flow``, ``gan``, ...), ``"unknown"`` for a model
            this playground does not have.
        model: the model name.
        dataset: the dataset spec.
        steps: the training steps it was saved at.
        view: the view its preview shows, or ``None``.
        preview: the bytes of ``preview.png``, or ``None``.
        notes: the text of ``notes.md`` (markdown), or ``None``.
    """

    path: Path
    title: str
    description: str
    family: str
    model: str
    dataset: str
    steps: int
    view: str | None
    preview: bytes | None
    notes: str | None


# ---------------------------------------------------------------------------- saving
def save_preset(
    session: Session,
    path: str | os.PathLike,
    *,
    preview: bytes | None = None,
    notes: str | None = None,
    title: str | None = None,
    description: str | None = None,
    view: str | None = None,
    optimizer: bool = True,
) -> Path:
    """Write a session to a preset folder or bundle, atomically.

    The folder (or bundle) is written under a temporary name beside ``path`` and renamed
    into place. An existing preset at ``path`` is moved aside only for the moment of the
    swap and put back if the swap fails, so neither a crash nor a full disk mid-save ever
    leaves ``path`` empty or half-written, nor a temporary file beside it. Every tensor is
    copied to the CPU; nothing is pickled. A session on the user's 2D points (drawn,
    imported or ``points:path=``) also writes them, as ``points.safetensors``.

    Arguments:
        session: the session to save.
        path: the preset folder, or a file ending in ``.dgmpreset`` (the same files,
            zipped); replaced if it is a preset (a folder holding anything but a
            preset's files is never replaced).
        preview: PNG bytes of what the main view shows, saved as ``preview.png``.
        notes: markdown saved as ``notes.md`` (what this preset demonstrates).
        title: a short title (at most :data:`TITLE_MAX_CHARS` characters); default
            ``"MODEL on DATASET"``.
        description: one line for the gallery (at most :data:`DESCRIPTION_MAX_CHARS`
            characters); default empty.
        view: the view ``preview`` shows (one of ``session.available_views``).
        optimizer: also save the optimizers' state (``optimizer.safetensors``), so
            training continues from it after loading.

    Returns:
        The preset folder or bundle.

    Raises:
        ValueError: ``preview`` is not PNG bytes, ``view`` is not one of the session's
            views, or ``title`` or ``description`` is too long.
        PresetError: the preset cannot be written (``"cannot save preset to PATH: No
            space left on device"``, a parent that is a file, a folder there that is not
            a preset, ...); nothing is left half-written and a preset already at
            ``path`` is untouched.
    """
    if preview is not None and not bytes(preview[:8]) == PNG_SIGNATURE:
        raise ValueError("preview: not PNG bytes (no PNG signature)")
    if view is not None and view not in session.available_views:
        raise ValueError(
            f"view {view!r} is not one of {session.model_name}'s: "
            f"{', '.join(session.available_views)}"
        )
    for name, text, cap in (
        ("title", title, TITLE_MAX_CHARS),
        ("description", description, DESCRIPTION_MAX_CHARS),
    ):
        if text is not None and len(text) > cap:
            raise ValueError(f"{name}: {len(text)} characters, more than the {cap} allowed")
    path = Path(path)
    parts = dict(
        preview=preview,
        notes=notes,
        title=title,
        description=description,
        view=view,
        optimizer=optimizer,
    )
    try:
        _make_parent(path)
        if path.suffix == BUNDLE_SUFFIX:  # the same files, zipped into one
            if path.is_dir():
                raise PresetError(f"cannot save preset to {path}: a folder is there")
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "preset"
                folder.mkdir()
                _write_files(session, folder, **parts)
                zip_folder(folder, path)
        else:
            _check_replaceable(path)
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
            try:
                _write_files(session, tmp, **parts)
                tmp.chmod(0o755)  # mkdtemp makes an owner-only folder; a preset is shared
                _swap_into_place(tmp, path)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    except (OSError, SafetensorError) as e:
        raise PresetError(f"cannot save preset to {path}: {_why(e)}") from None
    return path


def _why(e: BaseException) -> str:
    """An OS or safetensors error as a short reason: ``No space left on device``."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return one_line(e) or type(e).__name__


def _make_parent(path: Path) -> None:
    """Create ``path``'s parent folders; a clear error when one of them is a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        for ancestor in (path.parent, *path.parent.parents):
            if ancestor.exists() and not ancestor.is_dir():
                raise PresetError(
                    f"cannot save preset to {path}: {ancestor} is not a folder"
                ) from None
        raise


def _check_replaceable(path: Path) -> None:
    """Refuse to replace a file, or a folder that holds more than a preset's files (a
    user's file or folder picked by mistake would be deleted)."""
    if os.path.lexists(path) and not path.is_dir():
        raise PresetError(f"cannot save preset to {path}: a file that is not a preset is there")
    if path.is_dir() and not path.is_symlink():
        others = sorted(p.name for p in path.iterdir() if p.name not in BUNDLE_MEMBERS)
        if others:
            raise PresetError(
                f"cannot save preset to {path}: a folder that is not a preset is there "
                f"(it holds {', '.join(repr(o) for o in others[:3])})"
            )


def _swap_into_place(tmp: Path, path: Path) -> None:
    """Rename the written folder ``tmp`` to ``path``. An existing preset is moved aside
    first and removed only once the new one is in place; if the swap fails it is put back
    (and if even that fails, the error says where it is)."""
    if not os.path.lexists(path):
        os.replace(tmp, path)
        return
    old = tmp.with_name(f"{tmp.name}.old")
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.replace(old, path)
        except OSError:
            raise PresetError(
                f"cannot save preset to {path}: {_why(e)}; the old preset is kept at {old}"
            ) from None
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


def _write_files(
    session: Session,
    folder: Path,
    *,
    preview: bytes | None,
    notes: str | None,
    title: str | None,
    description: str | None,
    view: str | None,
    optimizer: bool,
) -> None:
    """Write the preset's files into the (empty) ``folder``."""
    default_title = f"{session.model_name} on {session.dataset_name}"[:TITLE_MAX_CHARS]
    config = {
        "schema_version": SCHEMA_VERSION,
        "playground_version": __version__,
        **session.describe(),
        "title": title if title is not None else default_title,
        "description": description or "",
        "family": session.model_class.family,
        "view": view,
    }
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    state = {k: v.detach().cpu().contiguous() for k, v in session.model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    if optimizer and session.model.optimizers:
        tensors, meta = optimizer_tensors(session.model.optimizers)
        save_file(tensors, str(folder / OPTIMIZER), metadata={OPTIMIZER_METADATA: meta})
    (folder / HISTORY).write_text(json.dumps(_history_json(session.history)))
    if preview is not None:
        (folder / PREVIEW).write_bytes(bytes(preview))
    if notes is not None:
        (folder / NOTES).write_text(notes, encoding="utf-8")
    write_points(session, folder)  # drawn or imported points: points.safetensors
    # safetensors creates owner-only files; a preset is meant to be shared
    for file in folder.iterdir():
        file.chmod(0o644)


def _history_json(history: History) -> dict[str, list[list[float | None]]]:
    """``history`` as :meth:`History.to_json` writes it, each curve averaged down to at
    most :data:`HISTORY_MAX_POINTS` points (non-finite values as null)."""
    out = {}
    for name, (s, v) in history.as_arrays(max_points=HISTORY_MAX_POINTS).items():
        out[name] = [
            [int(a), float(b) if np.isfinite(b) else None] for a, b in zip(s, v, strict=True)
        ]
    return out


# ---------------------------------------------------------------------------- reading
def read_preset_info(path: str | os.PathLike) -> PresetInfo:
    """What a gallery shows of a preset: title, family, preview, notes; fast and small.

    Reads only ``config.json``, ``preview.png`` and ``notes.md``, each through
    :mod:`.files` within its size cap; builds no model and reads no weights. A
    ``.dgmpreset`` bundle is read from the zip without extracting it, with the same member
    checks as :func:`load_preset`. Presets saved before titles and families existed get
    ``"MODEL on DATASET"`` and the registry's family (``"unknown"`` for a model this
    playground does not have). A preset with a file that cannot be read (a link out of the
    preset folder, a FIFO, a file over its cap) is refused whole: its notes or preview
    are never dropped silently, nor followed.

    Arguments:
        path: a preset folder or ``.dgmpreset`` bundle.

    Returns:
        The preset's :class:`PresetInfo`.

    Raises:
        PresetError: not a preset; a missing or invalid ``config.json`` (see
            :func:`load_preset`); a preview that is not a PNG; notes that are not UTF-8;
            one of the three files not a regular file, a link out of the preset folder or
            over its size cap; a refused bundle or bundle member.
    """
    with PresetFiles(path) as preset:
        cfg = check_config(preset.json(CONFIG), preset.where(CONFIG))
        preview = preset.read_optional(PREVIEW)
        if preview is not None:
            check_preview(preview, preset.where(PREVIEW))
        notes = preset.text(NOTES)
    model = cfg["model"]
    family = cfg.get("family") or (MODELS[model].family if model in MODELS else "unknown")
    return PresetInfo(
        path=Path(path),
        title=cfg.get("title") or f"{model} on {cfg['dataset']}"[:TITLE_MAX_CHARS],
        description=cfg.get("description", ""),
        family=family,
        model=model,
        dataset=cfg["dataset"],
        steps=int(cfg.get("steps", 0)),
        view=cfg.get("view"),
        preview=preview,
        notes=notes,
    )


def shipped_presets() -> list[Path]:
    """The presets shipped in the repository's ``presets/`` folder: its sub-folders that
    hold a ``config.json``, sorted by name (empty if the folder is missing)."""
    if not SHIPPED_PRESETS.is_dir():
        return []
    return sorted(
        (p for p in SHIPPED_PRESETS.iterdir() if p.is_dir() and (p / CONFIG).is_file()),
        key=lambda p: p.name,
    )


# ---------------------------------------------------------------------------- loading
def load_preset(
    path: str | os.PathLike, device: str = "auto", *, optimizer: bool = True
) -> Session:
    """Rebuild a session from a preset, paused at its trained state.

    Every file is read through :mod:`.files` (the one guarded way the playground reads a
    user's file): regular files only (a FIFO or device is refused at once, never waited
    on), no link out of the preset folder, each file within its size cap in
    :data:`.files.LIMITS` checked before it is read, JSON nesting capped before parsing.
    A ``.dgmpreset`` bundle is read member by member from the zip (nothing is extracted or
    written), after its member count, names, encryption, compression and sizes are
    checked. Everything is read and checked before the model is built.

    The model is rebuilt from ``config.json`` through the model registry (a name, never
    a module path: nothing is imported) and its weights are built with safetensors (never
    pickle) from the bytes read and checked, onto the CPU, then moved to ``device``; every
    tensor's name and shape is checked against the rebuilt model, and weights holding NaN
    or infinity are refused (the first such tensor is named): a broken model is never
    opened as if trained. The optimizers' state is restored the same way (finite tensors,
    metadata from the checked header) when ``optimizer.safetensors`` is there, so
    training continues where it stopped.

    Arguments:
        path: the preset folder, or a ``.dgmpreset`` bundle.
        device: where to put the model (a preset trained on a GPU opens on a CPU, and
            the other way round).
        optimizer: restore the optimizers' state if saved (otherwise fresh optimizers;
            ``optimizer.safetensors`` is then not read at all).

    Returns:
        The session, with its step count, history and optimizer state restored.

    Raises:
        PresetError: one line naming the file: a missing file; a file that is not a
            regular file (FIFO, device, folder), a link out of the preset folder or over
            its size cap; JSON nested too deeply or invalid; an unknown schema version,
            model or dataset; a bad hyperparameter; a step count outside ``0..MAX_STEPS``,
            a seed outside :data:`SEED_RANGE`, a title or description too long; a history
            with too many points or values that are not numbers; weights or optimizer
            state that do not fit the model or hold NaN or infinity; a refused bundle
            (too many members, encrypted, an unknown compression, a member over its cap);
            a file that is not what it claims to be; a session on the user's points whose
            ``points.safetensors`` is missing or refused (see
            :func:`~.preset_points.read_points`).
    """
    with PresetFiles(path) as preset:
        where_config, where_weights = preset.where(CONFIG), preset.where(WEIGHTS)
        cfg = check_config(preset.json(CONFIG), where_config)
        check_model(cfg, where_config)
        state, _ = load_tensors(preset.read(WEIGHTS), where_weights)
        history = None
        if preset.has(HISTORY):
            history = check_history(preset.read(HISTORY), preset.where(HISTORY))
        optimizer_data = None
        if optimizer and preset.has(OPTIMIZER):
            optimizer_data = preset.read(OPTIMIZER)
        where_optimizer = preset.where(OPTIMIZER)
        points = preset_points(cfg, preset)
    try:
        session = Session(
            cfg["model"],
            "points" if points is not None else cfg["dataset"],
            cfg.get("hyperparameters", {}),
            seed=int(cfg.get("seed", 0)),
            device=device,
            points=points,
        )
    except (ValueError, TypeError, OverflowError) as e:
        raise PresetError(f"{where_config}: {one_line(e)[:500]}") from None
    expected = session.model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise PresetError(
            f"{where_weights}: tensors do not fit model {cfg['model']!r} "
            f"(missing: {missing[:5]}, unexpected: {[u[:40] for u in unexpected[:5]]})"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise PresetError(
                f"{where_weights}: tensor {name!r} has shape {tuple(tensor.shape)}, "
                f"model {cfg['model']!r} expects {tuple(expected[name].shape)}"
            )
    with torch.no_grad():
        session.model.load_state_dict(state)
    session.step_count = int(cfg.get("steps", 0))
    if optimizer_data is not None:
        restore_optimizers(session, optimizer_data, where_optimizer)
    if history is not None:
        session.history = history
    return session
