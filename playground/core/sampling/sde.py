"""The SDEs behind DDPM and NCSN, their reverse-time SDE by Euler-Maruyama and the
probability-flow ODE of :mod:`.probability_flow` (Song et al. 2021).

Time ``t`` runs over ``[0, 1]``: 0 is the data, 1 the noise. Both SDEs have the form
``dx = f(x, t) dt + g(t) dw`` with a Gaussian marginal ``x(t) = scale(t) x_0 + std(t) eps``
given the clean data ``x_0``. A score function is ``score_fn(x, t) -> grad_x log p_t(x)``
with ``x (n, *)`` and ``t`` a 0-dimensional tensor (or float).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .budget import current as current_budget

__all__ = [
    "VPSDE",
    "VESDE",
    "SDE",
    "ScoreFn",
    "sample_times",
    "forward_euler_maruyama",
    "reverse_sde_path",
    "denoise",
    "reverse_sde_sample",
]

ScoreFn = Callable[[Tensor, Tensor], Tensor]

#: a run reports its progress (and may be cancelled, see :mod:`.budget`) about this many times
_REPORTS = 20


def _t(t: float | Tensor) -> Tensor:
    return torch.as_tensor(t, dtype=torch.float64).detach().cpu()


class VPSDE:
    """The variance-preserving SDE of DDPM: ``dx = -beta(t) x / 2 dt + sqrt(beta(t)) dw``,
    so ``x(t) = sqrt(abar(t)) x_0 + sqrt(1 - abar(t)) eps`` with
    ``abar(t) = exp(-int_0^t beta)``.

    Built from a discrete schedule's ``alpha_bars`` (``T`` steps): ``log abar`` is
    interpolated between the knots ``t = k / T`` (``abar(0) = 1``) by a monotone cubic
    Hermite spline (Fritsch-Butland slopes), so ``abar(k / T)`` is DDPM's ``abar_k``
    exactly and ``beta`` is continuous and non-negative, about ``T log(1 / alpha_k)``
    (``~ T beta_k``, Song et al.'s limit of DDPM) near step ``k``; a piecewise-constant
    ``beta`` made dopri5's likelihood 0.06 nats off at tolerance 1e-5. Step ``k`` of the
    DDPM is time ``k / T``.

    Arguments:
        alpha_bars: ``(T,)`` the schedule's ``abar_1..abar_T``, decreasing in ``(0, 1]``.

    Raises:
        ValueError: ``alpha_bars`` empty or not in ``(0, 1]``.

    References:
        Song et al., "Score-Based Generative Modeling through Stochastic Differential
        Equations", ICLR 2021, eq. (11) and appendix B.
    """

    kind = "vp"

    def __init__(self, alpha_bars: Tensor):
        abar = torch.as_tensor(alpha_bars, dtype=torch.float64).detach().cpu().reshape(-1)
        if len(abar) == 0 or bool((abar <= 0).any()) or bool((abar > 1).any()):
            raise ValueError("alpha_bars must be a non-empty (T,) tensor in (0, 1]")
        self.T = len(abar)
        self.log_abar = torch.cat([torch.zeros(1, dtype=torch.float64), abar.log()])
        secant = self.log_abar.diff()  # (T,), per step, <= 0
        a, b = secant[:-1], secant[1:]
        harmonic = torch.where(a * b > 0, 2 * a * b / (a + b).where(a + b != 0, -1.0), 0.0)
        #: the spline's slopes d log abar / d step at the knots, (T + 1,)
        self.slopes = torch.cat([secant[:1], harmonic, secant[-1:]])
        #: the time of DDPM's step 1: the samplers stop there, before the last denoising
        self.t_end = 1.0 / self.T

    def _knots(self, t: float | Tensor) -> tuple[Tensor, ...]:
        # the spline is C1, so a time on a knot may fall in either neighbouring interval
        u = (_t(t) * self.T).clamp(0, self.T)
        k = u.floor().clamp(0, self.T - 1).long()
        s = u - k
        L0, L1 = self.log_abar[k], self.log_abar[k + 1]
        return s, L0, L1, self.slopes[k], self.slopes[k + 1]

    def log_alpha_bar(self, t: float | Tensor) -> Tensor:
        """``log abar(t)``, float64, shaped like ``t``."""
        s, L0, L1, d0, d1 = self._knots(t)
        s2, s3 = s * s, s * s * s
        return (
            (2 * s3 - 3 * s2 + 1) * L0
            + (s3 - 2 * s2 + s) * d0
            + (3 * s2 - 2 * s3) * L1
            + (s3 - s2) * d1
        )

    def beta(self, t: float | Tensor) -> Tensor:
        """``beta(t) = -d log abar / dt`` (per unit time), float64, shaped like ``t``."""
        s, L0, L1, d0, d1 = self._knots(t)
        s2 = s * s
        slope = (6 * s2 - 6 * s) * (L0 - L1) + (3 * s2 - 4 * s + 1) * d0 + (3 * s2 - 2 * s) * d1
        return (-self.T * slope).clamp(min=0)

    def marginal(self, t: float | Tensor) -> tuple[Tensor, Tensor]:
        """``(scale, std)`` of ``x(t) | x_0``: ``sqrt(abar(t))``, ``sqrt(1 - abar(t))``."""
        la = self.log_alpha_bar(t)
        return (0.5 * la).exp(), (-torch.expm1(la)).clamp(min=0).sqrt()

    def drift(self, x: Tensor, t: float | Tensor) -> Tensor:
        """``f(x, t) = -beta(t) x / 2``, shaped like ``x``."""
        return -0.5 * self.beta(t).to(x) * x

    def diffusion(self, t: float | Tensor) -> Tensor:
        """``g(t) = sqrt(beta(t))``, float64."""
        return self.beta(t).sqrt()

    def prior_sample(self, shape: tuple[int, ...], rng: torch.Generator, like: Tensor) -> Tensor:
        """``x(1) ~ N(0, I)`` of ``shape`` from ``rng``, on ``like``'s device and dtype."""
        return torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype).to(like)


