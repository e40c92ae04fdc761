"""Gaussian mixtures with known modes: FFJORD's 8gaussians and PacGAN's ring8 and grid25."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from playground.core.data.base import Density2D
from playground.core.data.quadrature import gaussian_mixture_log_prob

__all__ = [
    "GaussianMixture2D",
    "EightGaussians",
    "Ring8",
    "Grid25",
    "mixture_score",
    "mixture_parts",
]


class GaussianMixture2D(Density2D):
    """An equal-weight mixture of isotropic Gaussians with known means (the modes).

    Subclasses set ``means`` (a float64 ``(k, 2)`` tensor) and ``mode_std``; ``modes`` is
    the same means in float32, for comparing with samples (mode coverage, mode assignment).
    The density is closed form: ``log p(x) = logsumexp_k N(x; mu_k, std^2 I) - log k``.
    """

    has_log_prob = True
    means: ClassVar[Tensor]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "means" in cls.__dict__:
            cls.modes = cls.means.float()

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Samples and their component, the index of the mode they were drawn around.

        Arguments:
            n: number of samples.
            rng: the only source of randomness.

        Returns:
            ``(x, labels)``: ``(n, 2)`` float32 and ``(n,)`` int64 indices into ``modes``.
        """
        labels = torch.randint(0, self.means.shape[0], (n,), generator=rng)
        noise = torch.randn(n, 2, generator=rng, dtype=torch.float64)
        return (self.means[labels] + self.mode_std * noise).float(), labels

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        return self.sample_with_labels(n, rng)[0]

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)`` in nats: ``(n, 2) -> (n,)`` (else ValueError), dtype of ``x``."""
        k = self.means.shape[0]
        log_w = torch.full((k,), -math.log(k), dtype=torch.float64)
        return gaussian_mixture_log_prob(x, self.means, log_w, self.mode_std)


def _eight_gaussian_means() -> Tensor:
    s = 1 / math.sqrt(2)
    unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
    return torch.tensor(unit, dtype=torch.float64) * 4.0 / 1.414


class EightGaussians(GaussianMixture2D):
    """FFJORD's 8gaussians: centres on a circle of radius 4, std 0.5, all divided by 1.414.

    Means ``4 (cos, sin)`` of the eight compass directions over 1.414 (FFJORD's constant,
    in FFJORD's order), ``mode_std = 0.5 / 1.414``.

    References:
        Grathwohl et al., "FFJORD", ICLR 2019; github.com/rtqichen/ffjord lib/toy_data.py.
    """

    name = "8gaussians"
    description = "FFJORD 8 Gaussians on a circle (exact density, labelled modes)"
    means = _eight_gaussian_means()
    mode_std = 0.5 / 1.414


class Ring8(GaussianMixture2D):
    """PacGAN's 2D-ring: eight Gaussians at angles ``2 pi i / 8`` on the unit circle, std 0.01.

    References:
        Lin et al., "PacGAN: The power of two samples in generative adversarial
        networks", NeurIPS 2018 (the 2D-ring benchmark).
    """

    name = "ring8"
    box = (-1.5, 1.5, -1.5, 1.5)
    description = "PacGAN ring of 8 sharp Gaussians, std 0.01 (exact density, mode coverage)"
    means = torch.stack(
        [
            torch.cos(2 * math.pi * torch.arange(8, dtype=torch.float64) / 8),
            torch.sin(2 * math.pi * torch.arange(8, dtype=torch.float64) / 8),
        ],
        dim=1,
    )
    mode_std = 0.01


class Grid25(GaussianMixture2D):
    """PacGAN's 2D-grid: 25 Gaussians at ``{-4, -2, 0, 2, 4}^2``, std 0.05.

    The modes are ordered row by row: index ``5 i + j`` sits at ``(2 j - 4, 2 i - 4)``.

    References:
        Lin et al., "PacGAN: The power of two samples in generative adversarial
        networks", NeurIPS 2018 (the 2D-grid benchmark).
    """

    name = "grid25"
    box = (-5.5, 5.5, -5.5, 5.5)
    description = "PacGAN 5x5 grid of sharp Gaussians, std 0.05 (exact density, mode coverage)"
    means = torch.cartesian_prod(
        torch.arange(-4.0, 5.0, 2.0, dtype=torch.float64),
        torch.arange(-4.0, 5.0, 2.0, dtype=torch.float64),
    ).flip(1)
    mode_std = 0.05


def mixture_score(
    x: Tensor, means: Tensor, weights: Tensor, std: float, sigma: float = 0.0
) -> Tensor:
    """``grad log sum_k w_k N(x; mu_k, (std^2 + sigma^2) I)`` in float64: ``(n, 2)``.

    The score of an isotropic Gaussian mixture convolved with ``N(0, sigma^2 I)``:
    ``sum_k r_k(x) (mu_k - x) / s^2`` with ``s^2 = std^2 + sigma^2`` and ``r_k`` the
    posterior responsibilities.
    """
    x = x.to(torch.float64)
    mu = means.to(torch.float64)
    var = float(std) ** 2 + float(sigma) ** 2
    diff = mu[None, :, :] - x[:, None, :]  # (n, k, 2)
    logits = weights.to(torch.float64).log()[None, :] - 0.5 * diff.square().sum(-1) / var
    r = torch.softmax(logits, dim=1)
    return (r[:, :, None] * diff).sum(1) / var


def mixture_parts(data: Density2D) -> tuple[Tensor, Tensor, float] | None:
    """``(means (k, 2), weights (k,) float64 summing to 1, std)`` of an isotropic Gaussian
    mixture (``data.means``, ``data.mode_std``, ``data.mode_weights`` or equal weights);
    ``None`` for any other dataset."""
    means = getattr(data, "means", None)
    std = getattr(data, "mode_std", None)
    if not torch.is_tensor(means) or std is None:
        return None
    k = means.shape[0]
    w = getattr(data, "mode_weights", None)
    weights = torch.tensor(w if w is not None else [1.0 / k] * k, dtype=torch.float64)
    return means, weights / weights.sum(), float(std)
