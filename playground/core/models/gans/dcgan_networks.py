"""DCGAN's two networks: a transposed-convolution generator and a strided-convolution critic."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["CRITIC_NORMS", "ConvCritic", "ConvGenerator", "conv_layout"]

#: the critic's normalisation of its hidden layers (``layer``: one group per sample)
CRITIC_NORMS = ("batch", "layer", "none")
#: the widest a layer gets, in multiples of the base width (the paper's 128 -> 1024)
MAX_WIDTH_FACTOR = 8


def conv_layout(size: int, channels: int) -> tuple[int, list[int]]:
    """The resolution pyramid of a ``size x size`` image: halve while the side is even and
    the half is at least 4 (DCGAN's 4 x 4 start).

    Arguments:
        size: the image side in pixels (8: digits; 16 or 20: shapes; 4 to 64: a folder).
        channels: the base width ``C`` (the full-resolution layer's channels).

    Returns:
        ``(s0, widths)``: the side of the smallest map (8 -> 4, 16 -> 4, 20 -> 5, 7 -> 7)
        and the channels at each level, full resolution first: ``C, 2C, 4C, ...`` (at most
        ``8C``), one more entry than there are halvings.
    """
    s0, widths = size, [channels]
    while s0 % 2 == 0 and s0 // 2 >= 4:
        s0 //= 2
        widths.append(channels * min(2 ** len(widths), MAX_WIDTH_FACTOR))
    return s0, widths


def _norm(kind: str, width: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(width)
    if kind == "layer":  # GroupNorm with one group: per sample, so penalties stay per sample
        return nn.GroupNorm(1, width)
    return nn.Identity()


class ConvGenerator(nn.Module):
    """``G: (n, latent_dim) -> (n, out_channels, size, size)`` logits (the GAN applies the sigmoid).

    ``z`` -> linear -> ``(widest, s0, s0)`` -> batch norm, ReLU -> per halving of
    :func:`conv_layout` a ``4 x 4`` stride-2 transposed convolution (doubling the side,
    halving the width), batch norm, ReLU -> a ``3 x 3`` convolution to ``out_channels``.

    Arguments:
        latent_dim: the width of ``z``.
        size: the image side.
        channels: the base width ``C``.
        out_channels: the image's channels (1: grayscale).

    References:
        Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep
        Convolutional Generative Adversarial Networks", ICLR 2016, section 3 and figure 1.
    """

    def __init__(self, latent_dim: int, size: int, channels: int, out_channels: int = 1):
        super().__init__()
        s0, widths = conv_layout(size, channels)
        self.start = (widths[-1], s0, s0)
        self.project = nn.Linear(latent_dim, widths[-1] * s0 * s0)
        layers: list[nn.Module] = [nn.BatchNorm2d(widths[-1]), nn.ReLU()]
        for w_in, w_out in zip(widths[:0:-1], widths[-2::-1], strict=True):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1), nn.BatchNorm2d(w_out), nn.ReLU()]
        layers.append(nn.Conv2d(widths[0], out_channels, 3, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.body(self.project(z).view(z.shape[0], *self.start))


class ConvCritic(nn.Module):
    """``D: (b, in_channels, size, size) -> (b,)``; its last feature map, flattened, is
    ``features``.

    A ``3 x 3`` convolution at full resolution with no normalisation (the paper leaves the
    critic's first layer unnormalised), then per halving a ``4 x 4`` stride-2 convolution,
    the normalisation ``norm`` and LeakyReLU(0.2); a linear head on the flattened map.

    Arguments:
        in_channels: input channels: the image's channels times ``pack`` (PacGAN).
        size: the image side.
        channels: the base width ``C``.
        norm: one of :data:`CRITIC_NORMS`.

    References:
        Radford et al., ICLR 2016, section 3; Lin et al., "PacGAN", NeurIPS 2018 (packing
        as channels).
    """

    def __init__(self, in_channels: int, size: int, channels: int, norm: str):
        super().__init__()
        s0, widths = conv_layout(size, channels)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, 1, 1), nn.LeakyReLU(0.2)]
        for w_in, w_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(w_in, w_out, 4, 2, 1), _norm(norm, w_out), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(widths[-1] * s0 * s0, 1)

    def features(self, x: Tensor) -> Tensor:
        """The last feature map, flattened: ``(b, widest * s0 * s0)``."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x)).squeeze(-1)
