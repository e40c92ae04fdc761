"""How far a GAN on a point mass is from its equilibrium: the generator's point and the
critic's slope at the data, read through the model protocol (``sample``, ``critic``)."""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = ["generator_point", "critic_slope", "equilibrium_metrics"]


@torch.no_grad()
def generator_point(model: Any, data: Any, device: torch.device, n: int = 64) -> float:
    """``E_q[x] - x*``: where the generator's samples sit, relative to the data point ``x*``
    (a Dirac-GAN's ``theta``), from ``n`` samples drawn with a fixed seed.

    Arguments:
        model: a model with the capability ``samples`` on one-dimensional data.
        data: a dataset of kind ``point`` (its ``point`` attribute is ``x*``).
        device: the model's device.
    """
    g = torch.Generator(device=device).manual_seed(0)
    return float(model.sample(n, g).double().mean()) - float(data.point)


def critic_slope(model: Any, data: Any, device: torch.device) -> float:
    """``D'(x*)``, the critic's derivative at the data point (a Dirac-GAN's ``psi``): zero
    at the equilibrium, where the critic cannot tell the generator's point from the data's.

    Arguments:
        model: a model with the capability ``critic`` on one-dimensional data.
        data: a dataset of kind ``point``.
        device: the model's device.
    """
    x = torch.full((1, 1), float(data.point), device=device, requires_grad=True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(model.critic(x).sum(), x)
    return float(grad.double().sum())


def equilibrium_metrics(model: Any, data: Any, device: torch.device) -> dict[str, float]:
    """``distance``: ``sqrt((E_q[x] - x*)^2 + D'(x*)^2)``, the Euclidean distance of a
    Dirac-GAN's ``(theta, psi)`` to the equilibrium ``(0, 0)`` (data units), with the
    generator's part alone where the model has no critic.

    References:
        Mescheder, Geiger and Nowozin, "Which Training Methods for GANs do actually
        Converge?", ICML 2018, section 2.2 and figure 1.
    """
    theta = generator_point(model, data, device) if "samples" in model.capabilities else 0.0
    psi = critic_slope(model, data, device) if "critic" in model.capabilities else 0.0
    return {"distance": math.hypot(theta, psi)}