class VESDE:
    """The variance-exploding SDE of NCSN: ``dx = sqrt(d sigma^2(t) / dt) dw`` with
    ``sigma(t) = sigma_min (sigma_max / sigma_min)^t``, so
    ``g(t)^2 = 2 sigma(t)^2 log(sigma_max / sigma_min)`` and ``f = 0``.

    The marginal is taken from the clean data, as NCSN noises it: ``x(t) = x_0 +
    sigma(t) eps`` (the SDE itself starts at ``t = 0`` from data already noised by
    ``sigma_min``). The prior is ``N(0, sigma_max^2 I)``.

    Arguments:
        sigma_min, sigma_max: noise stds, data units, ``0 < sigma_min < sigma_max``.

    Raises:
        ValueError: the sigmas are not so ordered.

    References:
        Song et al. 2021 (above), eq. (9) and appendix B.
    """

    kind = "ve"
    t_end = 0.0

    def __init__(self, sigma_min: float, sigma_max: float):
        if not 0 < sigma_min < sigma_max:
            raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.sigma_min, self.sigma_max = float(sigma_min), float(sigma_max)
        self._log_ratio = math.log(self.sigma_max / self.sigma_min)

    def sigma(self, t: float | Tensor) -> Tensor:
        """``sigma(t)``, float64, data units."""
        return self.sigma_min * torch.exp(_t(t) * self._log_ratio)

    def marginal(self, t: float | Tensor) -> tuple[Tensor, Tensor]:
        """``(scale, std)`` of ``x(t) | x_0``: ``1``, ``sigma(t)``."""
        s = self.sigma(t)
        return torch.ones_like(s), s

    def drift(self, x: Tensor, t: float | Tensor) -> Tensor:
        """``f = 0``."""
        return torch.zeros_like(x)

    def diffusion(self, t: float | Tensor) -> Tensor:
        """``g(t) = sigma(t) sqrt(2 log(sigma_max / sigma_min))``, float64."""
        return self.sigma(t) * math.sqrt(2 * self._log_ratio)

    def prior_sample(self, shape: tuple[int, ...], rng: torch.Generator, like: Tensor) -> Tensor:
        """``x(1) ~ N(0, sigma_max^2 I)`` of ``shape``, on ``like``'s device and dtype."""
        eps = torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype).to(like)
        return self.sigma_max * eps


SDE = VPSDE | VESDE


