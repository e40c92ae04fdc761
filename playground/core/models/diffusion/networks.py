"""The noise-prediction network of DDPM (and its noisy classifier): a residual MLP with a
sinusoidal time embedding and an optional class embedding."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["EpsilonNet", "timestep_embedding", "TIME_EMBEDDING_DIM"]

#: width of the sinusoidal embedding of t
TIME_EMBEDDING_DIM = 32


def timestep_embedding(t: Tensor, T: int, dim: int = TIME_EMBEDDING_DIM) -> Tensor:
    """Sinusoidal embedding of steps ``t (n,)`` in ``1..T`` -> ``(n, dim)``.

    ``t`` is rescaled to ``1000 t / T`` first, so the frequencies (periods from ``2 pi``
    to ``10000 * 2 pi``) see the same range whatever ``T`` is.

    References:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5; Ho et al.
        2020, appendix B (the diffusion step as a Transformer position).
    """
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    args = (t.float() * (1000.0 / T))[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class EpsilonNet(nn.Module):
    """``eps_theta(x_t, t[, y])``: a residual MLP on flattened ``x_t`` with ``t`` (and a
    class ``y``) added to every block (learned projections of :func:`timestep_embedding`
    and of a class embedding).

    Arguments:
        dim: data elements (2 on the plane, ``h * w`` for images).
        T: the number of diffusion steps.
        hidden, depth: width and number of residual blocks.
        n_out: output width (default ``dim``; the noisy classifier: the number of classes).
        n_classes: classes of the conditioning ``y`` (0: unconditional); the embedding has
            one more row, index ``n_classes``, the null class of classifier-free guidance.

    Shapes (forward):
        ``x (n, dim)``, ``t (n,)`` int64 in ``1..T``, ``y (n,)`` int64 or ``None`` ->
        ``(n, n_out)``.
    """

    def __init__(
        self, dim: int, T: int, hidden: int, depth: int, n_out: int | None = None,
        n_classes: int = 0,
    ):  # fmt: skip
        super().__init__()
        self.T = T
        self.time = nn.Sequential(nn.Linear(TIME_EMBEDDING_DIM, hidden), nn.SiLU())
        self.label = nn.Embedding(n_classes + 1, hidden) if n_classes else None
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.time_proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, n_out or dim))

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        temb = self.time(timestep_embedding(t, self.T))
        if self.label is not None and y is not None:
            temb = temb + self.label(y)
        h = self.inp(x)
        for block, proj in zip(self.blocks, self.time_proj, strict=True):
            h = h + block(nn.functional.silu(h + proj(temb)))
        return self.out(h)
