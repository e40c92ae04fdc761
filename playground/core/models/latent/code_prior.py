"""The prior over a VQ-VAE's code maps: uniform and independent (the first stage), or a
PixelCNN fitted to the code maps of the data (the second stage)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..autoregressive.layers import PixelCNNNetwork

__all__ = ["CODE_PRIORS", "code_grid", "UniformCodePrior", "PixelCNNCodePrior", "make_code_prior"]

#: the priors a VQ-VAE may sample its codes from
CODE_PRIORS = ("uniform", "pixelcnn")
#: the widest first (mask A) kernel; on a map at most 4 codes a side it sees every code
#: before the centre, so the prior has no blind spot
MAX_FIRST_KERNEL = 7


def code_grid(positions: int) -> tuple[int, int]:
    """The ``(h, w)`` map the ``positions`` codes of one data point are laid out on, in
    raster order: ``h`` the largest divisor of ``positions`` not above its square root
    (8 codes: 2 x 4; 16: 4 x 4; a prime number: one row)."""
    h = max(d for d in range(1, math.isqrt(positions) + 1) if positions % d == 0)
    return h, positions // h


class UniformCodePrior(nn.Module):
    """``p(k) = K^-M``: every code of the ``M`` positions uniform and independent, as the
    VQ-VAE is trained (van den Oord et al. 2017, section 3.1). No parameters.

    Arguments:
        codebook_size: ``K``.
        positions: ``M``.
    """

    def __init__(self, codebook_size: int, positions: int):
        super().__init__()
        self.codebook_size, self.positions = int(codebook_size), int(positions)

    def log_prob(self, codes: Tensor) -> Tensor:
        """``log p(k) = -M log K`` of code indices ``(n, M)``: ``(n,)`` nats."""
        value = -self.positions * math.log(self.codebook_size)
        return torch.full((codes.shape[0],), value, device=codes.device)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, M)`` int64 codes, uniform, from ``rng`` (on ``rng``'s device)."""
        shape = (n, self.positions)
        return torch.randint(self.codebook_size, shape, generator=rng, device=rng.device)


class PixelCNNCodePrior(nn.Module):
    """``p(k) = prod_i p(k_i | k_<i)`` over the ``M`` codes laid out as an ``h x w`` map
    (:func:`code_grid`), in raster order: a :class:`PixelCNNNetwork` with one-hot code
    inputs (``K`` channels) and ``K`` logits per position.

    The first kernel is ``min(7, 2 max(h, w) - 1)``: on the small maps of the playground
    (2 x 4 for digits, 4 x 4 for shapes) it reaches every earlier code, so every
    conditional sees all of ``k_<i``; on a 1 x 1 map (one code per point, the plane) mask
    A sees nothing and the prior is a learned marginal over codes.

    Arguments:
        codebook_size: ``K``.
        positions: ``M``.
        channels, blocks: the network's hidden channels and residual blocks.

    References:
        van den Oord, Vinyals and Kavukcuoglu, "Neural Discrete Representation Learning",
        NeurIPS 2017, sections 3.3 and 4.1 (a PixelCNN prior over the latent code map);
        van den Oord, Kalchbrenner and Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML
        2016, section 3.4.
    """

    def __init__(self, codebook_size: int, positions: int, channels: int, blocks: int):
        super().__init__()
        self.codebook_size, self.positions = int(codebook_size), int(positions)
        self.grid = code_grid(self.positions)
        kernel = min(MAX_FIRST_KERNEL, 2 * max(self.grid) - 1)
        self.net = PixelCNNNetwork(codebook_size, codebook_size, channels, blocks, kernel)

    def logits(self, codes: Tensor) -> Tensor:
        """Logits ``(n, M, K)`` of each code given those before it, from code indices
        ``(n, M)`` (raster order over the map)."""
        h, w = self.grid
        one_hot = F.one_hot(codes.long().view(-1, h, w), self.codebook_size)
        out = self.net(one_hot.permute(0, 3, 1, 2).float())
        return out.flatten(2).transpose(1, 2)

    def log_prob(self, codes: Tensor) -> Tensor:
        """``log p(k)`` of code indices ``(n, M)``: ``(n,)`` nats, exact."""
        log_p = F.log_softmax(self.logits(codes), dim=-1)
        return log_p.gather(-1, codes.long()[..., None]).squeeze(-1).sum(1)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, M)`` int64 codes drawn one position at a time in raster order (``M``
        network evaluations), every draw from ``rng``; on the prior's device."""
        device = next(self.parameters()).device
        codes = torch.zeros(n, self.positions, dtype=torch.long, device=device)
        for i in range(self.positions):
            probs = F.softmax(self.logits(codes)[:, i].float(), dim=-1)
            draw = torch.multinomial(probs.to(rng.device), 1, generator=rng)
            codes[:, i] = draw.squeeze(1).to(device)
        return codes


def make_code_prior(
    kind: str, codebook_size: int, positions: int, channels: int, blocks: int
) -> nn.Module:
    """The prior ``kind`` (one of :data:`CODE_PRIORS`) over ``positions`` codes of ``K =
    codebook_size``.

    Raises:
        ValueError: an unknown ``kind``.
    """
    if kind == "uniform":
        return UniformCodePrior(codebook_size, positions)
    if kind == "pixelcnn":
        return PixelCNNCodePrior(codebook_size, positions, channels, blocks)
    raise ValueError(f"unknown prior {kind!r}; use one of {', '.join(CODE_PRIORS)}")
