"""The density picture: the model's log p(x) on a grid over the box, beside the target's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.base import Density2D, box_grid
from .base import OVERLAY_POINTS, SnapshotContext, finite_image, target_image

__all__ = [
    "DensityImage",
    "density_image",
    "picture",
    "LATENT_DENSITY_RESOLUTION",
    "LATENT_DENSITY_K",
]

#: the density picture of a latent model: grid side and importance samples of its IWAE
#: estimate (it costs k decoder passes a point: a coarser, cheaper picture)
LATENT_DENSITY_RESOLUTION = 64
LATENT_DENSITY_K = 16


@dataclass(frozen=True)
class DensityImage:
    """The model's log-density on a regular grid, with the target's beside it.

    Attributes:
        log_prob: ``(res, res)`` float32, row ``i`` at ``ys[i]``, column ``j`` at ``xs[j]``,
            nats; ``-inf`` replaced by the finite minimum less ``ZERO_DENSITY_DROP``,
            so images have no NaN or inf.
        xs, ys: ``(res,)`` float32 axis coordinates.
        target_log_prob: the same grid of the exact target density, or ``None``.
        data: ``(m, 2)`` float32 data points to overlay, or ``None`` (energy targets).
        normalized: ``log_prob`` is a normalised log-density (or an estimate of one);
            False for an energy model, whose picture is ``-E(x) = log p(x) + log Z``
            (Z unknown).
        estimate: how ``log_prob`` was estimated, for the caption (a latent model's
            ``"IWAE estimate of log p(x) (K = 16)"``); ``""`` when it is exact.
    """

    log_prob: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    target_log_prob: np.ndarray | None
    data: np.ndarray | None
    normalized: bool = True
    estimate: str = ""


@torch.no_grad()
def density_image(
    model: torch.nn.Module,
    data: Density2D,
    device: torch.device,
    resolution: int = 128,
    overlay: np.ndarray | None = None,
    target_cache: dict | None = None,
    log_prob=None,
    estimate: str = "",
) -> DensityImage:
    """Evaluate ``model.log_prob`` on a ``resolution``-squared grid over ``data.box``.

    Arguments:
        model: a model with the ``density`` capability (``log_prob(x (n, 2)) -> (n,)``)
            or the ``energy`` one.
        data: the target; its exact log-density is drawn beside the model's when it has one.
        device: the model's device.
        resolution: grid points per side.
        overlay: data points to draw over the image.
        target_cache: a dict kept by the caller so the target grid is computed once.
        log_prob: what to draw instead of ``model.log_prob``: an estimate of the
            normalised log-density (a latent model's IWAE estimate with fewer samples);
            without it a model with ``energy`` and no ``log_prob`` (an EBM) is drawn as
            ``-E(x)``, marked not normalised.
        estimate: how ``log_prob`` estimates the log-density (for the caption).
    """
    pts, xs, ys = box_grid(data.box, resolution)
    normalized = log_prob is not None or "density" in model.capabilities
    if log_prob is None:
        log_prob = model.log_prob if normalized else lambda x: -model.energy(x)
    log_q = log_prob(pts.to(device))
    target = target_image(data, resolution, target_cache)
    return DensityImage(
        log_prob=finite_image(log_q, resolution),
        xs=xs.numpy(),
        ys=ys.numpy(),
        target_log_prob=target,
        data=overlay,
        normalized=normalized,
        estimate=estimate,
    )


def picture(ctx: SnapshotContext) -> DensityImage:
    """The density picture of a session: ``log p`` on ``ctx.resolution`` points a side (a
    latent model's IWAE estimate with :data:`LATENT_DENSITY_K` samples on at most
    :data:`LATENT_DENSITY_RESOLUTION`; an EBM's ``-E(x)``), with the overlay's first
    :data:`~.base.OVERLAY_POINTS` data points."""
    model, resolution, log_prob, estimate = ctx.model, ctx.resolution, None, ""
    if "latent" in model.capabilities:
        resolution = min(resolution, LATENT_DENSITY_RESOLUTION)
        log_prob = lambda x: model.log_prob(x, k=LATENT_DENSITY_K)  # noqa: E731
        estimate = f"IWAE estimate of log p(x) (K = {LATENT_DENSITY_K})"
    return density_image(
        model,
        ctx.data,
        ctx.device,
        resolution,
        ctx.overlay_points(OVERLAY_POINTS),
        ctx.target_cache,
        log_prob,
        estimate,
    )
