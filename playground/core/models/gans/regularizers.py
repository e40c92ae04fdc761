"""The convergence regularisers of Mescheder, Geiger and Nowozin (2018) for every GAN: the
R1 and R2 gradient penalties on the critic and instance noise on its inputs.

All three act on the critic only: R1 penalises the critic's input gradient on real data,
R2 on generated data, ``gamma / 2 E ||grad_x D(x)||^2``; instance noise adds
``N(0, sigma^2 I)`` to every sample the critic judges, real and generated. The GAN base
class applies them in its critic step when the ``r1``, ``r2`` and ``instance_noise``
fields of :class:`~.config.GANConfig` are above 0, so every GAN has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = ["gradient_norm_penalty", "critic_penalties", "add_instance_noise", "PENALTY_TERMS"]

#: the config field of each penalty and the training term it is reported as
PENALTY_TERMS = {"r1": "r1_penalty", "r2": "r2_penalty"}


def gradient_norm_penalty(critic: Callable[[Tensor], Tensor], x: Tensor, gamma: float) -> Tensor:
    """``gamma / 2 E_x ||grad_x D(x)||^2``: R1 when ``x`` is real data, R2 when generated.

    Arguments:
        critic: maps ``(b, ...)`` to ``(b,)`` (a logit for the classifier losses).
        x: ``(b, ...)`` samples; detached here, so the penalty's gradient reaches the
            critic's parameters only, never the generator's.
        gamma: the weight ``gamma >= 0``.

    Returns:
        The scalar penalty, differentiable in the critic's parameters.

    References:
        Mescheder, Geiger and Nowozin, "Which Training Methods for GANs do actually
        Converge?", ICML 2018, section 4.1 and theorem 4.1; Roth et al.,
        "Stabilizing Training of GANs through Regularization", NeurIPS 2017.
    """
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return 0.5 * gamma * grad.reshape(grad.shape[0], -1).square().sum(1).mean()


def critic_penalties(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, config: Any
) -> dict[str, Tensor]:
    """The penalties switched on in ``config``: ``r1_penalty`` (on ``real``) where
    ``config.r1 > 0``, ``r2_penalty`` (on ``fake``) where ``config.r2 > 0``; each already
    weighted, to be added to the critic's loss.

    Arguments:
        critic: maps ``(b, ...)`` to ``(b,)``.
        real, fake: ``(b, ...)`` the inputs the critic judged this step (with instance
            noise, the noisy ones).
        config: a :class:`~.config.GANConfig` (its ``r1`` and ``r2``).

    Returns:
        Term name to scalar; empty when both are off.
    """
    out: dict[str, Tensor] = {}
    for field, x in (("r1", real), ("r2", fake)):
        gamma = float(getattr(config, field, 0.0))
        if gamma > 0:
            out[PENALTY_TERMS[field]] = gradient_norm_penalty(critic, x, gamma)
    return out


def add_instance_noise(x: Tensor, std: float, rng: torch.Generator) -> Tensor:
    """``x + std * eps`` with ``eps ~ N(0, I)`` drawn from ``rng``; ``x`` itself when
    ``std`` is 0 (no number is drawn, so a run without noise keeps its random stream).

    Arguments:
        x: ``(b, ...)`` critic inputs (real or generated).
        std: the noise's standard deviation ``sigma >= 0``, in data units.
        rng: the generator every noise draw comes from.

    Returns:
        ``(b, ...)``, on ``x``'s device and dtype.

    References:
        Sønderby et al., "Amortised MAP Inference for Image Super-resolution", ICLR 2017,
        section 3.2; Arjovsky and Bottou, "Towards Principled Methods for Training GANs",
        ICLR 2017, section 4; Mescheder et al. 2018, section 3.2 (instance noise).
    """
    if std <= 0:
        return x
    eps = torch.randn(x.shape, generator=rng, device=rng.device)
    return x + std * eps.to(x)
