"""Disentanglement metrics against known factors: the mutual information gap (MIG) and the
FactorVAE score, and the held-out pair of them for a latent model on ``shapes``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..data.images import draw_factors, render_shapes

__all__ = [
    "discretize",
    "discrete_mutual_information",
    "mig",
    "mig_per_factor",
    "factor_vae_score",
    "disentanglement_metrics",
    "MIG_BINS",
    "ACTIVE_VARIANCE",
]

#: equal-width histogram bins per latent and per continuous factor (Locatello et al. 2019)
MIG_BINS = 20
#: a latent whose variance over the data is at most this is collapsed and takes no vote
#: (Burda et al.'s active-unit threshold, on the posterior means)
ACTIVE_VARIANCE = 0.01
#: held-out FactorVAE score: images per fixed-factor batch and votes to fit and to score
#: (the paper's L = 100 and 800 votes cost ~1 ms per rendered image: 2,000 images here)
HELDOUT_BATCH, HELDOUT_VOTES = 20, 50


def discretize(values: Tensor, bins: int = MIG_BINS) -> Tensor:
    """Each column of ``values (n, k)`` cut into ``bins`` equal-width bins between its
    minimum and maximum: ``(n, k)`` int64 in ``0..bins-1`` (a constant column is all 0).
    A factor with fewer values than bins (shapes' 3 shapes) keeps one bin per value."""
    v = values.double()
    low, high = v.min(0).values, v.max(0).values
    width = (high - low).clamp_min(1e-12)
    return ((v - low) / width * bins).long().clamp(0, bins - 1)


def _entropy(a: Tensor) -> Tensor:
    p = torch.bincount(a).double()
    p = p[p > 0] / a.numel()
    return -(p * p.log()).sum()


def discrete_mutual_information(a: Tensor, b: Tensor) -> float:
    """The plug-in ``I(a; b) = H(a) + H(b) - H(a, b)`` of two int64 ``(n,)`` codes, nats."""
    joint = a * (int(b.max()) + 1) + b
    return float(_entropy(a) + _entropy(b) - _entropy(joint))


def mig_per_factor(codes: Tensor, factors: Tensor, bins: int = MIG_BINS) -> Tensor:
    """The normalised gap of each factor: ``(I(v_k; z_j*) - I(v_k; z_j°)) / H(v_k)`` with
    ``j*`` and ``j°`` the latents of the largest and second largest mutual information
    with factor ``v_k``; both discretised by :func:`discretize`.

    Arguments:
        codes: ``(n, d)`` latent codes (``d >= 2``), e.g. posterior means.
        factors: ``(n, k)`` the true factors of the same points.
        bins: histogram bins.

    Returns:
        ``(k,)`` in ``[0, 1]`` (0 for a factor that is constant over the points).

    Raises:
        ValueError: fewer than 2 latents, or ``codes`` and ``factors`` of different ``n``.

    References:
        Chen et al., "Isolating Sources of Disentanglement in VAEs", NeurIPS 2018,
        section 4.1, eq. (6); Locatello et al., "Challenging Common Assumptions in the
        Unsupervised Learning of Disentangled Representations", ICML 2019 (the histogram
        estimator).
    """
    if codes.dim() != 2 or codes.shape[1] < 2 or codes.shape[0] != factors.shape[0]:
        raise ValueError(
            f"MIG needs codes (n, d >= 2) and factors (n, k); got {tuple(codes.shape)} "
            f"and {tuple(factors.shape)}"
        )
    z, v = discretize(codes, bins), discretize(factors, bins)
    gaps = []
    for k in range(v.shape[1]):
        h = float(_entropy(v[:, k]))
        if h <= 0:
            gaps.append(0.0)
            continue
        info = sorted(discrete_mutual_information(v[:, k], z[:, j]) for j in range(z.shape[1]))
        gaps.append((info[-1] - info[-2]) / h)
    return torch.tensor(gaps)


def mig(codes: Tensor, factors: Tensor, bins: int = MIG_BINS) -> float:
    """The mutual information gap: :func:`mig_per_factor` averaged over factors, in
    ``[0, 1]`` (1: each factor is carried by one latent alone)."""
    return float(mig_per_factor(codes, factors, bins).mean())


def factor_vae_score(
    represent: Callable[[Tensor], Tensor],
    draw: Callable[[int, torch.Generator], Tensor],
    n_factors: int,
    rng: torch.Generator,
    batch: int = 100,
    train_votes: int = 400,
    eval_votes: int = 400,
    reference: int = 1000,
    reference_codes: Tensor | None = None,
) -> float:
    """The FactorVAE score: the accuracy of a majority-vote classifier that names the
    fixed factor of a batch from the latent of least normalised variance.

    Each latent is divided by its standard deviation over ``reference`` points; latents
    whose variance is at most :data:`ACTIVE_VARIANCE` are pruned. A vote fixes a factor
    ``k`` drawn uniformly at one drawn value, draws ``batch`` points with the others free,
    and takes ``j = argmin_j Var(z_j / s_j)``; each latent ``j`` predicts the factor
    most of the ``train_votes`` voted for, and the score is the fraction of ``eval_votes``
    it predicts right. 1: each factor has a latent of its own; ``1 / n_factors``: chance.

    Arguments:
        represent: factors ``(m, n_factors)`` to codes ``(m, d)`` (render, then encode).
        draw: ``(m, rng) -> (m, n_factors)`` factors drawn from their distribution.
        n_factors: the number of factors.
        rng: every draw's source.
        batch, train_votes, eval_votes, reference: ``L``, the votes, the points of the
            standard deviations (the paper: 100, 800 votes).
        reference_codes: ``(m, d)`` codes of data points to take the standard deviations
            from instead of ``reference`` fresh ones (a test set already encoded).

    Returns:
        The accuracy in ``[0, 1]``; 0 when every latent is collapsed.

    References:
        Kim and Mnih, "Disentangling by Factorising", ICML 2018, section 4.
    """
    if reference_codes is None:
        reference_codes = represent(draw(reference, rng))
    variance = reference_codes.double().var(0)
    active = variance > ACTIVE_VARIANCE
    if not bool(active.any()):
        return 0.0
    scale = variance.sqrt()
    votes = []
    for _ in range(train_votes + eval_votes):
        k = int(torch.randint(n_factors, (1,), generator=rng))
        f = draw(batch, rng)
        f[:, k] = draw(1, rng)[0, k]
        spread = (represent(f).double() / scale).var(0)
        spread[~active] = math.inf
        votes.append((int(spread.argmin()), k))
    counts = torch.zeros(variance.numel(), n_factors, dtype=torch.long)
    for j, k in votes[:train_votes]:
        counts[j, k] += 1
    predicted = counts.argmax(1)
    right = sum(int(predicted[j]) == k for j, k in votes[train_votes:])
    return right / max(eval_votes, 1)


@torch.no_grad()
def disentanglement_metrics(model: Any, data: Any, seed: int, device: Any) -> dict[str, float]:
    """``mig`` on the test set's posterior means and ``factor_vae_score`` (batches of
    :data:`HELDOUT_BATCH`, :data:`HELDOUT_VOTES` votes to fit and as many to score) of a
    latent model on a set with known factors rendered by :func:`render_shapes`
    (``shapes``); an empty dict otherwise (no factors, or a latent of dimension 1).
    About 2 s of one core, mostly rendering.

    Arguments:
        model: a model with the ``latent`` capability.
        data: the dataset; ``test_factors`` ``(n, 5)`` and ``size`` where it has them.
        seed: the session's seed (the votes draw from a fixed offset of it).
        device: the model's device.
    """
    factors = getattr(data, "test_factors", None)
    if factors is None or "latent" not in model.capabilities or model.latent_dim < 2:
        return {}
    x = data.test_examples.to(device)
    codes = model.encode(x).float().cpu()

    def represent(f: Tensor) -> Tensor:
        images = render_shapes(f, data.size)
        if data.binarized:
            images = (images > 0.5).float()
        return model.encode(images.to(device)).float().cpu()

    g = torch.Generator().manual_seed(70_000 + seed)
    score = factor_vae_score(
        represent,
        draw_factors,
        factors.shape[1],
        g,
        batch=HELDOUT_BATCH,
        train_votes=HELDOUT_VOTES,
        eval_votes=HELDOUT_VOTES,
        reference_codes=codes,
    )
    return {"mig": mig(codes, factors[: len(codes)]), "factor_vae_score": score}
