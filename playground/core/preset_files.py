"""The files of a preset, below :mod:`.presets`: their names, :class:`PresetFiles` (a preset
folder or ``.dgmpreset`` bundle read file by file through :mod:`.files`, the one guarded way
the playground reads a user's file), the optimizer state as safetensors (tensors, plus the
rest as JSON metadata; never pickle), and the checked readers of JSON and safetensors that
name the file in every error."""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors

from . import files
from .files import FileRefusedError

if TYPE_CHECKING:
    from .training.session import Session

__all__ = [
    "CONFIG",
    "WEIGHTS",
    "HISTORY",
    "OPTIMIZER",
    "PREVIEW",
    "NOTES",
    "POINTS",
    "BUNDLE_SUFFIX",
    "BUNDLE_MEMBERS",
    "BUNDLE_MAX_BYTES",
    "MEMBER_KINDS",
    "OPTIMIZER_METADATA",
    "PresetError",
    "PresetFiles",
    "one_line",
    "parse_json",
    "load_tensors",
    "optimizer_tensors",
    "restore_optimizers",
    "zip_folder",
]

CONFIG, WEIGHTS, HISTORY = "config.json", "model.safetensors", "history.json"
OPTIMIZER, PREVIEW, NOTES = "optimizer.safetensors", "preview.png", "notes.md"
#: the 2D points of a session on ``points`` (see :mod:`.preset_points`)
POINTS = "points.safetensors"
#: a preset zipped into one file, to share
BUNDLE_SUFFIX = ".dgmpreset"
#: the only names a bundle may hold (flat: no folders), and the most it may unpack to
BUNDLE_MEMBERS = (CONFIG, WEIGHTS, HISTORY, OPTIMIZER, PREVIEW, NOTES, POINTS)
BUNDLE_MAX_BYTES = 256 * 2**20
#: each file of a preset and its kind in :data:`.files.LIMITS` (its size cap)
MEMBER_KINDS = {
    CONFIG: "config",
    WEIGHTS: "weights",
    HISTORY: "history",
    OPTIMIZER: "optimizer",
    PREVIEW: "preview",
    NOTES: "notes",
    POINTS: "points",
}
#: the key of the optimizers' non-tensor state in ``optimizer.safetensors``'s metadata
OPTIMIZER_METADATA = "optimizers"


class PresetError(FileRefusedError):
    """A preset that cannot be opened or saved: one line that names the file (or the path
    a save was meant for) and the problem. A :class:`~.files.FileRefusedError`, hence a
    ``ValueError``."""


def one_line(text: object) -> str:
    """``text`` on one line (an error message quoted inside another)."""
    return " ".join(str(text).split())


def _reason(e: FileRefusedError, where: object) -> str:
    """The part of a :class:`FileRefusedError`'s message after its ``"where: "``."""
    message, prefix = str(e), f"{where}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _preset_error(e: FileRefusedError) -> PresetError:
    return e if isinstance(e, PresetError) else PresetError(str(e))


def parse_json(text: bytes | str, where: str, *, max_depth: int = files.JSON_MAX_DEPTH) -> Any:
    """JSON through :func:`.files.parse_json` (nesting capped before parsing).

    Raises:
        PresetError: naming ``where``: not UTF-8, nested too deeply, or not valid JSON.
    """
    try:
        return files.parse_json(text, where, max_depth=max_depth)
    except FileRefusedError as e:
        raise _preset_error(e) from None


