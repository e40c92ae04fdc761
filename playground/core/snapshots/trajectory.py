"""The trajectory picture: a base-space grid and particles pushed through every layer of a
flow (or every step of a process), z to x and x to z."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .base import SnapshotContext

__all__ = ["Trajectory", "trajectory_paths", "picture", "TRAJECTORY_PARTICLES"]

#: particles pushed each way
TRAJECTORY_PARTICLES = 300


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
    rng = torch.Generator(device=device).manual_seed(seed)
    z = torch.randn(n_particles, 2, generator=rng, device=device)
    inverse = model.trajectory(z, "inverse")
    forward = model.trajectory(x_particles.to(device), "forward")
    steps = inverse.shape[0]
    if model.trajectory_grid:
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


def picture(ctx: SnapshotContext) -> Trajectory:
    """:data:`TRAJECTORY_PARTICLES` data points pushed x to z (model samples where the
    target has no sampler) and as many base samples z to x, with the base grid."""
    if ctx.overlay is not None:
        x = ctx.overlay[:TRAJECTORY_PARTICLES]
    else:
        rng = torch.Generator(device=ctx.device).manual_seed(ctx.seed + 5)
        with torch.no_grad():
            x = ctx.model.sample(TRAJECTORY_PARTICLES, rng)
    return trajectory_paths(ctx.model, x, TRAJECTORY_PARTICLES, ctx.seed + 5, ctx.device)
