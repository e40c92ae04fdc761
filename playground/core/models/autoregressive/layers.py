"""PixelCNN's masked convolution and the plain PixelCNN network built from it.

The network is shared by the ``pixelcnn`` model and the VQ-VAE's code prior (van den
Oord et al. 2017, the second stage): both map a ``(n, C, h, w)`` float input to logits
``(n, levels, h, w)`` in which pixel ``(i, j)`` sees only the pixels before it in raster
order.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MaskedConv2d", "PixelCNNNetwork", "raster_mask"]


def raster_mask(kernel_size: int, include_centre: bool) -> Tensor:
    """The ``(k, k)`` 0/1 mask of a causal convolution in raster order: the rows above the
    centre, and the pixels left of it in its row; the centre itself only for mask B.

    Arguments:
        kernel_size: ``k``, odd.
        include_centre: mask B (True: every layer after the first) or mask A (False: the
            first layer, so a pixel never sees its own value).

    Raises:
        ValueError: an even kernel size.

    References:
        van den Oord, Kalchbrenner and Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML
        2016, section 3.4 and figure 4 (single channel: masks A and B differ at the centre).
    """
    if kernel_size % 2 == 0:
        raise ValueError(f"a masked convolution needs an odd kernel, not {kernel_size}")
    c = kernel_size // 2
    mask = torch.zeros(kernel_size, kernel_size)
    mask[:c] = 1
    mask[c, : c + (1 if include_centre else 0)] = 1
    return mask


class MaskedConv2d(nn.Conv2d):
    """A same-padded 2D convolution whose kernel is multiplied by :func:`raster_mask`.

    Arguments:
        in_channels, out_channels: as ``nn.Conv2d``.
        kernel_size: odd ``k``.
        mask_type: ``"A"`` (the centre excluded) or ``"B"`` (included).

    Shapes: ``(n, in_channels, h, w) -> (n, out_channels, h, w)``.

    Raises:
        ValueError: a mask type other than A or B, or an even kernel.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str):
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', not {mask_type!r}")
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.mask_type = mask_type
        self.register_buffer("mask", raster_mask(kernel_size, mask_type == "B")[None, None])

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCNNNetwork(nn.Module):
    """A PixelCNN: one mask-A convolution, then residual mask-B blocks, then 1x1 logits.

    Arguments:
        in_channels: channels of the input (1 for a grey image; ``K`` for a one-hot code map).
        levels: values per pixel (the logits' channels).
        channels: hidden channels.
        blocks: residual mask-B blocks (each ``ReLU, 1x1, ReLU, 3x3 B, ReLU, 1x1``).
        first_kernel: the mask-A kernel (7 in the paper).
        n_classes: class-conditional biases for this many classes (0: none).
        dropout: the probability of dropping each output of a block before it is added
            to the residual stream, while training (0: none; no module, so the weights'
            names do not depend on it).

    Shapes: ``forward(x (n, in_channels, h, w), labels (n,) or None) -> (n, levels, h, w)``.

    References:
        van den Oord, Kalchbrenner and Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML
        2016, section 3.4 and figure 5 (the residual block).
    """

    def __init__(
        self,
        in_channels: int,
        levels: int,
        channels: int = 64,
        blocks: int = 5,
        first_kernel: int = 7,
        n_classes: int = 0,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.dropout = float(dropout)
        self.first = MaskedConv2d(in_channels, channels, first_kernel, "A")
        half = max(channels // 2, 1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.ReLU(),
                nn.Conv2d(channels, half, 1),
                nn.ReLU(),
                MaskedConv2d(half, half, 3, "B"),
                nn.ReLU(),
                nn.Conv2d(half, channels, 1),
            )
            for _ in range(blocks)
        )
        self.class_bias = nn.Embedding(n_classes, channels) if n_classes else None
        self.head = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU(), nn.Conv2d(channels, levels, 1)
        )

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.first(x)
        if self.class_bias is not None and labels is not None:
            h = h + self.class_bias(labels)[:, :, None, None]
        for block in self.blocks:
            h = h + F.dropout(block(h), self.dropout, self.training)
        return self.head(h)
