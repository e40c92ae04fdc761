"""Unequally weighted Gaussian mixtures: where Langevin with the true score gets weights wrong."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from playground.core.data.base import Density2D
from playground.core.data.quadrature import gaussian_mixture_log_prob

__all__ = ["GMM82"]


class GMM82(Density2D):
    """``0.8 N(5 (1, 1), I) + 0.2 N(-5 (1, 1), I)``: two far modes of unequal weight.

    The modes are so far apart (14 standard deviations) that the score near each mode
    ignores the other: Langevin dynamics with the exact score cannot move mass between
    them, so chains started uniformly end with the weights of their basins, not 0.8 / 0.2.
    Annealed Langevin (noise-conditional scores, large sigma first) recovers the weights.

    Attributes:
        means: ``(2, 2)`` float64; component 0 (weight 0.8) at ``(5, 5)``.
        mode_weights: ``(0.8, 0.2)``, the mixture weights, in the order of ``modes``.

    References:
        Song & Ermon, "Generative modeling by estimating gradients of the data
        distribution", NeurIPS 2019, section 3.2.2 and figure 3 (this mixture).
    """

    name = "gmm82"
    box = (-9.0, 9.0, -9.0, 9.0)
    description = "two Gaussians weighted 0.8 / 0.2 at +-(5, 5): Langevin misses the weights"
    has_log_prob = True
    means: ClassVar[Tensor] = torch.tensor([[5.0, 5.0], [-5.0, -5.0]], dtype=torch.float64)
    modes = means.float()
    mode_std = 1.0
    mode_weights: ClassVar[tuple[float, ...]] = (0.8, 0.2)

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Samples and their component (0 for the weight-0.8 mode at ``(5, 5)``).

        Arguments:
            n: number of samples.
            rng: the only source of randomness.

        Returns:
            ``(x, labels)``: ``(n, 2)`` float32 and ``(n,)`` int64 indices into ``modes``.
        """
        # inverse CDF of the weights (torch.multinomial refuses n = 0)
        cumulative = torch.tensor(self.mode_weights, dtype=torch.float64).cumsum(0)[:-1]
        u = torch.rand(n, generator=rng, dtype=torch.float64)
        labels = torch.searchsorted(cumulative, u, right=True)
        noise = torch.randn(n, 2, generator=rng, dtype=torch.float64)
        return (self.means[labels] + self.mode_std * noise).float(), labels

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        return self.sample_with_labels(n, rng)[0]

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x) = logsumexp_k (log w_k + log N(x; mu_k, I))`` in nats:
        ``(n, 2) -> (n,)`` (else ValueError), dtype of ``x``."""
        log_w = torch.tensor([math.log(w) for w in self.mode_weights], dtype=torch.float64)
        return gaussian_mixture_log_prob(x, self.means, log_w, self.mode_std)
