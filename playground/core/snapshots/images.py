"""Snapshot pictures of image models: a sample grid from fixed latents, latent interpolations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .base import SnapshotContext

__all__ = [
    "ImageGrid",
    "Interpolation",
    "sample_grid",
    "interpolation_strips",
    "slerp",
    "GRID_COLUMNS",
    "grid_picture",
    "interpolation_picture",
]

#: images per row of the sample grid
GRID_COLUMNS = 8
#: rows of the sample grid of a model without a categorical code or classes
GRID_ROWS = 6
#: rows of a guided model's grid: one per class, at most this many
MAX_CLASS_ROWS = 10
#: interpolation strips and images per strip
STRIPS, STRIP_STEPS = 4, 10


@dataclass(frozen=True)
class ImageGrid:
    """Model samples from a fixed latent batch, so the same samples evolve as it trains.

    Attributes:
        images: ``(rows, cols, h, w)`` float32 in ``[0, 1]``.
        row_labels: one label per row (InfoGAN: ``c = 0``, ``c = 1``, ...), or ``None``.
        data: ``(m, h, w)`` float32 training images to show beside them.
        caption: what the rows and columns mean.
    """

    images: np.ndarray
    row_labels: tuple[str, ...] | None
    data: np.ndarray
    caption: str


@dataclass(frozen=True)
class Interpolation:
    """Decoded images along paths between pairs of fixed latents.

    Attributes:
        linear: ``(strips, steps, h, w)`` float32: ``G((1 - t) z0 + t z1)``.
        slerp: ``(strips, steps, h, w)`` float32: ``G(slerp(z0, z1, t))``.
        t: ``(steps,)`` the interpolation parameters in ``[0, 1]``.
    """

    linear: np.ndarray
    slerp: np.ndarray
    t: np.ndarray


def slerp(z0: Tensor, z1: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation between rows of ``z0`` and ``z1``.

    ``slerp(z0, z1, t) = sin((1-t) w) / sin w * z0 + sin(t w) / sin w * z1`` with ``w`` the
    angle between them; it keeps the norm near that of Gaussian samples, where a
    straight line passes through the unlikely region near the origin.

    Arguments:
        z0, z1: ``(n, d)`` endpoints.
        t: ``(k,)`` parameters in ``[0, 1]``.

    Returns:
        ``(n, k, d)`` points (linear where the endpoints are parallel).

    References:
        Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985; White,
        "Sampling Generative Networks", arXiv:1609.04468, 2016 (for latent spaces).
    """
    cos = torch.nn.functional.cosine_similarity(z0, z1, dim=1).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)[:, None, None]  # (n, 1, 1)
    tt = t.to(z0)[None, :, None]  # (1, k, 1)
    a, b = z0[:, None, :], z1[:, None, :]
    sin = torch.sin(omega)
    near = sin.abs() < 1e-6
    safe = torch.where(near, torch.ones_like(sin), sin)
    spherical = (torch.sin((1 - tt) * omega) * a + torch.sin(tt * omega) * b) / safe
    return torch.where(near, (1 - tt) * a + tt * b, spherical)


def _as_images(x: Tensor) -> np.ndarray:
    """``(n, 1, h, w)`` or ``(n, h, w)`` -> ``(n, h, w)`` float32 in ``[0, 1]``."""
    x = x.detach().float().cpu()
    if x.dim() == 4:
        x = x[:, 0]
    return np.ascontiguousarray(x.clamp(0, 1).numpy())


