"""Presets: a trained session as ``config.json`` + ``model.safetensors`` + ``history.json``
(and optionally the optimizer state, a preview and notes), as a folder or a ``.dgmpreset``
bundle; the file formats themselves are in :mod:`.preset_files`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from .. import __version__
from .models import MODELS
from .preset_files import (
    BUNDLE_SUFFIX,
    CONFIG,
    HISTORY,
    NOTES,
    OPTIMIZER,
    OPTIMIZER_METADATA,
    PREVIEW,
    WEIGHTS,
    PresetError,
    load_tensors,
    open_bundle,
    optimizer_tensors,
    parse_json,
    restore_optimizers,
    unzip_bundle,
    zip_folder,
)
from .training.history import History
from .training.session import Session

__all__ = [
    "SCHEMA_VERSION",
    "BUNDLE_SUFFIX",
    "SHIPPED_PRESETS",
    "HISTORY_MAX_POINTS",
    "PresetError",
    "PresetInfo",
    "save_preset",
    "load_preset",
    "read_preset_info",
    "shipped_presets",
]

#: bumped whenever the layout of ``config.json`` changes incompatibly
SCHEMA_VERSION = 1

#: the presets shipped with the playground, one folder each
SHIPPED_PRESETS = Path(__file__).resolve().parents[2] / "presets"
#: each metric curve is saved averaged down to at most this many points (a small preset)
HISTORY_MAX_POINTS = 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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

    The folder is written under a temporary name beside ``path`` and renamed into
    place, so a crash mid-save never leaves a half-written preset where the old one
    was. Every tensor is copied to the CPU; nothing is pickled.

    Arguments:
        session: the session to save.
        path: the preset folder, or a file ending in ``.dgmpreset`` (the same files,
            zipped); replaced if it exists.
        preview: PNG bytes of what the main view shows, saved as ``preview.png``.
        notes: markdown saved as ``notes.md`` (what this preset demonstrates).
        title: a short title; default ``"MODEL on DATASET"``.
        description: one line for the gallery; default empty.
        view: the view ``preview`` shows (one of ``session.available_views``).
        optimizer: also save the optimizers' state (``optimizer.safetensors``), so
            training continues from it after loading.

    Returns:
        The preset folder or bundle.

    Raises:
        ValueError: ``preview`` is not PNG bytes, or ``view`` is not one of the
            session's views.
    """
    if preview is not None and not bytes(preview[:8]) == PNG_SIGNATURE:
        raise ValueError("preview: not PNG bytes (no PNG signature)")
    if view is not None and view not in session.available_views:
        raise ValueError(
            f"view {view!r} is not one of {session.model_name}'s: "
            f"{', '.join(session.available_views)}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == BUNDLE_SUFFIX:  # the same files, zipped into one
        with tempfile.TemporaryDirectory() as tmp:
            folder = save_preset(
                session,
                Path(tmp) / "preset",
                preview=preview,
                notes=notes,
                title=title,
                description=description,
                view=view,
                optimizer=optimizer,
            )
            zip_folder(folder, path)
        return path
    config = {
        "schema_version": SCHEMA_VERSION,
        "playground_version": __version__,
        **session.describe(),
        "title": title if title is not None else f"{session.model_name} on {session.dataset_name}",
        "description": description or "",
        "family": session.model_class.family,
        "view": view,
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        (tmp / CONFIG).write_text(json.dumps(config, indent=2))
        state = {k: v.detach().cpu().contiguous() for k, v in session.model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
        if optimizer and session.model.optimizers:
            tensors, meta = optimizer_tensors(session.model.optimizers)
            save_file(tensors, str(tmp / OPTIMIZER), metadata={OPTIMIZER_METADATA: meta})
        (tmp / HISTORY).write_text(json.dumps(_history_json(session.history)))
        if preview is not None:
            (tmp / PREVIEW).write_bytes(bytes(preview))
        if notes is not None:
            (tmp / NOTES).write_text(notes, encoding="utf-8")
        # mkdtemp and safetensors create owner-only files; a preset is meant to be shared
        tmp.chmod(0o755)
        for file in tmp.iterdir():
            file.chmod(0o644)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


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


def _read_json(file: Path) -> Any:
    if not file.is_file():
        raise PresetError(f"{file}: missing")
    return parse_json(file.read_bytes(), str(file))


def _check_config(cfg: Any, where: str) -> dict[str, Any]:
    """A config.json's content, checked: a dict of the known schema version whose model
    is a registered name (nothing is ever imported) and whose fields have their types.

    Raises:
        PresetError: naming ``where`` and the problem.
    """
    if not isinstance(cfg, dict) or cfg.get("schema_version") != SCHEMA_VERSION:
        version = cfg.get("schema_version") if isinstance(cfg, dict) else None
        raise PresetError(
            f"{where}: unknown schema version {version!r} (this playground reads {SCHEMA_VERSION})"
        )
    for key in ("model", "dataset"):
        if key not in cfg:
            raise PresetError(f"{where}: missing field '{key}'")
        if not isinstance(cfg[key], str):
            raise PresetError(f"{where}: field '{key}' is not a name: {cfg[key]!r}")
    if not isinstance(cfg.get("hyperparameters", {}), dict):
        raise PresetError(f"{where}: field 'hyperparameters' is not an object")
    for key in ("steps", "seed"):
        if not isinstance(cfg.get(key, 0), int) or isinstance(cfg.get(key, 0), bool):
            raise PresetError(f"{where}: field '{key}' is not an integer: {cfg[key]!r}")
    for key in ("title", "description", "family"):
        if not isinstance(cfg.get(key, ""), str):
            raise PresetError(f"{where}: field '{key}' is not text: {cfg[key]!r}")
    if cfg.get("view") is not None and not isinstance(cfg["view"], str):
        raise PresetError(f"{where}: field 'view' is not a view name: {cfg['view']!r}")
    return cfg


def _check_model(cfg: dict[str, Any], where: str) -> None:
    """Model names are looked up in the registry only: ``"os:system"`` or a module path is
    an unknown model, never an import."""
    if cfg["model"] not in MODELS:
        raise PresetError(
            f"{where}: unknown model {cfg['model']!r}; valid: {', '.join(sorted(MODELS))}"
        )


def read_preset_info(path: str | os.PathLike) -> PresetInfo:
    """What a gallery shows of a preset: title, family, preview, notes; fast.

    Reads only ``config.json``, ``preview.png`` and ``notes.md``; builds no model and
    reads no weights. A ``.dgmpreset`` bundle is read from the zip without extracting it,
    with the same member checks as :func:`load_preset`. Presets saved before titles and
    families existed get ``"MODEL on DATASET"`` and the registry's family (``"unknown"``
    for a model this playground does not have).

    Arguments:
        path: a preset folder or ``.dgmpreset`` bundle.

    Returns:
        The preset's :class:`PresetInfo`.

    Raises:
        PresetError: not a preset; a missing or invalid ``config.json``; a preview that
            is not a PNG; notes that are not UTF-8; a refused bundle member.
    """
    path = Path(path)
    if path.is_file() and path.suffix == BUNDLE_SUFFIX:
        with open_bundle(path) as z:
            names = set(z.namelist())

            def read(name: str) -> bytes | None:
                if name not in names:
                    return None
                try:
                    return z.read(name)
                except (zipfile.BadZipFile, OSError, EOFError) as e:
                    raise PresetError(f"{path}: member {name!r} is damaged: {e}") from None

            return _info(path, read, lambda name: f"{path}: {name}")
    if not path.is_dir():
        raise PresetError(f"{path}: not a preset folder or {BUNDLE_SUFFIX} bundle")

    def read_file(name: str) -> bytes | None:
        return (path / name).read_bytes() if (path / name).is_file() else None

    return _info(path, read_file, lambda name: str(path / name))


def _info(
    path: Path, read: Callable[[str], bytes | None], where: Callable[[str], str]
) -> PresetInfo:
    raw = read(CONFIG)
    if raw is None:
        raise PresetError(f"{where(CONFIG)}: missing")
    cfg = _check_config(parse_json(raw, where(CONFIG)), where(CONFIG))
    model = cfg["model"]
    family = cfg.get("family") or (MODELS[model].family if model in MODELS else "unknown")
    preview = read(PREVIEW)
    if preview is not None and preview[:8] != PNG_SIGNATURE:
        raise PresetError(f"{where(PREVIEW)}: not a PNG image")
    notes_raw = read(NOTES)
    try:
        notes = None if notes_raw is None else notes_raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PresetError(f"{where(NOTES)}: not UTF-8 text ({e})") from None
    return PresetInfo(
        path=path,
        title=cfg.get("title") or f"{model} on {cfg['dataset']}",
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

    The model is rebuilt from ``config.json`` through the model registry (a name, never
    a module path: nothing is imported) and its weights are read with safetensors (never
    pickle) onto the CPU, then moved to ``device``; every tensor's name and shape is
    checked against the rebuilt model. The optimizers' state is restored the same way
    when ``optimizer.safetensors`` is there, so training continues where it stopped.

    Arguments:
        path: the preset folder, or a ``.dgmpreset`` bundle (unpacked to a temporary
            folder first; see :func:`~.preset_files.unzip_bundle` for what it refuses).
        device: where to put the model (a preset trained on a GPU opens on a CPU, and
            the other way round).
        optimizer: restore the optimizers' state if saved (otherwise fresh optimizers).

    Returns:
        The session, with its step count, history and optimizer state restored.

    Raises:
        PresetError: a missing file, an unknown schema version, an unknown model or
            dataset, a bad hyperparameter, weights or optimizer state that do not fit
            the model, or a file that is not what it claims to be.
    """
    path = Path(path)
    if path.is_file() and path.suffix == BUNDLE_SUFFIX:
        with tempfile.TemporaryDirectory() as tmp:
            unzip_bundle(path, Path(tmp))
            try:
                return load_preset(tmp, device, optimizer=optimizer)
            except PresetError as e:  # name the bundle, not the temporary folder
                raise PresetError(str(e).replace(tmp, str(path))) from None
    if not path.is_dir():
        raise PresetError(f"{path}: not a preset folder or {BUNDLE_SUFFIX} bundle")
    cfg = _check_config(_read_json(path / CONFIG), str(path / CONFIG))
    _check_model(cfg, str(path / CONFIG))
    try:
        session = Session(
            cfg["model"],
            cfg["dataset"],
            cfg.get("hyperparameters", {}),
            seed=int(cfg.get("seed", 0)),
            device=device,
        )
    except (ValueError, TypeError) as e:
        raise PresetError(f"{path / CONFIG}: {e}") from None
    state = load_tensors(path / WEIGHTS)
    expected = session.model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise PresetError(
            f"{path / WEIGHTS}: tensors do not fit model {cfg['model']!r} "
            f"(missing: {missing[:5]}, unexpected: {unexpected[:5]})"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise PresetError(
                f"{path / WEIGHTS}: tensor {name!r} has shape {tuple(tensor.shape)}, "
                f"model {cfg['model']!r} expects {tuple(expected[name].shape)}"
            )
    with torch.no_grad():
        session.model.load_state_dict(state)
    session.step_count = int(cfg.get("steps", 0))
    if optimizer and (path / OPTIMIZER).is_file():
        restore_optimizers(session, path / OPTIMIZER)
    if (path / HISTORY).is_file():
        data = _read_json(path / HISTORY)
        try:
            session.history = History.from_json(data)
        except (AttributeError, TypeError, ValueError) as e:
            raise PresetError(f"{path / HISTORY}: not a metric history ({e})") from None
    return session
