"""Presets: a trained session as ``config.json`` + ``model.safetensors`` + ``history.json``."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .. import __version__
from .training.history import History
from .training.session import Session

__all__ = ["SCHEMA_VERSION", "BUNDLE_SUFFIX", "PresetError", "save_preset", "load_preset"]

#: bumped whenever the layout of ``config.json`` changes incompatibly
SCHEMA_VERSION = 1

CONFIG, WEIGHTS, HISTORY = "config.json", "model.safetensors", "history.json"
#: a preset zipped into one file, to share
BUNDLE_SUFFIX = ".dgmpreset"
#: the only names a bundle may hold (flat: no folders), and the most it may unpack to
BUNDLE_MEMBERS = (CONFIG, WEIGHTS, HISTORY, "optimizer.safetensors", "preview.png", "notes.md")
BUNDLE_MAX_BYTES = 256 * 2**20


class PresetError(ValueError):
    """A preset that cannot be opened; the message names the file and the problem."""


def save_preset(session: Session, path: str | os.PathLike) -> Path:
    """Write a session to a preset folder, atomically.

    The folder is written under a temporary name beside ``path`` and renamed into
    place, so a crash mid-save never leaves a half-written preset where the old one was.

    Arguments:
        session: the session to save (its weights are copied to the CPU).
        path: the preset folder, or a file ending in ``.dgmpreset`` (the same files,
            zipped); replaced if it exists.

    Returns:
        The preset folder or bundle.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == BUNDLE_SUFFIX:  # the same files, zipped into one
        with tempfile.TemporaryDirectory() as tmp:
            folder = save_preset(session, Path(tmp) / "preset")
            _zip_folder(folder, path)
        return path
    config = {
        "schema_version": SCHEMA_VERSION,
        "playground_version": __version__,
        **session.describe(),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        (tmp / CONFIG).write_text(json.dumps(config, indent=2))
        state = {k: v.detach().cpu().contiguous() for k, v in session.model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
        (tmp / HISTORY).write_text(json.dumps(session.history.to_json()))
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


def _unzip_bundle(bundle: Path, into: Path) -> None:
    """Extract a bundle's members into ``into``, refusing anything but the flat, known
    preset files: a member with a folder, an absolute path or ``..`` (path traversal), a
    link, an unknown name, or more than ``BUNDLE_MAX_BYTES`` in all.

    Raises:
        PresetError: the file is not a zip, or a member is refused (nothing is written
            outside ``into``).
    """
    try:
        z = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as e:
        raise PresetError(f"{bundle}: not a {BUNDLE_SUFFIX} bundle (a zip): {e}") from None
    with z:
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
        for info in z.infolist():
            with z.open(info) as src, open(into / info.filename, "wb") as dst:
                shutil.copyfileobj(src, dst)


def _read_json(file: Path) -> Any:
    if not file.is_file():
        raise PresetError(f"{file}: missing")
    try:
        return json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"{file}: not valid JSON ({e})") from None


def load_preset(path: str | os.PathLike, device: str = "auto") -> Session:
    """Rebuild a session from a preset folder, paused at its trained state.

    The model is rebuilt from ``config.json`` through the model registry and its
    weights are read with safetensors (never pickle); every tensor's name and shape
    is checked against the rebuilt model.

    Arguments:
        path: the preset folder, or a ``.dgmpreset`` bundle (unpacked to a temporary
            folder first; see :func:`_unzip_bundle` for what it refuses).
        device: where to put the model (a preset trained on a GPU opens on a CPU).

    Returns:
        The session, with its step count and history restored.

    Raises:
        PresetError: a missing file, an unknown schema version, an unknown model or
            dataset, a bad hyperparameter, or weights that do not fit the model.
    """
    path = Path(path)
    if path.is_file() and path.suffix == BUNDLE_SUFFIX:
        with tempfile.TemporaryDirectory() as tmp:
            _unzip_bundle(path, Path(tmp))
            try:
                return load_preset(tmp, device)
            except PresetError as e:  # name the bundle, not the temporary folder
                raise PresetError(str(e).replace(tmp, str(path))) from None
    if not path.is_dir():
        raise PresetError(f"{path}: not a preset folder or {BUNDLE_SUFFIX} bundle")
    cfg = _read_json(path / CONFIG)
    if not isinstance(cfg, dict) or cfg.get("schema_version") != SCHEMA_VERSION:
        version = cfg.get("schema_version") if isinstance(cfg, dict) else None
        raise PresetError(
            f"{path / CONFIG}: unknown schema version {version!r} (this playground reads "
            f"{SCHEMA_VERSION})"
        )
    try:
        session = Session(
            cfg["model"],
            cfg["dataset"],
            cfg.get("hyperparameters", {}),
            seed=int(cfg.get("seed", 0)),
            device=device,
        )
    except KeyError as e:
        raise PresetError(f"{path / CONFIG}: missing field {e}") from None
    except (ValueError, TypeError) as e:
        raise PresetError(f"{path / CONFIG}: {e}") from None
    try:
        state = load_file(str(path / WEIGHTS))
    except FileNotFoundError:
        raise PresetError(f"{path / WEIGHTS}: missing") from None
    except (SafetensorError, OSError) as e:
        raise PresetError(f"{path / WEIGHTS}: not a safetensors file ({e})") from None
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
    if (path / HISTORY).is_file():
        session.history = History.from_json(_read_json(path / HISTORY))
    return session
