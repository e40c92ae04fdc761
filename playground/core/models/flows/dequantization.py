"""Dequantization: from discrete pixels to a continuous density's bound on their likelihood,
with uniform noise (Theis et al. 2016) or a learned conditional flow (Flow++)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .image_coupling import ImageAffineCoupling, ResidualBlock, checkerboard_mask

__all__ = [
    "DEQUANTIZATIONS",
    "dequantization_bound",
    "UniformDequantizer",
    "VariationalDequantizer",
    "make_dequantizer",
]

#: the ``dequantization`` hyperparameter's choices
DEQUANTIZATIONS = ("uniform", "variational")


def dequantization_bound(log_p_y: Tensor, log_q: Tensor, dims: int, levels: int) -> Tensor:
    """The dequantization bound on ``-log P(k)`` of one draw ``u ~ q(u | k)``, in nats.

    ``P(k) = int_{[0,1)^D} p_Y((k + u) / L) L^{-D} du`` (the mass ``p_Y`` gives pixel ``k``'s
    cell), so by Jensen's inequality, for any density ``q(u | k)`` on ``[0, 1)^D``::

        -log P(k) <= E_{u ~ q}[ -log p_Y((k + u) / L) + D log L + log q(u | k) ]

    with equality when ``q(u | k)`` is ``p_Y``'s own conditional on the cell. Uniform
    dequantization is ``q = 1`` (``log q = 0``).

    Arguments:
        log_p_y: ``(n,)`` ``log p_Y(y)`` at ``y = (k + u) / L``, nats.
        log_q: ``(n,)`` ``log q(u | k)`` of the same ``u``, nats (zeros: uniform).
        dims: ``D``, discrete dimensions of one example.
        levels: ``L``, values per dimension.

    Returns:
        ``(n,)`` the bound's one-sample estimate, nats (unbiased for its expectation, which
        is at least ``-log P(k)``).

    References:
        Theis, van den Oord and Bethge, "A note on the evaluation of generative models", ICLR
        2016, section 3.1, eq. (7); Ho et al., "Flow++", ICML 2019, section 3.1, eq. (11)-(12).
    """
    return -log_p_y + dims * math.log(levels) + log_q


class UniformDequantizer(nn.Module):
    """``u ~ U[0, 1)^D``, ``log q(u | k) = 0`` (Theis et al. 2016, section 3.1)."""

    def forward(self, x: Tensor, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Noise for images ``x`` ``(n, c, h, w)``: ``(u (n, c, h, w) in [0, 1), log_q (n,))``,
        every draw from ``rng``."""
        u = torch.rand(x.shape, generator=rng, device=rng.device, dtype=x.dtype).to(x.device)
        return u, x.new_zeros(x.shape[0])


class VariationalDequantizer(nn.Module):
    """``q(u | x)``: ``eps ~ N(0, I)`` pushed through conditional affine couplings, then a
    sigmoid onto ``(0, 1)``.

    ``h = g_x(eps)`` (checkerboard couplings whose conditioners also read features of the
    image ``x``), ``u = sigmoid(h)``, so
    ``log q(u | x) = log N(eps; 0, I) - log|det dg_x/deps| - sum log sigmoid'(h)``.

    Arguments:
        shape: ``(c, h, w)`` of one image.
        hidden: channels of the feature network and of each coupling's conditioner.
        blocks: residual blocks of each.
        couplings: conditional couplings (alternating checkerboard masks).

    References:
        Ho, Chen, Srinivas, Duan and Abbeel, "Flow++: Improving Flow-Based Generative Models
        with Variational Dequantization and Architecture Design", ICML 2019, section 3.1,
        eq. (11)-(12) (``q`` a conditional flow; the sigmoid of its output).
    """

    def __init__(self, shape: tuple[int, int, int], hidden: int, blocks: int, couplings: int):
        super().__init__()
        c, h, w = shape
        self.features = nn.Sequential(
            nn.Conv2d(c, hidden, 3, padding=1),
            *(ResidualBlock(hidden) for _ in range(blocks)),
            nn.ReLU(),
        )
        self.couplings = nn.ModuleList(
            ImageAffineCoupling(checkerboard_mask(h, w, k), c, hidden, blocks, hidden)
            for k in range(couplings)
        )

    def forward(self, x: Tensor, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Noise for images ``x`` ``(n, c, h, w)`` in ``[0, 1]`` (the dataset's format).

        Returns:
            ``(u, log_q)``: ``(n, c, h, w)`` in ``(0, 1)`` and ``(n,)`` ``log q(u | x)`` in nats.
        """
        eps = torch.randn(x.shape, generator=rng, device=rng.device, dtype=x.dtype).to(x.device)
        log_n = -0.5 * eps.square().flatten(1).sum(1) - 0.5 * eps[0].numel() * math.log(2 * math.pi)
        u, log_det = self.transform(eps, x)
        return u, log_n - log_det

    def transform(self, eps: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """The map ``eps -> u = sigmoid(g_x(eps))`` of images ``x`` ``(n, c, h, w)``:
        ``(u (n, c, h, w), log|det du/deps| (n,))``, nats."""
        cond = self.features(x - 0.5)
        h, log_det = eps, eps.new_zeros(eps.shape[0])
        for layer in self.couplings:
            h, ld = layer.inverse(h, cond)
            log_det = log_det + ld
        # log sigmoid'(h) = -softplus(-h) - softplus(h)
        log_det = log_det - (F.softplus(-h) + F.softplus(h)).flatten(1).sum(1)
        return torch.sigmoid(h), log_det


def make_dequantizer(
    kind: str, shape: tuple[int, int, int], hidden: int, blocks: int, couplings: int
) -> nn.Module:
    """The dequantizer named ``kind`` (one of :data:`DEQUANTIZATIONS`) for images of
    ``shape`` ``(c, h, w)``.

    Raises:
        ValueError: an unknown ``kind``.
    """
    if kind == "uniform":
        return UniformDequantizer()
    if kind == "variational":
        return VariationalDequantizer(shape, hidden, blocks, couplings)
    raise ValueError(f"unknown dequantization {kind!r}; use one of {DEQUANTIZATIONS}")
