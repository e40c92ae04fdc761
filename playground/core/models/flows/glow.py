"""Glow's layers: ActNorm and an LU-parametrised invertible linear map."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from .base import FlowLayer

__all__ = ["ActNorm", "InvertibleLinear"]


class ActNorm(FlowLayer):
    """Per-coordinate affine normalisation ``z = (x - loc) exp(-log_scale)``.

    Starts as the identity; :meth:`data_init` (called by the flow on its first forward-KL
    batch) sets ``loc`` and ``log_scale`` so that batch leaves with zero mean and unit
    variance. The ``initialized`` buffer is saved with the weights, so a reloaded model
    keeps its initialisation; a flow trained by reverse KL never sees data and keeps the
    identity start.

    Arguments:
        dim: ``d``.

    References:
        Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions",
        NeurIPS 2018, section 3.1 and table 1.
    """

    label: ClassVar[str] = "actnorm"

    def __init__(self, dim: int = 2):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def data_init(self, x: Tensor) -> None:
        """Standardise the batch ``(n, d)``; a batch with non-finite or constant columns is
        ignored (the identity stays)."""
        if bool(self.initialized) or x.shape[0] < 2:
            return
        loc, std = x.mean(0), x.std(0)
        if not (torch.isfinite(loc).all() and torch.isfinite(std).all() and (std > 0).all()):
            return
        self.loc.copy_(loc)
        self.log_scale.copy_(std.log())
        self.initialized.fill_(True)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = (x - self.loc) * torch.exp(-self.log_scale)
        return z, (-self.log_scale.sum()).expand(x.shape[0])

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        x = z * torch.exp(self.log_scale) + self.loc
        return x, self.log_scale.sum().expand(z.shape[0])


class InvertibleLinear(FlowLayer):
    """``z = W x`` with ``W = P L (U + diag(sign(s) exp(log|s|)))`` (the 1x1 convolution).

    ``P`` is a fixed permutation, ``L`` unit lower-triangular, ``U`` strictly upper-
    triangular, so ``log|det W| = sum log|s|`` costs ``O(d)``. Initialised at a random
    rotation: in 2D it lets the next coupling split the plane along any direction.

    Arguments:
        dim: ``d``.

    References:
        Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions",
        NeurIPS 2018, section 3.2, equation (10).
    """

    label: ClassVar[str] = "linear"

    def __init__(self, dim: int = 2):
        super().__init__()
        q = torch.linalg.qr(torch.randn(dim, dim))[0]
        p, lower, upper = torch.linalg.lu(q)
        s = upper.diagonal()
        self.register_buffer("permutation", p)
        self.register_buffer("sign_s", torch.sign(s))
        self.register_buffer("lower_mask", torch.tril(torch.ones(dim, dim), -1))
        self.lower = nn.Parameter(lower * self.lower_mask)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(s.abs().log())

    def weight(self) -> Tensor:
        """The matrix ``W`` ``(d, d)``."""
        eye = torch.eye(self.log_s.numel(), dtype=self.log_s.dtype, device=self.log_s.device)
        lower = self.lower * self.lower_mask + eye
        upper = self.upper * self.lower_mask.T + torch.diag(self.sign_s * self.log_s.exp())
        return self.permutation @ lower @ upper

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x @ self.weight().T, self.log_s.sum().expand(x.shape[0])

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return z @ torch.linalg.inv(self.weight()).T, (-self.log_s.sum()).expand(z.shape[0])
