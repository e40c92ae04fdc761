"""The Dirac-GAN field picture: the gradient vector field of the chosen loss and regulariser
over the parameter plane ``(theta, psi)``, the training trajectory drawn on it (from the
session's history of ``theta`` and ``psi``), the current point and the equilibrium."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..hyperparameters import to_dict
from ..metrics.equilibrium import critic_slope, generator_point
from ..models.gans.dirac import WGAN_CLIP, vector_field
from .base import SnapshotContext

__all__ = [
    "DiracField",
    "dirac_field",
    "picture",
    "ARROWS",
    "TRAJECTORY_POINTS",
    "MIN_HALF_WIDTH",
]

#: arrows per side of the grid
ARROWS = 17
#: the trajectory keeps at most this many points (every k-th step of a long run)
TRAJECTORY_POINTS = 4000
#: the plane shows at least [-2, 2]^2, more when the trajectory leaves it
MIN_HALF_WIDTH = 2.0


@dataclass(frozen=True)
class DiracField:
    """The Dirac-GAN's dynamics on the ``(theta, psi)`` plane at one step.

    Attributes:
        box: ``(xmin, xmax, ymin, ymax)`` of the plane (theta across, psi up), square.
        starts: ``(ARROWS**2, 2)`` float64 arrow bases ``(theta, psi)``.
        field: ``(ARROWS**2, 2)`` float64 the field ``v = (-dL_G/dtheta, -dL_D/dpsi)`` there
            (instance noise averaged out), in parameter units per unit time.
        trajectory: ``(k, 2)`` float64 ``(theta, psi)`` from the start to now (thinned to
            at most :data:`TRAJECTORY_POINTS`, always keeping the first and the last).
        point: ``(2,)`` the current ``(theta, psi)``.
        equilibrium: ``(2,)`` the equilibrium ``(0, 0)``.
        distance: ``||point - equilibrium||``.
        clip: WGAN's ``|psi| <= clip`` where psi is clipped, else ``None``.
        loss, updates, regularizer: the settings drawn; ``gamma``, ``noise_std``, ``lr``
            their values.
    """

    box: tuple[float, float, float, float]
    starts: np.ndarray
    field: np.ndarray
    trajectory: np.ndarray
    point: np.ndarray
    equilibrium: np.ndarray
    distance: float
    clip: float | None
    loss: str
    updates: str
    regularizer: str
    gamma: float
    noise_std: float
    lr: float


def _half_width(points: np.ndarray) -> float:
    """Half the side of a square about 0 holding ``points`` with a margin, in steps of 0.5."""
    reach = float(np.abs(points).max()) if points.size and np.isfinite(points).all() else 0.0
    return max(MIN_HALF_WIDTH, math.ceil(1.1 * reach * 2.0) / 2.0)


def _thinned(points: np.ndarray, limit: int) -> np.ndarray:
    """Every k-th row of ``points`` so at most ``limit`` remain, keeping the first and last."""
    if len(points) <= limit:
        return points
    k = -(-len(points) // (limit - 1))
    return np.concatenate([points[::k], points[-1:]])


def dirac_field(trajectory: np.ndarray, settings: dict, resolution: int = ARROWS) -> DiracField:
    """The field picture of a Dirac-GAN that travelled ``trajectory`` under ``settings``.

    Arguments:
        trajectory: ``(k, 2)`` ``(theta, psi)`` from the start, the last row the current
            point (``k >= 1``).
        settings: the model's hyperparameters by name (``loss``, ``updates``,
            ``regularizer``, ``gamma``, ``noise_std``, ``lr``).
        resolution: arrows per side.

    References:
        Mescheder, Geiger and Nowozin, ICML 2018, figures 1-3.
    """
    path = _thinned(np.asarray(trajectory, dtype=np.float64).reshape(-1, 2), TRAJECTORY_POINTS)
    half = _half_width(path)
    axis = np.linspace(-half, half, resolution)
    theta, psi = np.meshgrid(axis, axis, indexing="xy")
    starts = np.stack([theta.ravel(), psi.ravel()], 1)
    loss = str(settings.get("loss", "minimax"))
    regularizer = str(settings.get("regularizer", "none"))
    gamma, noise_std = float(settings.get("gamma", 1.0)), float(settings.get("noise_std", 0.0))
    t = torch.as_tensor(starts, dtype=torch.float64)
    v_theta, v_psi = vector_field(t[:, 0], t[:, 1], loss, regularizer, gamma, noise_std)
    field = torch.stack([v_theta, v_psi], 1).detach().numpy()
    point = path[-1].copy()
    clipped = loss == "wasserstein" and regularizer != "wgan-gp"
    return DiracField(
        box=(-half, half, -half, half),
        starts=starts,
        field=np.nan_to_num(field),
        trajectory=path,
        point=point,
        equilibrium=np.zeros(2),
        distance=float(np.hypot(*point)),
        clip=WGAN_CLIP if clipped else None,
        loss=loss,
        updates=str(settings.get("updates", "simultaneous")),
        regularizer=regularizer,
        gamma=gamma,
        noise_std=noise_std,
        lr=float(settings.get("lr", 0.1)),
    )


def picture(ctx: SnapshotContext) -> DiracField:
    """The picture of the session's Dirac-GAN: its current ``(theta, psi)`` read through the
    protocol (``theta``: where its samples sit; ``psi``: the critic's slope at the data),
    the trajectory from its history's ``theta`` and ``psi`` after its start ``(theta0,
    psi0)``, and the field of its hyperparameters."""
    settings = to_dict(ctx.model.config)
    now = [
        generator_point(ctx.model, ctx.data, ctx.device),
        critic_slope(ctx.model, ctx.data, ctx.device),
    ]
    rows = [[float(settings.get("theta0", now[0])), float(settings.get("psi0", now[1]))]]
    arrays = ctx.history.as_arrays() if ctx.history is not None else {}
    if "theta" in arrays and "psi" in arrays:
        (_, theta), (_, psi) = arrays["theta"], arrays["psi"]
        n = min(len(theta), len(psi))
        rows += np.stack([theta[:n], psi[:n]], 1).tolist()
    trajectory = np.asarray(rows + [now], dtype=np.float64)
    return dirac_field(trajectory, settings)
