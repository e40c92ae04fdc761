"""Held-out metrics of latent variable models: ELBO, IWAE NLL, ELBO surgery, active units,
codebook perplexity and, on shapes, the correlation of latents with the true factors."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "latent_metrics",
    "test_points",
    "mutual_information",
    "active_units",
    "factor_correlations",
    "IWAE_K",
    "ACTIVE_THRESHOLD",
]

#: importance samples of the test-set NLL (``iwae_nll``), as in Burda et al. 2016
IWAE_K = 100
#: the bounds of the curves panel: K = 1 (the ELBO), 10 and 100
IWAE_KS = (1, 10, 100)
#: Burda et al. 2016, section 5.2: a unit is active if Cov_x(E_q[z_i | x]) > 0.01
ACTIVE_THRESHOLD = 0.01
#: points of a 2D density that stand in for a test set (fresh, from a fixed seed)
PLANE_TEST_POINTS = 2000
#: points of the ELBO-surgery estimate (its mutual information is at most log of this)
SURGERY_POINTS = 500
#: points per batch of the IWAE bound (k copies each)
IWAE_BATCH = 100


def test_points(data, n: int = PLANE_TEST_POINTS) -> tuple[Tensor, Tensor | None]:
    """The held-out set: an image or sequence set's test split (with labels, or ``None``),
    or ``n`` fresh samples of a 2D density drawn from a fixed seed (with mixture labels
    where they exist)."""
    if data.kind != "plane":
        return data.test_examples, data.test_labels
    g = torch.Generator().manual_seed(50_000)
    try:
        return data.sample_with_labels(n, g)
    except Exception:  # no labelled components
        return data.sample(n, torch.Generator().manual_seed(50_000)), None


@torch.no_grad()
def mutual_information(model, x: Tensor, generator: torch.Generator) -> tuple[float, float, float]:
    """The ELBO-surgery split of the average KL (Hoffman & Johnson 2016, eq. 3):

    ``E_x KL(q(z | x) || p(z)) = I(x; z) + KL(q(z) || p(z))`` with ``q(z)`` the aggregate
    posterior ``(1/N) sum_n q(z | x_n)`` over the ``N`` points of ``x``. With
    ``z_n ~ q(z | x_n)``: ``I ~ mean_n [log q(z_n | x_n) - log q(z_n)]`` and
    ``KL(q(z) || p(z)) ~ mean_n [log q(z_n) - log p(z_n)]``; ``I <= log N``.

    Returns:
        ``(average_kl, mutual_info, marginal_kl)`` in nats.

    Raises:
        NoLatentDensityError: the model has no posterior density (a discrete latent).
    """
    z, log_q = model.posterior_sample(x, generator)
    n = x.shape[0]
    log_q_pairs = model.posterior_log_prob_matrix(z, x)
    log_aggregate = torch.logsumexp(log_q_pairs, 1) - math.log(n)
    log_p = model.prior_log_prob(z)
    info = float((log_q - log_aggregate).mean())
    marginal = float((log_aggregate - log_p).mean())
    return info + marginal, info, marginal


@torch.no_grad()
def active_units(model, x: Tensor) -> int:
    """Units with ``Cov_x(E_q[z_i | x]) > 0.01`` over ``x`` ``(n, ...)`` (Burda et al. 2016,
    sec. 5.2); 0 when ``n < 2`` (one image has no variance to measure)."""
    mean = model.posterior_mean(x).double()
    if mean.shape[0] < 2:
        return 0
    return int((mean.var(0, unbiased=True) > ACTIVE_THRESHOLD).sum())


@torch.no_grad()
def factor_correlations(model, images: Tensor, factors: Tensor) -> Tensor:
    """``|Pearson r|`` between every true factor and every latent's posterior mean.

    Arguments:
        images: ``(n, 1, h, w)``; factors: ``(n, f)`` their ground truth.

    Returns:
        ``(f, latent_dim)`` absolute correlations (0 where a latent does not vary).
    """
    mean = model.posterior_mean(images).double().cpu()
    f = factors.double().cpu()
    a = (f - f.mean(0)) / f.std(0).clamp_min(1e-12)
    b = (mean - mean.mean(0)) / mean.std(0).clamp_min(1e-12)
    return ((a.T @ b) / (len(f) - 1)).abs()


@torch.no_grad()
def latent_metrics(model, data, seed: int = 0, device="cpu", max_points: int = 10_000) -> dict:
    """The held-out metrics a latent model's ``train`` prints, in nats per data point.

    ``elbo``, ``reconstruction``, ``kl`` (one-sample, test mean); ``iwae_nll`` = -mean
    IWAE bound with k = 100 (Burda et al. 2016), and ``iwae_nll_1``, ``iwae_nll_10`` for
    k = 1 and 10; ``mutual_info`` and ``marginal_kl``
    (the ELBO surgery, on 500 test points; continuous latents); ``active_units``; for a
    VQ-VAE ``perplexity`` (codebook usage on the test set); on shapes ``factor_r``: for
    each true factor the largest |r| over latents. The test set is an image set's test
    split or 2,000 fresh samples of a 2D density (:func:`test_points`), at most
    ``max_points`` of them.
    """
    device = torch.device(device)
    x, _ = test_points(data)
    x = x[:max_points].to(device)
    g = torch.Generator(device=device).manual_seed(60_000 + seed)
    terms = model.elbo_terms(x, g)
    out: dict = {
        "elbo": float(terms["elbo"].mean()),
        "reconstruction": float(terms["reconstruction"].mean()),
        "kl": float(terms["kl"].mean()),
    }
    for k in IWAE_KS:
        bounds = [model.iwae_bound(chunk, k, g) for chunk in torch.split(x, IWAE_BATCH)]
        out["iwae_nll" if k == IWAE_K else f"iwae_nll_{k}"] = -float(torch.cat(bounds).mean())
    if not model.discrete_latent:
        _, info, marginal = mutual_information(model, x[:SURGERY_POINTS], g)
        out["mutual_info"], out["marginal_kl"] = info, marginal
    out["active_units"] = active_units(model, x)
    perplexity = model.codebook_perplexity(x)
    if perplexity is not None:  # a VQ-VAE
        out["perplexity"] = float(perplexity)
    factors = getattr(data, "test_factors", None)
    if factors is not None:
        r = factor_correlations(model, x, factors[: len(x)])
        out["factor_r"] = {name: float(r[i].max()) for i, name in enumerate(data.factor_names)}
    return out