class PresetFiles:
    """The files of one preset, a folder or a ``.dgmpreset`` bundle, each read through
    :mod:`.files`: regular files only (a FIFO or device is refused without blocking), no
    link out of the preset folder, each file capped by its kind's size in
    :data:`.files.LIMITS` before it is read; a bundle is checked member by member (count,
    names, encryption, compression, sizes) before anything is unpacked, and nothing is
    written anywhere. Use as a context manager (it closes the bundle).

    Raises:
        PresetError: (from the constructor) ``path`` is neither a folder nor a bundle, or
            the bundle is refused.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._names: set[str] = set()
        if self.path.suffix == BUNDLE_SUFFIX and not self.path.is_dir():
            limits = {name: files.LIMITS[kind] for name, kind in MEMBER_KINDS.items()}
            try:
                self._zip = files.open_zip(
                    self.path,
                    kind="bundle",
                    allowed=BUNDLE_MEMBERS,
                    member_limits=limits,
                    max_total=BUNDLE_MAX_BYTES,
                )
            except FileRefusedError as e:
                reason = _reason(e, self.path)
                if reason.startswith("not a zip"):
                    raise PresetError(
                        f"{self.path}: not a {BUNDLE_SUFFIX} bundle: {reason}"
                    ) from None
                raise _preset_error(e) from None
            self._names = set(self._zip.namelist())
        elif not self.path.is_dir():
            raise PresetError(f"{self.path}: not a preset folder or {BUNDLE_SUFFIX} bundle")

    @property
    def is_bundle(self) -> bool:
        return self._zip is not None

    def __enter__(self) -> PresetFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def where(self, name: str) -> str:
        """How errors name the file: ``folder/name`` or ``bundle: name``."""
        return f"{self.path}: {name}" if self.is_bundle else str(self.path / name)

    def has(self, name: str) -> bool:
        """Whether the preset holds ``name`` (a link, FIFO or folder of that name counts:
        reading it is refused, it is never silently skipped)."""
        if self._zip is not None:
            return name in self._names
        return os.path.lexists(self.path / name)

    def read(self, name: str) -> bytes:
        """The bytes of ``name`` (a key of :data:`MEMBER_KINDS`), within its size cap.

        Raises:
            PresetError: missing, not a regular file, a link out of the preset folder,
                larger than its cap, or a damaged bundle member.
        """
        if not self.has(name):
            raise PresetError(f"{self.where(name)}: missing")
        limit = files.LIMITS[MEMBER_KINDS[name]]
        try:
            if self._zip is not None:
                return files.read_member(self._zip, name, str(self.path), limit)
            return files.read_file(self.path / name, MEMBER_KINDS[name], root=self.path)
        except FileRefusedError as e:
            raise _preset_error(e) from None

    def read_optional(self, name: str) -> bytes | None:
        """:meth:`read`, or ``None`` if the preset does not hold ``name``."""
        return self.read(name) if self.has(name) else None

    def text(self, name: str) -> str | None:
        """``name`` as UTF-8 text, or ``None`` if the preset does not hold it.

        Raises:
            PresetError: as :meth:`read`, or not UTF-8.
        """
        data = self.read_optional(name)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PresetError(
                f"{self.where(name)}: not UTF-8 text ({e.reason} at byte {e.start})"
            ) from None

    def json(self, name: str) -> Any:
        """``name`` parsed as JSON (nesting capped before parsing).

        Raises:
            PresetError: as :meth:`read`, or not valid JSON.
        """
        return parse_json(self.read(name), self.where(name))


# ----------------------------------------------------------------- safetensors
def load_tensors(
    data: bytes, where: str
) -> tuple[dict[str, torch.Tensor], files.SafetensorsHeader]:
    """A safetensors file's tensors on the CPU, built from bytes already read and checked
    by :func:`.files.check_safetensors` (header size, dtypes, shapes and offsets against
    the real size), and its checked header (whose metadata holds the optimizer state).

    Raises:
        PresetError: naming ``where``: not a safetensors file, or a floating-point tensor
            holding NaN or infinity (the first one in the file is named).
    """
    try:
        header = files.check_safetensors(data, where)
    except FileRefusedError as e:
        reason = _reason(e, where)
        if not reason.startswith("not a safetensors file"):
            reason = f"not a safetensors file ({reason})"
        raise PresetError(f"{where}: {reason}") from None
    try:
        tensors = load_safetensors(data)
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise PresetError(f"{where}: not a safetensors file ({one_line(e)})") from None
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise PresetError(f"{where}: tensor {name!r} holds non-finite values (NaN or infinity)")
    return tensors, header


# ----------------------------------------------------------------- optimizer state
def _json_safe(value: Any) -> Any:
    """Optimizer hyperparameters as JSON (tuples become lists, tensors numbers)."""
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if torch.is_tensor(value):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


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


def restore_optimizers(session: Session, data: bytes, where: str) -> None:
    """Load ``optimizer.safetensors`` (its bytes, already read within their cap) into the
    session's optimizers, after checking that it names the same optimizers, parameter
    groups and parameters, with finite tensors of the parameters' shapes and settings of
    the fresh optimizers' types. The metadata comes from the checked header (nesting
    capped before it is parsed).

    Raises:
        PresetError: naming ``where`` and the mismatch.
    """
    tensors, header = load_tensors(data, where)
    raw = header.metadata.get(OPTIMIZER_METADATA)
    if raw is None:
        raise PresetError(f"{where}: no optimizer metadata")
    meta = parse_json(raw, where)
    optimizers = session.model.optimizers
    if not isinstance(meta, dict) or set(meta) != set(optimizers):
        saved = sorted(meta)[:10] if isinstance(meta, dict) else type(meta).__name__
        raise PresetError(
            f"{where}: optimizers {saved} do not fit model {session.model_name!r} "
            f"(it has {sorted(optimizers)})"
        )
    used: set[str] = set()
    states = {}
    for opt_name, opt in optimizers.items():
        states[opt_name] = _optimizer_state(opt_name, opt, meta[opt_name], tensors, used, where)
    unexpected = sorted(set(tensors) - used)
    if unexpected:
        raise PresetError(f"{where}: unexpected tensors {unexpected[:5]}")
    for opt_name, opt in optimizers.items():
        try:
            opt.load_state_dict(states[opt_name])
        except (ValueError, KeyError, TypeError, RuntimeError) as e:
            raise PresetError(
                f"{where}: optimizer {opt_name!r} does not fit ({one_line(e)})"
            ) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _setting(value: Any, fresh: Any) -> bool:
    """Whether a saved optimizer setting (JSON) may stand for the fresh one ``fresh``:
    the same kind of value, numbers finite."""
    if isinstance(fresh, bool) or fresh is None:
        return value is None or isinstance(value, bool)
    if _is_number(fresh) or torch.is_tensor(fresh):
        return _is_number(value) and math.isfinite(value)
    if isinstance(fresh, (tuple, list)):
        return (
            isinstance(value, list)
            and len(value) == len(fresh)
            and all(_setting(v, f) for v, f in zip(value, fresh, strict=True))
        )
    if isinstance(fresh, str):
        return isinstance(value, str) and len(value) <= 100
    return False


def _scalar(value: Any) -> bool:
    """A saved setting with no fresh counterpart: a short plain JSON value."""
    if value is None or isinstance(value, (bool, str)):
        return not isinstance(value, str) or len(value) <= 100
    if _is_number(value):
        return math.isfinite(value)
    return isinstance(value, list) and len(value) <= 16 and all(_is_number(v) for v in value)


def _optimizer_state(
    opt_name: str,
    opt: torch.optim.Optimizer,
    meta: Any,
    tensors: dict[str, torch.Tensor],
    used: set[str],
    where: str,
) -> dict[str, Any]:
    """One optimizer's ``state_dict`` rebuilt from the flat tensors and the metadata,
    checked against ``opt`` (its fresh param groups are the template for the types)."""
    current = opt.state_dict()["param_groups"]
    params = [p for g in opt.param_groups for p in g["params"]]
    if not isinstance(meta, dict) or not isinstance(meta.get("param_groups"), list):
        raise PresetError(f"{where}: optimizer {opt_name!r} has no param_groups")
    groups = meta["param_groups"]
    if len(groups) != len(current) or any(
        not isinstance(g, dict)
        or not isinstance(g.get("params"), list)
        or len(g["params"]) != len(c["params"])
        for g, c in zip(groups, current, strict=False)
    ):
        sizes = [
            len(g["params"]) if isinstance(g, dict) and isinstance(g.get("params"), list) else "?"
            for g in groups[:10]
        ]
        raise PresetError(
            f"{where}: optimizer {opt_name!r} has param groups of {sizes} parameters, "
            f"the model's has {[len(c['params']) for c in current]}"
        )
    restored_groups = []
    for g, c in zip(groups, current, strict=True):
        group = dict(c)  # keys the saved group lacks keep the fresh values
        for k, v in g.items():
            if k == "params":
                continue
            if not (_setting(v, c[k]) if k in c else _scalar(v)):
                raise PresetError(
                    f"{where}: optimizer {opt_name!r} has a bad setting {k!r}: "
                    f"{one_line(repr(v))[:80]}"
                )
            group[k] = tuple(v) if isinstance(c.get(k), tuple) and isinstance(v, list) else v
        restored_groups.append(group)
    prefix = f"{opt_name}."
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        if not name.startswith(prefix):
            continue
        index, _, key = name[len(prefix) :].partition(".")
        if not index.isdigit() or int(index) >= len(params) or not key:
            raise PresetError(f"{where}: tensor {name!r} names no parameter of {opt_name!r}")
        param = params[int(index)]
        if tensor.dim() > 0 and tuple(tensor.shape) != tuple(param.shape):
            raise PresetError(
                f"{where}: tensor {name!r} has shape {tuple(tensor.shape)}, "
                f"its parameter has {tuple(param.shape)}"
            )
        state.setdefault(int(index), {})[key] = tensor
        used.add(name)
    scalars = meta.get("scalars", {})
    if not isinstance(scalars, dict):
        raise PresetError(f"{where}: optimizer {opt_name!r} has bad scalars")
    for index, values in scalars.items():
        if not str(index).isdigit() or int(index) >= len(params) or not isinstance(values, dict):
            raise PresetError(
                f"{where}: state {one_line(index)[:40]!r} names no parameter of {opt_name!r}"
            )
        if not all(_scalar(v) for v in values.values()):
            raise PresetError(f"{where}: optimizer {opt_name!r} has bad scalars for {index}")
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": restored_groups}


# ----------------------------------------------------------------- bundles
def zip_folder(folder: Path, bundle: Path) -> None:
    """Zip the files of ``folder`` into ``bundle`` atomically (a temporary name beside it,
    then a rename), so a crash or a full disk mid-write never leaves a half-written bundle
    in its place, and an existing bundle stays as it was.

    Raises:
        OSError: the bundle cannot be written (the temporary file is removed).
    """
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
