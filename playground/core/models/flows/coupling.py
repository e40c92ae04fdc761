"""Affine coupling layers with alternating masks (RealNVP)."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from .base import FlowLayer, soft_clamp

__all__ = ["AffineCoupling", "mlp", "alternating_mask"]

#: one layer scales by at most exp(±3) (20x): ample for 2D sets, impossible to blow up
MAX_LOG_SCALE = 3.0


def mlp(n_in: int, n_out: int, hidden: int, depth: int, zero_last: bool = True) -> nn.Sequential:
    """A conditioner network: ``depth`` hidden layers of width ``hidden`` with ReLU.

    Arguments:
        n_in, n_out: input and output features.
        hidden: width of every hidden layer.
        depth: number of hidden layers (at least 1).
        zero_last: zero the output layer, so the flow layer starts as the identity.

    Returns:
        The network, mapping ``(n, n_in)`` to ``(n, n_out)``.
    """
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    last = nn.Linear(width, n_out)
    if zero_last:
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


def alternating_mask(dim: int, k: int) -> Tensor:
    """The ``k``-th coupling mask ``(dim,)``: 1 on the kept half, alternating with ``k``."""
    mask = (torch.arange(dim) % 2 == 0).float()
    return mask if k % 2 == 0 else 1.0 - mask


class AffineCoupling(FlowLayer):
    """Affine coupling: the masked coordinates condition a shift and scale of the others.

    ``z = m * x + (1 - m) * (x - t(m * x)) * exp(-s(m * x))``, with ``s`` soft-clamped to
    ``±3``; ``log|det dz/dx| = -sum (1 - m) * s``. The inverse has the same cost.

    Arguments:
        mask: ``(d,)`` with 1 on the coordinates that pass through unchanged.
        hidden: width of the conditioner network.
        depth: hidden layers of the conditioner network.

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
        equations (4)-(9).
    """

    label: ClassVar[str] = "coupling"

    def __init__(self, mask: Tensor, hidden: int = 64, depth: int = 2):
        super().__init__()
        self.register_buffer("mask", mask.float())
        d = mask.numel()
        self.net = mlp(d, 2 * d, hidden, depth)

    def _shift_log_scale(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self.net(kept).chunk(2, dim=-1)
        free = 1.0 - self.mask
        return shift * free, soft_clamp(log_scale, MAX_LOG_SCALE) * free

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._shift_log_scale(x * self.mask)
        return (x - shift) * torch.exp(-log_scale), -log_scale.sum(-1)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        shift, log_scale = self._shift_log_scale(z * self.mask)
        return z * torch.exp(log_scale) + shift, log_scale.sum(-1)
