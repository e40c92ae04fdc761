"""Two-sample tests of a plane model's samples against the data: the MMD permutation test's
p-value, and the held-out plane metrics built on it and on GAN Lab's grid divergences."""

from __future__ import annotations

import torch
from torch import Tensor

from ..data.base import Density2D
from .grid_divergence import grid_js, grid_kl
from .samples import SAMPLE_METRIC_N, median_gamma, mmd2

__all__ = [
    "PERMUTATIONS",
    "PERMUTATION_N",
    "mmd_permutation_statistics",
    "mmd_p_value",
    "plane_sample_metrics",
]

#: label permutations of the test: its p-value then resolves 1/201 (Gretton et al. use 1000)
PERMUTATIONS = 200
#: at most this many points a side: 200 permutations of 2 x 1,000 points take ~0.3 s
PERMUTATION_N = 1000


@torch.no_grad()
def mmd_permutation_statistics(
    x: Tensor, y: Tensor, permutations: int, generator: torch.Generator
) -> tuple[float, Tensor]:
    """``MMD_u^2`` of ``x`` against ``y`` and of ``permutations`` random relabellings.

    The pooled sample ``z = (x, y)`` is split at random, ``permutations`` times, into sets
    of the sizes of ``x`` and ``y``; each split's :func:`~.samples.mmd2` (same kernel and
    bandwidth: the bandwidth of the pooled sample does not change with the labels) is
    read off one Gram matrix ``K`` of ``z``: with ``a`` a split's 0/1 indicator of the
    first set and ``b = 1 - a``, ``MMD_u^2 = (a'Ka - m) / (m (m - 1)) + (b'Kb - n) /
    (n (n - 1)) - 2 a'Kb / (m n)`` (``K``'s diagonal is 1), all splits in one product.

    Arguments:
        x: ``(m, d)`` samples, ``m >= 2``.
        y: ``(n, d)`` samples, ``n >= 2``.
        permutations: random splits, ``>= 1``.
        generator: the source of the splits (CPU).

    Returns:
        ``(observed, permuted)``: the statistic of the true split (equal to ``mmd2(x, y)``
        up to rounding) and a ``(permutations,)`` float64 tensor.

    Raises:
        ValueError: a shape is not ``(m, d)``/``(n, d)`` with ``m, n >= 2``, or
            ``permutations < 1``.

    References:
        Gretton et al., "A kernel two-sample test", JMLR 2012, eq. 3 (the statistic).
    """
    if permutations < 1:
        raise ValueError(f"permutations must be >= 1, got {permutations}")
    observed = mmd2(x, y)  # checks the shapes
    a = x.detach().to(device="cpu", dtype=torch.float64)
    b = y.detach().to(device="cpu", dtype=torch.float64)
    m, n = a.shape[0], b.shape[0]
    z = torch.cat([a, b])
    k = torch.exp(-median_gamma(z) * torch.cdist(z, z).square())
    k.fill_diagonal_(1.0)
    order = torch.stack([torch.randperm(m + n, generator=generator) for _ in range(permutations)])
    first = torch.zeros(permutations, m + n, dtype=torch.float64)
    first.scatter_(1, order[:, :m], 1.0)  # (P, N): 1 on the points relabelled as x
    row_sums = k.sum(dim=1)  # K 1
    ka = first @ k  # (P, N): (K a)' for each split (K is symmetric)
    aka = (ka * first).sum(dim=1)
    one_ka = first @ row_sums  # 1'K a
    bkb = row_sums.sum() - 2.0 * one_ka + aka
    akb = one_ka - aka
    permuted = (aka - m) / (m * (m - 1)) + (bkb - n) / (n * (n - 1)) - 2.0 * akb / (m * n)
    return observed, permuted


def mmd_p_value(
    x: Tensor,
    y: Tensor,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
    max_n: int = PERMUTATION_N,
) -> float:
    """The p-value of the MMD permutation test that ``x`` and ``y`` share one law.

    ``p = (1 + #{permuted MMD_u^2 >= observed}) / (1 + permutations)``, the share of
    random relabellings whose statistic is at least the observed one, counting the
    observed split itself (the +1 correction, so ``p >= 1 / (1 + permutations)`` and the
    test keeps its level). Under the null it is (nearly) uniform on ``(0, 1]``; a model far
    from the data gets the smallest value, ``1 / (1 + permutations)``.

    Arguments:
        x: ``(m, d)`` samples (the first ``max_n`` are used), ``m >= 2``.
        y: ``(n, d)`` samples (the first ``max_n`` are used), ``n >= 2``.
        permutations: random relabellings (default :data:`PERMUTATIONS`).
        seed: seeds the relabellings' ``torch.Generator``: the same inputs and seed give
            the same p-value.
        max_n: the most points a side (default :data:`PERMUTATION_N`), which bounds the
            cost: ``O((2 max_n)^2 permutations)``.

    Returns:
        The p-value, in ``[1 / (1 + permutations), 1]``.

    Raises:
        ValueError: as :func:`mmd_permutation_statistics`, or ``max_n < 2``.

    References:
        Gretton et al., "A kernel two-sample test", JMLR 2012 (eq. 3, and section 8 for
        the bandwidth); the permutation p-value with its +1: Phipson and Smyth,
        "Permutation p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 2010.
    """
    if max_n < 2:
        raise ValueError(f"max_n must be >= 2, got {max_n}")
    generator = torch.Generator().manual_seed(seed)
    observed, permuted = mmd_permutation_statistics(x[:max_n], y[:max_n], permutations, generator)
    # a split equal to the observed one can differ from it in the last bits: a tolerance
    exceed = int((permuted >= observed - 1e-12).sum())
    return (1 + exceed) / (1 + permutations)


@torch.no_grad()
def plane_sample_metrics(model_samples: Tensor, data: Density2D, seed: int) -> dict[str, float]:
    """The plane metrics of a model's samples against fresh data samples.

    Arguments:
        model_samples: ``(n, 2)`` model samples, ``n >= 2`` (the first
            :data:`~.samples.SAMPLE_METRIC_N` are used).
        data: a 2D density with an exact sampler.
        seed: seeds the data samples (``40_000 + seed``) and the relabellings.

    Returns:
        ``grid_kl`` (nats, :func:`~.grid_divergence.grid_kl`: ``KL(p_data || p_model)``
        on a 20 x 20 grid, against :data:`~.samples.SAMPLE_METRIC_N` data
        samples), ``grid_js`` (nats, in ``[0, log 2]``) and ``mmd_p_value``
        (:func:`mmd_p_value`, at most :data:`PERMUTATION_N` points a side): lower is
        better for the first two, higher (closer to a sample of the data) for the last.

    Raises:
        ValueError: ``model_samples`` is not ``(n, 2)`` with ``n >= 2``.
        NoSamplerError: ``data`` cannot be sampled.
    """
    if model_samples.ndim != 2 or model_samples.shape[1] != 2 or model_samples.shape[0] < 2:
        raise ValueError(f"model_samples must have shape (n, 2), got {tuple(model_samples.shape)}")
    x = model_samples[:SAMPLE_METRIC_N].detach().float().cpu()
    fresh = data.sample(SAMPLE_METRIC_N, torch.Generator().manual_seed(40_000 + seed)).float()
    return {
        "grid_kl": grid_kl(x, fresh),
        "grid_js": grid_js(x, fresh),
        "mmd_p_value": mmd_p_value(x, fresh, seed=40_001 + seed),
    }
