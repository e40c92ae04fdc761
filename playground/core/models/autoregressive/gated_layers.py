"""Gated PixelCNN's layers: a vertical and a horizontal stack without a blind spot, gated
activations, residual and skip connections, and class conditioning.

Pixel ``(r, c)`` of the output sees every pixel of the rows above it within the stacks'
reach and the pixels left of it in its own row, and nothing at or after it in raster order.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["gate", "down_shift", "GatedLayer", "GatedPixelCNNNetwork"]


def gate(a: Tensor) -> Tensor:
    """The gated activation ``tanh(a_f) * sigmoid(a_g)`` of ``a (n, 2p, h, w)`` split in
    halves along the channels: ``(n, p, h, w)``.

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
        NeurIPS 2016, eq. (2).
    """
    f, g = a.chunk(2, dim=1)
    return f.tanh() * g.sigmoid()


def down_shift(x: Tensor) -> Tensor:
    """``(n, c, h, w)`` moved one row down: row ``r`` holds row ``r - 1`` of ``x``, row 0
    zeros. What the vertical stack hands the horizontal one, so that row ``r`` of the
    horizontal stack sees the rows above ``r`` only."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


class GatedLayer(nn.Module):
    """One layer of both stacks.

    Vertical: a ``(k//2 + 1) x k`` convolution over rows ``r - k//2 .. r`` and columns
    ``c - k//2 .. c + k//2`` (the whole neighbourhood above, and its own row: the vertical
    stack never reaches the output but through :func:`down_shift`), then :func:`gate`.
    Horizontal: a ``1 x (k//2 + 1)`` convolution over columns ``c - k//2 .. c`` of its row
    (the first layer, mask A: ``c - k//2 - 1 .. c - 1``, the pixel itself excluded), plus a
    1x1 map of the down-shifted vertical pre-activation, then :func:`gate`, a 1x1
    convolution and, after the first layer, a residual connection. With ``n_classes``, a
    learned embedding of the label is added to both stacks' pre-activations (eq. 4).

    Arguments:
        in_channels: channels of the input (the image's for the first layer, else ``p``).
        channels: ``p``, channels of each stack.
        kernel: odd ``k``.
        first: mask A (the first layer): no residual, the current pixel excluded.
        n_classes: labels of the conditioning (0: none).
        dropout: the probability of dropping each gated unit of the horizontal stack
            while training (before its residual and skip maps).

    Shapes: ``forward(v (n, in, h, w), h (n, in, h, w), labels (n,) or None) ->
    (v (n, p, h, w), h (n, p, h, w), skip (n, p, h, w))``.

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
        NeurIPS 2016, section 2.2, figure 2 and eqs. (2), (4).
    """

    def __init__(
        self,
        in_channels: int,
        channels: int,
        kernel: int,
        first: bool,
        n_classes: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.dropout = float(dropout)
        if kernel % 2 == 0:
            raise ValueError(f"a gated layer needs an odd kernel, not {kernel}")
        self.half, self.first = kernel // 2, first
        p2 = 2 * channels
        self.vertical = nn.Conv2d(in_channels, p2, (self.half + 1, kernel))
        self.horizontal = nn.Conv2d(in_channels, p2, (1, self.half + 1))
        self.link = nn.Conv2d(p2, p2, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        self.skip = nn.Conv2d(channels, channels, 1)
        self.embed = nn.Embedding(n_classes, 2 * p2) if n_classes else None

    def forward(
        self, v: Tensor, h: Tensor, labels: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        k = self.half
        v_pre = self.vertical(F.pad(v, (k, k, k, 0)))
        if self.first:  # mask A: columns c - k - 1 .. c - 1
            h_pre = self.horizontal(F.pad(h, (k + 1, 0, 0, 0)))[..., :-1]
        else:
            h_pre = self.horizontal(F.pad(h, (k, 0, 0, 0)))
        h_pre = h_pre + self.link(down_shift(v_pre))
        if self.embed is not None and labels is not None:
            cond_v, cond_h = self.embed(labels)[:, :, None, None].chunk(2, dim=1)
            v_pre, h_pre = v_pre + cond_v, h_pre + cond_h
        gated = F.dropout(gate(h_pre), self.dropout, self.training)
        h_out = self.out(gated)
        if not self.first:
            h_out = h_out + h
        return gate(v_pre), h_out, self.skip(gated)


class GatedPixelCNNNetwork(nn.Module):
    """A Gated PixelCNN: gated layers (the first with ``first_kernel`` and mask A, the rest
    ``kernel``), then ``ReLU, 1x1, ReLU, 1x1`` logits of the sum of the skip connections
    (or of the last horizontal stack without them).

    Arguments:
        in_channels: channels of the input image.
        levels: values per pixel (the logits' channels).
        channels: ``p``, channels of each stack.
        layers: gated layers, at least 1.
        kernel: the odd kernel of the layers after the first.
        first_kernel: the odd kernel of the first layer.
        n_classes: class-conditional layers for this many labels (0: none).
        skip: sum every layer's skip output into the head (else the last horizontal stack).
        dropout: see :class:`GatedLayer`.

    Shapes: ``forward(x (n, in_channels, h, w), labels (n,) or None) -> (n, levels, h, w)``;
    output pixel ``(r, c)`` depends on input pixels before it in raster order only.

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
        NeurIPS 2016, section 2.
    """

    def __init__(
        self,
        in_channels: int,
        levels: int,
        channels: int = 32,
        layers: int = 6,
        kernel: int = 3,
        first_kernel: int = 7,
        n_classes: int = 0,
        skip: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        if layers < 1:
            raise ValueError(f"a Gated PixelCNN needs at least one layer, not {layers}")
        self.layers = nn.ModuleList(
            GatedLayer(
                in_channels if i == 0 else channels,
                channels,
                first_kernel if i == 0 else kernel,
                first=i == 0,
                n_classes=n_classes,
                dropout=dropout,
            )
            for i in range(layers)
        )
        self.use_skip = skip
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, levels, 1)
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        v = h = x
        skips = 0.0
        for layer in self.layers:
            v, h, s = layer(v, h, labels)
            skips = skips + s
        return self.head(skips if self.use_skip else h)
