"""Encoder and decoder networks of the latent models: MLPs for 2D and digits, a small conv
net for shapes (and any image set whose side is at least 16 and divisible by 4)."""

from __future__ import annotations

import math

from torch import Tensor, nn

from ..gans.networks import mlp

__all__ = ["Encoder", "Decoder", "uses_conv", "mlp"]

#: channels of the two stride-2 conv layers
CONV_CHANNELS = (32, 64)


def uses_conv(event_shape: tuple[int, ...]) -> bool:
    """Whether images of this shape get the conv encoder and decoder: ``(1, h, w)`` with
    ``h = w >= 16`` and ``h % 4 == 0`` (shapes at 16 or 20 pixels); digits and 2D use MLPs."""
    return (
        len(event_shape) == 3
        and event_shape[1] == event_shape[2] >= 16
        and (event_shape[1] % 4 == 0)
    )


class Encoder(nn.Module):
    """``x -> (n, n_out)``: flattened MLP, or two stride-2 convs then an MLP head.

    Arguments:
        event_shape: one data point's shape, ``(2,)`` or ``(1, h, w)``.
        n_out: output width (for a Gaussian posterior ``2 * latent_dim``: means and
            log-variances).
        hidden, depth: width and number of hidden layers of the MLP (head).
        activation: the hidden activation (SiLU: smooth, so the 2D density view is smooth).
    """

    def __init__(
        self,
        event_shape: tuple[int, ...],
        n_out: int,
        hidden: int,
        depth: int,
        activation: type[nn.Module] = nn.SiLU,
    ):
        super().__init__()
        self.event_shape = tuple(event_shape)
        if uses_conv(self.event_shape):
            c1, c2 = CONV_CHANNELS
            side = self.event_shape[1] // 4
            self.body: nn.Module = nn.Sequential(
                nn.Conv2d(self.event_shape[0], c1, 4, stride=2, padding=1),
                activation(),
                nn.Conv2d(c1, c2, 4, stride=2, padding=1),
                activation(),
                nn.Flatten(),
            )
            width = c2 * side * side
        else:
            self.body = nn.Flatten()
            width = math.prod(self.event_shape)
        self.head = mlp(
            width, n_out, hidden, max(depth - 1, 1) if self.is_conv else depth, activation
        )

    @property
    def is_conv(self) -> bool:
        return uses_conv(self.event_shape)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x.reshape(x.shape[0], *self.event_shape)))


class Decoder(nn.Module):
    """``z (n, n_in) -> (n, channels_out, *spatial)`` raw outputs (logits or means).

    Arguments:
        n_in: latent width.
        event_shape: one data point's shape, ``(2,)`` or ``(1, h, w)``.
        hidden, depth: as :class:`Encoder`.
        channels_out: outputs per data element (1: a mean or a logit; 2: mean and
            log-variance of a Gaussian decoder with learned variance).
        activation: the hidden activation.

    Returns (forward):
        ``(n, channels_out, 2)`` on the plane, ``(n, channels_out, h, w)`` for images.
    """

    def __init__(
        self,
        n_in: int,
        event_shape: tuple[int, ...],
        hidden: int,
        depth: int,
        channels_out: int = 1,
        activation: type[nn.Module] = nn.SiLU,
    ):
        super().__init__()
        self.event_shape = tuple(event_shape)
        self.channels_out = channels_out
        if uses_conv(self.event_shape):
            c1, c2 = CONV_CHANNELS
            side = self.event_shape[1] // 4
            self.net: nn.Module = nn.Sequential(
                mlp(n_in, c2 * side * side, hidden, max(depth - 1, 1), activation),
                activation(),
                nn.Unflatten(1, (c2, side, side)),
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),
                activation(),
                nn.ConvTranspose2d(c1, channels_out * self.event_shape[0], 4, stride=2, padding=1),
            )
        else:
            self.net = mlp(
                n_in, channels_out * math.prod(self.event_shape), hidden, depth, activation
            )

    def forward(self, z: Tensor) -> Tensor:
        out = self.net(z)
        if len(self.event_shape) == 1:
            return out.view(z.shape[0], self.channels_out, self.event_shape[0])
        _, h, w = self.event_shape
        return out.view(z.shape[0], self.channels_out, h, w)
