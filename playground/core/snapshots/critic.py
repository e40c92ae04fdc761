"""The critic picture: D(x) or the critic value over the plane, real and fake samples, and
where the next generator update moves each fake sample (the ``gradients`` part)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.base import Density2D, box_grid
from .base import OVERLAY_POINTS, SnapshotContext

__all__ = [
    "CriticImage",
    "GeneratorGradients",
    "critic_image",
    "generator_gradients",
    "picture",
    "gradients_picture",
    "GRADIENT_ARROWS",
]

#: fake samples with an arrow in the gradients part
GRADIENT_ARROWS = 100


@dataclass(frozen=True)
class CriticImage:
    """The critic over the plane, with real and fake samples.

    Attributes:
        values: ``(res, res)`` float32, row ``i`` at ``ys[i]``: D(x) in [0, 1] for
            classifier GANs, the raw critic value otherwise.
        xs, ys: ``(res,)`` axis coordinates.
        label: ``"D(x)"`` or ``"critic"``.
        real, fake: ``(n, 2)`` float32 samples to overlay.
    """

    values: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    label: str
    real: np.ndarray
    fake: np.ndarray


@dataclass(frozen=True)
class GeneratorGradients:
    """Where the next generator update moves each fake sample.

    Attributes:
        fake: ``(n, 2)`` float32 fake samples ``G(z)`` for a fixed latent batch.
        direction: ``(n, 2)`` float32, minus the gradient of the generator loss with
            respect to each fake sample (arrows point where the update pushes them).
    """

    fake: np.ndarray
    direction: np.ndarray


def _latent(model, n: int, seed: int, device: torch.device) -> torch.Tensor:
    g = torch.Generator(device=device).manual_seed(seed)
    return model.sample_latent(n, g)


@torch.no_grad()
def critic_image(
    model,
    data: Density2D,
    real: torch.Tensor,
    n_fake: int,
    seed: int,
    device: torch.device,
    resolution: int = 96,
) -> CriticImage:
    """Evaluate the critic on a grid over ``data.box``.

    Arguments:
        model: a GAN with ``critic(x) -> (n,)``, ``generate(z)``, ``sample_latent(n, g)``
            and, where ``has_probability`` is true (classifier losses),
            ``discriminator_probability(x) -> (n,)``.
        data: the dataset (for the box).
        real: ``(m, 2)`` real samples to overlay.
        n_fake: fake samples to overlay (from a fixed latent batch).
        seed: seed of that latent batch.
        device: the model's device.
        resolution: grid points per side.
    """
    pts, xs, ys = box_grid(data.box, resolution)
    pts = pts.to(device)
    if model.has_probability:
        values, label = model.discriminator_probability(pts), "D(x)"
    else:
        values, label = model.critic(pts), "critic"
    fake = model.generate(_latent(model, n_fake, seed, device))
    return CriticImage(
        values=np.ascontiguousarray(values.float().cpu().reshape(resolution, resolution).numpy()),
        xs=xs.numpy(),
        ys=ys.numpy(),
        label=label,
        real=real.float().cpu().numpy(),
        fake=fake.float().cpu().numpy(),
    )


def generator_gradients(model, n: int, seed: int, device: torch.device) -> GeneratorGradients:
    """The generator update direction at ``n`` fake samples of a fixed latent batch."""
    z = _latent(model, n, seed, device)
    with torch.no_grad():
        fake = model.generate(z)
    direction = model.generator_update_direction(z)
    return GeneratorGradients(
        fake=fake.float().cpu().numpy(), direction=direction.detach().float().cpu().numpy()
    )


def picture(ctx: SnapshotContext) -> CriticImage:
    """The critic over the box with :data:`~.base.OVERLAY_POINTS` real samples and as many
    fakes from the fixed latent batch of ``seed + 4``."""
    real = ctx.overlay[:OVERLAY_POINTS] if ctx.overlay is not None else None
    return critic_image(ctx.model, ctx.data, real, OVERLAY_POINTS, ctx.seed + 4, ctx.device)


def gradients_picture(ctx: SnapshotContext) -> GeneratorGradients:
    """The generator's update direction at :data:`GRADIENT_ARROWS` fakes (latents of
    ``seed + 4``, the first of the critic picture's)."""
    return generator_gradients(ctx.model, GRADIENT_ARROWS, ctx.seed + 4, ctx.device)
