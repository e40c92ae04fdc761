"""RealNVP's image layers: checkerboard and channel-wise masks, the squeeze, affine couplings
with convolutional residual networks, and the logit pre-transform of pixels in [0, 1]."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import FlowLayer, soft_clamp

__all__ = [
    "checkerboard_mask",
    "channel_mask",
    "squeeze",
    "unsqueeze",
    "Squeeze",
    "ResidualBlock",
    "coupling_network",
    "ImageAffineCoupling",
    "ImageActNorm",
    "LogitTransform",
]

#: one coupling scales a pixel by at most exp(±3): ample in logit space, never blows up
MAX_LOG_SCALE = 3.0


def checkerboard_mask(height: int, width: int, parity: int) -> Tensor:
    """The checkerboard mask ``(1, 1, height, width)``: 1 (kept) where ``(i + j) % 2 ==
    parity``, 0 (transformed) elsewhere (Dinh et al. 2017, figure 3, left)."""
    i = torch.arange(height)[:, None]
    j = torch.arange(width)[None, :]
    return ((i + j) % 2 == parity % 2).float()[None, None]


def channel_mask(channels: int, parity: int) -> Tensor:
    """The channel-wise mask ``(1, channels, 1, 1)``: 1 (kept) on the first half of the
    channels when ``parity`` is 0, on the second half when it is 1 (Dinh et al. 2017,
    figure 3, right).

    Raises:
        ValueError: fewer than 2 channels (nothing to split).
    """
    if channels < 2:
        raise ValueError(f"a channel-wise mask needs at least 2 channels, not {channels}")
    first = (torch.arange(channels) < channels // 2).float()
    return (first if parity % 2 == 0 else 1.0 - first)[None, :, None, None]


def squeeze(x: Tensor) -> Tensor:
    """Each ``2 x 2`` block of pixels becomes 4 channels: ``(n, c, h, w) -> (n, 4c, h/2, w/2)``
    (Dinh et al. 2017, section 3.6 and figure 3; channel ``4 ci + 2 di + dj`` holds pixel
    ``(2 i + di, 2 j + dj)`` of channel ``ci``).

    Raises:
        ValueError: ``h`` or ``w`` is odd.
    """
    n, c, h, w = x.shape
    if h % 2 or w % 2:
        raise ValueError(f"squeeze needs an even height and width, not {h} x {w}")
    x = x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(z: Tensor) -> Tensor:
    """The inverse of :func:`squeeze`: ``(n, 4c, h, w) -> (n, c, 2h, 2w)``."""
    n, c4, h, w = z.shape
    z = z.reshape(n, c4 // 4, 2, 2, h, w).permute(0, 1, 4, 2, 5, 3)
    return z.reshape(n, c4 // 4, 2 * h, 2 * w)


class Squeeze(FlowLayer):
    """:func:`squeeze` as a flow layer: a permutation, so ``log|det| = 0``."""

    label: ClassVar[str] = "squeeze"

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return squeeze(x), x.new_zeros(x.shape[0])

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return unsqueeze(z), z.new_zeros(z.shape[0])


class ResidualBlock(nn.Module):
    """``h + conv(relu(conv(relu(h))))`` with ``3 x 3`` convolutions: ``(n, c, h, w)`` to the
    same (He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016, pre-activation)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, h: Tensor) -> Tensor:
        return h + self.conv2(F.relu(self.conv1(F.relu(h))))


