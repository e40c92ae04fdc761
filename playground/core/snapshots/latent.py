"""The traversal pictures of latent variable models: each latent dimension swept around a
test point's code and decoded (the Traversals tab; on image sets the Explorer too)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..models.latent.base import NoLatentDensityError
from .base import OVERLAY_POINTS, SnapshotContext

__all__ = [
    "Traversal",
    "latent_traversal",
    "picture",
    "explorer_picture",
    "offered",
    "kl_order",
    "TRAVERSAL_STEPS",
    "TRAVERSAL_RANGE",
]

#: decoded values per latent dimension, from -3 to +3 prior standard deviations
TRAVERSAL_STEPS = 41
TRAVERSAL_RANGE = 3.0
#: anchors (test points) whose codes the traversal sweeps around; the view picks one
ANCHORS = 4
#: dimensions shown at most (those with the most KL)
MAX_DIMS = 10


def _cpu(x: Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().float().cpu().numpy())


def _as_data(x: Tensor, is_image: bool) -> np.ndarray:
    """Images ``(n, 1, h, w)`` -> ``(n, h, w)`` clipped to [0, 1]; points stay ``(n, 2)``."""
    if is_image:
        return _cpu(x[:, 0].clamp(0, 1))
    return _cpu(x)


@torch.no_grad()
def kl_order(model, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Latent dimensions by decreasing average ``KL(q(z_i | x) || N(0, 1))`` over ``x``.

    Returns:
        ``(dims, kl)``: ``(d,)`` int indices and their average KL in nats; in index order
        with NaN when the posterior is not a diagonal Gaussian (AVB's implicit encoder,
        Gumbel-softmax codes): there is no per-dimension KL to show.
    """
    try:
        kl = model.posterior_kl_per_dim(x).mean(0)
    except NoLatentDensityError:
        kl = torch.full((model.latent_dim,), float("nan"))
    order = torch.argsort(kl, descending=True, stable=True)
    return _cpu(order).astype(np.int64), _cpu(kl[order])


@dataclass(frozen=True)
class Traversal:
    """Decoded sweeps of one latent dimension at a time around anchor codes.

    Attributes:
        decoded: ``(anchors, dims, steps, h, w)`` images or ``(anchors, dims, steps, 2)``
            points: anchor ``a``'s code with dimension ``dims[k]`` moved by ``values[s]``.
        values: ``(steps,)`` offsets in prior standard deviations, -3 to +3.
        dims: ``(k,)`` latent indices, most average KL first.
        kl: ``(k,)`` their average KL in nats (the ordering key).
        anchors: ``(anchors, h, w)`` images or ``(anchors, 2)`` points.
        codes: ``(anchors, latent_dim)`` the anchors' posterior means.
        data: ``(m, 2)`` data points to draw under 2D sweeps, or ``None`` for images.
    """

    decoded: np.ndarray
    values: np.ndarray
    dims: np.ndarray
    kl: np.ndarray
    anchors: np.ndarray
    codes: np.ndarray
    data: np.ndarray | None


@torch.no_grad()
def latent_traversal(model, test: Tensor, device: torch.device, data=None) -> Traversal:
    """Sweep each of the (at most :data:`MAX_DIMS`) most-used latent dimensions.

    Arguments:
        model: a continuous :class:`~playground.core.models.latent.base.LatentModel`.
        test: ``(m, ...)`` fixed test points; the first :data:`ANCHORS` are the anchors
            and all of them order the dimensions by KL.
        device: the model's device.
        data: ``(k, 2)`` data to overlay (2D only).

    References:
        Higgins et al., "beta-VAE", ICLR 2017, figures 1-2 (latent traversals).
    """
    test = test.to(device)
    dims, kl = kl_order(model, test)
    dims, kl = dims[:MAX_DIMS], kl[:MAX_DIMS]
    anchors = test[:ANCHORS]
    codes = model.posterior_mean(anchors)  # (a, d)
    values = torch.linspace(-TRAVERSAL_RANGE, TRAVERSAL_RANGE, TRAVERSAL_STEPS, device=device)
    a, k, s = codes.shape[0], len(dims), TRAVERSAL_STEPS
    z = codes[:, None, None, :].expand(a, k, s, codes.shape[1]).clone()
    idx = torch.as_tensor(dims, device=device)
    for j in range(k):
        z[:, j, :, idx[j]] = codes[:, idx[j], None] + values[None, :]
    decoded = model.decode(z.reshape(-1, codes.shape[1]))
    decoded = _as_data(decoded, model.is_image)
    return Traversal(
        decoded=decoded.reshape(a, k, s, *decoded.shape[1:]),
        values=_cpu(values),
        dims=dims,
        kl=kl,
        anchors=_as_data(anchors, model.is_image),
        codes=_cpu(codes),
        data=data,
    )


def picture(ctx: SnapshotContext) -> Traversal:
    """The traversal of the session's held-out points (on the plane over the data)."""
    test, _ = ctx.test_set()
    data = None if ctx.is_image else ctx.overlay_points(OVERLAY_POINTS)
    return latent_traversal(ctx.model, test, ctx.device, data)


def explorer_picture(ctx: SnapshotContext) -> Traversal:
    """The same traversal for the Explorer's slider (image sets)."""
    return picture(ctx)


def offered(ctx: SnapshotContext) -> bool:
    """Continuous latents only: a discrete code (VQ-VAE, Gumbel) has no axis to sweep."""
    return not ctx.model.discrete_latent
