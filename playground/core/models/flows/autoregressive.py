"""Gaussian autoregressive layers: MAF (fast density) and IAF (fast sampling)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from .base import FlowLayer, soft_clamp
from .coupling import MAX_LOG_SCALE
from .made import MADE

__all__ = ["MAFLayer", "IAFLayer"]


class _Autoregressive(FlowLayer):
    """A MADE that outputs a shift ``mu_i`` and a soft-clamped log-scale ``alpha_i``."""

    def __init__(self, dim: int, hidden: int, depth: int, order: Tensor | None = None):
        super().__init__()
        self.dim = dim
        self.made = MADE(dim, hidden, depth, n_params=2, order=order)

    def _shift_log_scale(self, u: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self.made(u).unbind(-2)
        return shift, soft_clamp(log_scale, MAX_LOG_SCALE)


class MAFLayer(_Autoregressive):
    """Masked autoregressive flow layer, conditioned on the data side.

    ``z_i = (x_i - mu_i(x_<i)) exp(-alpha_i(x_<i))``: the density direction (x to z) is
    one MADE pass; sampling (z to x) needs ``D`` sequential passes.

    Arguments:
        dim: ``D``.
        hidden: MADE width.
        depth: MADE hidden layers.
        order: input degrees of the MADE (reversing it between layers permutes).

    References:
        Papamakarios, Pavlakou and Murray, "Masked Autoregressive Flow for Density
        Estimation", NeurIPS 2017, equations (2)-(3).
    """

    label: ClassVar[str] = "maf"

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._shift_log_scale(x)
        return (x - shift) * torch.exp(-log_scale), -log_scale.sum(-1)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        # after pass k every coordinate of degree <= k is exact, so D passes suffice
        x = torch.zeros_like(z)
        for _ in range(self.dim):
            shift, log_scale = self._shift_log_scale(x)
            x = z * torch.exp(log_scale) + shift
        return x, log_scale.sum(-1)


class IAFLayer(_Autoregressive):
    """Inverse autoregressive flow layer, conditioned on the base side.

    ``x_i = z_i exp(alpha_i(z_<i)) + mu_i(z_<i)``: sampling (z to x) is one MADE pass;
    the density (x to z) needs ``D`` sequential passes.

    Arguments:
        dim: ``D``.
        hidden: MADE width.
        depth: MADE hidden layers.
        order: input degrees of the MADE (reversing it between layers permutes).

    References:
        Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow",
        NeurIPS 2016, equations (10)-(11).
    """

    label: ClassVar[str] = "iaf"

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = torch.zeros_like(x)
        for _ in range(self.dim):
            shift, log_scale = self._shift_log_scale(z)
            z = (x - shift) * torch.exp(-log_scale)
        return z, -log_scale.sum(-1)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._shift_log_scale(z)
        return z * torch.exp(log_scale) + shift, log_scale.sum(-1)
