"""Sample quality by kernel two-sample test: MMD^2 against the data, and mode weights."""

from __future__ import annotations

import torch
from torch import Tensor

from playground.core.data.base import Density2D

__all__ = ["SAMPLE_METRIC_N", "mmd2", "median_gamma", "sample_metrics", "guidance_accuracy"]

#: samples per side of each MMD estimate: its standard error is then about 1e-3 on 2D sets.
SAMPLE_METRIC_N = 2000


def _as_sample64(x: Tensor, name: str) -> Tensor:
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{name} must have shape (n, d) with n >= 2, got {tuple(x.shape)}")
    return x.detach().to(device="cpu", dtype=torch.float64)


def median_gamma(z: Tensor) -> float:
    """``gamma = 1 / (2 h^2)`` of :func:`mmd2`'s Gaussian kernel ``exp(-gamma |a - b|^2)``
    for the pooled sample ``z`` ``(N, d)``: ``h`` is the median of its pairwise Euclidean
    distances (the lower median for an even count; ``h = 1`` if that median is 0).
    Gretton et al., JMLR 2012, section 8 (the median heuristic)."""
    h = float(torch.pdist(z).median())
    if h == 0.0:
        h = 1.0
    return 1.0 / (2.0 * h * h)


@torch.no_grad()
def mmd2(x: Tensor, y: Tensor) -> float:
    """The unbiased estimate of ``MMD^2`` between the laws of ``x`` and ``y``.

    ``MMD_u^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
    - 2 sum_{i, j} k(x_i, y_j) / (m n)`` with the Gaussian kernel
    ``k(a, b) = exp(-|a - b|^2 / (2 h^2))``, where the bandwidth ``h`` is the median of the
    pairwise Euclidean distances ``|z_i - z_j|``, ``i < j``, of the pooled sample
    ``z = (x, y)`` (the lower median for an even count; ``h = 1`` if that median is 0).
    Unbiased, it can be slightly negative when the laws are equal; its scale is that
    of the kernel (dimensionless, at most 2). Computed in float64.

    Arguments:
        x: ``(m, d)`` samples, ``m >= 2``.
        y: ``(n, d)`` samples, ``n >= 2``, same ``d``.

    Returns:
        ``MMD_u^2`` as a float.

    Raises:
        ValueError: the shapes are not ``(m, d)`` and ``(n, d)`` with ``m, n >= 2``.

    References:
        Gretton et al., "A kernel two-sample test", JMLR 2012, eq. 3 (the unbiased
        statistic) and section 8 (the median heuristic for the bandwidth).
    """
    a, b = _as_sample64(x, "x"), _as_sample64(y, "y")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x and y differ in dimension: {a.shape[1]} and {b.shape[1]}")
    m, n = a.shape[0], b.shape[0]
    gamma = median_gamma(torch.cat([a, b]))
    k_xx = torch.exp(-gamma * torch.cdist(a, a).square())
    k_yy = torch.exp(-gamma * torch.cdist(b, b).square())
    k_xy = torch.exp(-gamma * torch.cdist(a, b).square())
    # the diagonals are exp(0) = 1 exactly: remove them by count, not by cdist's rounding
    xx = (k_xx.sum() - m) / (m * (m - 1))
    yy = (k_yy.sum() - n) / (n * (n - 1))
    return float(xx + yy - 2 * k_xy.mean())


@torch.no_grad()
def sample_metrics(
    model_samples: Tensor, data: Density2D, generator_seed: int
) -> dict[str, float | list[float]]:
    """How close a model's samples are to the data, with the noise floor of the measure.

    Arguments:
        model_samples: ``(n, 2)`` model samples, ``n >= 2``; the first
            :data:`SAMPLE_METRIC_N` are used (all of them when fewer).
        data: a 2D density with an exact sampler.
        generator_seed: seeds the data samples, so two calls compare equal draws.

    Returns:
        A dict with

        - ``mmd``: :func:`mmd2` of the model samples against :data:`SAMPLE_METRIC_N`
          fresh data samples;
        - ``mmd_data``: :func:`mmd2` of two further independent data samples of
          :data:`SAMPLE_METRIC_N`: the value a perfect model would score, give or take;
        - ``mode_weights`` (only when ``data`` has a ``mode_weights`` attribute and
          ``modes``): the fraction of the model samples nearest each mode (Euclidean),
          a list in the order of ``data.modes``, to compare with ``data.mode_weights``.

    Raises:
        ValueError: ``model_samples`` is not ``(n, 2)`` with ``n >= 2``.
        NoSamplerError: ``data`` cannot be sampled.
    """
    if model_samples.ndim != 2 or model_samples.shape[1] != 2:
        raise ValueError(f"model_samples must have shape (n, 2), got {tuple(model_samples.shape)}")
    x = model_samples[:SAMPLE_METRIC_N].detach().cpu()
    generator = torch.Generator().manual_seed(generator_seed)
    fresh = data.sample(SAMPLE_METRIC_N, generator)
    other_a = data.sample(SAMPLE_METRIC_N, generator)
    other_b = data.sample(SAMPLE_METRIC_N, generator)
    out: dict[str, float | list[float]] = {
        "mmd": mmd2(x, fresh),
        "mmd_data": mmd2(other_a, other_b),
    }
    if getattr(data, "mode_weights", None) is not None and data.modes is not None:
        nearest = torch.cdist(x.double(), data.modes.double()).argmin(dim=1)
        counts = torch.bincount(nearest, minlength=data.modes.shape[0])
        out["mode_weights"] = [float(c) / x.shape[0] for c in counts]
    return out


@torch.no_grad()
def guidance_accuracy(model, data, per_class: int, seed: int, device="cpu") -> float:
    """The fraction of guided samples that land in the requested class.

    For each class ``c``, ``per_class`` samples of ``model.sample_class(n, c, generator)``
    are judged: on a mixture with known modes, by their nearest mode (mode ``c`` is class
    ``c``); on a labelled image set, by the logistic-regression judge of
    :func:`~.metrics.image_classifier`.

    Returns:
        The mean over classes of the fraction judged ``c``, in ``[0, 1]``.
    """
    g = torch.Generator(device=device).manual_seed(70_000 + seed)
    hits = []
    modes = getattr(data, "modes", None)
    for c in range(model.n_classes):
        x = model.sample_class(per_class, c, g).float().cpu()
        if modes is not None:
            judged = torch.cdist(x, modes.float()).argmin(1)
        else:
            from .density import image_classifier

            clf, _ = image_classifier(data)
            judged = torch.from_numpy(clf.predict(x.reshape(len(x), -1).numpy()))
        hits.append(float((judged == c).float().mean()))
    return sum(hits) / len(hits)