@torch.no_grad()
def sample_grid(
    model: torch.nn.Module, data_images: Tensor, seed: int, device: torch.device
) -> ImageGrid:
    """Samples of an image model from a latent batch drawn from ``seed`` every time.

    A model with a categorical code (InfoGAN: ``generate_with_codes``) gets one row per
    category value (at most 10) over the same noise per column, continuous codes 0: the
    paper's figure, where a code that picked out classes shows one class per row. A
    guided diffusion model (``needs_labels``: a DDPM with classifier or classifier-free
    guidance) gets one row per class (at most :data:`MAX_CLASS_ROWS`), each sample guided
    to its row's class as :meth:`DDPM.sample_class` does, in one batched reverse process.

    Arguments:
        model: has ``sample(n, generator) -> (n, 1, h, w)``; a guided model also
            ``n_classes``, ``reverse_process(n, generator, y)`` and ``from_diffusion``.
        data_images: ``(m, 1, h, w)`` training images to show beside the samples.
        seed: the fixed latent batch's seed.
        device: the model's device.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    cfg = model.config
    if "codes" in model.capabilities:
        rows = min(int(cfg.categories), 10)
        z = torch.randn(GRID_COLUMNS, cfg.latent_dim, generator=g, device=device)
        z = z.repeat(rows, 1)
        c = torch.arange(rows, device=device).repeat_interleave(GRID_COLUMNS)
        codes = torch.zeros(rows * GRID_COLUMNS, cfg.continuous_codes, device=device)
        x = model.generate_with_codes(z, c, codes)
        labels = tuple(f"c = {i}" for i in range(rows))
        caption = "rows: categorical code c; columns: the same noise z"
    elif model.needs_labels:
        # one batched reverse process for all rows: T network calls, not T per class
        rows = min(int(model.n_classes), MAX_CLASS_ROWS)
        y = torch.arange(rows, device=device).repeat_interleave(GRID_COLUMNS)
        x = model.sample_labelled(y, g)
        labels = tuple(f"y = {i}" for i in range(rows))
        guidance = getattr(cfg, "guidance", None)  # a DDPM's; a conditional PixelCNN has none
        if guidance is None:
            caption = "rows: samples of class y"
        else:
            scale = "w" if guidance == "classifier-free" else "s"
            caption = (
                f"rows: samples guided to class y ({guidance} guidance, "
                f"{scale} = {cfg.guidance_scale:g})"
            )
    else:
        rows = GRID_ROWS
        x = model.sample(rows * GRID_COLUMNS, g)
        labels = None
        caption = (
            "samples from a fixed latent batch"
            if "latent" in model.capabilities or "critic" in model.capabilities
            else "samples drawn with the same random seed every frame"
        )
    images = _as_images(x)
    h, w = images.shape[1:]
    return ImageGrid(
        images=images.reshape(rows, GRID_COLUMNS, h, w),
        row_labels=labels,
        data=_as_images(data_images[: rows * GRID_COLUMNS]),
        caption=caption,
    )


@torch.no_grad()
def interpolation_strips(
    model: torch.nn.Module, seed: int, device: torch.device, strips: int = STRIPS
) -> Interpolation:
    """``G`` along linear and spherical paths between :data:`STRIPS` fixed latent pairs.

    Arguments:
        model: has ``sample_latent(n, generator) -> (n, d)`` and ``generate(z)``.
        seed: the endpoints' seed (fixed, so the strips evolve with training).
        device: the model's device.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    z0 = model.sample_latent(strips, g)
    z1 = model.sample_latent(strips, g)
    t = torch.linspace(0.0, 1.0, STRIP_STEPS, device=z0.device)
    lines = (1 - t)[None, :, None] * z0[:, None] + t[None, :, None] * z1[:, None]
    arcs = slerp(z0, z1, t)
    d = z0.shape[1]
    both = torch.cat([lines.reshape(-1, d), arcs.reshape(-1, d)])
    images = _as_images(model.generate(both))
    h, w = images.shape[1:]
    images = images.reshape(2, strips, STRIP_STEPS, h, w)
    return Interpolation(linear=images[0], slerp=images[1], t=t.cpu().numpy())


def grid_picture(ctx: SnapshotContext) -> ImageGrid:
    """Samples of the fixed latent batch of ``seed + 4`` beside training images."""
    return sample_grid(ctx.model, ctx.overlay, ctx.seed + 4, ctx.device)


def interpolation_picture(ctx: SnapshotContext) -> Interpolation:
    """Linear and spherical paths between the fixed latent pairs of ``seed + 8``."""
    return interpolation_strips(ctx.model, ctx.seed + 8, ctx.device)
