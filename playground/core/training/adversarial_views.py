"""Snapshot pictures of adversarial models: critic heatmap, generator manifold and gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.base import Density2D, box_grid

__all__ = [
    "CriticImage",
    "Manifold",
    "GeneratorGradients",
    "ModeCoverage",
    "critic_image",
    "generator_manifold",
    "generator_gradients",
    "mode_coverage",
]


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


@dataclass(frozen=True)
class ModeCoverage:
    """The mode metrics of 2,500 samples (VEEGAN / PacGAN definitions).

    Attributes:
        counts: ``(k,)`` int64, high-quality samples per mode.
        means: ``(k, 2)`` float32 mode means.
        modes_captured, high_quality, mode_kl: see
            :func:`~playground.core.training.mode_metrics.mode_metrics`.
    """

    counts: np.ndarray
    means: np.ndarray
    modes_captured: int
    high_quality: float
    mode_kl: float


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
    if getattr(model, "has_probability", False):
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


def generator_gradients(model, n: int, seed: int, device: torch.device) -> GeneratorGradients:
    """The generator update direction at ``n`` fake samples of a fixed latent batch."""
    z = _latent(model, n, seed, device)
    with torch.no_grad():
        fake = model.generate(z)
    direction = model.generator_update_direction(z)
    return GeneratorGradients(
        fake=fake.float().cpu().numpy(), direction=direction.detach().float().cpu().numpy()
    )


@torch.no_grad()
def mode_coverage(model, data: Density2D, seed: int, device: torch.device) -> ModeCoverage:
    """Mode metrics of ``MODE_SAMPLES`` model samples against the dataset's known modes."""
    from .mode_metrics import MODE_SAMPLES, mode_metrics

    g = torch.Generator(device=device).manual_seed(seed)
    x = model.sample(MODE_SAMPLES, g).float().cpu()
    m = mode_metrics(x, data.modes, data.mode_std)
    return ModeCoverage(
        counts=np.asarray(m["mode_counts"], dtype=np.int64),
        means=data.modes.float().numpy(),
        modes_captured=int(m["modes_captured"]),
        high_quality=float(m["high_quality"]),
        mode_kl=float(m["mode_kl"]),
    )
