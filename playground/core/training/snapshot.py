"""Snapshots: immutable numpy pictures of a session that the views draw without the model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..data.base import Density2D, box_grid
from .adversarial_views import CriticImage, GeneratorGradients, Manifold, ModeCoverage
from .image_views import ImageGrid, Interpolation
from .latent_views import LatentSpace, Reconstructions, Traversal
from .score_views import ScoreField

if TYPE_CHECKING:  # chain_views imports this module's helpers
    from .chain_views import Chains
    from .diffusion_views import DiffusionProcess, ReverseStrip
    from .energy_views import EnergyImage

__all__ = [
    "Snapshot",
    "DensityImage",
    "SampleCloud",
    "Trajectory",
    "density_image",
    "finite_image",
    "target_image",
    "sample_cloud",
    "trajectory_paths",
    "VIEWS",
]

#: view name -> (the model capability it needs, the data it draws: ``plane`` for 2D
#: densities, ``image`` for image sets); ``None``: any.
VIEWS: dict[str, tuple[str | None, str | None]] = {
    "density": ("density", "plane"),
    "energy": ("energy", "plane"),
    "samples": ("samples", "plane"),
    "diffusion": ("process", "plane"),
    "trajectory": ("trajectory", "plane"),
    "score_field": ("score", "plane"),
    # offered where the model is a chain source of its own (Session.chain_options): a
    # density, an energy or a score; the exact target is then a second source
    "chains": (None, "plane"),
    "critic": ("critic", "plane"),
    "manifold": ("critic", "plane"),
    "gradients": ("critic", "plane"),
    "modes": ("samples", "plane"),
    "grid": ("samples", "image"),
    "interpolation": ("critic", "image"),
    "reverse_strip": ("process", "image"),
    "traversal": ("traversal", None),
    "reconstructions": ("latent", None),
    "latent_space": ("traversal", None),
    "explorer": ("traversal", "image"),
    "curves": (None, None),
}


#: nats below the finite minimum at which a zero density is drawn
ZERO_DENSITY_DROP = 20.0


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
        normalized: ``log_prob`` is a normalised log-density; False for an energy model,
            whose picture is ``-E(x) = log p(x) + log Z`` (Z unknown).
    """

    log_prob: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    target_log_prob: np.ndarray | None
    data: np.ndarray | None
    normalized: bool = True


@dataclass(frozen=True)
class SampleCloud:
    """Model samples from a fixed base noise (so they move smoothly), and data samples.

    Attributes:
        model: ``(n, 2)`` float32.
        data: ``(m, 2)`` float32, or ``None`` for energy targets.
    """

    model: np.ndarray
    data: np.ndarray | None


@dataclass(frozen=True)
class Trajectory:
    """Points after every layer of a flow, in both directions.

    Attributes:
        grid: ``(layers + 1, lines, points_per_line, 2)``: a regular grid of the base
            space pushed from z to x; index 0 is the base grid, the last is data space.
        inverse: ``(layers + 1, n, 2)``: base samples pushed from z to x.
        forward: ``(layers + 1, n, 2)``: data points (or model samples for energy
            targets) pushed from x to z; index 0 is data space.
        layer_names: ``layers`` names, one per layer in the z-to-x order.
    """

    grid: np.ndarray
    inverse: np.ndarray
    forward: np.ndarray
    layer_names: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    """What the views draw at one step. Arrays are numpy, never tensors.

    Attributes:
        step: the session's step count.
        box: plotting box ``(xmin, xmax, ymin, ymax)``.
        terms: the latest loss terms.
        density, samples, trajectory: present if asked for and the model has them.
        score_field: score models (see :mod:`.score_views`).
        chains: the Langevin chains view (see :mod:`.chain_views`).
        energy: an EBM's energy, negatives and replay buffer (see :mod:`.energy_views`).
        diffusion, reverse_strip: a DDPM's or an NCSN's forward and reverse processes
            on the plane, a DDPM's reverse process on images (see :mod:`.diffusion_views`).
        critic, manifold, gradients: adversarial models (see :mod:`.adversarial_views`);
            ``manifold`` is ``None`` for latents of more than two dimensions.
        modes: mode coverage, for datasets with known modes.
        grid, interpolation: image models (see :mod:`.image_views`).
        traversal, reconstructions, latent_space: latent models (see
            :mod:`.latent_views`); the ``explorer`` view draws ``traversal`` too.
        curves: name to ``(steps, values)``; present if asked for.
    """

    step: int
    box: tuple[float, float, float, float]
    terms: dict[str, float] = field(default_factory=dict)
    density: DensityImage | None = None
    samples: SampleCloud | None = None
    trajectory: Trajectory | None = None
    score_field: ScoreField | None = None
    chains: Chains | None = None
    energy: EnergyImage | None = None
    diffusion: DiffusionProcess | None = None
    reverse_strip: ReverseStrip | None = None
    critic: CriticImage | None = None
    manifold: Manifold | None = None
    gradients: GeneratorGradients | None = None
    modes: ModeCoverage | None = None
    grid: ImageGrid | None = None
    interpolation: Interpolation | None = None
    traversal: Traversal | None = None
    reconstructions: Reconstructions | None = None
    latent_space: LatentSpace | None = None
    curves: dict[str, tuple[np.ndarray, np.ndarray]] | None = None


