"""The probability-flow ODE of an SDE (Song et al. 2021, eq. (13)): sampling by a
fixed-step torchdiffeq solver, the reverse-SDE / ODE pair from one start, and the exact
log-likelihood in 2D by the instantaneous change of variables (exact divergence, dopri5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torchdiffeq import odeint

from .budget import current as current_budget
from .divergence import exact_divergence
from .sde import SDE, ScoreFn, denoise, reverse_sde_sample, sample_times

__all__ = [
    "probability_flow_drift",
    "probability_flow_path",
    "probability_flow_sample",
    "SDEODEPaths",
    "sde_ode_paths",
    "probability_flow_log_prob",
]

#: a run reports its progress (and may be cancelled, see :mod:`.budget`) about this many times
_REPORTS = 20


def probability_flow_drift(sde: SDE, score_fn: ScoreFn) -> Callable[[Tensor, Tensor], Tensor]:
    """``v(x, t) = f(x, t) - g(t)^2 s(x, t) / 2``: the ODE whose solutions have the SDE's
    marginals ``p_t`` (Song et al. 2021, eq. (13)). ``(x (n, *), t) -> (n, *)``."""

    def drift(x: Tensor, t: Tensor) -> Tensor:
        g = sde.diffusion(t)
        return sde.drift(x, t) - 0.5 * float(g * g) * score_fn(x, t)

    return drift


def probability_flow_path(
    sde: SDE, score_fn: ScoreFn, x: Tensor, times: Tensor, method: str = "rk4"
) -> Tensor:
    """The probability-flow ODE ``dx / dt = v(x, t)`` solved by torchdiffeq's fixed-step
    ``method`` on the grid ``times`` (decreasing: noise to data).

    Arguments:
        x: ``(n, *)`` the state at ``times[0]``.
        times: ``(m,)`` decreasing.
        method: a fixed-grid torchdiffeq solver (``euler``, ``midpoint``, ``rk4``).

    Returns:
        ``(m, n, *)``, index 0 is ``x``; deterministic given ``x``.

    Raises:
        Cancelled: the budget's picture is no longer wanted.

    References:
        Song et al. 2021, eq. (13); Chen et al., "Neural Ordinary Differential
        Equations", NeurIPS 2018 (torchdiffeq).
    """
    if len(times) == 1:
        return x[None]
    v = probability_flow_drift(sde, score_fn)
    budget = current_budget()
    per_step = {"euler": 1, "midpoint": 2, "rk4": 4}.get(method, 4)
    total = per_step * (len(times) - 1)
    every, nfe = max(1, total // _REPORTS), [0]

    def func(t: Tensor, y: Tensor) -> Tensor:
        if nfe[0] % every == 0:
            budget.progress("probability-flow ODE, evaluation", nfe[0], total)
        nfe[0] += 1
        return v(y, t.double())

    return odeint(func, x, times.to(x.dtype), method=method)


def probability_flow_sample(
    sde: SDE, score_fn: ScoreFn, x: Tensor, steps: int, method: str = "rk4"
) -> Tensor:
    """:func:`probability_flow_path` over :func:`sample_times` ``(steps, t_end)``, then
    :func:`denoise`: ``(steps + 1, n, *)``, noise first, sample last.

    Raises:
        ValueError: ``steps < 1``.
        Cancelled: the budget's picture is no longer wanted.
    """
    times = sample_times(steps, sde.t_end)
    path = probability_flow_path(sde, score_fn, x, times, method)
    return torch.cat([path, denoise(sde, score_fn, path[-1], times[-1])[None]])


@dataclass(frozen=True)
class SDEODEPaths:
    """The reverse-time SDE and the probability-flow ODE from one start (noise first).

    Attributes:
        sde, ode: ``(K + 1, n, *)``: :func:`reverse_sde_sample` and
            :func:`probability_flow_sample` of ``K`` steps; index 0 is the common start.
        times: ``(K + 1,)`` float64 SDE times, decreasing: :func:`sample_times` then 0
            (the denoised sample).
        noise_std: ``(K + 1,)`` float64 marginal noise std at each time (0 at the last).
    """

    sde: Tensor
    ode: Tensor
    times: Tensor
    noise_std: Tensor


def sde_ode_paths(
    sde: SDE, score_fn: ScoreFn, x: Tensor, steps: int, rng: torch.Generator
) -> SDEODEPaths:
    """Both samplers of Song et al. 2021 (eqs. (6) and (13)) from the same ``x = x(1)``
    ``(n, *)``, on the same grid of ``steps`` times.

    Raises:
        ValueError: ``steps < 1``.
        Cancelled: the budget's picture is no longer wanted.
    """
    ode = probability_flow_sample(sde, score_fn, x, steps)
    rev = reverse_sde_sample(sde, score_fn, x, steps, rng)
    times = torch.cat([sample_times(steps, sde.t_end), torch.zeros(1, dtype=torch.float64)])
    std = torch.stack(
        [sde.marginal(t)[1] for t in times[:-1]] + [torch.zeros((), dtype=torch.float64)]
    )
    return SDEODEPaths(rev, ode, times, std)


def probability_flow_log_prob(
    sde: SDE,
    score_fn: ScoreFn,
    x: Tensor,
    prior_log_prob: Callable[[Tensor], Tensor],
    t0: float | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> Tensor:
    """``log p_t0(x)`` of the probability-flow ODE by the instantaneous change of
    variables: ``log p_t0(x(t0)) = log p_1(x(1)) + int_t0^1 div v(x(t), t) dt``, with the
    exact divergence in 2D, solved by dopri5 from ``t0`` to 1.

    Arguments:
        x: ``(n, 2)`` points at time ``t0``.
        prior_log_prob: ``log p_1``, ``(n, 2) -> (n,)`` nats (``N(0, I)`` for a VP SDE).
        t0: the start time (``None``: ``sde.t_end``, DDPM's step 1 or NCSN's
            ``sigma_min``).
        rtol, atol: dopri5's tolerances.

    Returns:
        ``(n,)`` nats, in ``x``'s dtype.

    Raises:
        ValueError: ``x`` is not ``(n, 2)``.
        Cancelled: the budget's picture is no longer wanted.

    References:
        Song et al. 2021, section 4.3 and appendix D.2; Chen et al. 2018, theorem 1;
        Dormand and Prince 1980 (dopri5).
    """
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"probability_flow_log_prob needs (n, 2) points, got {tuple(x.shape)}")
    t0 = sde.t_end if t0 is None else float(t0)
    v = probability_flow_drift(sde, score_fn)
    budget = current_budget()

    def func(t: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        done = round(100 * (float(t) - t0) / max(1.0 - t0, 1e-12))
        budget.progress("probability-flow likelihood, percent", max(0, min(done, 100)), 100)
        with torch.enable_grad():
            y = state[0].detach().requires_grad_(True)
            dy = v(y, t.double())
            div = exact_divergence(dy, y, create_graph=False)
        return dy.detach(), div.detach()

    times = torch.tensor([t0, 1.0], dtype=x.dtype)
    start = (x.detach(), torch.zeros(x.shape[0], dtype=x.dtype, device=x.device))
    xs, deltas = odeint(func, start, times, method="dopri5", rtol=rtol, atol=atol)
    return prior_log_prob(xs[-1]) + deltas[-1]
