"""Closed-form log-densities and KL divergences of the latent models, in nats."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "LOG_2PI",
    "gaussian_kl_per_dim",
    "gaussian_log_prob",
    "standard_normal_log_prob",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "normal_noise",
]

LOG_2PI = math.log(2.0 * math.pi)


def _sum_event(values: Tensor, event_dims: int) -> Tensor:
    """Sum the last ``event_dims`` dimensions (one data point's elements)."""
    return values.sum(dim=tuple(range(-event_dims, 0))) if event_dims else values


def gaussian_kl_per_dim(
    mu_q: Tensor, logvar_q: Tensor, mu_p: Tensor | None = None, logvar_p: Tensor | None = None
) -> Tensor:
    """``KL(N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p)))`` of each coordinate.

    ``0.5 (logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)^2) / exp(logvar_p) - 1)``;
    ``mu_p`` and ``logvar_p`` default to 0 (the standard normal prior).

    Arguments:
        mu_q, logvar_q: ``(*, d)`` mean and log-variance of ``q``.
        mu_p, logvar_p: ``(*, d)`` (or broadcastable) of ``p``, or ``None``.

    Returns:
        ``(*, d)`` per-dimension KL in nats (sum the last axis for the diagonal Gaussians).

    References:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014, appendix B.
    """
    if mu_p is None:
        mu_p = torch.zeros_like(mu_q)
    if logvar_p is None:
        logvar_p = torch.zeros_like(logvar_q)
    ratio = torch.exp(logvar_q - logvar_p)
    return 0.5 * (ratio + (mu_q - mu_p).square() * torch.exp(-logvar_p) - 1.0 - logvar_q + logvar_p)


def gaussian_log_prob(x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """``log N(x; mu, diag(exp(logvar)))`` summed over the last axis.

    Arguments:
        x: ``(*, d)`` points.
        mu, logvar: ``(*, d)`` (or broadcastable) mean and log-variance.

    Returns:
        ``(*,)`` nats.
    """
    return -0.5 * ((x - mu).square() * torch.exp(-logvar) + logvar + LOG_2PI).sum(-1)


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """``log N(z; 0, I)``: ``(*, d) -> (*,)`` nats."""
    return -0.5 * (z.square() + LOG_2PI).sum(-1)


def bernoulli_log_likelihood(x: Tensor, logits: Tensor, event_dims: int = 3) -> Tensor:
    """``log Bern(x; sigmoid(logits))`` summed over the elements of each data point.

    ``sum_i x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i)``, computed stably as minus
    the binary cross-entropy with logits. Targets may be continuous in ``[0, 1]`` (grey
    pixels of digits or shapes, as is common practice): the expression is then the
    cross-entropy, not a normalised log-density of a continuous variable (the continuous
    Bernoulli's normaliser is left out; Loaiza-Ganem and Cunningham, NeurIPS 2019), so
    it is a likelihood only for binarised data.

    Arguments:
        x: ``(n, *event)`` targets in ``[0, 1]``.
        logits: ``(n, *event)`` decoder outputs.
        event_dims: trailing dimensions of one data point (3 for ``(1, h, w)`` images).

    Returns:
        ``(n,)`` nats.
    """
    return -_sum_event(F.binary_cross_entropy_with_logits(logits, x, reduction="none"), event_dims)


def gaussian_log_likelihood(
    x: Tensor, mean: Tensor, log_std: Tensor | float, event_dims: int = 1
) -> Tensor:
    """``log N(x; mean, std^2)`` per element, summed over the elements of each data point.

    Arguments:
        x: ``(n, *event)`` targets.
        mean: ``(n, *event)`` decoder means.
        log_std: ``(n, *event)`` learned log standard deviations, or one float (a
            fixed standard deviation).
        event_dims: trailing dimensions of one data point (1 on the plane, 3 for images).

    Returns:
        ``(n,)`` nats.
    """
    log_std = torch.as_tensor(log_std, dtype=mean.dtype, device=mean.device)
    z = (x - mean) * torch.exp(-log_std)
    return _sum_event(-0.5 * z.square() - log_std - 0.5 * LOG_2PI, event_dims)


def normal_noise(shape: tuple[int, ...], rng: torch.Generator, like: Tensor) -> Tensor:
    """``N(0, I)`` noise of ``shape`` drawn from ``rng`` only (never torch's
    global random number generator), returned on ``like``'s device and dtype."""
    eps = torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype)
    return eps.to(like.device)
