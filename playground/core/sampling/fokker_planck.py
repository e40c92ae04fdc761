"""The Kolmogorov-Fokker-Planck equation of Langevin dynamics on a grid: a finite-volume
solver (the particles it describes, and DDPM's forward SDE in closed form, are in
:mod:`.fokker_planck_particles`).

Langevin dynamics ``dX = grad log pi(X) dt + sqrt(2) dW`` moves the density ``p_t`` of
``X_t`` by the Fokker-Planck equation ``dp/dt = -div(p grad log pi) + Laplacian p``, which
is ``dp/dt = div(pi grad(p / pi))``: ``pi`` is its steady state. Time is the SDE's own
time unit throughout; lengths are data units, densities ``1 / data units^2``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from .budget import current as current_budget

__all__ = [
    "CellGrid",
    "bernoulli",
    "fokker_planck_generator",
    "gridded_target",
    "cell_peclet",
    "solve_fokker_planck",
    "CFL",
]

#: the explicit step is this fraction of the largest step that keeps ``p >= 0``
CFL = 0.9
#: a long run reports its progress (and may be cancelled, see :mod:`.budget`) this often
_REPORTS = 20


@dataclass(frozen=True)
class CellGrid:
    """A uniform grid of ``cells x cells`` finite volumes over ``box = (xmin, xmax, ymin,
    ymax)``; arrays over it are row-major, ``(cells, cells)`` with row ``i`` at ``ys[i]``
    and column ``j`` at ``xs[j]`` (the cell centres)."""

    box: tuple[float, float, float, float]
    cells: int

    @property
    def dx(self) -> float:
        """Cell width, data units."""
        return (self.box[1] - self.box[0]) / self.cells

    @property
    def dy(self) -> float:
        """Cell height, data units."""
        return (self.box[3] - self.box[2]) / self.cells

    @property
    def x_edges(self) -> np.ndarray:
        """``(cells + 1,)`` float64 cell edges along x."""
        return np.linspace(self.box[0], self.box[1], self.cells + 1)

    @property
    def y_edges(self) -> np.ndarray:
        """``(cells + 1,)`` float64 cell edges along y."""
        return np.linspace(self.box[2], self.box[3], self.cells + 1)

    @property
    def xs(self) -> np.ndarray:
        """``(cells,)`` float64 cell centres along x."""
        e = self.x_edges
        return 0.5 * (e[1:] + e[:-1])

    @property
    def ys(self) -> np.ndarray:
        """``(cells,)`` float64 cell centres along y."""
        e = self.y_edges
        return 0.5 * (e[1:] + e[:-1])

    def centres(self) -> Tensor:
        """``(cells^2, 2)`` float64 cell centres, row-major (x varying fastest)."""
        gy, gx = np.meshgrid(self.ys, self.xs, indexing="ij")
        return torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))


def bernoulli(z: np.ndarray) -> np.ndarray:
    """The Bernoulli function ``B(z) = z / (e^z - 1)``, ``B(0) = 1``, elementwise; ``B > 0``
    and ``B(-z) = B(z) + z``."""
    z = np.asarray(z, dtype=np.float64)
    small = np.abs(z) < 1e-8
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = z / np.expm1(np.where(small, 1.0, z))
    return np.where(small, 1.0 - 0.5 * z, out)


def _check_log_pi(log_pi: np.ndarray) -> np.ndarray:
    log_pi = np.asarray(log_pi, dtype=np.float64)
    if log_pi.ndim != 2 or min(log_pi.shape) < 2:
        raise ValueError(f"log_pi must be a (ny, nx) grid with ny, nx >= 2, got {log_pi.shape}")
    if not np.isfinite(log_pi).all():
        raise ValueError(
            "log_pi must be finite on every cell (the potential -log pi enters fluxes)"
        )
    return log_pi


def fokker_planck_generator(log_pi: np.ndarray, dx: float, dy: float) -> sp.csr_matrix:
    """The finite-volume Fokker-Planck operator ``L``: ``dm/dt = L m`` for the cell masses
    ``m`` (row-major, flattened) of ``dp/dt = div(pi grad(p / pi))`` with zero-flux walls.

    With ``U = -log pi`` at the cell centres and ``dU = U_b - U_a`` across the face of
    neighbouring cells ``a, b`` a distance ``h`` apart, the Scharfetter-Gummel flux from
    ``a`` to ``b`` is ``(B(dU) p_a - B(-dU) p_b) / h`` with the Bernoulli function ``B``
    (:func:`bernoulli`): exact for a constant drift across the face, it becomes the
    upwind flux where the drift dominates and the centred one where diffusion does. Per
    unit of mass, cell ``a`` sends ``B(U_b - U_a) / h^2`` to ``b``: ``L`` is the generator
    of a Markov jump process whose rates satisfy detailed balance with
    ``m_a ∝ exp(-U_a)`` (since ``B(-z) = e^z B(z)``), so the gridded target
    (:func:`gridded_target`) is its exact steady state. Columns sum to zero (mass is
    conserved) and off-diagonal entries are positive (an M-matrix: ``p`` stays
    non-negative under the explicit step of :func:`solve_fokker_planck`). The boundary
    faces carry no flux (a reflecting wall).

    Arguments:
        log_pi: ``(ny, nx)`` the target's log-density at the cell centres, nats; finite,
            normalised or not.
        dx, dy: the cell sides, data units.

    Returns:
        ``(ny nx, ny nx)`` float64 CSR matrix, rates in ``1 / time``.

    Raises:
        ValueError: ``log_pi`` not a finite 2D grid of at least 2 x 2 cells.

    References:
        Scharfetter & Gummel, "Large-signal analysis of a silicon Read diode oscillator",
        IEEE Trans. Electron Devices 16, 1969; Chang & Cooper, "A practical difference
        scheme for Fokker-Planck equations", J. Comput. Phys. 6, 1970; Pavliotis,
        "Stochastic Processes and Applications", Springer 2014, ch. 4 (the Fokker-Planck
        equation; reversible diffusions ``dX = -grad V dt + sqrt(2) dW`` and their steady
        state ``exp(-V) / Z``).
    """
    u = -_check_log_pi(log_pi)
    ny, nx = u.shape
    idx = np.arange(ny * nx).reshape(ny, nx)
    flat = u.ravel()
    rows, cols, vals = [], [], []
    for a, b, h in ((idx[:, :-1], idx[:, 1:], dx), (idx[:-1, :], idx[1:, :], dy)):
        a, b = a.ravel(), b.ravel()
        du = flat[b] - flat[a]
        rows += [b, a]  # entry (to, from) = rate from -> to
        cols += [a, b]
        vals += [bernoulli(du) / h**2, bernoulli(-du) / h**2]
    n = ny * nx
    off = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsr()
    out_rates = np.asarray(off.sum(axis=0)).ravel()
    return (off - sp.diags(out_rates)).tocsr()


def gridded_target(log_pi: np.ndarray) -> np.ndarray:
    """``exp(log_pi)`` normalised to cell masses summing to 1: ``(ny, nx)`` float64, the
    steady state of :func:`fokker_planck_generator`."""
    log_pi = _check_log_pi(log_pi)
    w = np.exp(log_pi - log_pi.max())
    return w / w.sum()


def cell_peclet(log_pi: np.ndarray, mass_floor: float = 1e-4) -> float:
    """The largest jump ``|log pi_b - log pi_a|`` (nats) across a face whose two cells both
    hold at least ``mass_floor`` times the largest cell's target mass: the cell Péclet
    number, drift times cell size over diffusion. Near 1 or less the grid resolves the
    target; much above it a mode is narrower than a cell. ``inf`` if ``log_pi`` is not
    finite everywhere (a density with a hard edge: the fluxes need a finite potential)."""
    log_pi = np.asarray(log_pi, dtype=np.float64)
    if not np.isfinite(log_pi).all():
        return math.inf
    heavy = log_pi >= log_pi.max() + math.log(mass_floor)
    worst = 0.0
    for a, b, ha, hb in (
        (log_pi[:, :-1], log_pi[:, 1:], heavy[:, :-1], heavy[:, 1:]),
        (log_pi[:-1, :], log_pi[1:, :], heavy[:-1, :], heavy[1:, :]),
    ):
        jump = np.abs(b - a)[ha & hb]
        if jump.size:
            worst = max(worst, float(jump.max()))
    return worst


def solve_fokker_planck(
    log_pi: np.ndarray,
    p0: np.ndarray,
    times: Sequence[float],
    dx: float,
    dy: float,
    cfl: float = CFL,
    label: str = "Fokker-Planck",
) -> np.ndarray:
    """Cell masses of ``dp/dt = div(pi grad(p / pi))`` at ``times``, from ``p0``.

    Explicit Euler on :func:`fokker_planck_generator`'s ``L``, ``m <- (I + dt L) m``, with
    ``dt = cfl / max_a |L_aa|`` (``cfl <= 1`` keeps every entry of ``I + dt L`` non-negative,
    so ``m >= 0``; columns of ``L`` sum to zero, so the mass is conserved to round-off);
    each output time is reached exactly by a last, shorter step. The time error is
    first order in ``dt`` (about ``h^2 / 4``), far below the spatial one.

    Arguments:
        log_pi: ``(ny, nx)`` target log-density at the cell centres (nats, finite).
        p0: ``(ny, nx)`` initial cell masses, ``>= 0`` (their sum is kept).
        times: non-decreasing output times, ``>= 0``, SDE time units.
        dx, dy: cell sides, data units.
        cfl: fraction of the largest positive step, in ``(0, 1]``.
        label: what the run is called in its progress reports (:mod:`.budget`).

    Returns:
        ``(len(times), ny, nx)`` float64 cell masses.

    Raises:
        ValueError: bad shapes, negative ``p0``, decreasing or negative times, ``cfl``
            outside ``(0, 1]``.
        Cancelled: the picture this run is for is no longer wanted (:mod:`.budget`).

    References:
        See :func:`fokker_planck_generator`.
    """
    generator = fokker_planck_generator(log_pi, dx, dy)
    p = np.asarray(p0, dtype=np.float64)
    if p.shape != np.shape(log_pi):
        raise ValueError(f"p0 has shape {p.shape}, log_pi {np.shape(log_pi)}")
    if (p < 0).any():
        raise ValueError("p0 must be non-negative")
    times = np.asarray(times, dtype=np.float64)
    if times.size and (times[0] < 0 or (np.diff(times) < 0).any()):
        raise ValueError("times must be non-negative and non-decreasing")
    if not 0 < cfl <= 1:
        raise ValueError(f"cfl must be in (0, 1], got {cfl}")
    dt = cfl / float(np.max(-generator.diagonal()))
    step = (sp.identity(generator.shape[0], format="csr") + dt * generator).tocsr()
    m, t, out = p.ravel().copy(), 0.0, []
    total = int(times[-1] / dt) + 1 if times.size else 0
    budget, every, done = current_budget(), max(1, total // _REPORTS), 0
    for target in times:
        full = int(math.floor((target - t) / dt))
        for _ in range(full):
            if done % every == 0:
                budget.progress(f"{label}, step", done, total)
            m = step @ m
            done += 1
        rest = target - t - full * dt
        if rest > 0:
            m = m + rest * (generator @ m)
        t = float(target)
        out.append(m.reshape(p.shape).copy())
    return np.stack(out) if out else np.zeros((0, *p.shape))
