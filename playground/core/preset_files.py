"""The files of a preset, below :mod:`.presets`: their names, the ``.dgmpreset`` bundle (a
zip read member by member, refusing anything but the known flat files), the optimizer
state as safetensors (tensors, plus the rest as JSON metadata; never pickle), and the
checked readers of JSON and safetensors that name the file in every error."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

if TYPE_CHECKING:
    from .training.session import Session

__all__ = [
    "CONFIG",
    "WEIGHTS",
    "HISTORY",
    "OPTIMIZER",
    "PREVIEW",
    "NOTES",
    "BUNDLE_SUFFIX",
    "BUNDLE_MEMBERS",
    "BUNDLE_MAX_BYTES",
    "OPTIMIZER_METADATA",
    "PresetError",
    "parse_json",
    "load_tensors",
    "optimizer_tensors",
    "restore_optimizers",
    "zip_folder",
    "open_bundle",
    "unzip_bundle",
]

CONFIG, WEIGHTS, HISTORY = "config.json", "model.safetensors", "history.json"
OPTIMIZER, PREVIEW, NOTES = "optimizer.safetensors", "preview.png", "notes.md"
#: a preset zipped into one file, to share
BUNDLE_SUFFIX = ".dgmpreset"
#: the only names a bundle may hold (flat: no folders), and the most it may unpack to
BUNDLE_MEMBERS = (CONFIG, WEIGHTS, HISTORY, OPTIMIZER, PREVIEW, NOTES)
BUNDLE_MAX_BYTES = 256 * 2**20
#: the key of the optimizers' non-tensor state in ``optimizer.safetensors``'s metadata
OPTIMIZER_METADATA = "optimizers"


class PresetError(ValueError):
    """A preset that cannot be opened; the message names the file and the problem."""


def _json_safe(value: Any) -> Any:
    """Optimizer hyperparameters as JSON (tuples become lists, tensors numbers)."""
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if torch.is_tensor(value):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def parse_json(text: bytes, where: str) -> Any:
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"{where}: not valid JSON ({e})") from None


def load_tensors(file: Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors on the CPU; a clear error for anything else."""
    try:
        return load_file(str(file), device="cpu")
    except FileNotFoundError:
        raise PresetError(f"{file}: missing") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise PresetError(f"{file}: not a safetensors file ({e})") from None


def optimizer_tensors(optimizers: dict[str, torch.optim.Optimizer]) -> tuple[dict, str]:
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


def restore_optimizers(session: Session, file: Path) -> None:
    """Load ``optimizer.safetensors`` into the session's optimizers, after checking that
    it names the same optimizers, parameter groups and parameters, with tensors of the
    parameters' shapes.

    Raises:
        PresetError: naming ``file`` and the mismatch.
    """
    tensors = load_tensors(file)
    try:
        with safe_open(str(file), "pt") as f:
            raw = (f.metadata() or {}).get(OPTIMIZER_METADATA)
    except (SafetensorError, OSError) as e:
        raise PresetError(f"{file}: not a safetensors file ({e})") from None
    if raw is None:
        raise PresetError(f"{file}: no optimizer metadata")
    meta = parse_json(raw.encode(), str(file))
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


def zip_folder(folder: Path, bundle: Path) -> None:
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


def open_bundle(bundle: Path) -> zipfile.ZipFile:
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


def unzip_bundle(bundle: Path, into: Path) -> None:
    """Extract a bundle's members into ``into``, refusing anything but the flat, known
    preset files: a member with a folder, an absolute path or ``..`` (path traversal), a
    link, an unknown name, or more than ``BUNDLE_MAX_BYTES`` in all.

    Raises:
        PresetError: the file is not a zip, or a member is refused (nothing is written
            outside ``into``).
    """
    with open_bundle(bundle) as z:
        try:
            for info in z.infolist():
                with z.open(info) as src, open(into / info.filename, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise PresetError(f"{bundle}: a damaged {BUNDLE_SUFFIX} bundle: {e}") from None
