"""The latent-space pictures of latent variable models: encoded test points over the
prior's and the aggregate posterior's densities, and reconstructions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..data.base import box_grid
from .base import SnapshotContext
from .latent import _as_data, _cpu, kl_order

__all__ = [
    "Reconstructions",
    "LatentSpace",
    "reconstructions",
    "latent_space",
    "picture",
    "reconstructions_picture",
    "points_box",
]

#: inputs reconstructed (images; 200 points on the plane)
RECONSTRUCTIONS = 16
#: encoded test points drawn, and the heatmaps' grid side
LATENT_POINTS = 500
LATENT_RESOLUTION = 64
#: data points whose posteriors make the aggregate posterior q(z) = mean_n q(z | x_n)
AGGREGATE_POINTS = 200
#: the latent box (:func:`points_box`): the points' extent, widened by this fraction of it
#: on each side, at least MIN_HALF_WIDTH from its centre, inside +-MAX_HALF_WIDTH
BOX_MARGIN, MIN_HALF_WIDTH, MAX_HALF_WIDTH = 0.1, 0.5, 10.0


def points_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)``: the square around the points ``(n, 2)`` where the
    latent panels zoom: centred on their extent, its half-width half the larger side of
    that extent widened by ``BOX_MARGIN`` of it (a square fills the square panels, and a
    collapsed dimension, its means all near 0, still shows the prior around them), at
    least ``MIN_HALF_WIDTH``, inside ``[-MAX_HALF_WIDTH, MAX_HALF_WIDTH]``."""
    finite = points[np.isfinite(points).all(1)] if len(points) else points
    if len(finite) == 0:
        return (-3.0, 3.0, -3.0, 3.0)
    low, high = finite.min(0).astype(np.float64), finite.max(0).astype(np.float64)
    half = max(float((high - low).max()) * (0.5 + BOX_MARGIN), MIN_HALF_WIDTH)
    half = min(half, MAX_HALF_WIDTH)
    box = []
    for centre in (low + high) / 2:
        # an untrained encoder's means may lie far out: the box stays inside the limits
        centre = float(np.clip(centre, -MAX_HALF_WIDTH + half, MAX_HALF_WIDTH - half))
        box += [centre - half, centre + half]
    return tuple(box)


@dataclass(frozen=True)
class Reconstructions:
    """A fixed batch of inputs beside ``decode(posterior_mean(x))``.

    Attributes:
        inputs, outputs: ``(m, h, w)`` images or ``(m, 2)`` points.
    """

    inputs: np.ndarray
    outputs: np.ndarray


@torch.no_grad()
def reconstructions(model, test: Tensor, device: torch.device) -> Reconstructions:
    """Reconstruct the first :data:`RECONSTRUCTIONS` images (200 points on the plane)."""
    m = RECONSTRUCTIONS if model.is_image else 200
    x = test[:m].to(device)
    return Reconstructions(
        inputs=_as_data(x, model.is_image),
        outputs=_as_data(model.reconstruct(x), model.is_image),
    )


@dataclass(frozen=True)
class LatentSpace:
    """Encoded test points over the prior's and the aggregate posterior's densities.

    Attributes:
        points: ``(n, 2)`` the codes ``encode(x)`` in the two shown dimensions: the
            posterior means, or for an implicit encoder (AVB) one sample of each point.
        labels: ``(n,)`` int class labels, or ``None``.
        class_names: names of the label values, or ``None``.
        dims: ``(2,)`` the shown latent indices (the two with most KL), or ``(1,)`` for a
            one-dimensional latent (then ``points[:, 1]`` is 0).
        prior, aggregate: ``(res, res)`` log-densities in nats on the grid (row ``i`` at
            ``ys[i]``), ``log p(z)`` and ``log q(z) = log mean_n q(z | x_n)``: exact for a
            latent of at most two dimensions, else the 2D marginals of the shown
            dimensions estimated by histograms of 20,000 samples; ``None`` for a
            discrete latent.
        xs, ys: ``(res,)`` grid axes over the region the points cover
            (:func:`points_box`), where the view zooms.
        sampled: the points are posterior samples (an implicit encoder), not means.
    """

    points: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...] | None
    dims: np.ndarray
    prior: np.ndarray | None
    aggregate: np.ndarray | None
    xs: np.ndarray
    ys: np.ndarray
    sampled: bool = False


def _marginal_grid(model, dims: np.ndarray, res: int, box, device, fn) -> np.ndarray:
    """``fn(z)`` on a grid of the shown dimensions, the others at 0 (prior mean)."""
    pts, _, _ = box_grid(box, res)
    z = torch.zeros(pts.shape[0], model.latent_dim, device=device)
    z[:, int(dims[0])] = pts[:, 0].to(device)
    if len(dims) > 1:
        z[:, int(dims[1])] = pts[:, 1].to(device)
    out = fn(z).reshape(res, res)
    return _cpu(torch.nan_to_num(out, nan=-1e3, neginf=-1e3))