def coupling_network(n_in: int, n_out: int, hidden: int, blocks: int) -> nn.Sequential:
    """A coupling's conditioner: ``3 x 3`` convolution to ``hidden`` channels, ``blocks``
    residual blocks, ReLU, and a zero-initialised ``3 x 3`` convolution to ``n_out``
    channels (so every coupling starts as the identity). ``(n, n_in, h, w) -> (n, n_out, h, w)``."""
    last = nn.Conv2d(hidden, n_out, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    layers: list[nn.Module] = [nn.Conv2d(n_in, hidden, 3, padding=1)]
    layers += [ResidualBlock(hidden) for _ in range(blocks)]
    return nn.Sequential(*layers, nn.ReLU(), last)


class ImageAffineCoupling(FlowLayer):
    """An affine coupling of images under a checkerboard or channel-wise mask ``m``.

    ``z = m x + (1 - m) (x - t) exp(-s)`` with ``(t, s) = NN([m x, m, c])`` (``s``
    soft-clamped to ``±3``), so ``log|det dz/dx| = -sum (1 - m) s`` over channels and
    pixels. The conditioner also sees the mask (which pixels it may read) and, in a
    conditional flow, features ``c`` of another image (the variational dequantizer's ``x``).

    Arguments:
        mask: ``(1, 1, h, w)`` (checkerboard) or ``(1, channels, 1, 1)`` (channel-wise), 1 on
            what passes through unchanged.
        channels: ``c`` of the images it maps, ``(n, c, h, w)``.
        hidden: channels of the conditioner's residual network.
        blocks: its residual blocks.
        cond_channels: channels of the conditioning features (0: unconditional).

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
        equations (6)-(9) and section 3.4 (masked convolution); Ho et al., "Flow++", ICML
        2019, section 3.1 (couplings conditioned on ``x``).
    """

    label: ClassVar[str] = "coupling"

    def __init__(
        self, mask: Tensor, channels: int, hidden: int, blocks: int, cond_channels: int = 0
    ):
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.net = coupling_network(channels + 1 + cond_channels, 2 * channels, hidden, blocks)

    def _shift_log_scale(self, kept: Tensor, cond: Tensor | None) -> tuple[Tensor, Tensor]:
        n, _, h, w = kept.shape
        mask = self.mask.expand(n, -1, h, w)
        parts = [kept, mask[:, :1]] + ([] if cond is None else [cond])
        shift, log_scale = self.net(torch.cat(parts, dim=1)).chunk(2, dim=1)
        free = 1.0 - self.mask
        return shift * free, soft_clamp(log_scale, MAX_LOG_SCALE) * free

    def forward(self, x: Tensor, cond: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(n, c, h, w) -> ((n, c, h, w), (n,))``: ``z`` and ``log|det dz/dx|`` (nats);
        ``cond`` ``(n, cond_channels, h, w)`` or ``None``."""
        shift, log_scale = self._shift_log_scale(x * self.mask, cond)
        return (x - shift) * torch.exp(-log_scale), -log_scale.flatten(1).sum(1)

    def inverse(self, z: Tensor, cond: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(n, c, h, w) -> ((n, c, h, w), (n,))``: ``x`` and ``log|det dx/dz|`` (nats)."""
        shift, log_scale = self._shift_log_scale(z * self.mask, cond)
        return z * torch.exp(log_scale) + shift, log_scale.flatten(1).sum(1)


class ImageActNorm(FlowLayer):
    """Per-channel affine normalisation ``z = (x - loc) exp(-log_scale)`` of ``(n, c, h, w)``
    images: ``log|det| = -h w sum_c log_scale_c``.

    Starts as the identity; :meth:`data_init` (the first training batch) gives that batch
    zero mean and unit variance per channel. The ``initialized`` buffer is saved with the
    weights. It stands where RealNVP has batch normalisation, without its dependence on the
    batch.

    References:
        Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions",
        NeurIPS 2018, section 3.1.
    """

    label: ClassVar[str] = "actnorm"

    def __init__(self, channels: int):
        super().__init__()
        self.loc = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    @torch.no_grad()
    def data_init(self, x: Tensor) -> None:
        """Standardise each channel of the batch ``(n, c, h, w)``; a batch with a constant
        or non-finite channel is ignored (the identity stays)."""
        if bool(self.initialized) or x.shape[0] < 2:
            return
        loc = x.mean(dim=(0, 2, 3), keepdim=True)
        std = x.std(dim=(0, 2, 3), keepdim=True)
        if not (torch.isfinite(loc).all() and torch.isfinite(std).all() and (std > 1e-6).all()):
            return
        self.loc.copy_(loc)
        self.log_scale.copy_(std.log())
        self.initialized.fill_(True)

    def _log_det(self, x: Tensor) -> Tensor:
        return (self.log_scale.sum() * x.shape[2] * x.shape[3]).expand(x.shape[0])

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return (x - self.loc) * torch.exp(-self.log_scale), -self._log_det(x)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return z * torch.exp(self.log_scale) + self.loc, self._log_det(z)


class LogitTransform(FlowLayer):
    """Pixels ``y`` in ``[0, 1]`` to the real line: ``s = logit(a + (1 - 2a) y)``.

    ``log|det ds/dy| = sum [log(1 - 2a) - log p - log(1 - p)]`` with ``p = a + (1 - 2a) y``;
    the margin ``a`` keeps ``s`` finite at ``y = 0`` and ``1``. Its inverse maps the real line
    onto ``(-a / (1 - 2a), 1 + a / (1 - 2a))``, slightly more than ``[0, 1]``.

    Arguments:
        alpha: the margin ``a`` in ``(0, 0.5)``.

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
        section 4.1 (``a = 0.05``).
    """

    label: ClassVar[str] = "logit"

    def __init__(self, alpha: float = 0.05):
        super().__init__()
        if not 0.0 < alpha < 0.5:
            raise ValueError(f"the logit margin must be in (0, 0.5), not {alpha}")
        self.alpha = float(alpha)

    def forward(self, y: Tensor) -> tuple[Tensor, Tensor]:
        p = self.alpha + (1.0 - 2.0 * self.alpha) * y
        s = torch.log(p) - torch.log1p(-p)
        log_det = math.log(1.0 - 2.0 * self.alpha) - torch.log(p) - torch.log1p(-p)
        return s, log_det.flatten(1).sum(1)

    def inverse(self, s: Tensor) -> tuple[Tensor, Tensor]:
        y = (torch.sigmoid(s) - self.alpha) / (1.0 - 2.0 * self.alpha)
        # log sigmoid'(s) = -softplus(s) - softplus(-s)
        log_det = -F.softplus(s) - F.softplus(-s) - math.log(1.0 - 2.0 * self.alpha)
        return y, log_det.flatten(1).sum(1)
