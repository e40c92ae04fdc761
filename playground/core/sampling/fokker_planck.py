"""The Kolmogorov-Fokker-Planck equation of Langevin dynamics on a grid, and the particles
it describes: a finite-volume solver, reflected Euler-Maruyama particles binned on the same
cells, and the forward noising SDE of DDPM in closed form for Gaussian mixtures.

Langevin dynamics ``dX = grad log pi(X) dt + sqrt(2) dW`` moves the density ``p_t`` of
``X_t`` by the Fokker-Planck equation ``dp/dt = -div(p grad log pi) + Laplacian p``, which
is ``dp/dt = div(pi grad(p / pi))``: ``pi`` is its steady state. Time is the SDE's own
time unit throughout; lengths are data units, densities ``1 / data units^2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import ndtr
from torch import Tensor

from .budget import current as current_budget

__all__ = [
    "CellGrid",
    "bernoulli",
    "fokker_planck_generator",
    "gridded_target",
    "cell_peclet",
    "solve_fokker_planck",
    "histogram",
    "total_variation",
    "sampling_floor",
    "mixture_score_fn",
    "langevin_histograms",
    "vp_alpha_bar",
    "vp_mixture_cells",
    "vp_histograms",
    "CFL",
    "VP_MAX_BETA_DT",
]

#: the explicit step is this fraction of the largest step that keeps ``p >= 0``
CFL = 0.9
#: the forward VP SDE's Euler-Maruyama step keeps ``beta(t) dt`` at most this
VP_MAX_BETA_DT = 0.02
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


def histogram(x: Tensor | np.ndarray, grid: CellGrid) -> tuple[np.ndarray, float]:
    """Particles binned on ``grid``: ``(cell masses (cells, cells) float64, mass outside
    the box)``, each particle weighing ``1 / n``; non-finite particles count as outside."""
    x = np.asarray(x.detach().cpu().numpy() if torch.is_tensor(x) else x, dtype=np.float64)
    n = max(len(x), 1)
    counts, _, _ = np.histogram2d(x[:, 1], x[:, 0], bins=[grid.y_edges, grid.x_edges])
    masses = counts / n
    return masses, max(0.0, 1.0 - float(masses.sum()))


def sampling_floor(masses: np.ndarray, n: int, rng: np.random.Generator) -> float:
    """The total-variation distance between ``masses`` (cells, summing to at most 1) and a
    histogram of ``n`` exact draws from it (one multinomial draw): the part of a particle
    histogram's distance that is sampling noise alone, about ``sqrt(cells / n)`` times a
    constant while most occupied cells hold few particles."""
    p = np.clip(np.asarray(masses, dtype=np.float64).ravel(), 0.0, None)
    out = max(0.0, 1.0 - p.sum())
    counts = rng.multinomial(n, np.append(p, out) / (p.sum() + out))
    return total_variation(counts[:-1] / n, p, counts[-1] / n, out)


def mixture_score_fn(means: Tensor, weights: Tensor, std: float) -> Callable[[Tensor], Tensor]:
    """``grad log sum_k w_k N(x; mu_k, std^2 I)`` as ``(n, 2) float64 -> (n, 2)``:
    ``(sum_k r_k(x) mu_k - x) / std^2`` with the responsibilities ``r = softmax(log w_k +
    x . mu_k / std^2 - |mu_k|^2 / (2 std^2))`` (the ``|x|^2`` term cancels), as matrix
    products: the same values as :func:`~playground.core.data.mixtures.mixture_score`
    without its ``(n, k, 2)`` temporaries; the softmax runs over the leading dimension of
    ``(k, n)`` logits (torch's over a short last dimension is 8 times slower)."""
    mu = means.to(torch.float64)
    var = float(std) ** 2
    bias = (weights.to(torch.float64).log() - 0.5 * mu.square().sum(1) / var)[:, None]

    def score(x: Tensor) -> Tensor:
        r = torch.softmax((mu / var) @ x.T + bias, dim=0)  # (k, n)
        return ((mu.T @ r).T - x) / var

    return score


def total_variation(p: np.ndarray, q: np.ndarray, p_out: float = 0.0, q_out: float = 0.0) -> float:
    """``1/2 sum |p - q|`` over the cells and the outside of the box (masses ``p_out``,
    ``q_out``): the total-variation distance of the two distributions coarsened to the
    grid, in ``[0, 1]``."""
    return 0.5 * (float(np.abs(np.asarray(p) - np.asarray(q)).sum()) + abs(p_out - q_out))


def _reflect(x: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    x = torch.where(x < lo, 2 * lo - x, x)
    x = torch.where(x > hi, 2 * hi - x, x)
    return torch.minimum(torch.maximum(x, lo), hi)  # a move of a whole box width: stop


@torch.no_grad()
def langevin_histograms(
    score_fn: Callable[[Tensor], Tensor],
    x0: Tensor,
    times: Sequence[float],
    step: float,
    grid: CellGrid,
    rng: torch.Generator,
    label: str = "Langevin particles",
) -> np.ndarray:
    """Unadjusted Langevin particles ``x <- x + dt grad log pi(x) + sqrt(2 dt) eps``
    (Euler-Maruyama for ``dX = grad log pi dt + sqrt(2) dW``; :func:`~.langevin.langevin`'s
    update with ``eta = 2 dt``), reflected at the box's walls as the Fokker-Planck solution
    is (zero flux), binned on ``grid`` at ``times``.

    Arguments:
        score_fn: ``(n, 2) float64 -> (n, 2)``, ``grad log pi``, ``1 / data units``.
        x0: ``(n, 2)`` starting particles inside the box.
        times: non-decreasing output times ``>= 0``, SDE time units.
        step: the largest Euler-Maruyama step ``dt > 0``; each interval between output
            times is cut into equal steps no longer than it.
        grid: the cells (and the box of the walls).
        rng: the only source of randomness (one ``eps`` ``(n, 2)`` per step).
        label: what the run is called in its progress reports.

    Returns:
        ``(len(times), cells, cells)`` float64 cell masses (each sums to 1).

    Raises:
        ValueError: ``step <= 0`` or decreasing times.
        Cancelled: the picture is no longer wanted (:mod:`.budget`).

    References:
        Roberts & Tweedie, "Exponential convergence of Langevin distributions and their
        discrete approximations", Bernoulli 1996; Pavliotis (2014), ch. 4 (reversible
        diffusions); reflected Euler-Maruyama: Gobet, "Euler schemes and half-space
        approximation for the simulation of diffusion in a domain", ESAIM P&S 5, 2001.
    """
    if step <= 0:
        raise ValueError(f"step must be > 0, got {step}")
    times = np.asarray(times, dtype=np.float64)
    if times.size and (times[0] < 0 or (np.diff(times) < 0).any()):
        raise ValueError("times must be non-negative and non-decreasing")
    xmin, xmax, ymin, ymax = grid.box
    lo = torch.tensor([xmin, ymin], dtype=torch.float64)
    hi = torch.tensor([xmax, ymax], dtype=torch.float64)
    x = _reflect(x0.detach().to(torch.float64).clone(), lo, hi)
    total = int(math.ceil(times[-1] / step)) if times.size else 0
    budget, every, done = current_budget(), max(1, total // _REPORTS), 0
    t, out = 0.0, []
    for target in times:
        k = int(math.ceil((target - t) / step - 1e-9))
        dt = (target - t) / k if k > 0 else 0.0
        for _ in range(k):
            if done % every == 0:
                budget.progress(f"{label}, step", done, total)
            eps = torch.randn(x.shape, generator=rng, dtype=torch.float64)
            x = _reflect(x + dt * score_fn(x) + math.sqrt(2 * dt) * eps, lo, hi)
            done += 1
        t = float(target)
        out.append(histogram(x, grid)[0])
    return np.stack(out)


# ----------------------------------------------------------------------------- the VP SDE


def vp_alpha_bar(times: np.ndarray, signal_scale: np.ndarray) -> np.ndarray:
    """``abar(t) = exp(-int_0^t beta(s) ds)`` of the VP SDE that passes through a DDPM's
    schedule: ``abar(k / K) = signal_scale[k]^2`` at its steps ``k = 0..K``, ``log abar``
    linear in between (``beta`` constant on each step, ``K beta_t`` to first order).

    Arguments:
        times: SDE times in ``[0, 1]`` (``t = k / K`` is step ``k``).
        signal_scale: ``(K + 1,)`` ``sqrt(abar_k)`` with ``abar_0 = 1`` (a DDPM's
            :class:`~playground.core.models.base.NoiseProcess`).

    Returns:
        ``abar(times)``, float64, same shape as ``times``.

    References:
        Song et al., "Score-based generative modeling through stochastic differential
        equations", ICLR 2021, eqs. 11 and 29 (the VP SDE and its marginals).
    """
    scale = np.asarray(signal_scale, dtype=np.float64)
    knots = np.linspace(0.0, 1.0, len(scale))
    return np.exp(np.interp(times, knots, 2 * np.log(scale)))


def vp_mixture_cells(
    means: np.ndarray, weights: np.ndarray, std: float, abar: float, grid: CellGrid
) -> tuple[np.ndarray, float]:
    """Exact cell masses of the VP SDE's marginal for the data ``sum_k w_k N(mu_k, std^2 I)``:
    ``p_t = sum_k w_k N(sqrt(abar) mu_k, (abar std^2 + 1 - abar) I)``, integrated over each
    cell (products of normal CDF differences). With ``abar = exp(-2 t)`` it is also
    Langevin dynamics on ``N(0, I)`` (the Ornstein-Uhlenbeck process) at time ``t``.

    Arguments:
        means: ``(k, 2)`` the data's component means, data units.
        weights: ``(k,)`` the component weights, summing to 1.
        std: the components' standard deviation, data units.
        abar: ``abar(t)`` in ``[0, 1]`` (:func:`vp_alpha_bar`); 1 is the data, 0 ``N(0, I)``.
        grid: the cells.

    Returns:
        ``(masses (cells, cells) float64, mass outside the box)``.

    References:
        Song et al. (ICLR 2021), eq. 29 (the VP perturbation kernel).
    """
    mu = np.sqrt(abar) * np.asarray(means, dtype=np.float64)  # (k, 2)
    s = math.sqrt(abar * std**2 + 1.0 - abar)
    px = np.diff(ndtr((grid.x_edges[None, :] - mu[:, :1]) / s), axis=1)  # (k, cells)
    py = np.diff(ndtr((grid.y_edges[None, :] - mu[:, 1:]) / s), axis=1)
    masses = np.einsum("k,ki,kj->ij", np.asarray(weights, dtype=np.float64), py, px)
    return masses, max(0.0, 1.0 - float(masses.sum()))


@torch.no_grad()
def vp_histograms(
    x0: Tensor,
    signal_scale: np.ndarray,
    times: Sequence[float],
    grid: CellGrid,
    rng: torch.Generator,
    max_beta_dt: float = VP_MAX_BETA_DT,
) -> tuple[np.ndarray, np.ndarray]:
    """Data particles pushed through the forward VP SDE ``dX = -1/2 beta(t) X dt +
    sqrt(beta(t)) dW`` (:func:`vp_alpha_bar`'s ``beta``) by Euler-Maruyama, ``beta dt <=
    max_beta_dt`` per step, binned on ``grid`` at ``times`` (in ``[0, 1]``).

    Returns:
        ``(masses (len(times), cells, cells), outside (len(times),))`` float64.

    Raises:
        ValueError: times outside ``[0, 1]`` or decreasing.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.size and (times[0] < 0 or times[-1] > 1 or (np.diff(times) < 0).any()):
        raise ValueError("times must be non-decreasing in [0, 1]")
    K = len(signal_scale) - 1
    log_abar = 2 * np.log(np.asarray(signal_scale, dtype=np.float64))
    x = x0.detach().to(torch.float64).clone()
    budget, t, masses, outside = current_budget(), 0.0, [], []
    for target in times:
        while t < target - 1e-12:
            k = min(int(math.floor(t * K + 1e-9)), K - 1)  # the step interval t is in
            beta = K * (log_abar[k] - log_abar[k + 1])
            end = min(target, (k + 1) / K)
            n = max(1, int(math.ceil(beta * (end - t) / max_beta_dt)))
            dt = (end - t) / n
            for _ in range(n):
                eps = torch.randn(x.shape, generator=rng, dtype=torch.float64)
                x = x - 0.5 * beta * dt * x + math.sqrt(beta * dt) * eps
            t = end
            budget.progress("forward SDE, step", k, K)
        m, out = histogram(x, grid)
        masses.append(m)
        outside.append(out)
    return np.stack(masses), np.asarray(outside)
