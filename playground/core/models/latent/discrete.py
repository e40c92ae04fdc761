"""What the discrete-latent models (VQ-VAE, Gumbel-softmax VAE) share: their decoder."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import LatentModel

__all__ = ["DiscreteLatentModel"]

_LOG_2PI = math.log(2.0 * math.pi)


class DiscreteLatentModel(LatentModel):
    """A latent model whose ``z`` takes discrete values, decoded by ``self.decoder`` (a
    :class:`~.networks.Decoder` with one output channel): Bernoulli pixels for images, a
    Gaussian of fixed standard deviation ``config.sigma`` on the plane."""

    discrete_latent: ClassVar[bool] = True

    @property
    def discrete_likelihood(self) -> bool:
        """The Bernoulli decoder is a probability of binarised images (``levels == 2``)."""
        return self.is_image and self.levels == 2

    def decode(self, z: Tensor) -> Tensor:
        """The decoder mean at ``z`` ``(n, latent_dim)``: pixel probabilities ``(n, 1, h, w)``
        or points ``(n, 2)``."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.is_image else out[:, 0]

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """``log p(x | z)`` in nats, summed over pixels or coordinates: ``(n,)``.

        Bernoulli with logits for images (``x`` in ``[0, 1]``), ``N(mu(z), sigma^2 I)``
        on the plane.
        """
        out = self.decoder(z)
        if self.is_image:
            bce = F.binary_cross_entropy_with_logits(out, x, reduction="none")
            return -bce.flatten(1).sum(1)
        sigma = self.config.sigma
        d = x.shape[1]
        sq = (x - out[:, 0]).square().sum(1)
        return -0.5 * sq / sigma**2 - d * (math.log(sigma) + 0.5 * _LOG_2PI)
