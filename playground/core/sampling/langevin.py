"""Langevin samplers: unadjusted (ULA), Metropolis-adjusted (MALA) and annealed (NCSN)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .budget import current as current_budget

#: a long run reports its progress (and may be cancelled, see :mod:`.budget`) this many times
_REPORTS = 20

__all__ = [
    "LangevinResult",
    "score_from_log_prob",
    "mala_log_acceptance",
    "langevin",
    "geometric_sigmas",
    "annealed_langevin",
]

ScoreFn = Callable[[Tensor], Tensor]
LogProbFn = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class LangevinResult:
    """The end of a run of Langevin chains.

    Attributes:
        x: ``(n, d)`` the chains' final states.
        path: ``(steps + 1, n, d)`` every state, index 0 the start, when ``return_path``;
            else ``None``.
        acceptance_rate: MALA only: the fraction of accepted proposals, averaged over
            steps and chains, in ``[0, 1]``; ``None`` for unadjusted samplers.
    """

    x: Tensor
    path: Tensor | None = None
    acceptance_rate: float | None = None


def score_from_log_prob(log_prob_fn: LogProbFn) -> ScoreFn:
    """The score ``grad_x log p(x)`` of a (possibly unnormalised) log-density, by autograd.

    The returned function works inside ``torch.no_grad`` (it enables gradients itself) and
    returns a detached tensor; the normaliser of ``p`` does not matter.

    Arguments:
        log_prob_fn: ``(n, d) -> (n,)`` log-density in nats.

    Returns:
        ``score_fn``: ``(n, d) -> (n, d)``, in the dtype of the log-density's gradient.
    """

    def score_fn(x: Tensor) -> Tensor:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(log_prob_fn(xg).sum(), xg)
        return grad.detach()

    return score_fn


def _check_chains(x0: Tensor) -> None:
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (n, d), got {tuple(x0.shape)}")


def _noise(x: Tensor, rng: torch.Generator) -> Tensor:
    return torch.randn(x.shape, generator=rng, dtype=x.dtype, device=x.device)


def mala_log_acceptance(
    x: Tensor,
    x_new: Tensor,
    score_x: Tensor,
    score_new: Tensor,
    log_p_x: Tensor,
    log_p_new: Tensor,
    step_size: float,
) -> Tensor:
    """``log alpha = min(0, log p(x') + log q(x | x') - log p(x) - log q(x' | x))``.

    ``q(x' | x) = N(x'; x + (eta / 2) s(x), eta I)`` is the Langevin proposal; its
    normaliser cancels in the ratio, so only the exponents are computed.

    Arguments:
        x, x_new: ``(n, d)`` current states and proposals.
        score_x, score_new: ``(n, d)`` the score at ``x`` and at ``x_new``.
        log_p_x, log_p_new: ``(n,)`` log-densities in nats (a common constant cancels).
        step_size: ``eta > 0``.

    Returns:
        ``(n,)`` log acceptance probabilities, ``<= 0``.

    References:
        Roberts & Tweedie, "Exponential convergence of Langevin distributions and their
        discrete approximations", Bernoulli 1996 (MALA, section 1.4.2).
    """
    forward = (x_new - x - 0.5 * step_size * score_x).square().sum(-1)
    backward = (x - x_new - 0.5 * step_size * score_new).square().sum(-1)
    log_ratio = log_p_new - log_p_x + (forward - backward) / (2 * step_size)
    return log_ratio.clamp(max=0.0)


@torch.no_grad()
def langevin(
    score_fn: ScoreFn,
    x0: Tensor,
    step_size: float,
    n_steps: int,
    rng: torch.Generator,
    *,
    mala: bool = False,
    log_prob_fn: LogProbFn | None = None,
    return_path: bool = False,
    label: str = "Langevin",
) -> LangevinResult:
    """Run ``n`` Langevin chains: ``x <- x + (eta / 2) grad log p(x) + sqrt(eta) eps``.

    Unadjusted, the chains target ``p`` only as ``eta -> 0`` (their stationary law is biased
    at a finite step). With ``mala=True`` each move is a proposal accepted with probability
    ``min(1, p(x') q(x | x') / (p(x) q(x' | x)))``, ``q(x' | x) = N(x'; x + (eta / 2) s(x),
    eta I)`` (see :func:`mala_log_acceptance`), which leaves ``p`` exactly invariant.
    Runs under ``torch.no_grad``: a ``score_fn`` that differentiates (an energy model's
    ``-grad E``) must enable gradients itself, as :func:`score_from_log_prob` does; nothing
    is kept in the autograd graph across steps.

    Arguments:
        score_fn: ``(n, d) -> (n, d)``, the score ``grad_x log p(x)`` (for example
            :func:`score_from_log_prob` or a model's ``score``).
        x0: ``(n, d)`` starting states (their dtype and device are kept).
        step_size: ``eta > 0``, in squared data units.
        n_steps: number of updates, ``>= 0``.
        rng: the only source of randomness: per step ``eps`` ``(n, d)`` then, for
            MALA, one uniform ``(n,)``.
        mala: add the Metropolis-Hastings correction.
        log_prob_fn: ``(n, d) -> (n,)`` log-density in nats, unnormalised is fine;
            required by MALA, ignored otherwise.
        return_path: also return every state.
        label: what the run is called in its progress reports (see :mod:`.budget`).

    Returns:
        A :class:`LangevinResult`; ``acceptance_rate`` is set for MALA (``nan`` when
        ``n_steps == 0``).

    Raises:
        Cancelled: the picture this run is for is no longer wanted (:mod:`.budget`).
        ValueError: ``mala`` without ``log_prob_fn``, ``step_size <= 0``, ``n_steps < 0``
            or ``x0`` not of shape ``(n, d)``.

    References:
        Roberts & Tweedie, "Exponential convergence of Langevin distributions and their
        discrete approximations", Bernoulli 1996 (eq. 1.3 discretised; MALA).
        Welling & Teh, "Bayesian learning via stochastic gradient Langevin dynamics",
        ICML 2011, eq. 3 (the same update with step ``eta = epsilon``).
    """
    if mala and log_prob_fn is None:
        raise ValueError("mala=True needs log_prob_fn for the Metropolis-Hastings test")
    if step_size <= 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    _check_chains(x0)
    x = x0.detach().clone()
    path = [x] if return_path else None
    noise_scale = math.sqrt(step_size)
    budget, every = current_budget(), max(1, math.ceil(n_steps / _REPORTS))
    if not mala:
        for i in range(n_steps):
            if i % every == 0:
                budget.progress(f"{label}, step", i, n_steps)
            x = x + 0.5 * step_size * score_fn(x).detach() + noise_scale * _noise(x, rng)
            if path is not None:
                path.append(x)
        return LangevinResult(x, None if path is None else torch.stack(path), None)

    score_x = score_fn(x).detach()
    log_p_x = log_prob_fn(x).detach()
    accepted = 0.0
    for i in range(n_steps):
        if i % every == 0:
            budget.progress(f"{label} (MALA), step", i, n_steps)
        x_new = x + 0.5 * step_size * score_x + noise_scale * _noise(x, rng)
        score_new = score_fn(x_new).detach()
        log_p_new = log_prob_fn(x_new).detach()
        log_alpha = mala_log_acceptance(x, x_new, score_x, score_new, log_p_x, log_p_new, step_size)
        u = torch.rand(x.shape[0], generator=rng, dtype=x.dtype, device=x.device)
        accept = torch.log(u) < log_alpha  # a NaN proposal is never accepted
        x = torch.where(accept[:, None], x_new, x)
        score_x = torch.where(accept[:, None], score_new, score_x)
        log_p_x = torch.where(accept, log_p_new, log_p_x)
        accepted += float(accept.double().mean())
        if path is not None:
            path.append(x)
    rate = accepted / n_steps if n_steps > 0 else float("nan")
    return LangevinResult(x, None if path is None else torch.stack(path), rate)


def geometric_sigmas(sigma_max: float, sigma_min: float, levels: int) -> Tensor:
    """Noise levels ``sigma_1 > ... > sigma_L`` in a geometric sequence (NCSN's schedule).

    Arguments:
        sigma_max: ``sigma_1 > 0``, in data units.
        sigma_min: ``sigma_L``, ``0 < sigma_min <= sigma_max``.
        levels: ``L >= 1`` (``L = 1`` gives ``[sigma_max]``).

    Returns:
        ``(levels,)`` float32, ``sigma_i = sigma_max (sigma_min / sigma_max)^((i-1)/(L-1))``.

    Raises:
        ValueError: ``levels < 1`` or the sigmas are not ``0 < sigma_min <= sigma_max``.

    References:
        Song & Ermon, "Generative modeling by estimating gradients of the data
        distribution", NeurIPS 2019, section 4.2.
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if not 0 < sigma_min <= sigma_max:
        raise ValueError(f"need 0 < sigma_min <= sigma_max, got {sigma_min}, {sigma_max}")
    if levels == 1:
        return torch.tensor([float(sigma_max)])
    log = torch.linspace(math.log(sigma_max), math.log(sigma_min), levels, dtype=torch.float64)
    return torch.exp(log).float()


@torch.no_grad()
def annealed_langevin(
    score_fn: Callable[[Tensor, float], Tensor],
    x0: Tensor,
    sigmas: Tensor | Sequence[float],
    steps_per_level: int,
    epsilon: float,
    rng: torch.Generator,
    *,
    return_path: bool = False,
) -> LangevinResult:
    """Annealed Langevin dynamics: unadjusted Langevin at each noise level, largest first.

    For ``i = 1..L`` the step is ``alpha_i = epsilon (sigma_i / sigma_L)^2`` and ``T``
    updates ``x <- x + (alpha_i / 2) s(x, sigma_i) + sqrt(alpha_i) z``, ``z ~ N(0, I)``.

    Arguments:
        score_fn: ``(x (n, d), sigma float) -> (n, d)``, the score of the data convolved
            with ``N(0, sigma^2 I)`` (a noise-conditional score network); called under
            ``torch.no_grad``.
        x0: ``(n, d)`` starting states (NCSN uses uniform noise).
        sigmas: ``(L,)`` decreasing noise levels (:func:`geometric_sigmas`), ``sigma_L > 0``.
        steps_per_level: ``T >= 0``.
        epsilon: the step at the last level, ``> 0``, in squared data units.
        rng: the only source of randomness (one ``z`` ``(n, d)`` per update).
        return_path: also return every state.

    Returns:
        A :class:`LangevinResult`; ``path`` is ``(L T + 1, n, d)``; no acceptance rate.

    Raises:
        ValueError: empty ``sigmas``, ``sigma_L <= 0``, ``epsilon <= 0``,
            ``steps_per_level < 0`` or ``x0`` not of shape ``(n, d)``.

    References:
        Song & Ermon, "Generative modeling by estimating gradients of the data
        distribution", NeurIPS 2019, algorithm 1.
    """
    levels = [float(s) for s in sigmas]
    if not levels or levels[-1] <= 0:
        raise ValueError(f"sigmas must be non-empty with sigma_L > 0, got {levels}")
    if epsilon <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if steps_per_level < 0:
        raise ValueError(f"steps_per_level must be >= 0, got {steps_per_level}")
    _check_chains(x0)
    x = x0.detach().clone()
    path = [x[None]] if return_path else None
    for i, sigma in enumerate(levels, 1):
        alpha = epsilon * (sigma / levels[-1]) ** 2
        if steps_per_level == 0:
            continue
        level = langevin(
            lambda z, sigma=sigma: score_fn(z, sigma),
            x, alpha, steps_per_level, rng, return_path=return_path,
            label=f"annealed Langevin, level {i} of {len(levels)}",
        )  # fmt: skip
        x = level.x
        if path is not None:
            path.append(level.path[1:])
    return LangevinResult(x, None if path is None else torch.cat(path), None)
