"""The particles the Fokker-Planck equation describes, binned on its cells: reflected
Euler-Maruyama Langevin particles, the total-variation distance to the grid density and
its sampling floor, and the forward noising SDE of DDPM in closed form for Gaussian
mixtures (the solver is :mod:`.fokker_planck`). Time is the SDE's own time unit; lengths
are data units, densities ``1 / data units^2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.special import ndtr
from torch import Tensor

from .budget import current as current_budget
from .fokker_planck import _REPORTS, CellGrid

__all__ = [
    "histogram",
    "total_variation",
    "sampling_floor",
    "mixture_score_fn",
    "langevin_histograms",
    "vp_alpha_bar",
    "vp_mixture_cells",
    "vp_histograms",
    "VP_MAX_BETA_DT",
]

#: the forward VP SDE's Euler-Maruyama step keeps ``beta(t) dt`` at most this
VP_MAX_BETA_DT = 0.02


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
