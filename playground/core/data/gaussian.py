"""The posterior-collapse pair: one 2D Gaussian, axis-aligned or rotated by 45 degrees."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

from playground.core.data.base import LOG_2PI, Density2D
from playground.core.data.quadrature import as_points64

__all__ = ["Gaussian2D", "Gaussian2DAxis", "Gaussian2DRotated"]


class Gaussian2D(Density2D):
    """A 2D Gaussian ``N(mean, R diag(std^2) R^T)`` with ``R`` a rotation by ``angle``.

    With a Gaussian decoder of learned diagonal variance a VAE can fit the axis-aligned
    version with its decoder alone (``p(x | z) = p(x)``), so its posterior collapses; the
    rotated version has a full covariance that a diagonal decoder cannot express without
    the latent, so the latent stays in use.

    Attributes:
        mean: ``(2,)`` float64, ``(2, 3)``.
        std: ``(2,)`` float64, ``(3, 1)``: the standard deviations along the rotated axes.
        angle: rotation in radians.

    References:
        Lucas et al., "Don't Blame the ELBO! A Linear VAE Perspective on Posterior
        Collapse", NeurIPS 2019; Chen et al., "Variational Lossy Autoencoder", ICLR 2017
        (a decoder that can model the data alone ignores the latent).
    """

    has_log_prob = True
    box = (-8.0, 12.0, -7.0, 13.0)
    angle: ClassVar[float] = 0.0
    mean = torch.tensor([2.0, 3.0], dtype=torch.float64)
    std = torch.tensor([3.0, 1.0], dtype=torch.float64)

    @classmethod
    def rotation(cls) -> Tensor:
        """``R``: ``(2, 2)`` float64, the rotation by :attr:`angle`."""
        c, s = math.cos(cls.angle), math.sin(cls.angle)
        return torch.tensor([[c, -s], [s, c]], dtype=torch.float64)

    @classmethod
    def covariance(cls) -> Tensor:
        """``R diag(std^2) R^T``: ``(2, 2)`` float64."""
        r = cls.rotation()
        return r @ torch.diag(cls.std.square()) @ r.T

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        eps = torch.randn(n, 2, generator=rng, dtype=torch.float64)
        return (self.mean + (eps * self.std) @ self.rotation().T).float()

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log N(x; mean, cov)`` in nats: ``(n, 2) -> (n,)`` (else ValueError),
        dtype and device of ``x``."""
        d = (as_points64(x) - self.mean) @ self.rotation()  # coordinates along the rotated axes
        quad = (d / self.std).square().sum(-1)
        log_det = 2 * torch.log(self.std).sum()
        return (-0.5 * (quad + log_det + 2 * LOG_2PI)).to(dtype=x.dtype, device=x.device)


class Gaussian2DAxis(Gaussian2D):
    """Mean ``(2, 3)``, standard deviations ``(3, 1)`` along the axes (diagonal covariance)."""

    name = "gaussian2d-axis"
    description = "2D Gaussian, mean (2, 3), std (3, 1), axis-aligned: posterior collapse"


class Gaussian2DRotated(Gaussian2D):
    """The same Gaussian rotated by 45 degrees about its mean (full covariance)."""

    name = "gaussian2d-rotated"
    description = "the same 2D Gaussian rotated by 45 degrees (full covariance): no collapse"
    angle = math.pi / 4
