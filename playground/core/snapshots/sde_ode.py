"""The "SDE vs ODE" picture: for a trained DDPM or NCSN, particles of the reverse-time SDE
and of the probability-flow ODE from the same noise, at every time of their common grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..sampling import budget
from .base import SnapshotContext

__all__ = ["SDEvsODE", "sde_vs_ode", "picture", "SDE_ODE_PARTICLES", "QUICK_PARTICLES"]

#: particles per process (a quick picture, while training plays, draws fewer)
SDE_ODE_PARTICLES, QUICK_PARTICLES = 300, 100
#: the picture costs this many score evaluations per step: 1 (Euler-Maruyama) + 4 (RK4)
EVALUATIONS_PER_STEP = 5


@dataclass(frozen=True)
class SDEvsODE:
    """Reverse-SDE and probability-flow-ODE particles from the same start, in forward order.

    Index ``k = 0..K`` of both paths is the same time: index ``K`` is the common start
    (``x(1)``, the noise), index 0 the sample (Tweedie's denoising of index 1), so the
    slider reads like the diffusion view's (0 = data, right = noise).

    Attributes:
        sde: ``(K + 1, n, 2)`` float32: Euler-Maruyama on the reverse-time SDE
            ``dx = [f - g^2 s] dt + g dw_bar`` (Song et al. 2021, eq. (6)).
        ode: ``(K + 1, n, 2)`` float32: the probability-flow ODE ``dx/dt = f - g^2 s / 2``
            (their eq. (13)) by RK4; ``ode[K] == sde[K]``.
        times: ``(K + 1,)`` float64 SDE time in ``[0, 1]``, non-decreasing; ``times[0] =
            0`` (the denoised sample; NCSN's solvers end at ``t = 0`` too, ``sigma_min``).
        noise_std: ``(K + 1,)`` float64, data units: the marginal's noise std at each time
            (``sqrt(1 - abar(t))`` for DDPM, ``sigma(t)`` for NCSN; 0 at index 0),
            increasing.
        labels: ``K + 1`` names: ``t = 37.5`` in DDPM steps or ``sigma = 1.25``; index 0
            says the sample is denoised.
        data: ``(m, 2)`` float32 data points to overlay, or ``None``.
        kind: ``ddpm`` (the VP SDE) or ``ncsn`` (the VE SDE).
    """

    sde: np.ndarray
    ode: np.ndarray
    times: np.ndarray
    noise_std: np.ndarray
    labels: tuple[str, ...]
    data: np.ndarray | None
    kind: str


@torch.no_grad()
def sde_vs_ode(
    model: Any, particles: int, steps: int, seed: int, data: np.ndarray | None
) -> SDEvsODE:
    """Run a DDPM's or an NCSN's ``sde_ode_paths`` and store them in forward order.

    Arguments:
        model: a DDPM or an NCSN on the plane (its ``noise_process().kind`` says which).
        particles: ``n``.
        steps: ``K``: ``K - 1`` solver steps then Tweedie's denoising.
        seed: seeds the start noise and the SDE's noise (fixed, so successive snapshots
            differ only by training).
        data: ``(m, 2)`` points to overlay, or ``None``.

    Returns:
        An :class:`SDEvsODE`.

    Raises:
        TypeError: the model has no noise process.
        Cancelled: the budget's picture is no longer wanted.
    """
    process = model.noise_process()
    if process is None:
        raise TypeError(f"the SDE vs ODE view draws a DDPM or an NCSN, not {model.name}")
    device = next(model.parameters()).device
    g = torch.Generator(device=device).manual_seed(seed)
    paths = model.sde_ode_paths(particles, steps, g)
    times, std = paths.times.numpy(), paths.noise_std.numpy()
    if process.kind == "ddpm":
        labels = [f"t = {t * model.T:.1f}" for t in times[:-1]] + ["t = 0 (denoised)"]
    else:
        labels = [f"sigma = {s:.3g}" for s in std[:-1]] + ["sigma = 0 (denoised)"]

    def forward(path: torch.Tensor) -> np.ndarray:
        out = path.reshape(steps + 1, particles, 2).flip(0).float().cpu().numpy()
        return np.ascontiguousarray(np.nan_to_num(out, posinf=1e6, neginf=-1e6))

    return SDEvsODE(
        sde=forward(paths.sde),
        ode=forward(paths.ode),
        times=times[::-1].copy(),
        noise_std=std[::-1].copy(),
        labels=tuple(labels[::-1]),
        data=data,
        kind=process.kind,
    )


def picture(ctx: SnapshotContext) -> SDEvsODE:
    """The session's model from the noise of ``seed + 11``, over its ``sampling_steps``
    (a quick picture: fewer particles and steps, see :mod:`~..sampling.budget`)."""
    spend = budget.current()
    particles = spend.particles(SDE_ODE_PARTICLES, QUICK_PARTICLES)
    steps = spend.steps(ctx.model.config.sampling_steps, "SDE / ODE steps", EVALUATIONS_PER_STEP)
    return sde_vs_ode(ctx.model, particles, steps, ctx.seed + 11, ctx.overlay_points(500))