def finite_image(values: torch.Tensor, res: int) -> np.ndarray:
    """``values`` (``res * res`` log-densities, row-major over the grid) as a ``(res, res)``
    float32 image with ``-inf`` (zero density) replaced by the finite minimum less
    :data:`ZERO_DENSITY_DROP` (so images have no NaN or inf, and contours find a support's
    edge)."""
    img = values.detach().float().cpu().reshape(res, res).numpy()
    finite = np.isfinite(img)
    if not finite.all():
        # zero density (off a uniform target's support) sits well below the finite minimum,
        # so contours still find the support's edge
        floor = img[finite].min() - ZERO_DENSITY_DROP if finite.any() else 0.0
        img = np.where(finite, img, floor)
    return np.ascontiguousarray(img, dtype=np.float32)


@torch.no_grad()
def target_image(
    data: Density2D, resolution: int, target_cache: dict | None = None
) -> np.ndarray | None:
    """The target's exact log-density on the ``resolution``-squared box grid (a
    :func:`finite_image`), or ``None`` where it has none; computed once per
    ``target_cache`` (a dict the caller keeps) and resolution."""
    if not data.has_log_prob:
        return None
    key = ("target", resolution)
    if target_cache is not None and key in target_cache:
        return target_cache[key]
    pts, _, _ = box_grid(data.box, resolution)
    target = finite_image(data.log_prob(pts), resolution)
    if target_cache is not None:
        target_cache[key] = target
    return target


@torch.no_grad()
def density_image(
    model: torch.nn.Module,
    data: Density2D,
    device: torch.device,
    resolution: int = 128,
    overlay: np.ndarray | None = None,
    target_cache: dict | None = None,
    log_prob=None,
) -> DensityImage:
    """Evaluate ``model.log_prob`` on a ``resolution``-squared grid over ``data.box``.

    Arguments:
        model: has ``log_prob(x (n, 2)) -> (n,)``.
        data: the target; its exact log-density is drawn beside the model's when it has one.
        device: the model's device.
        resolution: grid points per side.
        overlay: data points to draw over the image.
        target_cache: a dict kept by the caller so the target grid is computed once.
        log_prob: what to draw instead of ``model.log_prob`` (a latent model's IWAE
            estimate with fewer samples); a model with ``energy`` and no ``log_prob``
            (an EBM) is drawn as ``-E(x)``, marked not normalised.
    """
    pts, xs, ys = box_grid(data.box, resolution)
    normalized = log_prob is None and hasattr(model, "log_prob")
    if log_prob is None:
        log_prob = model.log_prob if hasattr(model, "log_prob") else lambda x: -model.energy(x)
    log_q = log_prob(pts.to(device))
    target = target_image(data, resolution, target_cache)
    return DensityImage(
        log_prob=finite_image(log_q, resolution),
        xs=xs.numpy(),
        ys=ys.numpy(),
        target_log_prob=target,
        data=overlay,
        normalized=normalized,
    )


@torch.no_grad()
def sample_cloud(
    model: torch.nn.Module, n: int, seed: int, device: torch.device, data: np.ndarray | None
) -> SampleCloud:
    """Draw ``n`` model samples with a generator reseeded every time (same noise)."""
    g = torch.Generator(device=device).manual_seed(seed)
    x = model.sample(n, g)
    return SampleCloud(model=x.float().cpu().numpy(), data=data)


def _base_grid(lines: int, points: int, half_width: float = 3.0) -> torch.Tensor:
    t = torch.linspace(-half_width, half_width, points)
    c = torch.linspace(-half_width, half_width, lines)
    horizontal = torch.stack([t.expand(lines, points), c[:, None].expand(lines, points)], -1)
    vertical = torch.stack([c[:, None].expand(lines, points), t.expand(lines, points)], -1)
    return torch.cat([horizontal, vertical], 0)


@torch.no_grad()
def trajectory_paths(
    model: torch.nn.Module,
    x_particles: torch.Tensor,
    n_particles: int,
    seed: int,
    device: torch.device,
    lines: int = 13,
    points_per_line: int = 48,
) -> Trajectory:
    """Push a base-space grid and particles through every layer of a flow.

    Arguments:
        model: a flow with ``trajectory(points, direction)`` and ``layer_names()``; a model
            whose ``trajectory_grid`` is False (a stochastic process, DDPM) gets no grid.
        x_particles: ``(m, 2)`` data-space points to push from x to z.
        n_particles: base samples to push from z to x.
        seed: seed of the base samples (fixed, so the paths evolve smoothly).
        device: the model's device.
        lines: grid lines per direction (the grid has ``2 * lines`` lines).
        points_per_line: points along each line.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(n_particles, 2, generator=g, device=device)
    inverse = model.trajectory(z, "inverse")
    forward = model.trajectory(x_particles.to(device), "forward")
    steps = inverse.shape[0]
    if getattr(model, "trajectory_grid", True):
        grid = _base_grid(lines, points_per_line)
        grid_path = model.trajectory(grid.reshape(-1, 2).to(device), "inverse")
    else:  # a stochastic process maps no grid: draw the particles alone
        grid = torch.zeros(0, points_per_line, 2)
        grid_path = torch.zeros(steps, 0, 2)
    return Trajectory(
        grid=grid_path.float().cpu().reshape(steps, *grid.shape).numpy(),
        inverse=inverse.float().cpu().numpy(),
        forward=forward.float().cpu().numpy(),
        layer_names=tuple(model.layer_names()),
    )
