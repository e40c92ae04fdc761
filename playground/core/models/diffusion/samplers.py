"""DDPM's samplers: ancestral sampling (Ho et al.), DDIM, the reverse-time VP SDE and the
probability-flow ODE, all driven by the model's noise prediction ``eps_theta``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ...sampling import budget
from ...sampling.ddim import ddim_path
from ...sampling.probability_flow import SDEODEPaths, probability_flow_sample
from ...sampling.probability_flow import sde_ode_paths as solve_both
from ...sampling.sde import VPSDE, reverse_sde_sample

__all__ = [
    "DDPM_SAMPLERS",
    "vp_sde",
    "sample_classes",
    "ancestral_path",
    "guided_eps_fn",
    "vp_score_fn",
    "sample_path",
    "generate",
    "sde_ode_paths",
]

#: the ``sampler`` choices of a DDPM: Ho's algorithm 2 (the default), DDIM, and the
#: reverse-time SDE and the probability-flow ODE of Song et al. 2021
DDPM_SAMPLERS = ("ancestral", "ddim", "reverse-sde", "probability-flow")

EpsFn = Callable[[Tensor, Tensor], Tensor]


def vp_sde(model: Any) -> VPSDE:
    """The variance-preserving SDE of a DDPM's schedule (step ``t`` at time ``t / T``)."""
    return VPSDE(model.schedule.alpha_bars)


def sample_classes(model: Any, n: int, rng: torch.Generator) -> Tensor | None:
    """The classes a DDPM's ``sample`` guides to: ``guidance_class`` for all, or uniform
    classes from ``rng`` when it is -1; ``None`` without guidance. ``(n,)`` int64.

    Raises:
        ValueError: ``guidance_class`` is not a class of the dataset.
    """
    if not model.needs_labels:
        return None
    c = model.config.guidance_class
    device = next(model.parameters()).device
    if c < 0:
        y = torch.randint(model.n_classes, (n,), generator=rng, device=rng.device)
        return y.to(device)
    if c >= model.n_classes:
        raise ValueError(f"guidance_class {c} is not one of the {model.n_classes} classes")
    return torch.full((n,), c, dtype=torch.long, device=device)


