"""A preset's own 2D points (``points.safetensors``): the drawn or imported dataset of a
session on ``points``, saved inside the preset so that it opens anywhere, never pickled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import Tensor

from . import files
from .data.points import MAX_POINTS, MIN_POINTS, Points
from .files import FileRefusedError
from .preset_files import POINTS, PresetError, PresetFiles, load_tensors

__all__ = [
    "POINTS_TENSOR",
    "is_points_dataset",
    "session_points",
    "write_points",
    "read_points",
    "preset_points",
]

#: the one tensor ``points.safetensors`` holds: ``(n, 2)`` float32
POINTS_TENSOR = "points"


def is_points_dataset(dataset: str) -> bool:
    """Whether the dataset spec ``dataset`` is the user's points (``points`` or
    ``points:path=FILE.csv``)."""
    return dataset.partition(":")[0] == Points.name


def session_points(session: Any) -> Tensor | None:
    """The points a session trains on: drawn ones (``session.points``) or those read from
    its CSV file (``points:path=...``); ``None`` for any other dataset.

    Returns:
        ``(n, 2)`` float32 on the CPU (the dataset's own tensor: do not modify it).
    """
    if getattr(session, "points", None) is not None:
        return session.points
    data = getattr(session, "data", None)
    return data.points if isinstance(data, Points) else None


def write_points(session: Any, folder: Path) -> bool:
    """Write the session's points (see :func:`session_points`) into ``folder`` as
    :data:`~.preset_files.POINTS` (``{"points": (n, 2) float32}``); returns whether the
    session had any (nothing is written otherwise).

    Raises:
        OSError, SafetensorError: the file cannot be written.
    """
    points = session_points(session)
    if points is None:
        return False
    tensor = points.detach().cpu().to(torch.float32).contiguous()
    save_file({POINTS_TENSOR: tensor}, str(folder / POINTS))
    return True


def read_points(data: bytes, where: str) -> Tensor:
    """The points of a ``points.safetensors`` file's bytes, checked before any tensor is
    built: its header holds exactly one tensor ``points`` of dtype float32 and shape
    ``(n, 2)`` with ``MIN_POINTS <= n <= MAX_POINTS`` (and offsets that hold exactly those
    bytes), then every value is finite.

    Arguments:
        data: the file's bytes (already read within its size cap).
        where: how errors name the file.

    Returns:
        ``(n, 2)`` float32 on the CPU.

    Raises:
        PresetError: one line naming ``where``: not a safetensors file, another tensor or
            dtype or shape, too few or too many points, NaN or infinity.
    """
    try:
        header = files.check_safetensors(data, where)
    except FileRefusedError as e:
        raise PresetError(str(e)) from None
    if set(header.tensors) != {POINTS_TENSOR}:
        names = ", ".join(repr(n) for n in sorted(header.tensors)[:3]) or "none"
        raise PresetError(f"{where}: holds tensors {names}, not one tensor 'points'")
    dtype, shape = header.tensors[POINTS_TENSOR]
    if dtype != "F32":
        raise PresetError(f"{where}: points of dtype {dtype}, not float32 (F32)")
    if len(shape) != 2 or shape[1] != 2:
        raise PresetError(f"{where}: points of shape {shape}, not (n, 2)")
    if not MIN_POINTS <= shape[0] <= MAX_POINTS:
        raise PresetError(
            f"{where}: {shape[0]:,} points, outside the {MIN_POINTS}..{MAX_POINTS:,} allowed"
        )
    tensors, _ = load_tensors(data, where)  # refuses NaN or infinity, naming the tensor
    return tensors[POINTS_TENSOR]


def preset_points(cfg: dict[str, Any], preset: PresetFiles) -> Tensor | None:
    """The points a preset's session trains on, read and checked (see :func:`read_points`),
    or ``None`` where it opens from its dataset spec alone.

    A session on drawn points (dataset ``points``) must hold ``points.safetensors``; one on
    ``points:path=FILE.csv`` opens from its saved points when it holds them (on another
    machine, where the file is not), else from the file. Other datasets never read it.

    Arguments:
        cfg: the preset's checked ``config.json``.
        preset: the open preset.

    Raises:
        PresetError: drawn points whose file is missing, or a file refused by
            :func:`read_points` (or by the preset's guarded reads).
    """
    dataset = cfg["dataset"]
    if not is_points_dataset(dataset):
        return None
    if not preset.has(POINTS):
        if dataset == Points.name:
            raise PresetError(
                f"{preset.where(POINTS)}: missing (a preset of drawn points holds them)"
            )
        return None
    return read_points(preset.read(POINTS), preset.where(POINTS))