def sample_times(steps: int, t_end: float) -> Tensor:
    """``steps`` float64 times from 1 down to ``t_end`` (1 alone when ``steps == 1``).

    Raises:
        ValueError: ``steps < 1``.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    return torch.linspace(1.0, t_end, steps, dtype=torch.float64)


def _noise(x: Tensor, rng: torch.Generator) -> Tensor:
    return torch.randn(x.shape, generator=rng, device=rng.device, dtype=x.dtype).to(x)


def forward_euler_maruyama(sde: SDE, x: Tensor, times: Tensor, rng: torch.Generator) -> Tensor:
    """The forward SDE ``dx = f dt + g dw`` by Euler-Maruyama over increasing ``times``.

    Arguments:
        x: ``(n, *)`` the state at ``times[0]``.
        times: ``(m,)`` increasing.
        rng: the Brownian increments.

    Returns:
        ``(m, n, *)``: the state at each time, index 0 is ``x``.

    References:
        Kloeden and Platen, "Numerical Solution of SDEs", 1992, section 9.1.
    """
    path = [x]
    for a, b in zip(times[:-1], times[1:], strict=True):
        dt = float(b - a)
        g = float(sde.diffusion(a))
        x = x + sde.drift(x, a) * dt + g * math.sqrt(dt) * _noise(x, rng)
        path.append(x)
    return torch.stack(path)


def reverse_sde_path(
    sde: SDE, score_fn: ScoreFn, x: Tensor, times: Tensor, rng: torch.Generator
) -> Tensor:
    """The reverse-time SDE ``dx = [f(x, t) - g(t)^2 s(x, t)] dt + g(t) dw_bar`` by
    Euler-Maruyama over decreasing ``times``: with ``dt = t_i - t_{i+1} > 0``,
    ``x <- x - [f - g^2 s] dt + g sqrt(dt) z``, ``z ~ N(0, I)``.

    Arguments:
        x: ``(n, *)`` the state at ``times[0]``.
        times: ``(m,)`` decreasing, in ``[0, 1]``.
        score_fn: ``s(x, t)``, shaped like ``x``.
        rng: the noise ``z``.

    Returns:
        ``(m, n, *)`` the state at each time, index 0 is ``x``.

    Raises:
        Cancelled: the budget's picture is no longer wanted (see :mod:`.budget`).

    References:
        Song et al. 2021, eq. (6); Anderson, "Reverse-time diffusion equation models",
        Stochastic Processes and their Applications 1982.
    """
    budget, steps = current_budget(), len(times) - 1
    every = max(1, steps // _REPORTS)
    path = [x]
    for i, (a, b) in enumerate(zip(times[:-1], times[1:], strict=True)):
        if i % every == 0:
            budget.progress("reverse SDE, step", i, steps)
        dt = float(a - b)
        g = sde.diffusion(a)
        drift = sde.drift(x, a) - float(g * g) * score_fn(x, a)
        x = x - drift * dt + float(g) * math.sqrt(dt) * _noise(x, rng)
        path.append(x)
    return torch.stack(path)


def denoise(sde: SDE, score_fn: ScoreFn, x: Tensor, t: float | Tensor) -> Tensor:
    """Tweedie's formula ``E[x_0 | x(t)] = (x + std(t)^2 s(x, t)) / scale(t)`` (Efron
    2011): the last, noiseless step of the samplers (at DDPM's step 1 it is Ho et al.'s
    algorithm 2 at ``t = 1``). ``x (n, *)`` -> ``(n, *)``."""
    scale, std = sde.marginal(t)
    return (x + float(std**2) * score_fn(x, _t(t))) / float(scale)


def reverse_sde_sample(
    sde: SDE, score_fn: ScoreFn, x: Tensor, steps: int, rng: torch.Generator
) -> Tensor:
    """``steps - 1`` Euler-Maruyama steps of the reverse SDE from ``x = x(1)`` down to
    ``sde.t_end``, then :func:`denoise`: ``(steps + 1, n, *)``, noise first, sample last.

    Raises:
        ValueError: ``steps < 1``.
        Cancelled: the budget's picture is no longer wanted.
    """
    times = sample_times(steps, sde.t_end)
    path = reverse_sde_path(sde, score_fn, x, times, rng)
    return torch.cat([path, denoise(sde, score_fn, path[-1], times[-1])[None]])
