"""Closed-form log-densities, KL divergences and decoder likelihoods of the latent models,
in nats."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ...data.discrete import to_levels

__all__ = [
    "LOG_2PI",
    "gaussian_kl_per_dim",
    "gaussian_log_prob",
    "standard_normal_log_prob",
    "bernoulli_log_likelihood",
    "gaussian_log_likelihood",
    "categorical_log_likelihood",
    "discretized_logistic_log_probs",
    "discretized_logistic_log_likelihood",
    "level_mean",
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


def categorical_log_likelihood(
    x: Tensor, logits: Tensor, levels: int, event_dims: int = 3
) -> Tensor:
    """``log Cat(k; softmax(logits))`` of each pixel's level ``k = to_levels(x)``, summed
    over the pixels of each image: an exact log-probability of the discrete data.

    Arguments:
        x: ``(n, 1, h, w)`` images on the grid ``k / (levels - 1)``.
        logits: ``(n, levels, h, w)``: one logit per level and pixel.
        levels: ``L``, values per pixel.
        event_dims: trailing dimensions of one image (3).

    Returns:
        ``(n,)`` nats.

    References:
        van den Oord, Kalchbrenner and Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML
        2016, section 5.3 (a softmax over the discrete pixel values).
    """
    k = to_levels(x, levels)
    log_p = F.log_softmax(logits, dim=1).gather(1, k)
    return _sum_event(log_p, event_dims)


def _logistic_bin_log_prob(k: Tensor, mean: Tensor, log_scale: Tensor, levels: int) -> Tensor:
    """``log P(k)`` of the discretised logistic, elementwise (``k`` int64 broadcastable
    with ``mean`` and ``log_scale``)."""
    half = 0.5 / (levels - 1)
    centre = k.to(mean.dtype) / (levels - 1)
    inv_scale = torch.exp(-log_scale)
    upper = (centre + half - mean) * inv_scale
    lower = (centre - half - mean) * inv_scale
    # sigmoid(a) - sigmoid(b) = sigmoid(a) sigmoid(-b) (1 - exp(b - a)): exact in logs, with
    # no cancellation when the bin is far in a tail or much narrower than the scale
    width = (upper - lower).clamp_min(1e-12)
    middle = F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(-width))
    # the edge bins take the tails: (-inf, 0 + half] and [1 - half, inf)
    out = torch.where(k == 0, F.logsigmoid(upper), middle)
    return torch.where(k == levels - 1, F.logsigmoid(-lower), out)


def discretized_logistic_log_probs(mean: Tensor, log_scale: Tensor, levels: int) -> Tensor:
    """``log P(k)`` of every level ``k = 0..L-1`` of each pixel's discretised logistic.

    ``P(k) = F((c_k + 1/(2(L-1)) - mu) / s) - F((c_k - 1/(2(L-1)) - mu) / s)`` with ``F``
    the logistic CDF (the sigmoid) and ``c_k = k / (L - 1)`` the level's value; the edge
    levels take the tails (``F(...) - 0`` at ``k = 0``, ``1 - F(...)`` at ``k = L-1``), so
    the ``L`` probabilities sum to one.

    Arguments:
        mean, log_scale: ``(n, c, h, w)``: ``mu`` and ``log s`` of each pixel, data units.
        levels: ``L``.

    Returns:
        ``(n, L, c, h, w)`` nats; ``logsumexp`` over dimension 1 is 0.

    References:
        Salimans, Karpathy, Chen and Kingma, "PixelCNN++", ICLR 2017, section 2.1 and
        equation (2).
    """
    k = torch.arange(levels, device=mean.device).view(1, levels, *([1] * (mean.dim() - 1)))
    return _logistic_bin_log_prob(k, mean.unsqueeze(1), log_scale.unsqueeze(1), levels)


def discretized_logistic_log_likelihood(
    x: Tensor, mean: Tensor, log_scale: Tensor, levels: int, event_dims: int = 3
) -> Tensor:
    """``log P(k)`` (see :func:`discretized_logistic_log_probs`) of each pixel's level
    ``k = to_levels(x)``, summed over the pixels of each image: an exact log-probability
    of the discrete data.

    Arguments:
        x: ``(n, c, h, w)`` images on the grid ``k / (levels - 1)``.
        mean, log_scale: ``(n, c, h, w)``.
        levels: ``L``.
        event_dims: trailing dimensions of one image (3).

    Returns:
        ``(n,)`` nats.

    References:
        Salimans et al., "PixelCNN++", ICLR 2017, section 2.1.
    """
    k = to_levels(x, levels)
    return _sum_event(_logistic_bin_log_prob(k, mean, log_scale, levels), event_dims)


def level_mean(log_probs: Tensor, levels: int) -> Tensor:
    """``E[x] = sum_k P(k) k / (L - 1)`` of per-pixel distributions over levels:
    ``(n, L, ...)`` log-probabilities (or logits) ``-> (n, ...)`` in ``[0, 1]``."""
    values = torch.arange(levels, device=log_probs.device, dtype=log_probs.dtype) / (levels - 1)
    probs = torch.softmax(log_probs, dim=1)
    return (probs * values.view(1, levels, *([1] * (log_probs.dim() - 2)))).sum(1)


def normal_noise(shape: tuple[int, ...], rng: torch.Generator, like: Tensor) -> Tensor:
    """``N(0, I)`` noise of ``shape`` drawn from ``rng`` only (never torch's
    global random number generator), returned on ``like``'s device and dtype."""
    eps = torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype)
    return eps.to(like.device)