def ancestral_path(model: Any, xT: Tensor, rng: torch.Generator, y: Tensor | None = None) -> Tensor:
    """Ancestral sampling (Ho algorithm 2) from ``x_T`` ``(n, *event_shape)``:
    ``x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t)
    + sqrt(beta_t) z`` with ``z ~ N(0, I)`` for ``t > 1`` and ``z = 0`` at ``t = 1``.

    Arguments:
        model: a :class:`~.ddpm.DDPM`.
        xT: the start, in diffusion space.
        rng: the noise ``z``.
        y: ``(n,)`` classes to guide each sample to (guided models; ``None``: none).
            Classifier guidance adds ``s beta_t grad_x log p_phi(y | x_t, t)`` to the
            mean (Dhariwal & Nichol 2021, algorithm 1, with ``Sigma = beta_t I``).

    Returns:
        ``(T + 1, n, *event_shape)``: index ``k`` is ``x_{T-k}`` (index 0 is ``xT``, the
        last is ``x_0``), diffusion space, not clipped.

    Raises:
        Cancelled: the budget's picture is no longer wanted.
    """
    s, T = model.schedule, model.T
    x = xT
    path = [x]
    report, every = budget.current(), max(1, T // 20)
    for t in range(T, 0, -1):
        if t % every == 0:
            report.progress("reverse process, step", T - t, T)
        tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
        eps = model.guided_epsilon(x, tt, y) if model.needs_labels else model.epsilon(x, tt)
        mean, variance = s.p_mean_var(x, t, eps)
        if y is not None and model.classifier is not None:
            with torch.enable_grad():
                xg = x.detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(model.classifier_log_prob(xg, tt, y).sum(), xg)
            mean = mean + model.config.guidance_scale * variance * grad
        x = mean
        if t > 1:
            noise = torch.randn(x.shape, generator=rng, device=rng.device, dtype=x.dtype)
            x = x + variance.sqrt() * noise.to(x.device)
        path.append(x)
    return torch.stack(path)


def guided_eps_fn(model: Any, y: Tensor | None) -> EpsFn:
    """``eps(x, t)`` for ``x (n, *event_shape)`` and steps ``t (n,)`` (int64, or float for
    the continuous samplers): the plain prediction, classifier-free guided to ``y``, or
    with classifier guidance ``eps - s sqrt(1 - abar_t) grad_x log p_phi(y | x_t, t)``
    (Dhariwal & Nichol 2021, algorithm 2)."""
    abar_of = vp_sde(model).marginal

    def eps_fn(x: Tensor, t: Tensor) -> Tensor:
        eps = model.guided_epsilon(x, t, y) if model.needs_labels else model.epsilon(x, t)
        if y is None or model.classifier is None:
            return eps
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(model.classifier_log_prob(xg, t, y).sum(), xg)
        std = float(abar_of(float(t[0]) / model.T)[1])
        return eps - model.config.guidance_scale * std * grad

    return eps_fn


def vp_score_fn(model: Any, y: Tensor | None = None) -> Callable[[Tensor, Tensor], Tensor]:
    """The score of the VP SDE at time ``t`` in ``[0, 1]``: ``s(x, t) = -eps(x, t T) /
    sqrt(1 - abar(t))`` (Song et al. 2021, section 4.2 and appendix B), evaluating
    ``eps_theta`` at the fractional step ``t T`` (its time embedding is continuous).
    ``(x (n, *event_shape), t) -> (n, *event_shape)``."""
    sde, eps_fn = vp_sde(model), guided_eps_fn(model, y)

    def score(x: Tensor, t: Tensor) -> Tensor:
        steps = torch.full((x.shape[0],), float(t) * model.T, device=x.device, dtype=x.dtype)
        return -eps_fn(x, steps) / float(sde.marginal(t)[1])

    return score


def sample_path(model: Any, xT: Tensor, rng: torch.Generator, y: Tensor | None = None) -> Tensor:
    """The path of the configured ``sampler`` from ``x_T`` to ``x_0`` (diffusion space):

    - ``ancestral``: :func:`ancestral_path`, ``T`` steps;
    - ``ddim``: :func:`~playground.core.sampling.ddim.ddim_path` with ``eta`` over
      ``sampling_steps`` (at most ``T``) steps;
    - ``reverse-sde``: Euler-Maruyama on the reverse VP SDE, ``sampling_steps`` steps in
      all (the last is Tweedie's denoising at step 1, as algorithm 2's last step);
    - ``probability-flow``: the probability-flow ODE by fixed-step RK4, the same grid.

    A quick picture's budget may cut ``sampling_steps`` (noted as a preview).

    Returns:
        ``(K + 1, n, *event_shape)``: index 0 is ``xT``, the last ``x_0``.

    Raises:
        ValueError: an unknown sampler.
        Cancelled: the budget's picture is no longer wanted.
    """
    c = model.config
    if c.sampler == "ancestral":
        return ancestral_path(model, xT, rng, y)
    if c.sampler not in DDPM_SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(DDPM_SAMPLERS)}, not {c.sampler!r}")
    spend = budget.current()
    if c.sampler == "ddim":
        steps = spend.steps(min(c.sampling_steps, model.T), "DDIM steps")
        eps_fn = guided_eps_fn(model, y)
        return ddim_path(model.schedule.alpha_bars, eps_fn, xT, steps, c.eta, rng)
    if c.sampler == "reverse-sde":
        steps = spend.steps(c.sampling_steps, "reverse-SDE steps")
        return reverse_sde_sample(vp_sde(model), vp_score_fn(model, y), xT, steps, rng)
    steps = spend.steps(c.sampling_steps, "ODE steps", repeats=4)  # RK4: 4 evaluations a step
    return probability_flow_sample(vp_sde(model), vp_score_fn(model, y), xT, steps)


def _prior(model: Any, n: int, rng: torch.Generator) -> Tensor:
    """``x_T ~ N(0, I)`` ``(n, *event_shape)`` from ``rng``, on the model's device."""
    like = next(model.parameters())
    return vp_sde(model).prior_sample((n, *model.event_shape), rng, like)


def generate(model: Any, n: int, rng: torch.Generator, y: Tensor | None = None) -> Tensor:
    """``n`` samples of :func:`sample_path` from ``x_T ~ N(0, I)`` (``rng``), guided to
    ``y (n,)`` when given, mapped to data space: ``(n, *event_shape)``.

    Raises:
        ValueError: an unknown sampler.
        Cancelled: the budget's picture is no longer wanted.
    """
    return model.from_diffusion(sample_path(model, _prior(model, n, rng), rng, y)[-1])


def sde_ode_paths(model: Any, n: int, steps: int, rng: torch.Generator) -> SDEODEPaths:
    """The reverse-time VP SDE (Euler-Maruyama) and the probability-flow ODE (RK4) of a
    DDPM from the same ``x_T ~ N(0, I)`` of ``rng``, each over
    :func:`~playground.core.sampling.sde.sample_times` ``(steps, 1 / T)`` then Tweedie's
    denoising (Song et al. 2021, eqs. (6) and (13)); unguided.

    Returns:
        :class:`~playground.core.sampling.probability_flow.SDEODEPaths`: paths ``(steps +
        1, n, *event_shape)`` in diffusion space, index 0 is ``x_T``, the last the sample.

    Raises:
        ValueError: ``steps < 1``.
        Cancelled: the budget's picture is no longer wanted.
    """
    return solve_both(vp_sde(model), vp_score_fn(model), _prior(model, n, rng), steps, rng)
