"""Fréchet distance of two feature sets (FID) and the classifier score (the Inception score
computed with our own small classifier)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["frechet_distance", "classifier_score"]


def _features64(x: Tensor, name: str) -> Tensor:
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{name} must have shape (n, d) with n >= 2, got {tuple(x.shape)}")
    return x.detach().to(device="cpu", dtype=torch.float64)


def _psd_sqrt(s: Tensor) -> Tensor:
    """The symmetric square root of a symmetric positive semi-definite matrix (eigh; the
    tiny negative eigenvalues of rounding are set to 0)."""
    w, v = torch.linalg.eigh(s)
    return (v * w.clamp(min=0).sqrt()) @ v.T


@torch.no_grad()
def frechet_distance(feats_a: Tensor, feats_b: Tensor) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (FID's formula).

    ``d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^{1/2})``, with the means ``mu`` and
    unbiased covariances ``S`` of the sets. The trace of the matrix square root is computed
    as ``tr((S_a^{1/2} S_b S_a^{1/2})^{1/2})`` (the same eigenvalues; symmetric, so
    ``eigh`` is stable where ``scipy.linalg.sqrtm`` of the non-symmetric product may return
    a complex part). Float64. Units: squared feature units; 0 for identical statistics, and
    biased upwards for finite ``n`` (compare with the data's own train-vs-test floor).

    Arguments:
        feats_a: ``(m, d)`` features, ``m >= 2``.
        feats_b: ``(n, d)`` features, ``n >= 2``, same ``d``.

    Returns:
        ``d^2 >= 0`` as a float.

    Raises:
        ValueError: the shapes are not ``(m, d)`` and ``(n, d)`` with ``m, n >= 2``.

    References:
        Heusel et al., "GANs trained by a two time-scale update rule converge to a local
        Nash equilibrium", NeurIPS 2017, eq. 6 (FID); Dowson & Landau, "The Fréchet
        distance between multivariate normal distributions", J. Multivar. Anal. 1982.
    """
    a, b = _features64(feats_a, "feats_a"), _features64(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} and {b.shape[1]}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = torch.cov(a.T).reshape(a.shape[1], -1), torch.cov(b.T).reshape(b.shape[1], -1)
    root_a = _psd_sqrt(s_a)
    middle = root_a @ s_b @ root_a
    tr_covmean = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    d2 = (mu_a - mu_b).square().sum() + s_a.trace() + s_b.trace() - 2 * tr_covmean
    return max(float(d2), 0.0)


@torch.no_grad()
def classifier_score(probs: Tensor) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))``, with ``p(y)`` the mean of ``p(y|x)`` over the set.

    The Inception score computed with a small classifier of our own data: high when each
    sample is confidently one class (low ``H(y|x)``) and the classes are balanced (high
    ``H(y)``). Between 1 (every prediction the same, or uniform) and ``K`` (confident
    and balanced over ``K`` classes). Computed in float64 on the whole set (no splits).

    Arguments:
        probs: ``(n, K)`` class probabilities, rows summing to one.

    Returns:
        The score, a float in ``[1, K]``.

    Raises:
        ValueError: ``probs`` is not ``(n, K)`` with ``n >= 1``, or has negative entries.

    References:
        Salimans et al., "Improved techniques for training GANs", NeurIPS 2016, sec. 4.
    """
    if probs.ndim != 2 or probs.shape[0] < 1:
        raise ValueError(f"probs must have shape (n, K) with n >= 1, got {tuple(probs.shape)}")
    p = probs.detach().to(device="cpu", dtype=torch.float64)
    if bool((p < 0).any()):
        raise ValueError("probs has negative entries")
    p = p / p.sum(1, keepdim=True)
    marginal = p.mean(0, keepdim=True)
    # x log(x / m) with 0 log 0 = 0
    kl = torch.xlogy(p, p) - torch.xlogy(p, marginal.expand_as(p))
    return float(math.exp(float(kl.sum(1).mean())))
