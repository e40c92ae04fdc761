"""The energy view's snapshot: an EBM's energy on a grid, its last Langevin negatives and a
subsample of its replay buffer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.base import Density2D, box_grid
from .base import OVERLAY_POINTS, SnapshotContext, target_image

__all__ = ["EnergyImage", "energy_image", "picture", "BUFFER_POINTS"]

#: replay-buffer points drawn at most (one ScatterPlotItem stays cheap at 10 Hz)
BUFFER_POINTS = 1000


@dataclass(frozen=True)
class EnergyImage:
    """An energy-based model's landscape at one step, with the points contrastive
    divergence pushes against.

    Attributes:
        energy: ``(res, res)`` float32, row ``i`` at ``ys[i]``, column ``j`` at ``xs[j]``:
            ``E(x)`` in nats, shifted so that its minimum over the grid is 0 (an energy is
            defined up to an additive constant, ``log Z``); no NaN or inf (a non-finite
            value is drawn as the grid's largest finite energy).
        xs, ys: ``(res,)`` float32 axis coordinates.
        negatives: ``(b, 2)`` float32, the last training step's Langevin negatives
            (``(0, 2)`` before the first step).
        buffer: ``(m, 2)`` float32, ``m = min(buffer_fill, BUFFER_POINTS)`` replay-buffer
            points, evenly spaced over the filled ring (the same slots every snapshot).
        buffer_fill: points in the replay buffer.
        buffer_size: the replay buffer's capacity.
        data: ``(k, 2)`` float32 data points to overlay, or ``None``.
        target_log_prob: ``(res, res)`` float32, the exact target's log-density on the
            same grid (nats, ``-inf`` replaced as in the density view), or ``None``.

    References:
        Du and Mordatch, "Implicit Generation and Modeling with Energy-Based Models",
        NeurIPS 2019, section 3.1 (replay buffer).
    """

    energy: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    negatives: np.ndarray
    buffer: np.ndarray
    buffer_fill: int
    buffer_size: int
    data: np.ndarray | None
    target_log_prob: np.ndarray | None


def _shifted_energy(values: torch.Tensor, res: int) -> np.ndarray:
    e = values.detach().float().cpu().reshape(res, res).numpy()
    finite = np.isfinite(e)
    if not finite.any():
        return np.zeros((res, res), dtype=np.float32)
    e = np.where(finite, e, e[finite].max())
    return np.ascontiguousarray(e - e.min(), dtype=np.float32)


def _as_points(x: np.ndarray | torch.Tensor) -> np.ndarray:
    if torch.is_tensor(x):
        x = x.detach().float().cpu().numpy()
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32).reshape(-1, 2))


@torch.no_grad()
def energy_image(
    model: torch.nn.Module,
    data: Density2D,
    device: torch.device,
    overlay: np.ndarray | None,
    target_cache: dict | None = None,
    resolution: int = 96,
) -> EnergyImage:
    """Evaluate an EBM's energy on a ``resolution``-squared grid over ``data.box`` and read
    its last negatives and replay buffer.

    Everything is read from the model's parameters and registered buffers, so a copy of
    the model refreshed from ``state_dict()`` gives the same picture.

    Arguments:
        model: has ``energy(x (n, 2)) -> (n,)`` (nats up to a constant),
            ``last_negatives() -> (b, 2)``, and the buffers ``replay_buffer (size, 2)``
            and ``buffer_fill`` (an :class:`~playground.core.models.energy.EBM`).
        data: the dataset: its box, and its exact log-density where it has one.
        device: the model's device.
        overlay: ``(k, 2)`` data points to draw, or ``None``.
        target_cache: a dict kept by the caller so the target grid is computed once
            (shared with the density view's: same key, same values).
        resolution: grid points per side.

    Returns:
        An :class:`EnergyImage`.
    """
    pts, xs, ys = box_grid(data.box, resolution)
    energy = _shifted_energy(model.energy(pts.to(device)), resolution)
    size = int(model.replay_buffer.shape[0])
    fill = int(model.buffer_fill)
    if fill > BUFFER_POINTS:
        idx = torch.linspace(0, fill - 1, BUFFER_POINTS).round().long()
    else:
        idx = torch.arange(fill)
    buffer = model.replay_buffer[idx.to(model.replay_buffer.device)]
    target = target_image(data, resolution, target_cache)
    return EnergyImage(
        energy=energy,
        xs=xs.numpy(),
        ys=ys.numpy(),
        negatives=_as_points(model.last_negatives()),
        buffer=_as_points(buffer),
        buffer_fill=fill,
        buffer_size=size,
        data=None if overlay is None else _as_points(overlay),
        target_log_prob=target,
    )


def picture(ctx: SnapshotContext) -> EnergyImage:
    """The EBM's energy with the overlay's data, its replay buffer and last negatives."""
    return energy_image(
        ctx.model, ctx.data, ctx.device, ctx.overlay_points(OVERLAY_POINTS), ctx.target_cache
    )
