"""Presets: a trained session as ``config.json`` + ``model.safetensors`` + ``history.json``."""

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
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from .. import __version__
from .models import MODELS
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

CONFIG, WEIGHTS, HISTORY = "config.json", "model.safetensors", "history.json"
OPTIMIZER, PREVIEW, NOTES = "optimizer.safetensors", "preview.png", "notes.md"
#: a preset zipped into one file, to share
BUNDLE_SUFFIX = ".dgmpreset"
#: the only names a bundle may hold (flat: no folders), and the most it may unpack to
BUNDLE_MEMBERS = (CONFIG, WEIGHTS, HISTORY, OPTIMIZER, PREVIEW, NOTES)
BUNDLE_MAX_BYTES = 256 * 2**20
#: the presets shipped with the playground, one folder each
SHIPPED_PRESETS = Path(__file__).resolve().parents[2] / "presets"
#: each metric curve is saved averaged down to at most this many points (a small preset)
HISTORY_MAX_POINTS = 2000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the key of the optimizers' non-tensor state in ``optimizer.safetensors``'s metadata
OPTIMIZER_METADATA = "optimizers"


class PresetError(ValueError):
    """A preset that cannot be opened; the message names the file and the problem."""


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
            _zip_folder(folder, path)
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
            tensors, meta = _optimizer_tensors(session.model.optimizers)
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


def _json_safe(value: Any) -> Any:
    """Optimizer hyperparameters as JSON (tuples become lists, tensors numbers)."""
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if torch.is_tensor(value):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def _optimizer_tensors(optimizers: dict[str, torch.optim.Optimizer]) -> tuple[dict, str]:
    """The optimizers' state as safetensors: tensors named ``{opt}.{param}.{key}`` (on the
    CPU), and the rest (param groups, integer step counts) as one JSON string."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    for opt_name, opt in optimizers.items():
        sd = opt.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, state in sd["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    tensors[f"{opt_name}.{index}.{key}"] = value.detach().cpu().contiguous()
                else:
                    scalars.setdefault(str(index), {})[key] = _json_safe(value)
        groups = [{k: _json_safe(v) for k, v in g.items()} for g in sd["param_groups"]]
        meta[opt_name] = {"param_groups": groups, "scalars": scalars}
    return tensors, json.dumps(meta)


def _zip_folder(folder: Path, bundle: Path) -> None:
    """Zip the files of ``folder`` into ``bundle`` atomically (a temporary name, then a
    rename), so a crash mid-write never leaves a half-written bundle in its place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{bundle.name}.", dir=bundle.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for file in sorted(folder.iterdir()):
                z.write(file, file.name)
        os.chmod(tmp, 0o644)
        os.replace(tmp, bundle)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------- bundles
def _open_bundle(bundle: Path) -> zipfile.ZipFile:
    """Open a bundle and check its members: only the flat, known preset files, no links,
    at most ``BUNDLE_MAX_BYTES`` in all.

    Raises:
        PresetError: the file is not a zip, or a member is refused.
    """
    try:
        z = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as e:
        raise PresetError(f"{bundle}: not a {BUNDLE_SUFFIX} bundle (a zip): {e}") from None
    try:
        total = 0
        for info in z.infolist():
            name = info.filename
            if name not in BUNDLE_MEMBERS or "/" in name or "\\" in name:
                raise PresetError(
                    f"{bundle}: member {name!r} is not a preset file "
                    f"(a bundle holds only {', '.join(BUNDLE_MEMBERS)}, with no folders)"
                )
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise PresetError(f"{bundle}: member {name!r} is a link")
            total += info.file_size
            if total > BUNDLE_MAX_BYTES:
                raise PresetError(f"{bundle}: unpacks to more than {BUNDLE_MAX_BYTES} bytes")
    except BaseException:
        z.close()
        raise
    return z


def _unzip_bundle(bundle: Path, into: Path) -> None:
    """Extract a bundle's members into ``into``, refusing anything but the flat, known
    preset files: a member with a folder, an absolute path or ``..`` (path traversal), a
    link, an unknown name, or more than ``BUNDLE_MAX_BYTES`` in all.

    Raises:
        PresetError: the file is not a zip, or a member is refused (nothing is written
            outside ``into``).
    """
    with _open_bundle(bundle) as z:
        try:
            for info in z.infolist():
                with z.open(info) as src, open(into / info.filename, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise PresetError(f"{bundle}: a damaged {BUNDLE_SUFFIX} bundle: {e}") from None


# ---------------------------------------------------------------------------- reading
def _parse_json(text: bytes, where: str) -> Any:
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"{where}: not valid JSON ({e})") from None


