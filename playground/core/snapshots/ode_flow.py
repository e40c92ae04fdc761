"""The ODE flow picture: a continuous-time flow at any time ``s`` in ``[0, 1]``: particles
and a warped base grid moved by the ODE, the vector field ``dx/ds`` as arrows, and the
flow's density ``log p_s(x)`` behind them, all stored at fixed times so a time slider
needs no model call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data.base import box_grid
from ..hyperparameters import to_dict
from ..sampling import budget
from .base import SnapshotContext, finite_image

__all__ = [
    "OdeFlow",
    "ode_flow",
    "picture",
    "base_grid",
    "base_span",
    "union_box",
    "PATH_STEPS",
    "PARTICLES",
    "QUICK_PARTICLES",
    "GRID_LINES",
    "QUICK_GRID_LINES",
    "FIELD_TIMES",
    "QUICK_DENSITY_TIMES",
    "DENSITY_RESOLUTION",
    "QUICK_DENSITY_RESOLUTION",
    "ARROW_RESOLUTION",
]

#: the particles and the grid are stored at PATH_STEPS + 1 equally spaced times (the view
#: interpolates linearly between them: the paths are smooth, 1/40 apart)
PATH_STEPS = 40
#: base draws moved by the flow (a preview while training plays: QUICK_PARTICLES)
PARTICLES, QUICK_PARTICLES = 400, 150
#: lines per direction of the warped base grid, and points along each line
GRID_LINES, QUICK_GRID_LINES, GRID_POINTS = 13, 9, 40
#: times of the arrows and the density frames (0 and 1 included); a preview computes
#: QUICK_DENSITY_TIMES density frames on a QUICK_DENSITY_RESOLUTION grid: each frame is an
#: adaptive solve of the augmented ODE back to s = 0 with the exact trace (~0.1-1 s for
#: 1,024 points, more as training makes the field stiffer)
FIELD_TIMES, QUICK_DENSITY_TIMES = 9, 3
DENSITY_RESOLUTION, QUICK_DENSITY_RESOLUTION = 32, 20
#: arrows per side of the vector field's grid
ARROW_RESOLUTION = 17
#: the base grid holds the central 1 - 2 BASE_QUANTILE of the base on each axis (N(0, I):
#: +-2.6, rounded out to +-3)
BASE_QUANTILE = 0.005
#: draws of the base that fix the grid's span (from the picture's own seed)
BASE_SPAN_DRAWS = 2000
#: while training plays, the density frames (the costly part: 0.5-1.5 s for a trained
#: field on two cores) are recomputed at most this share of the time: frames that cost c
#: seconds are reused, labelled with their step, until c / DENSITY_SHARE seconds have passed
DENSITY_SHARE = 0.1
#: the target-cache key of the last density frames (one entry)
_CACHE_KEY = "ode_flow_density"


@dataclass(frozen=True)
class OdeFlow:
    """A continuous-time flow ``dx/ds`` from the base (``s = 0``) to the data (``s = 1``).

    Attributes:
        times: ``(k,)`` float32, ``k = PATH_STEPS + 1`` equally spaced times from 0 to 1.
        particles: ``(k, n, 2)`` float32: base draws moved by the ODE; ``particles[i]`` at
            ``times[i]`` (index 0 the base draws, the last the model's samples).
        grid: ``(k, lines, points, 2)`` float32: a regular grid of the base space
            (``2 * GRID_LINES`` lines: horizontal, then vertical) moved the same way.
        field_times: ``(m,)`` float32 times of the arrows, increasing, 0 and 1 included.
        field: ``(m, a * a, 2)`` float32 velocity ``dx/ds`` in data units per unit of
            ``s`` at the arrow grid's points (x varying fastest), one row per field time.
        arrow_xs, arrow_ys: ``(a,)`` float32 axes of the arrow grid.
        density_times: ``(j,)`` float32 times of the density frames, increasing, 0 and 1
            included (a subset of ``field_times``; fewer in a preview); ``j = 0`` for a
            model without the capability ``density`` (a flow from a source set with no
            exact density).
        density: ``(j, r, r)`` float32 ``log p_s(x)`` in nats of the flow at
            ``density_times``; row ``i`` at ``ys[i]``, column at ``xs``; finite (see
            :func:`~.base.finite_image`).
        step: the training step (``model.steps_taken``) of the weights that moved the
            particles and the grid and gave the field.
        density_step: the training step of the weights whose density this is: before
            ``step`` in a preview that reused the last frames (see :data:`DENSITY_SHARE`).
        xs, ys: ``(r,)`` float32 axes of the density grid.
        box: ``(xmin, xmax, ymin, ymax)``: the data box joined with the base grid's span
            (the plane the view shows).
        data: ``(m, 2)`` float32 data points to overlay, or ``None``.
        nfe: function evaluations of the solve that moved the particles and the grid.
    """

    times: np.ndarray
    particles: np.ndarray
    grid: np.ndarray
    field_times: np.ndarray
    field: np.ndarray
    arrow_xs: np.ndarray
    arrow_ys: np.ndarray
    density_times: np.ndarray
    density: np.ndarray
    step: int
    density_step: int
    xs: np.ndarray
    ys: np.ndarray
    box: tuple[float, float, float, float]
    data: np.ndarray | None
    nfe: int


def base_grid(span: tuple[float, float, float, float], lines: int, points: int) -> torch.Tensor:
    """A regular grid of ``span = (xmin, xmax, ymin, ymax)``: ``(2 * lines, points, 2)``,
    ``lines`` horizontal lines (bottom to top), then ``lines`` vertical ones (left to
    right), each of ``points`` points."""
    xmin, xmax, ymin, ymax = span
    tx, ty = torch.linspace(xmin, xmax, points), torch.linspace(ymin, ymax, points)
    cx, cy = torch.linspace(xmin, xmax, lines), torch.linspace(ymin, ymax, lines)
    horizontal = torch.stack([tx.expand(lines, points), cy[:, None].expand(lines, points)], -1)
    vertical = torch.stack([cx[:, None].expand(lines, points), ty.expand(lines, points)], -1)
    return torch.cat([horizontal, vertical], 0)


def base_span(model: Any, seed: int, device: torch.device) -> tuple[float, float, float, float]:
    """Where the base of a model with the capability ``ode`` lives: per axis, a span
    centred on the median (rounded to 0.5) of :data:`BASE_SPAN_DRAWS` draws of
    ``model.base_sample`` (from ``seed``) that holds their central ``1 - 2 *
    BASE_QUANTILE``, its half-width rounded up to 0.5: ``(xmin, xmax, ymin, ymax)``
    (``N(0, I)``: ``(-3, 3, -3, 3)``)."""
    g = torch.Generator(device=device).manual_seed(seed)
    z = model.base_sample(BASE_SPAN_DRAWS, g).float().cpu()
    q = torch.quantile(z, torch.tensor([BASE_QUANTILE, 0.5, 1.0 - BASE_QUANTILE]), dim=0)
    centre = (q[1] * 2).round() / 2
    half = (torch.maximum(q[2] - centre, centre - q[0]) * 2).ceil().clamp_min(1.0) / 2
    lo, hi = centre - half, centre + half
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def union_box(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """The smallest box ``(xmin, xmax, ymin, ymax)`` holding the boxes ``a`` and ``b``."""
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def _fingerprint(model: Any) -> tuple:
    """What identifies the weights and the solver settings (a cache key)."""
    with torch.no_grad():
        sums = tuple(float(p.detach().double().sum()) for p in model.parameters())
    return sums, repr(sorted(to_dict(model.config).items()))


def _densities(
    model: Any,
    times: np.ndarray,
    box: tuple[float, float, float, float],
    resolution: int,
    device: torch.device,
) -> np.ndarray:
    """``log p_s`` on the ``resolution``-squared grid over ``box`` at each of ``times``:
    ``(len(times), res, res)`` float32 nats, reporting progress between frames."""
    if not len(times):
        return np.zeros((0, resolution, resolution), dtype=np.float32)
    pts = box_grid(box, resolution)[0].to(device)
    spend = budget.current()
    frames = []
    for i, s in enumerate(times):
        spend.progress("ODE flow: log p_s on the grid, time", i, len(times))
        frames.append(finite_image(model.log_prob_at(pts, float(s)), resolution))
    return np.stack(frames)


@dataclass(frozen=True)
class _Frames:
    """Density frames as computed once: what they are of, what they cost, when."""

    key: tuple
    box: tuple[float, float, float, float]
    times: np.ndarray
    density: np.ndarray
    resolution: int
    step: int
    cost: float
    at: float


def _density_frames(
    model: Any,
    times: np.ndarray,
    box: tuple[float, float, float, float],
    resolution: int,
    device: torch.device,
    cache: dict | None,
    share: float | None,
) -> _Frames:
    """The frames of the latest weights from ``cache`` or computed afresh (and kept
    there); with ``share``, also the last frames of earlier weights of the same model and
    config while they are younger than their cost over ``share``."""
    key = (_fingerprint(model), box, resolution, tuple(times.tolist()))
    last = cache.get(_CACHE_KEY) if cache is not None else None
    if last is not None and last.key == key:
        return last
    now = time.perf_counter()
    step = int(model.steps_taken)
    if share is not None and last is not None and len(last.times):
        # the same config and box, and no later weights (a reset or a new model is not)
        same = last.key[0][1] == key[0][1] and last.box == box and last.step <= step
        if same and now - last.at < last.cost / share:
            return last
    density = _densities(model, times, box, resolution, device)
    density.setflags(write=False)
    cost = time.perf_counter() - now
    frames = _Frames(key, box, times, density, resolution, step, cost, now)
    if cache is not None:
        cache[_CACHE_KEY] = frames
    return frames


@torch.no_grad()
def ode_flow(
    model: Any,
    data_box: tuple[float, float, float, float],
    device: torch.device,
    seed: int,
    cache: dict | None = None,
    data: np.ndarray | None = None,
    particles: int = PARTICLES,
    lines: int = GRID_LINES,
    density_times: int = FIELD_TIMES,
    resolution: int = DENSITY_RESOLUTION,
    density_share: float | None = None,
) -> OdeFlow:
    """Move base draws and a base grid through a continuous-time flow and sample its
    field and its density at fixed times.

    Arguments:
        model: a model with the capability ``ode`` (``velocity``, ``ode_path``,
            ``log_prob_at``, ``base_sample``).
        data_box: the dataset's plotting box ``(xmin, xmax, ymin, ymax)``.
        device: the model's device.
        seed: the base draws' seed (fixed, so successive pictures differ by training only).
        cache: a dict kept by the caller: the density frames of the latest weights are
            kept there and reused while the weights, the config and the frames asked
            for stay the same.
        data: ``(m, 2)`` data points to overlay, or ``None``.
        particles: base draws moved.
        lines: grid lines per direction.
        density_times: density frames: ``FIELD_TIMES`` (every field time), else that many
            of them, evenly spread, 0 and 1 included (at least 2); none when the model
            lacks the capability ``density``.
        resolution: density grid points per side.
        density_share: reuse the cached frames of other weights (and their times and
            grid) until their cost over this share of the time has passed (a preview
            while training plays: :data:`DENSITY_SHARE`); ``None``: never.

    Returns:
        An :class:`OdeFlow`.

    References:
        Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018, theorem 1
        (the density at time s by the instantaneous change of variables).
    """
    spend = budget.current()
    g = torch.Generator(device=device).manual_seed(seed)
    z = model.base_sample(particles, g)
    span = base_span(model, seed + 1, device)
    grid0 = base_grid(span, lines, GRID_POINTS)
    start = torch.cat([z, grid0.reshape(-1, 2).to(z)], 0)
    spend.progress("ODE flow: particles and grid", 0, 1)
    path = model.ode_path(start, 0.0, 1.0, PATH_STEPS).float().cpu()
    nfe = int(model.last_nfe)
    k = PATH_STEPS + 1
    box = union_box(tuple(float(v) for v in data_box), span)

    field_times = np.linspace(0.0, 1.0, FIELD_TIMES).astype(np.float32)
    arrows, ax, ay = box_grid(box, ARROW_RESOLUTION)
    arrows = arrows.to(device)
    field = np.stack([model.velocity(arrows, float(s)).float().cpu().numpy() for s in field_times])

    j = max(2, min(density_times, FIELD_TIMES)) if "density" in model.capabilities else 0
    pick = np.unique(np.round(np.linspace(0, FIELD_TIMES - 1, j)).astype(np.int64))
    d_times = field_times[pick]
    frames = _density_frames(model, d_times, box, resolution, device, cache, density_share)
    _, xs, ys = box_grid(box, frames.resolution)
    return OdeFlow(
        times=np.linspace(0.0, 1.0, k).astype(np.float32),
        particles=np.ascontiguousarray(path[:, :particles].numpy()),
        grid=np.ascontiguousarray(path[:, particles:].reshape(k, *grid0.shape).numpy()),
        field_times=field_times,
        field=np.ascontiguousarray(field, dtype=np.float32),
        arrow_xs=ax.numpy(),
        arrow_ys=ay.numpy(),
        density_times=frames.times,
        density=frames.density,
        step=int(model.steps_taken),
        density_step=frames.step,
        xs=xs.numpy(),
        ys=ys.numpy(),
        box=box,
        data=data,
        nfe=nfe,
    )


def picture(ctx: SnapshotContext) -> OdeFlow:
    """The session's flow from the fixed base draws of ``seed + 11``: :data:`PARTICLES`
    particles, :data:`GRID_LINES` grid lines and :data:`FIELD_TIMES` density frames on a
    :data:`DENSITY_RESOLUTION` grid; a preview while training plays (see
    :mod:`~playground.core.sampling.budget`): :data:`QUICK_PARTICLES`,
    :data:`QUICK_GRID_LINES`, :data:`QUICK_DENSITY_TIMES` frames on a
    :data:`QUICK_DENSITY_RESOLUTION` grid, recomputed at most :data:`DENSITY_SHARE` of
    the time (else the last frames, of an earlier step)."""
    spend = budget.current()
    n = spend.particles(PARTICLES, QUICK_PARTICLES)
    lines, times, res = GRID_LINES, FIELD_TIMES, DENSITY_RESOLUTION
    if spend.quick:
        lines, times, res = QUICK_GRID_LINES, QUICK_DENSITY_TIMES, QUICK_DENSITY_RESOLUTION
    flow = ode_flow(
        ctx.model,
        ctx.data.box,
        ctx.device,
        ctx.seed + 11,
        ctx.target_cache,
        ctx.overlay_points(PARTICLES),
        particles=n,
        lines=lines,
        density_times=times,
        resolution=res,
        density_share=DENSITY_SHARE if spend.quick else None,
    )
    j, r = len(flow.density_times), len(flow.xs)
    notes = []
    if 0 < j < FIELD_TIMES or (j and r < DENSITY_RESOLUTION):
        notes.append(f"{j} of {FIELD_TIMES} density times on a {r} x {r} grid")
    if j and flow.density_step < flow.step:
        notes.append(f"density of step {flow.density_step:,}")
    for note in notes if spend.quick else ():  # the full budget is shared: no notes
        if note not in spend.notes:
            spend.notes.append(note)
    return flow
