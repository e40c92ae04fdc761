"""A user's 2D points (a CSV file of ``x1,x2`` rows) as an empirical plane dataset."""

from __future__ import annotations

import io
import math
import os
import re
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from ..files import FileRefusedError, read_file
from .base import Density2D

__all__ = [
    "Points",
    "read_points_csv",
    "write_points_csv",
    "MIN_POINTS",
    "MAX_POINTS",
    "POINTS_HEADER",
]

#: the fewest points a file may hold (one point is a Dirac, not a data set)
MIN_POINTS = 2
#: the most points a file may hold (about 40 MB of text at 20 bytes a row, under
#: ``LIMITS["csv"]``; 8 MB as float32 once read)
MAX_POINTS = 1_000_000
#: the header :func:`write_points_csv` writes
POINTS_HEADER = "x1,x2"

_SEPARATOR = re.compile(r"[,;\s]+")


def _fields(line: str) -> list[str]:
    """The fields of one row split on commas, semicolons or whitespace."""
    return [f for f in _SEPARATOR.split(line.strip()) if f]


def _number(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None


def read_points_csv(path: str | os.PathLike) -> Tensor:
    """The points of a CSV file: two numeric columns, one point a row.

    Columns are separated by commas (or semicolons, or whitespace). An optional first row
    of column names (any non-numeric first row, e.g. ``x1,x2``) is skipped; blank lines
    are ignored. The file goes through :func:`~playground.core.files.read_file`: regular
    files only, at most ``LIMITS["csv"]`` bytes, checked before a byte is read.

    Arguments:
        path: the CSV file.

    Returns:
        The points, ``(n, 2)`` float32 on the CPU, in file order, with
        ``MIN_POINTS <= n <= MAX_POINTS``.

    Raises:
        FileRefusedError: one line starting with the path: missing, not a regular file,
            over the size cap, binary or not UTF-8, empty, a row that is not two columns
            or not numeric, NaN or infinity (each with its line number), or fewer than
            :data:`MIN_POINTS` or more than :data:`MAX_POINTS` points.
    """
    data = read_file(path, "csv")
    if b"\x00" in data:
        raise FileRefusedError(f"{path}: a binary file, not a CSV of points")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileRefusedError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    rows: list[tuple[float, float]] = []
    first = True
    for number, line in enumerate(io.StringIO(text), start=1):  # lazily: no list of lines
        fields = _fields(line)
        if not fields:
            continue
        if len(fields) != 2:
            raise FileRefusedError(
                f"{path}: line {number} has {len(fields)} columns, not 2 (x1,x2)"
            )
        values = [_number(f) for f in fields]
        if None in values:
            if first and all(_number(f) is None for f in fields):
                first = False  # a header row
                continue
            shown = line.strip()[:60]
            raise FileRefusedError(f"{path}: line {number} is not two numbers: {shown!r}")
        first = False
        x1, x2 = values
        if not (math.isfinite(x1) and math.isfinite(x2)):
            raise FileRefusedError(f"{path}: line {number} holds NaN or infinity")
        if len(rows) == MAX_POINTS:
            raise FileRefusedError(f"{path}: more than {MAX_POINTS:,} points")
        rows.append((x1, x2))
    if not rows:
        raise FileRefusedError(f"{path}: empty: no points (one x1,x2 row a point)")
    if len(rows) < MIN_POINTS:
        raise FileRefusedError(f"{path}: {len(rows)} point; at least {MIN_POINTS} are needed")
    points = np.asarray(rows, dtype=np.float64)
    if (np.abs(points) > np.finfo(np.float32).max).any():
        raise FileRefusedError(f"{path}: a value beyond float32's range (about 3.4e38)")
    return torch.from_numpy(points.astype(np.float32))


def write_points_csv(path: str | os.PathLike, points: Tensor) -> None:
    """Write points as a CSV with the header ``x1,x2`` that :func:`read_points_csv` reads
    back exactly (float32 values are written with ``repr``'s shortest round-trip digits).

    Arguments:
        path: the file to write (replaced if it exists).
        points: ``(n, 2)``, finite.

    Raises:
        ValueError: ``points`` is not ``(n, 2)`` or holds NaN or infinity.
        FileRefusedError: the file cannot be written (the message starts with the path).
    """
    array = torch.as_tensor(points).detach().cpu().to(torch.float32).numpy()
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"points must be (n, 2); got {tuple(array.shape)}")
    if not np.isfinite(array).all():
        raise ValueError("points hold NaN or infinity")
    lines = [POINTS_HEADER, *(f"{a!r},{b!r}" for a, b in array.tolist())]
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        raise FileRefusedError(f"{path}: cannot write it ({e.strerror or e})") from None


def _box(points: Tensor) -> tuple[float, float, float, float]:
    """A square box around the points: their bounding box's centre, 60% of its longer side
    on each side (so 10% margin), and at least 0.5 on each side."""
    low, high = points.min(0).values.double(), points.max(0).values.double()
    centre = (low + high) / 2
    half = max(0.6 * float((high - low).max()), 0.5)
    cx, cy = float(centre[0]), float(centre[1])
    return (cx - half, cx + half, cy - half, cy + half)


class Points(Density2D):
    """The empirical distribution of a user's points: ``p = (1/n) sum_i delta_{x_i}``.

    Samples are drawn uniformly with replacement from the ``n`` points, with the
    session's generator. There is no density (the support is ``n`` points), so a model
    that needs one refuses the set with :class:`~.base.NoDensityError`'s message;
    sample-based models (GANs, forward-KL flows, diffusion, ...) train on it. Held-out
    metrics draw fresh samples from the same points, as they do for every plane set.

    Arguments:
        path: a CSV file (see :func:`read_points_csv`); ``~`` is expanded.
        points: the points themselves, ``(n, 2)``, instead of a file (drawn ones).

    Attributes:
        points: ``(n, 2)`` float32.
        box: a square plotting box around the points (instance attribute).

    Raises:
        ValueError: neither or both of ``path`` and ``points``, or ``points`` not
            ``(n >= 2, 2)`` finite.
        FileRefusedError: the file is refused (see :func:`read_points_csv`).
    """

    name: ClassVar[str] = "points"
    description: ClassVar[str] = "your own 2D points from a CSV file (points:path=FILE.csv)"
    options: ClassVar[dict[str, type]] = {"path": str}
    has_log_prob: ClassVar[bool] = False

    def __init__(self, path: str | None = None, points: Tensor | None = None) -> None:
        if (path is None) == (points is None):
            raise ValueError(
                "points needs a CSV file of x1,x2 rows: points:path=FILE.csv"
                if path is None
                else "give points either a path or the points, not both"
            )
        if path is not None:
            self.path = os.path.expanduser(path)
            self.points = read_points_csv(self.path)
        else:
            self.path = None
            x = torch.as_tensor(points).detach().cpu().to(torch.float32)
            if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < MIN_POINTS:
                raise ValueError(f"points must be (n >= {MIN_POINTS}, 2); got {tuple(x.shape)}")
            if not torch.isfinite(x).all():
                raise ValueError("points hold NaN or infinity")
            self.points = x.clone()
        self.box = _box(self.points)

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        index = torch.randint(0, self.points.shape[0], (n,), generator=rng)
        return self.points[index]

    def __repr__(self) -> str:
        return f"Points(n={self.points.shape[0]}, path={self.path!r})"
