"""DDIM: denoising diffusion implicit models, sampling a DDPM's noise prediction on a
subsequence of its steps, from deterministic (``eta = 0``) to DDPM-like (``eta = 1``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from .budget import current as current_budget

__all__ = ["ddim_timesteps", "ddim_sigma", "ddim_step", "ddim_path"]

#: a run reports its progress (and may be cancelled, see :mod:`.budget`) about this many times
_REPORTS = 20


def ddim_timesteps(T: int, steps: int) -> list[int]:
    """The subsequence ``tau``: ``min(steps, T)`` distinct steps evenly spaced from ``T``
    down to 1 (the course's 1-based steps), decreasing.

    Raises:
        ValueError: ``steps < 1`` or ``T < 1``.

    References:
        Song, Meng and Ermon, "Denoising Diffusion Implicit Models", ICLR 2021, section 4.2
        and appendix D.2 (evenly spaced ``tau``).
    """
    if steps < 1 or T < 1:
        raise ValueError(f"need steps >= 1 and T >= 1, got steps={steps}, T={T}")
    taus = np.unique(np.round(np.linspace(1, T, min(steps, T))).astype(np.int64))
    return [int(t) for t in taus[::-1]]


def ddim_sigma(abar_t: Tensor, abar_prev: Tensor, eta: float) -> Tensor:
    """``sigma = eta sqrt((1 - abar_prev) / (1 - abar_t)) sqrt(1 - abar_t / abar_prev)``
    (DDIM eq. (16)); at ``eta = 1`` and consecutive steps it is DDPM's posterior std
    ``sqrt(beta_tilde_t)`` (Ho et al. 2020, eq. (7))."""
    return eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)).clamp(min=0).sqrt()


def ddim_step(
    x: Tensor, eps: Tensor, abar_t: Tensor, abar_prev: Tensor, eta: float, noise: Tensor | None
) -> Tensor:
    """One DDIM update from step ``t`` to the previous step of ``tau`` (DDIM eq. (12)):

    ``x_prev = sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev - sigma^2) eps + sigma z`` with
    ``x0_hat = (x - sqrt(1 - abar_t) eps) / sqrt(abar_t)`` and ``sigma`` of :func:`ddim_sigma`.

    Arguments:
        x, eps: ``(n, *)`` the state at ``t`` and its predicted noise.
        abar_t, abar_prev: ``alpha_bar`` at ``t`` and at the previous step (1 for ``x_0``),
            float64 scalars.
        eta: in ``[0, 1]``.
        noise: ``z`` shaped like ``x``; ``None`` (only for ``eta = 0``) adds none.

    Returns:
        ``(n, *)`` in ``x``'s dtype.

    Raises:
        ValueError: ``eta > 0`` without ``noise``.
    """
    sigma = ddim_sigma(abar_t, abar_prev, eta)
    if noise is None and float(sigma) > 0:
        raise ValueError("a DDIM step with eta > 0 needs noise")
    x0 = (x - float((1 - abar_t).sqrt()) * eps) / float(abar_t.sqrt())
    direction = float((1 - abar_prev - sigma**2).clamp(min=0).sqrt()) * eps
    out = float(abar_prev.sqrt()) * x0 + direction
    return out if noise is None else out + float(sigma) * noise


def ddim_path(
    alpha_bars: Tensor,
    eps_fn: Callable[[Tensor, Tensor], Tensor],
    x: Tensor,
    steps: int,
    eta: float,
    rng: torch.Generator,
) -> Tensor:
    """DDIM sampling from ``x = x_T`` over :func:`ddim_timesteps` ``(T, steps)`` to ``x_0``.

    Arguments:
        alpha_bars: ``(T,)`` the schedule's ``abar_1..abar_T``.
        eps_fn: ``eps_theta(x, t)``: ``x (n, *)``, ``t (n,)`` int64 steps -> ``(n, *)``.
        x: ``(n, *)`` the start ``x_T``.
        steps: the length of ``tau`` (``T`` at most).
        eta: ``0`` deterministic (DDIM), ``1`` DDPM's posterior variance.
        rng: the noise ``z``; untouched when ``eta = 0``.

    Returns:
        ``(K + 1, n, *)`` with ``K = min(steps, T)``: index 0 is ``x_T``, the last ``x_0``.

    Raises:
        ValueError: ``steps < 1`` or ``eta`` outside ``[0, 1]``.
        Cancelled: the budget's picture is no longer wanted (see :mod:`.budget`).

    References:
        Song, Meng and Ermon, "Denoising Diffusion Implicit Models", ICLR 2021, eqs. (12)
        and (16).
    """
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta must lie in [0, 1], not {eta}")
    abar = torch.as_tensor(alpha_bars, dtype=torch.float64).detach().cpu()
    taus = ddim_timesteps(len(abar), steps)
    budget, every = current_budget(), max(1, len(taus) // _REPORTS)
    path = [x]
    for i, t in enumerate(taus):
        if i % every == 0:
            budget.progress("DDIM, step", i, len(taus))
        prev = taus[i + 1] if i + 1 < len(taus) else 0
        abar_prev = abar[prev - 1] if prev > 0 else torch.ones((), dtype=torch.float64)
        eps = eps_fn(x, torch.full((x.shape[0],), t, dtype=torch.long, device=x.device))
        noise = None
        if eta > 0:
            noise = torch.randn(x.shape, generator=rng, device=rng.device, dtype=x.dtype).to(x)
        x = ddim_step(x, eps, abar[t - 1], abar_prev, eta, noise)
        path.append(x)
    return torch.stack(path)
