"""A scoreboard folder (``python -m playground scoreboard``'s output), read without trusting it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_safetensors

from ..core.files import FileRefusedError, check_safetensors, parse_json, read_file

__all__ = ["Row", "Scoreboard", "read_scoreboard", "SAMPLES_TENSOR", "MAX_PROBLEMS"]

#: the tensor each ``samples/<model>.safetensors`` holds (the scoreboard contract)
SAMPLES_TENSOR = "samples"
#: problems named in the one-line message; the rest are counted
MAX_PROBLEMS = 3
#: a model name that can be a file name: no folder separators, no leading dot
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")
_KINDS = ("plane", "image")


@dataclass(frozen=True)
class Row:
    """One model's row: its ``rank`` (1 = best), training ``steps`` and ``seconds``, the
    ``error`` that stopped it (``None``: it ran) and each metric's value (``None``: none)."""

    rank: int | None
    model: str
    steps: int | None
    seconds: float | None
    error: str | None
    values: dict[str, float | None]


@dataclass
class Scoreboard:
    """What a scoreboard folder holds, and what was wrong with it.

    Attributes:
        folder: the folder read.
        dataset, kind, minutes, seed, wall_seconds: from ``scoreboard.json`` (``None``
            where missing; ``kind`` is then guessed from the samples' shapes).
        metrics: ``(name, better)`` pairs in display order, ``better`` ``lower``/``higher``.
        rows: the rows in rank order.
        samples: model to its samples: ``(n, 2)`` float32 points for a plane set, or
            ``(n, C, H, W)`` float32 images in ``[0, 1]`` (``C`` 1 or 3).
        problems: one phrase per thing that could not be read.
    """

    folder: Path
    dataset: str | None = None
    kind: str | None = None
    minutes: float | None = None
    seed: int | None = None
    wall_seconds: float | None = None
    metrics: list[tuple[str, str]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def message(self) -> str | None:
        """One line saying what is missing or broken (``None``: nothing)."""
        if not self.problems:
            return None
        shown = "; ".join(self.problems[:MAX_PROBLEMS])
        more = len(self.problems) - MAX_PROBLEMS
        extra = f" (and {more} more)" if more > 0 else ""
        return (
            f"Scoreboard {self.folder} is incomplete: {shown}{extra}. Showing what could be read."
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None


def _read_json(board: Scoreboard) -> dict[str, Any] | None:
    path = board.folder / "scoreboard.json"
    try:
        top = parse_json(read_file(path, "config", root=board.folder), str(path))
    except FileRefusedError as e:
        board.problems.append(str(e).replace(f"{path}: ", "scoreboard.json: ", 1))
        return None
    if not isinstance(top, dict):
        board.problems.append("scoreboard.json is not a JSON object")
        return None
    return top


def _fill_header(board: Scoreboard, top: dict[str, Any]) -> None:
    board.dataset = top["dataset"] if isinstance(top.get("dataset"), str) else None
    board.kind = top.get("kind") if top.get("kind") in _KINDS else None
    if board.kind is None:
        board.problems.append(f"scoreboard.json: kind {top.get('kind')!r} is not plane or image")
    board.minutes, board.wall_seconds = (
        _number(top.get("minutes")),
        _number(top.get("wall_seconds")),
    )
    board.seed = _integer(top.get("seed"))
    metrics = top.get("metrics")
    for entry in metrics if isinstance(metrics, list) else []:
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and entry.get("better") in ("lower", "higher")
        ):
            board.metrics.append((entry["name"], entry["better"]))
        else:
            board.problems.append(f"scoreboard.json: a bad metric entry {entry!r:.60}")
    if not isinstance(metrics, list):
        board.problems.append("scoreboard.json has no list of metrics")


def _fill_rows(board: Scoreboard, top: dict[str, Any]) -> None:
    rows = top.get("rows")
    if not isinstance(rows, list):
        board.problems.append("scoreboard.json has no list of rows")
        return
    for i, entry in enumerate(rows, start=1):
        model = entry.get("model") if isinstance(entry, dict) else None
        if not isinstance(model, str) or not _MODEL_NAME.match(model):
            board.problems.append(f"scoreboard.json: row {i} has no valid model name")
            continue
        error = entry.get("error")
        values = {name: _number(entry.get(name)) for name, _ in board.metrics}
        board.rows.append(
            Row(
                rank=_integer(entry.get("rank")),
                model=model,
                steps=_integer(entry.get("steps")),
                seconds=_number(entry.get("seconds")),
                error=None if error is None else str(error),
                values=values,
            )
        )
    board.rows.sort(key=lambda r: (r.rank is None, r.rank if r.rank is not None else 0))


def _read_samples(board: Scoreboard, model: str) -> np.ndarray | None:
    """The checked samples of ``model``, or ``None`` with a problem noted."""
    folder = board.folder / "samples"
    path = folder / f"{model}.safetensors"
    where = f"samples/{model}.safetensors"
    if not path.exists():
        board.problems.append(f"{where} is missing")
        return None
    try:
        data = read_file(path, "image", root=folder)
        header = check_safetensors(data, where)
        entry = header.tensors.get(SAMPLES_TENSOR)
        if entry is None:
            raise FileRefusedError(f"{where}: no tensor named {SAMPLES_TENSOR!r}")
        dtype, shape = entry
        kind = board.kind or ("plane" if len(shape) == 2 else "image")
        plane_ok = kind == "plane" and len(shape) == 2 and shape[1] == 2
        image_ok = kind == "image" and len(shape) == 4 and shape[1] in (1, 3)
        if dtype != "F32" or not (plane_ok or image_ok) or shape[0] < 1:
            wanted = "(n, 2)" if kind == "plane" else "(n, C, H, W) with C 1 or 3"
            raise FileRefusedError(f"{where}: {dtype} {tuple(shape)}, not float32 {wanted}")
        array = load_safetensors(data)[SAMPLES_TENSOR]
    except FileRefusedError as e:
        board.problems.append(str(e))
        return None
    except Exception as e:  # safetensors' own refusal of bytes the check let through
        board.problems.append(f"{where}: not a safetensors file ({e})")
        return None
    if not np.isfinite(array).all():
        board.problems.append(f"{where}: holds NaN or infinite values")
        array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    board.kind = board.kind or kind
    return np.clip(array, 0.0, 1.0) if kind == "image" else array


def read_scoreboard(folder: str | Path) -> Scoreboard:
    """Read a scoreboard folder (the contract of ``python -m playground scoreboard``).

    Never raises for a broken folder: what cannot be read (a missing or invalid
    ``scoreboard.json``, a bad row, a missing samples file, a tensor of the wrong dtype
    or shape) becomes a phrase in :attr:`Scoreboard.problems`, and the rest is kept.
    Without a readable ``scoreboard.json`` the samples files found are still read.
    Every file goes through :mod:`playground.core.files` (regular files in the folder,
    size caps, checked safetensors headers); nothing is unpickled.

    Arguments:
        folder: the scoreboard folder.

    Returns:
        A :class:`Scoreboard`.
    """
    board = Scoreboard(Path(folder))
    if not board.folder.is_dir():
        board.problems.append("no such folder")
        return board
    top = _read_json(board)
    if top is not None:
        _fill_header(board, top)
        _fill_rows(board, top)
        models = [r.model for r in board.rows if r.error is None]
    else:
        found = sorted((board.folder / "samples").glob("*.safetensors"))
        models = [p.stem for p in found if _MODEL_NAME.match(p.stem)]
    for model in models:
        array = _read_samples(board, model)
        if array is not None:
            board.samples[model] = array
    return board
