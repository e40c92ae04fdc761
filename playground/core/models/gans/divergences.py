"""The f-divergences of f-GAN: generator functions, Fenchel conjugates, output activations."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "DIVERGENCES",
    "FDivergence",
    "critic_objective",
    "generator_loss",
    "get_divergence",
    "variational_bound",
]

LOG2 = math.log(2.0)


def _log1mexp(t: Tensor) -> Tensor:
    """``log(1 - exp(t))`` for ``t < 0``, accurate near 0 and for very negative ``t``.

    References:
        Mächler, "Accurately computing log(1 - exp(-|a|))", Rmpfr vignette, 2012.
    """
    return torch.where(
        t > -LOG2,
        torch.log(-torch.expm1(t)),
        torch.log1p(-torch.exp(t)),
    )


@dataclass(frozen=True)
class FDivergence:
    """One row of f-GAN's Tables 1 and 2: ``D_f(P || Q) = E_Q[f(p(x) / q(x))]``.

    Every function is elementwise on tensors of any shape; values are in nats.

    Attributes:
        name: the command-line name (``kl``, ``reverse-kl``, ``pearson``, ``hellinger``,
            ``js``, ``gan``).
        label: the name for people.
        f: the generator function ``f(u)``, convex on ``u > 0`` (Table 1).
        derivative: ``f'(u)``, the optimal variational function ``T*(x) = f'(p / q)``
            (Table 1, last column).
        conjugate: the Fenchel conjugate ``f*(t) = sup_u (u t - f(u))`` on ``domain``
            (Table 2).
        activation: the output activation ``g_f(v)`` mapping a critic's raw output
            ``v`` in R into ``domain`` (Table 2).
        conjugate_of_activation: ``f*(g_f(v))`` simplified: composed naively it rounds
            ``g_f(v)`` onto the edge of ``domain`` and returns ``inf`` in float32 (from
            ``v`` = 17 for ``hellinger`` and ``js``, 104 for ``gan``); simplified it is
            finite wherever the value itself fits in the dtype.
        domain: ``dom f*`` as an open interval ``(low, high)`` (``inf`` for unbounded).
    """

    name: str
    label: str
    f: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    conjugate: Callable[[Tensor], Tensor]
    activation: Callable[[Tensor], Tensor]
    conjugate_of_activation: Callable[[Tensor], Tensor]
    domain: tuple[float, float]


#: The f-divergences of f-GAN by command-line name, in the paper's order.
#:
#: Two entries are not proper divergences with ``f(1) = 0`` as the paper labels them:
#: ``js`` uses Table 1's ``f``, whose ``D_f`` is *twice* the Jensen-Shannon divergence
#: (in ``[0, log 4]``), and ``gan`` has ``f(1) = -log 4``: ``D_f = 2 JS - log 4``, the
#: value of Goodfellow et al.'s minimax game at the optimal discriminator.
DIVERGENCES: dict[str, FDivergence] = {
    d.name: d
    for d in (
        FDivergence(
            name="kl",
            label="Kullback-Leibler",
            f=lambda u: torch.xlogy(u, u),
            derivative=lambda u: 1 + torch.log(u),
            conjugate=lambda t: torch.exp(t - 1),
            activation=lambda v: v,
            conjugate_of_activation=lambda v: torch.exp(v - 1),
            domain=(-math.inf, math.inf),
        ),
        FDivergence(
            name="reverse-kl",
            label="Reverse KL",
            f=lambda u: -torch.log(u),
            derivative=lambda u: -1 / u,
            conjugate=lambda t: -1 - torch.log(-t),
            activation=lambda v: -torch.exp(-v),
            # -1 - log(exp(-v))
            conjugate_of_activation=lambda v: v - 1,
            domain=(-math.inf, 0.0),
        ),
        FDivergence(
            name="pearson",
            label="Pearson chi-squared",
            f=lambda u: (u - 1).square(),
            derivative=lambda u: 2 * (u - 1),
            conjugate=lambda t: t.square() / 4 + t,
            activation=lambda v: v,
            conjugate_of_activation=lambda v: v.square() / 4 + v,
            domain=(-math.inf, math.inf),
        ),
        FDivergence(
            name="hellinger",
            label="Squared Hellinger",
            f=lambda u: (torch.sqrt(u) - 1).square(),
            derivative=lambda u: 1 - torch.rsqrt(u),
            conjugate=lambda t: t / (1 - t),
            activation=lambda v: -torch.expm1(-v),
            # (1 - exp(-v)) / exp(-v)
            conjugate_of_activation=lambda v: torch.expm1(v),
            domain=(-math.inf, 1.0),
        ),
        FDivergence(
            name="js",
            label="Jensen-Shannon",
            f=lambda u: torch.xlogy(u, u) - torch.xlogy(u + 1, (u + 1) / 2),
            derivative=lambda u: torch.log(2 * u / (u + 1)),
            # -log(2 - exp(t)) = -log 2 - log(1 - exp(t - log 2))
            conjugate=lambda t: -LOG2 - _log1mexp(t - LOG2),
            activation=lambda v: LOG2 - F.softplus(-v),
            # -log(2 - 2 sigmoid(v)) = -log 2 + softplus(v)
            conjugate_of_activation=lambda v: F.softplus(v) - LOG2,
            domain=(-math.inf, LOG2),
        ),
        FDivergence(
            name="gan",
            label="GAN",
            f=lambda u: torch.xlogy(u, u) - (u + 1) * torch.log1p(u),
            derivative=lambda u: torch.log(u / (u + 1)),
            conjugate=lambda t: -_log1mexp(t),
            # log sigmoid(v): the discriminator D = sigmoid(v)
            activation=lambda v: -F.softplus(-v),
            # -log(1 - sigmoid(v))
            conjugate_of_activation=lambda v: F.softplus(v),
            domain=(-math.inf, 0.0),
        ),
    )
}


def get_divergence(div: FDivergence | str) -> FDivergence:
    """The divergence itself, or the one of :data:`DIVERGENCES` called ``div``.

    Raises:
        ValueError: ``div`` names no divergence; the message lists the valid names.
    """
    if isinstance(div, FDivergence):
        return div
    try:
        return DIVERGENCES[div]
    except KeyError:
        valid = ", ".join(DIVERGENCES)
        raise ValueError(f"unknown f-divergence {div!r}; valid names: {valid}") from None


def variational_bound(v_real: Tensor, v_fake: Tensor, div: FDivergence | str) -> Tensor:
    """The critic's lower bound on ``D_f(P || Q)``, in nats.

    ``E_P[g_f(v)] - E_Q[f*(g_f(v))]``, tight when ``g_f(v(x)) = f'(p(x) / q(x))``.

    Arguments:
        v_real: ``(b,)`` raw critic outputs on samples of the data ``P``.
        v_fake: ``(b',)`` raw critic outputs on samples of the model ``Q``.
        div: an :class:`FDivergence` or its name.

    Returns:
        A scalar tensor (differentiable in both arguments).

    References:
        Nowozin, Cseke & Tomioka, "f-GAN: Training generative neural samplers using
        variational divergence minimization", NeurIPS 2016, equations (4) and (6).
    """
    d = get_divergence(div)
    return d.activation(v_real).mean() - d.conjugate_of_activation(v_fake).mean()


def critic_objective(
    v_real: Tensor, v_fake: Tensor, div: FDivergence | str
) -> tuple[Tensor, Tensor, Tensor]:
    """The critic's loss: minus the variational bound, which the critic maximises.

    Arguments:
        v_real: ``(b,)`` raw critic outputs on data samples.
        v_fake: ``(b',)`` raw critic outputs on generated samples.
        div: an :class:`FDivergence` or its name.

    Returns:
        ``(loss, loss_real, loss_fake)``, scalars in nats, like the critic losses of
        ``losses.py``: ``loss_real = -E_P[g_f(v)]``, ``loss_fake = E_Q[f*(g_f(v))]``,
        ``loss = loss_real + loss_fake = -variational_bound``.

    References:
        Nowozin, Cseke & Tomioka, "f-GAN", NeurIPS 2016, equation (6) and Table 2.
    """
    d = get_divergence(div)
    real = -d.activation(v_real).mean()
    fake = d.conjugate_of_activation(v_fake).mean()
    return real + fake, real, fake


def generator_loss(
    v_fake: Tensor,
    div: FDivergence | str,
    form: Literal["practical", "saddle"] = "practical",
) -> Tensor:
    """The loss the generator minimises.

    ``saddle``: the generator's part of the saddle-point objective (6),
    ``E_Q[-f*(g_f(v))]``, i.e. it minimises the critic's bound on ``D_f(P || Q)``.
    ``practical`` (the default, section 3.2): ``-E_Q[g_f(v)]``, the paper's
    generalisation of Goodfellow et al.'s ``-log D`` trick, which keeps the
    generator's gradient large while its samples are easy to tell apart; for ``gan``
    it is exactly the non-saturating loss ``-E log sigmoid(v)``.

    Arguments:
        v_fake: ``(b,)`` raw critic outputs on generated samples.
        div: an :class:`FDivergence` or its name.
        form: ``practical`` or ``saddle``.

    Returns:
        A scalar tensor, nats.

    Raises:
        ValueError: ``form`` is neither ``practical`` nor ``saddle``.

    References:
        Nowozin, Cseke & Tomioka, "f-GAN", NeurIPS 2016, equation (6) and section 3.2.
    """
    d = get_divergence(div)
    if form == "practical":
        return -d.activation(v_fake).mean()
    if form == "saddle":
        return -d.conjugate_of_activation(v_fake).mean()
    raise ValueError(f"unknown generator loss form {form!r}; valid forms: practical, saddle")
