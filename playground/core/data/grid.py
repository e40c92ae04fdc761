"""A 2D density discretised on a K x K grid over its plotting box: the bin of each point,
the centres of the bins, and the exact probability of each cell with its discrete entropy
(the course's first homework: an autoregressive model of binned 2D data).

Cell ``(a, b)`` is the square ``[x_a, x_a + w) x [y_b, y_b + h)`` of the box ``(xmin, xmax,
ymin, ymax)`` cut into ``K`` columns (``a``, along x1) and ``K`` rows (``b``, along x2);
arrays of cells are indexed ``[a, b]``: x1's bin first, like the columns of
:meth:`Grid.index`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "Grid",
    "CellProbabilities",
    "cell_probabilities",
    "discrete_entropy",
    "QUADRATURE_POINTS",
    "MONTE_CARLO_SAMPLES",
    "MONTE_CARLO_SEED",
]

#: sub-grid points per side of a cell for the quadrature of an exact density (8 x 8 = 64)
QUADRATURE_POINTS = 8
#: samples of the Monte Carlo estimate of a density without an exact log-density
MONTE_CARLO_SAMPLES = 2_000_000
#: the seed of those samples (fixed: the estimate is the same at every call)
MONTE_CARLO_SEED = 12_345
#: points per chunk of the quadrature and the Monte Carlo histogram (a few MiB each)
_CHUNK = 65_536
#: (dataset name, K, points, samples) -> CellProbabilities, computed once per process
_CACHE: dict[tuple[str, int, int, int], CellProbabilities] = {}


@dataclass(frozen=True)
class Grid:
    """``bins`` x ``bins`` equal cells over ``box = (xmin, xmax, ymin, ymax)``.

    Raises:
        ValueError: fewer than 1 bin, or an empty box.
    """

    box: tuple[float, float, float, float]
    bins: int

    def __post_init__(self) -> None:
        xmin, xmax, ymin, ymax = self.box
        if self.bins < 1:
            raise ValueError(f"a grid needs at least one bin per side, not {self.bins}")
        if not (xmax > xmin and ymax > ymin):
            raise ValueError(f"the box {self.box} is empty")

    @property
    def widths(self) -> tuple[float, float]:
        """The width of a cell along x1 and along x2 (data units)."""
        xmin, xmax, ymin, ymax = self.box
        return (xmax - xmin) / self.bins, (ymax - ymin) / self.bins

    @property
    def cell_area(self) -> float:
        """The area of one cell (data units squared)."""
        w, h = self.widths
        return w * h

    def index(self, x: Tensor) -> Tensor:
        """The bins of points ``x (n, 2)``: ``(n, 2)`` int64 in ``0..bins-1`` (x1's bin,
        x2's bin); a point outside the box takes the bin of the nearest edge (clamped)."""
        lo = torch.tensor([self.box[0], self.box[2]], dtype=torch.float64, device=x.device)
        w = torch.tensor(self.widths, dtype=torch.float64, device=x.device)
        k = torch.floor((x.double() - lo) / w)
        return k.clamp(0, self.bins - 1).long()

    def axis_centres(self) -> tuple[Tensor, Tensor]:
        """The centres of the bins along x1 and along x2: two ``(bins,)`` float32."""
        xmin, _, ymin, _ = self.box
        w, h = self.widths
        k = torch.arange(self.bins, dtype=torch.float64) + 0.5
        return (xmin + k * w).float(), (ymin + k * h).float()

    def centres(self, k: Tensor) -> Tensor:
        """The centres ``(n, 2)`` float32 of the bins ``k (n, 2)`` (the inverse of
        :meth:`index` up to the cell: ``index(centres(k)) == k``)."""
        lo = torch.tensor([self.box[0], self.box[2]], dtype=torch.float64, device=k.device)
        w = torch.tensor(self.widths, dtype=torch.float64, device=k.device)
        return (lo + (k.double() + 0.5) * w).float()

    def flat(self, k: Tensor) -> Tensor:
        """The cell number ``a * bins + b`` ``(n,)`` of the bins ``k (n, 2) = (a, b)``."""
        return k[:, 0] * self.bins + k[:, 1]


@dataclass(frozen=True)
class CellProbabilities:
    """The probability of each cell of a grid under a 2D density.

    Attributes:
        grid: the :class:`Grid`.
        probs: ``(K, K)`` float64 ``P[a, b]`` of cell (x1 bin ``a``, x2 bin ``b``); sums to 1.
        entropy: ``-sum P log P``, nats (the best expected NLL of any model of the bins).
        outside: the mass outside the box, dropped before normalising (the quadrature's
            ``1 - sum`` of its raw cell masses, or the share of the Monte Carlo samples
            outside the box).
        method: how ``probs`` was found, in words.
    """

    grid: Grid
    probs: Tensor
    entropy: float
    outside: float
    method: str


def discrete_entropy(probs: Tensor) -> float:
    """``H(P) = -sum_c P_c log P_c`` in nats of cell probabilities ``probs (*)`` (summing
    to 1; cells of probability 0 contribute 0).

    Raises:
        ValueError: a negative probability, or probabilities that do not sum to 1 (within
            ``1e-6``).
    """
    p = probs.double().reshape(-1)
    if bool((p < 0).any()) or abs(float(p.sum()) - 1.0) > 1e-6:
        raise ValueError(f"probabilities must be non-negative and sum to 1, not {float(p.sum())}")
    nz = p[p > 0]
    return float(-(nz * nz.log()).sum())


def _quadrature(data: Any, grid: Grid, points: int) -> tuple[Tensor, float]:
    """Raw cell masses ``(K, K)`` by the midpoint rule on ``points`` x ``points`` sub-cells."""
    k, s = grid.bins, points
    xmin, _, ymin, _ = grid.box
    w, h = grid.widths
    # the sub-cell centres along each axis, K * s of them, cell-major
    u = (torch.arange(k * s, dtype=torch.float64) + 0.5) / s
    xs, ys = xmin + u * w, ymin + u * h
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")  # [x index, y index]
    pts = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    dens = torch.cat([data.log_prob(c).double().exp() for c in pts.split(_CHUNK)])
    dens = torch.nan_to_num(dens, nan=0.0, posinf=0.0).reshape(k, s, k, s)
    mass = dens.mean(dim=(1, 3)) * grid.cell_area
    return mass, float(mass.sum())


def _monte_carlo(data: Any, grid: Grid, n: int) -> tuple[Tensor, float]:
    """Cell frequencies ``(K, K)`` of ``n`` seeded samples inside the box; the share outside."""
    g = torch.Generator().manual_seed(MONTE_CARLO_SEED)
    counts = torch.zeros(grid.bins * grid.bins, dtype=torch.float64)
    xmin, xmax, ymin, ymax = grid.box
    inside = 0
    for start in range(0, n, _CHUNK):
        x = data.sample(min(_CHUNK, n - start), g).double()
        keep = (x[:, 0] >= xmin) & (x[:, 0] < xmax) & (x[:, 1] >= ymin) & (x[:, 1] < ymax)
        x = x[keep]
        inside += len(x)
        counts += torch.bincount(grid.flat(grid.index(x)), minlength=counts.numel()).double()
    return counts.reshape(grid.bins, grid.bins), 1.0 - inside / n


def cell_probabilities(
    data: Any,
    bins: int,
    points: int = QUADRATURE_POINTS,
    samples: int = MONTE_CARLO_SAMPLES,
    cache: bool = True,
) -> CellProbabilities:
    """The probability of each cell of the ``bins`` x ``bins`` grid over ``data.box``.

    Where the density is exact (``data.has_log_prob``), each cell's mass is the integral
    of ``p`` over it by the midpoint rule on ``points`` x ``points`` sub-cells (8 x 8 by
    default), and the masses are normalised over the box (what little mass lies outside
    the box is dropped: :attr:`CellProbabilities.outside`). Otherwise the probabilities are
    a Monte Carlo estimate: the cell frequencies of ``samples`` exact samples (2,000,000 by
    default, seed :data:`MONTE_CARLO_SEED`) that fall inside the box; a cell of
    probability ``P`` is then off by about ``sqrt(P / samples)``.

    Arguments:
        data: a 2D density with a ``box`` and ``has_log_prob``/``log_prob`` or ``sample``.
        bins: ``K``, cells per side.
        points: quadrature points per side of a cell.
        samples: Monte Carlo samples.
        cache: keep and reuse the result per ``(data.name, bins, points, samples)``.

    Returns:
        A :class:`CellProbabilities`.

    Raises:
        ValueError: ``bins < 1``, or a density that can neither be evaluated nor sampled,
            or one with no mass in its box.
    """
    key = (data.name, int(bins), int(points), int(samples))
    if cache and key in _CACHE:
        return _CACHE[key]
    grid = Grid(tuple(float(v) for v in data.box), int(bins))
    with torch.no_grad():
        if data.has_log_prob:
            mass, total = _quadrature(data, grid, points)
            method = f"quadrature, {points} x {points} points per cell, normalised over the box"
            outside = max(0.0, 1.0 - total)
        elif data.can_sample:
            mass, outside = _monte_carlo(data, grid, samples)
            total = float(mass.sum())
            method = f"Monte Carlo estimate from {samples:,} samples"
        else:
            raise ValueError(f"{data.name} has neither an exact density nor a sampler")
    if not total > 0 or not math.isfinite(total):
        raise ValueError(f"{data.name} has no mass in its box {grid.box}")
    probs = mass / total
    out = CellProbabilities(grid, probs, discrete_entropy(probs), outside, method)
    if cache:
        _CACHE[key] = out
    return out
