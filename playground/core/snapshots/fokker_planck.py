"""The Fokker-Planck picture: the density ``p_t`` of an SDE beside a histogram of particles
that follow it, frame by frame in the SDE's time, with their total-variation distance.

Two SDEs, chosen by the session: Langevin dynamics ``dX = grad log pi(X) dt + sqrt(2) dW``
on the exact target ``pi`` (score, NCSN and EBM sessions, whose samplers are Langevin
dynamics, and any session on an energy target: U1-U4 are known only through their energy,
and Langevin dynamics is their classical sampler), its ``p_t`` solved on the grid by
:func:`~playground.core.sampling.fokker_planck.solve_fokker_planck`; and a DDPM's forward
noising SDE ``dX = -1/2 beta(t) X dt + sqrt(beta(t)) dW`` on a Gaussian mixture, whose
``p_t`` is a mixture in closed form. The picture depends on the data (and a DDPM's
schedule), never on the weights: it is computed once per session and settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data.mixtures import mixture_parts
from ..sampling import budget
from ..sampling.fokker_planck import (
    CellGrid,
    cell_peclet,
    gridded_target,
    solve_fokker_planck,
)
from ..sampling.fokker_planck_particles import (
    VP_MAX_BETA_DT,
    langevin_histograms,
    mixture_score_fn,
    sampling_floor,
    total_variation,
    vp_alpha_bar,
    vp_histograms,
    vp_mixture_cells,
)
from ..sampling.targets import exact_target
from .base import SnapshotContext

__all__ = [
    "FokkerPlanck",
    "process_kind",
    "langevin_picture",
    "vp_picture",
    "picture",
    "offered",
    "RESOLUTION",
    "QUICK_RESOLUTION",
    "PARTICLES",
    "QUICK_PARTICLES",
    "PARTICLE_STEP",
    "MAX_PECLET",
    "LANGEVIN_TIMES",
    "VP_FRAMES",
]

#: cells per side: the solver's explicit step is ~h^2 / 4, so a 96-cell run to t = 20 takes
#: about a second; the quick picture (while training plays) uses half as many
RESOLUTION, QUICK_RESOLUTION = 96, 48
#: particles of the histogram (its sampling noise in TV falls as 1 / sqrt(particles))
PARTICLES, QUICK_PARTICLES = 10_000, 1_000
#: the particles' Euler-Maruyama step is this times the squared cell side: they move about
#: 1.4 cells per step, and the unadjusted step's bias (a variance inflated by
#: ``1 / (1 - dt / (2 s^2))`` in a mode of std ``s``) stays a few per cent where the grid
#: resolves the modes
PARTICLE_STEP = 1.0
#: the target is resolved when no face of the grid (at :data:`RESOLUTION`) between cells
#: with mass jumps more than this many nats (8gaussians 0.9, gmm82 0.8, U1-U4 <= 1.7;
#: ring8 6.1 and grid25 5.7 are modes narrower than a cell)
MAX_PECLET = 3.0
#: the Langevin frames: every 0.05 to 1, every 0.25 to 5, every 1 to 20 (SDE time units)
LANGEVIN_TIMES = np.round(
    np.concatenate([np.arange(0, 1, 0.05), np.arange(1, 5, 0.25), np.arange(5, 20.5, 1.0)]), 6
)
#: frames of the forward VP SDE over its time ``[0, 1]``
VP_FRAMES = 51
#: the particles' noise comes from ``seed + SEED_OFFSET``
SEED_OFFSET = 10


@dataclass(frozen=True)
class FokkerPlanck:
    """An SDE's density and its particles, frame by frame. Arrays are numpy.

    Attributes:
        kind: ``langevin`` (Fokker-Planck solved on the grid) or ``vp`` (a DDPM's forward
            SDE, closed form).
        times: ``(m,)`` float64, the frames' times in the SDE's time units (``vp``: ``[0,
            1]``, step ``k`` of ``K`` at ``k / K``).
        labels: ``m`` names of the frames (``t = 1.25``; ``t = 0.40 (step 40 of 100)``).
        density: ``(m, n, n)`` float32 ``p_t`` averaged over each cell, ``1 / data
            units^2``; row ``i`` at ``ys[i]``, column ``j`` at ``xs[j]``.
        histogram: ``(m, n, n)`` float32, the particles' histogram on the same cells, in
            the same units.
        tv: ``(m,)`` float64 total-variation distance between the two, over the cells and
            the outside of the box.
        floor: ``(m,)`` float64, the distance a histogram of as many exact draws from
            ``p_t`` has (one draw): the part of ``tv`` that is sampling noise.
        tv_stationary: ``(m,)`` float64 distance of ``p_t`` to the stationary density.
        stationary: ``(n, n)`` float32, the stationary density (``pi`` on the grid, or
            ``N(0, I)``), same units.
        xs, ys: ``(n,)`` float32 cell centres.
        particles: the number of particles.
        equation: the SDE and its start, in words.
        method: how ``density`` and ``histogram`` were computed, in words.
        density_title, histogram_title, stationary_name: what the two panels and the
            stationary density are (short: a plot's title).
    """

    kind: str
    times: np.ndarray
    labels: tuple[str, ...]
    density: np.ndarray
    histogram: np.ndarray
    tv: np.ndarray
    floor: np.ndarray
    tv_stationary: np.ndarray
    stationary: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    particles: int
    equation: str
    method: str
    density_title: str
    histogram_title: str
    stationary_name: str


_RESOLVED: dict[tuple, bool] = {}


def _log_pi(data: Any, grid: CellGrid) -> np.ndarray:
    with torch.no_grad():
        values = data.log_prob(grid.centres())
    return values.double().numpy().reshape(grid.cells, grid.cells)


def _resolved(data: Any) -> bool:
    """Whether the grid at :data:`RESOLUTION` resolves the target (see :data:`MAX_PECLET`);
    probed once per dataset."""
    key = (type(data).__name__, data.name, tuple(data.box))
    if key not in _RESOLVED:
        log_pi = _log_pi(data, CellGrid(tuple(data.box), RESOLUTION))
        _RESOLVED[key] = cell_peclet(log_pi) <= MAX_PECLET
    return _RESOLVED[key]


def process_kind(model: Any, data: Any) -> str | None:
    """Which SDE the session's picture shows, or ``None``.

    ``vp``: a DDPM on an isotropic Gaussian mixture (8gaussians, gmm82, ring8, grid25),
    whose noised marginals are closed form. ``langevin``: a model with a score (score,
    NCSN, EBM), or any model on an energy target (U1-U4, which only flows fitted by reverse
    KL train on), where the target's score is elementary (a Gaussian mixture's closed
    form, an energy's autograd: ~1-4 ms per 10,000 particles) and the grid resolves it
    (:data:`MAX_PECLET`): 8gaussians, gmm82 and U1-U4, not ring8 and grid25. The toy sets'
    exact densities are quadratures whose score costs 0.3 s per 10,000 particles (moons):
    thousands of Langevin steps are out of a picture's reach.
    """
    if data.is_image or data.dim != 2 or not data.has_log_prob:
        return None
    process = model.noise_process()
    if process is not None and process.kind == "ddpm":
        return "vp" if mixture_parts(data) is not None else None
    if "score" not in model.capabilities and not data.is_energy:
        return None
    if mixture_parts(data) is None and not data.is_energy:
        return None
    return "langevin" if _resolved(data) else None


def _frames(
    masses: np.ndarray, outside: np.ndarray, hist: np.ndarray, hist_out: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    tv = [
        total_variation(p, h, po, ho)
        for p, h, po, ho in zip(masses, hist, outside, hist_out, strict=True)
    ]
    floor = [sampling_floor(p, n, rng) for p in masses]
    return np.asarray(tv), np.asarray(floor)


def _density(masses: np.ndarray, grid: CellGrid) -> np.ndarray:
    return np.ascontiguousarray(masses / (grid.dx * grid.dy), dtype=np.float32)


def langevin_picture(
    data: Any,
    resolution: int = RESOLUTION,
    particles: int = PARTICLES,
    seed: int = 0,
    times: np.ndarray = LANGEVIN_TIMES,
) -> FokkerPlanck:
    """Langevin dynamics on ``data``'s exact density from the uniform density on its box.

    The Fokker-Planck solution (:func:`~..sampling.fokker_planck.solve_fokker_planck`,
    zero-flux walls) beside ``particles`` reflected Euler-Maruyama particles of step
    ``PARTICLE_STEP h^2`` (``h`` the smaller cell side) started uniformly on the box.

    Arguments:
        data: a 2D density with an exact, finite ``log_prob`` on its box.
        resolution: cells per side.
        particles: number of particles.
        seed: the particles' start and noise.
        times: non-decreasing frame times ``>= 0``.

    Returns:
        A :class:`FokkerPlanck` of kind ``langevin``.

    Raises:
        ValueError: ``data``'s log-density is not finite on the grid.
        Cancelled: the picture is no longer wanted.
    """
    grid = CellGrid(tuple(data.box), resolution)
    log_pi = _log_pi(data, grid)
    target = gridded_target(log_pi)
    p0 = np.full(log_pi.shape, 1.0 / log_pi.size)
    masses = solve_fokker_planck(log_pi, p0, times, grid.dx, grid.dy)
    parts = mixture_parts(data)
    score = mixture_score_fn(*parts) if parts is not None else exact_target(data).score
    rng = torch.Generator().manual_seed(seed)
    xmin, xmax, ymin, ymax = data.box
    u = torch.rand(particles, 2, generator=rng, dtype=torch.float64)
    x0 = torch.stack([xmin + (xmax - xmin) * u[:, 0], ymin + (ymax - ymin) * u[:, 1]], 1)
    step = PARTICLE_STEP * min(grid.dx, grid.dy) ** 2
    hist = langevin_histograms(score, x0, times, step, grid, rng)
    zero = np.zeros(len(times))
    tv, floor = _frames(masses, zero, hist, zero, particles)
    return FokkerPlanck(
        kind="langevin",
        times=np.asarray(times, dtype=np.float64),
        labels=tuple(f"t = {t:g}" for t in times),
        density=_density(masses, grid),
        histogram=_density(hist, grid),
        tv=tv,
        floor=floor,
        tv_stationary=np.asarray([total_variation(p, target) for p in masses]),
        stationary=_density(target, grid),
        xs=grid.xs.astype(np.float32),
        ys=grid.ys.astype(np.float32),
        particles=particles,
        equation="dX = \u2207log \u03c0(X) dt + \u221a2 dW, from the uniform density on the box",
        method=(
            f"p_t: Fokker-Planck by finite volumes on {resolution} \u00d7 {resolution} cells; "
            f"particles: Euler-Maruyama, step {step:.2g}, reflected at the box"
        ),
        density_title="p_t (Fokker-Planck)",
        histogram_title=f"{particles:,} Langevin particles",
        stationary_name="\u03c0",
    )


def vp_picture(
    data: Any,
    signal_scale: np.ndarray,
    resolution: int = RESOLUTION,
    particles: int = PARTICLES,
    seed: int = 0,
    frames: int = VP_FRAMES,
) -> FokkerPlanck:
    """The forward VP SDE of a DDPM on a Gaussian mixture: its closed-form ``p_t``
    (:func:`~..sampling.fokker_planck.vp_mixture_cells`) beside ``particles`` data points
    pushed through the SDE by Euler-Maruyama, at ``frames`` steps ``k`` of the schedule
    (``t = k / K``).

    Arguments:
        data: an isotropic Gaussian mixture (``mixture_parts`` is not ``None``).
        signal_scale: ``(K + 1,)`` the DDPM's ``sqrt(abar_k)``, ``abar_0 = 1``.
        resolution, particles, seed, frames: as named.

    Raises:
        ValueError: ``data`` is not such a mixture.
        Cancelled: the picture is no longer wanted.
    """
    parts = mixture_parts(data)
    if parts is None:
        raise ValueError(f"{data.name} is not an isotropic Gaussian mixture: no closed form")
    means, weights, std = (np.asarray(p, dtype=np.float64) for p in parts)
    grid = CellGrid(tuple(data.box), resolution)
    K = len(signal_scale) - 1
    steps = np.unique(np.round(np.linspace(0, K, min(frames, K + 1))).astype(int))
    times = steps / K
    abar = vp_alpha_bar(times, signal_scale)
    exact = [vp_mixture_cells(means, weights, float(std), float(a), grid) for a in abar]
    masses = np.stack([m for m, _ in exact])
    outside = np.asarray([o for _, o in exact])
    x0 = data.sample(particles, torch.Generator().manual_seed(seed))
    hist, hist_out = vp_histograms(
        x0, signal_scale, times, grid, torch.Generator().manual_seed(seed + 1)
    )
    tv, floor = _frames(masses, outside, hist, hist_out, particles)
    normal, normal_out = vp_mixture_cells(np.zeros((1, 2)), np.ones(1), 1.0, 0.0, grid)
    return FokkerPlanck(
        kind="vp",
        times=times,
        labels=tuple(f"t = {t:.2f} (step {k} of {K})" for t, k in zip(times, steps, strict=True)),
        density=_density(masses, grid),
        histogram=_density(hist, grid),
        tv=tv,
        floor=floor,
        tv_stationary=np.asarray(
            [
                total_variation(p, normal, o, normal_out)
                for p, o in zip(masses, outside, strict=True)
            ]
        ),
        stationary=_density(normal, grid),
        xs=grid.xs.astype(np.float32),
        ys=grid.ys.astype(np.float32),
        particles=particles,
        equation="dX = -\u00bd\u03b2(t) X dt + \u221a\u03b2(t) dW, from the data",
        method=(
            "p_t: the mixture noised in closed form; particles: data points by "
            f"Euler-Maruyama, \u03b2 dt \u2264 {VP_MAX_BETA_DT:g}"
        ),
        density_title="p_t (closed form)",
        histogram_title=f"{particles:,} noised data points",
        stationary_name="N(0, I)",
    )


def picture(ctx: SnapshotContext) -> FokkerPlanck | None:
    """The session's Fokker-Planck picture, computed once per dataset, schedule and budget
    (kept in ``ctx.target_cache``): :data:`PARTICLES` particles on :data:`RESOLUTION`
    cells, or for a quick budget :data:`QUICK_PARTICLES` on :data:`QUICK_RESOLUTION`
    (unless the full picture is cached already); particles from ``seed + 10``."""
    kind = process_kind(ctx.model, ctx.data)
    if kind is None:
        return None
    process = ctx.model.noise_process() if kind == "vp" else None
    base = ("fokker_planck", kind, ctx.data.name, ctx.seed, process.key if process else None)
    full = (*base, RESOLUTION, PARTICLES)
    if full in ctx.target_cache:
        return ctx.target_cache[full]
    spend = budget.current()
    n = spend.particles(PARTICLES, QUICK_PARTICLES)
    res = RESOLUTION
    if spend.quick:
        res = QUICK_RESOLUTION
        note = f"{QUICK_RESOLUTION} of {RESOLUTION} cells per side"
        if note not in spend.notes:
            spend.notes.append(note)
    key = (*base, res, n)
    if key not in ctx.target_cache:
        seed = ctx.seed + SEED_OFFSET
        if kind == "vp":
            fp = vp_picture(ctx.data, process.signal_scale, res, n, seed)
        else:
            fp = langevin_picture(ctx.data, res, n, seed)
        ctx.target_cache[key] = fp
    return ctx.target_cache[key]


def offered(ctx: SnapshotContext) -> bool:
    """Sessions whose :func:`process_kind` is not ``None``."""
    return process_kind(ctx.model, ctx.data) is not None
