"""MADE: masked autoencoder whose outputs depend only on earlier inputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MADE", "MaskedLinear", "made_masks"]


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask ``(out, in)``."""

    def __init__(self, n_in: int, n_out: int, mask: Tensor):
        super().__init__(n_in, n_out)
        self.register_buffer("mask", mask.float())

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


def made_masks(
    input_degrees: Tensor, hidden: int, depth: int, n_params: int
) -> tuple[list[Tensor], Tensor]:
    """The masks of a MADE by the degree rule.

    Inputs have degrees ``1..D`` (in the given order); hidden unit ``k`` has the cycled
    degree ``m(k) = (k mod (D - 1)) + 1`` and sees units of degree ``<= m(k)``; output
    ``p * D + i`` has the degree of input ``i`` and sees hidden units of degree ``< d_i``.

    Arguments:
        input_degrees: ``(D,)`` a permutation of ``1..D``.
        hidden: units per hidden layer.
        depth: hidden layers (at least 1).
        n_params: outputs per input dimension.

    Returns:
        ``(masks, output_degrees)``: ``depth + 1`` masks ``(out, in)`` and ``(n_params * D,)``.

    References:
        Germain et al., "MADE: Masked Autoencoder for Distribution Estimation", ICML 2015,
        equations (12)-(13).
    """
    d = input_degrees.numel()
    hidden_degrees = torch.arange(hidden) % max(d - 1, 1) + 1
    masks = [hidden_degrees[:, None] >= input_degrees[None, :]]
    for _ in range(depth - 1):
        masks.append(hidden_degrees[:, None] >= hidden_degrees[None, :])
    output_degrees = input_degrees.repeat(n_params)
    masks.append(output_degrees[:, None] > hidden_degrees[None, :])
    return [m.float() for m in masks], output_degrees


class MADE(nn.Module):
    """An autoregressive network: output ``(p, i)`` depends only on inputs of lower degree.

    Arguments:
        dim: ``D``, the number of inputs.
        hidden: units per hidden layer.
        depth: hidden layers.
        n_params: outputs per input (2 for a shift and a log-scale).
        order: ``(D,)`` input degrees, a permutation of ``1..D`` (default ``1..D``);
            alternating it between flow layers plays the role of a permutation.

    References:
        Germain et al., "MADE: Masked Autoencoder for Distribution Estimation", ICML 2015.
    """

    def __init__(
        self, dim: int, hidden: int, depth: int, n_params: int = 2, order: Tensor | None = None
    ):
        super().__init__()
        if dim < 2:
            raise ValueError("MADE needs at least two inputs")
        degrees = torch.arange(1, dim + 1) if order is None else torch.as_tensor(order)
        if sorted(degrees.tolist()) != list(range(1, dim + 1)):
            raise ValueError(f"order must be a permutation of 1..{dim}, got {degrees.tolist()}")
        self.register_buffer("input_degrees", degrees.long())
        masks, _ = made_masks(degrees, hidden, depth, n_params)
        self.dim, self.n_params = dim, n_params
        layers: list[nn.Module] = []
        for k, mask in enumerate(masks):
            layers.append(MaskedLinear(mask.shape[1], mask.shape[0], mask))
            if k < len(masks) - 1:
                layers.append(nn.ReLU())
        # start every transform at the identity: zero shifts and log-scales
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Autoregressive parameters: ``(n, D) -> (n, n_params, D)``."""
        return self.net(x).unflatten(-1, (self.n_params, self.dim))
