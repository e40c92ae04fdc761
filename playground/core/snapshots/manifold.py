"""The generator-manifold picture: a regular latent grid pushed through the generator, as
GAN Lab draws it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .base import SnapshotContext

__all__ = ["Manifold", "generator_manifold", "picture"]


@dataclass(frozen=True)
class Manifold:
    """A regular grid of the latent plane pushed through the generator (as GAN Lab draws it).

    Attributes:
        lines: ``(lines, points, 2)`` float32 data-space polylines: for a 2D latent the
            images of the horizontal then the vertical grid lines of ``[-3, 3]^2``; for a
            1D latent a single line, the image of ``[-3, 3]``.
        latent_dim: 1 or 2.
    """

    lines: np.ndarray
    latent_dim: int


@torch.no_grad()
def generator_manifold(
    model, device: torch.device, lines: int = 15, points: int = 60, half_width: float = 3.0
) -> Manifold | None:
    """Push a latent grid through the generator; ``None`` for latents of more than 2 dims."""
    dim = model.config.latent_dim
    if dim > 2:
        return None
    t = torch.linspace(-half_width, half_width, points)
    if dim == 1:
        z = t[None, :, None]
    else:
        c = torch.linspace(-half_width, half_width, lines)
        horizontal = torch.stack([t.expand(lines, points), c[:, None].expand(lines, points)], -1)
        z = torch.cat([horizontal, horizontal.flip(-1)], 0)
    x = model.generate(z.reshape(-1, dim).to(device)).reshape(*z.shape[:2], 2)
    return Manifold(lines=x.float().cpu().numpy(), latent_dim=dim)


def picture(ctx: SnapshotContext) -> Manifold | None:
    """The generator manifold of the session's GAN (``None`` for a latent of more than two
    dimensions: the view then says why)."""
    return generator_manifold(ctx.model, ctx.device)