def _read_json(file: Path) -> Any:
    if not file.is_file():
        raise PresetError(f"{file}: missing")
    return _parse_json(file.read_bytes(), str(file))


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
        with _open_bundle(path) as z:
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
    cfg = _check_config(_parse_json(raw, where(CONFIG)), where(CONFIG))
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
            folder first; see :func:`_unzip_bundle` for what it refuses).
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
            _unzip_bundle(path, Path(tmp))
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
    state = _load_tensors(path / WEIGHTS)
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
        _restore_optimizers(session, path / OPTIMIZER)
    if (path / HISTORY).is_file():
        data = _read_json(path / HISTORY)
        try:
            session.history = History.from_json(data)
        except (AttributeError, TypeError, ValueError) as e:
            raise PresetError(f"{path / HISTORY}: not a metric history ({e})") from None
    return session


def _load_tensors(file: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors on the CPU; a clear error for anything else."""
    try:
        return load_file(str(file), device="cpu")
    except FileNotFoundError:
        raise PresetError(f"{file}: missing") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise PresetError(f"{file}: not a safetensors file ({e})") from None


def _restore_optimizers(session: Session, file: Path) -> None:
    """Load ``optimizer.safetensors`` into the session's optimizers, after checking that
    it names the same optimizers, parameter groups and parameters, with tensors of the
    parameters' shapes.

    Raises:
        PresetError: naming ``file`` and the mismatch.
    """
    tensors = _load_tensors(file)
    try:
        with safe_open(str(file), "pt") as f:
            raw = (f.metadata() or {}).get(OPTIMIZER_METADATA)
    except (SafetensorError, OSError) as e:
        raise PresetError(f"{file}: not a safetensors file ({e})") from None
    if raw is None:
        raise PresetError(f"{file}: no optimizer metadata")
    meta = _parse_json(raw.encode(), str(file))
    optimizers = session.model.optimizers
    if not isinstance(meta, dict) or set(meta) != set(optimizers):
        saved = sorted(meta) if isinstance(meta, dict) else meta
        raise PresetError(
            f"{file}: optimizers {saved} do not fit model {session.model_name!r} "
            f"(it has {sorted(optimizers)})"
        )
    used: set[str] = set()
    states = {}
    for opt_name, opt in optimizers.items():
        states[opt_name] = _optimizer_state(opt_name, opt, meta[opt_name], tensors, used, file)
    unexpected = sorted(set(tensors) - used)
    if unexpected:
        raise PresetError(f"{file}: unexpected tensors {unexpected[:5]}")
    for opt_name, opt in optimizers.items():
        try:
            opt.load_state_dict(states[opt_name])
        except (ValueError, KeyError, TypeError, RuntimeError) as e:
            raise PresetError(f"{file}: optimizer {opt_name!r} does not fit ({e})") from None


def _optimizer_state(
    opt_name: str,
    opt: torch.optim.Optimizer,
    meta: Any,
    tensors: dict[str, torch.Tensor],
    used: set[str],
    file: Path,
) -> dict[str, Any]:
    """One optimizer's ``state_dict`` rebuilt from the flat tensors and the metadata,
    checked against ``opt`` (its fresh param groups are the template for the types)."""
    current = opt.state_dict()["param_groups"]
    params = [p for g in opt.param_groups for p in g["params"]]
    if not isinstance(meta, dict) or not isinstance(meta.get("param_groups"), list):
        raise PresetError(f"{file}: optimizer {opt_name!r} has no param_groups")
    groups = meta["param_groups"]
    if len(groups) != len(current) or any(
        not isinstance(g, dict) or len(g.get("params", ())) != len(c["params"])
        for g, c in zip(groups, current, strict=False)
    ):
        raise PresetError(
            f"{file}: optimizer {opt_name!r} has param groups of "
            f"{[len(g.get('params', ())) if isinstance(g, dict) else g for g in groups]} "
            f"parameters, the model's has {[len(c['params']) for c in current]}"
        )
    restored_groups = []
    for g, c in zip(groups, current, strict=True):
        group = dict(c)  # keys the saved group lacks keep the fresh values
        for k, v in g.items():
            if k == "params":
                continue
            group[k] = tuple(v) if isinstance(c.get(k), tuple) and isinstance(v, list) else v
        restored_groups.append(group)
    prefix = f"{opt_name}."
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if not name.startswith(prefix):
            continue
        index, _, key = name[len(prefix) :].partition(".")
        if not index.isdigit() or int(index) >= len(params) or not key:
            raise PresetError(f"{file}: tensor {name!r} names no parameter of {opt_name!r}")
        param = params[int(index)]
        if tensor.dim() > 0 and tuple(tensor.shape) != tuple(param.shape):
            raise PresetError(
                f"{file}: tensor {name!r} has shape {tuple(tensor.shape)}, "
                f"its parameter has {tuple(param.shape)}"
            )
        state.setdefault(int(index), {})[key] = tensor
        used.add(name)
    scalars = meta.get("scalars", {})
    if not isinstance(scalars, dict):
        raise PresetError(f"{file}: optimizer {opt_name!r} has bad scalars")
    for index, values in scalars.items():
        if not str(index).isdigit() or int(index) >= len(params) or not isinstance(values, dict):
            raise PresetError(f"{file}: state {index!r} names no parameter of {opt_name!r}")
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": restored_groups}