#: samples behind the histogram estimates of the 2D marginals (latents of more than 2 dims)
HISTOGRAM_SAMPLES = 20_000
HISTOGRAM_SEED = 77


def _log_histogram(z: Tensor, dims: np.ndarray, box) -> np.ndarray:
    """Log of the normalised 2D histogram (nats) of ``z[:, dims]`` on the latent grid;
    empty cells sit 3 nats below the smallest filled one."""
    xmin, xmax, ymin, ymax = box
    res = LATENT_RESOLUTION
    pts = z[:, torch.as_tensor(dims, device=z.device)].float().cpu().numpy()
    if pts.shape[1] == 1:
        pts = np.concatenate([pts, np.zeros_like(pts)], 1)
    dx, dy = (xmax - xmin) / (res - 1), (ymax - ymin) / (res - 1)
    edges_x = np.linspace(xmin - dx / 2, xmax + dx / 2, res + 1)
    edges_y = np.linspace(ymin - dy / 2, ymax + dy / 2, res + 1)
    counts, _, _ = np.histogram2d(pts[:, 1], pts[:, 0], bins=(edges_y, edges_x))
    density = counts / (len(pts) * dx * dy)
    filled = density > 0
    out = np.full_like(density, np.log(density[filled].min()) - 3.0 if filled.any() else 0.0)
    out[filled] = np.log(density[filled])
    return np.ascontiguousarray(out, dtype=np.float32)


@torch.no_grad()
def latent_space(
    model, test: Tensor, labels: Tensor | None, class_names, device: torch.device
) -> LatentSpace:
    """The latent scatter of :data:`LATENT_POINTS` test points and the two heatmaps.

    For a latent of one or two dimensions the heatmaps are the exact densities; for more,
    histograms of samples of the 2D marginals of the shown dimensions. The aggregate
    posterior is the
    mixture of the posteriors of :data:`AGGREGATE_POINTS` test points (Hoffman & Johnson,
    "ELBO surgery", 2016; Tomczak & Welling 2018, figure 1 draws the same pair).
    """
    x = test[:LATENT_POINTS].to(device)
    # encode: the posterior mean, or one sample of an implicit encoder (AVB), which has none
    mean = model.encode(x)
    dims, _ = kl_order(model, x)
    dims = dims[: min(2, model.latent_dim)]
    pts = mean[:, torch.as_tensor(dims, device=device)]
    if pts.shape[1] == 1:
        pts = torch.cat([pts, torch.zeros_like(pts)], 1)
    box = points_box(_cpu(pts))
    prior = aggregate = None
    _, xs, ys = box_grid(box, LATENT_RESOLUTION)
    if model.discrete_latent:
        pass
    elif model.latent_dim > 2:  # 2D marginals, estimated from samples
        g = torch.Generator(device=device).manual_seed(HISTOGRAM_SEED)
        prior = _log_histogram(model.sample_prior(HISTOGRAM_SAMPLES, g), dims, box)
        reps = max(1, HISTOGRAM_SAMPLES // x.shape[0])
        z, _ = model.posterior_sample(x.repeat_interleave(reps, 0), g)
        aggregate = _log_histogram(z, dims, box)
    else:
        prior = _marginal_grid(model, dims, LATENT_RESOLUTION, box, device, model.prior_log_prob)
        xa = x[:AGGREGATE_POINTS]

        def aggregate_log_prob(z: Tensor) -> Tensor:
            log_q = model.posterior_log_prob_matrix(z, xa)
            return torch.logsumexp(log_q, 1) - math.log(xa.shape[0])

        aggregate = _marginal_grid(model, dims, LATENT_RESOLUTION, box, device, aggregate_log_prob)
    return LatentSpace(
        points=_cpu(pts),
        labels=None if labels is None else labels[:LATENT_POINTS].cpu().numpy(),
        class_names=tuple(class_names) if class_names else None,
        dims=dims,
        prior=prior,
        aggregate=aggregate,
        xs=_cpu(xs),
        ys=_cpu(ys),
        sampled=model.implicit_posterior,
    )


def picture(ctx: SnapshotContext) -> LatentSpace:
    """The latent space of the session's held-out points, coloured by their labels."""
    test, labels = ctx.test_set()
    names = getattr(ctx.data, "class_names", None)
    return latent_space(ctx.model, test, labels, names, ctx.device)


def reconstructions_picture(ctx: SnapshotContext) -> Reconstructions:
    """Reconstructions of the session's first held-out points."""
    test, _ = ctx.test_set()
    return reconstructions(ctx.model, test, ctx.device)
