"""Improved precision and recall of generated samples: k-nearest-neighbour manifolds of the
real and generated feature sets (Kynkäänniemi et al. 2019)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["precision_recall", "manifold_coverage"]


def _radii(x: Tensor, k: int) -> Tensor:
    """The distance of each point of ``x`` to its ``k``-th nearest other point: ``(n,)``."""
    d = torch.cdist(x, x)
    # the k + 1 smallest include the point itself (distance 0)
    return d.topk(k + 1, dim=1, largest=False).values[:, k]


def manifold_coverage(support: Tensor, queries: Tensor, k: int = 3) -> float:
    """The fraction of ``queries`` inside the union of the hyperspheres centred at each
    point of ``support`` with radius its distance to its ``k``-th nearest neighbour in
    ``support`` (``f(phi, Phi)`` of Kynkäänniemi et al., eq. 1-2).

    Arguments:
        support: ``(m, d)`` features, ``m > k``.
        queries: ``(n, d)`` features.
        k: the neighbour that sets each radius.

    Returns:
        A fraction in ``[0, 1]``.
    """
    s = support.detach().to(device="cpu", dtype=torch.float64)
    q = queries.detach().to(device="cpu", dtype=torch.float64)
    radii = _radii(s, k)
    inside = torch.zeros(len(q), dtype=torch.bool)
    for start in range(0, len(q), 1000):
        d = torch.cdist(q[start : start + 1000], s)
        inside[start : start + 1000] = (d <= radii[None, :]).any(dim=1)
    return float(inside.double().mean())


@torch.no_grad()
def precision_recall(real_feats: Tensor, fake_feats: Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of generated samples in a feature space.

    ``precision``: the fraction of generated samples inside the real manifold (the union of
    k-NN hyperspheres of the real features): how many samples look real. ``recall``: the
    fraction of real samples inside the generated manifold: how much of the data the model
    covers. Both are 1 for a set against itself and 0 against a far, disjoint set. Float64.
    The estimate depends on the set sizes: compare sets of equal size.

    Arguments:
        real_feats: ``(m, d)`` features of real images, ``m > k``.
        fake_feats: ``(n, d)`` features of generated images, ``n > k``, same ``d``.
        k: the neighbour that sets each hypersphere's radius (the paper uses 3).

    Returns:
        ``(precision, recall)``, each a fraction in ``[0, 1]``.

    Raises:
        ValueError: the shapes are not ``(m, d)`` and ``(n, d)`` with ``m, n > k >= 1``.

    References:
        Kynkäänniemi et al., "Improved precision and recall metric for assessing generative
        models", NeurIPS 2019, eq. 1-2 (k = 3 in their experiments).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    for name, x in (("real_feats", real_feats), ("fake_feats", fake_feats)):
        if x.ndim != 2 or x.shape[0] <= k:
            raise ValueError(
                f"{name} must have shape (n, d) with n > k = {k}, got {tuple(x.shape)}"
            )
    if real_feats.shape[1] != fake_feats.shape[1]:
        raise ValueError(
            f"feature dimensions differ: {real_feats.shape[1]} and {fake_feats.shape[1]}"
        )
    precision = manifold_coverage(real_feats, fake_feats, k)
    recall = manifold_coverage(fake_feats, real_feats, k)
    return precision, recall
