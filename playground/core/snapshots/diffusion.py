"""Snapshot pictures of diffusion models: particles through the forward and the learned
reverse process with the noised density under them (2D), and the reverse process of an
image model as a strip of ``x_t`` (images)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..data.base import box_grid
from ..data.mixtures import mixture_parts
from ..data.quadrature import gaussian_mixture_log_prob
from .base import SnapshotContext, finite_image

__all__ = [
    "DiffusionProcess",
    "ReverseStrip",
    "diffusion_process",
    "reverse_strip",
    "density_steps",
    "noised_densities",
    "guidance_text",
    "picture",
    "reverse_strip_picture",
    "PROCESS_PARTICLES",
    "NCSN_PROCESS_PARTICLES",
    "PROCESS_RESOLUTION",
]

#: particles of the diffusion-process view (an NCSN's annealed Langevin costs L x n steps
#: per particle, so it gets fewer)
PROCESS_PARTICLES, NCSN_PROCESS_PARTICLES = 400, 150
#: grid side of its noised densities: 11 of them are computed when the view first shows
#: (~0.2 s for a Monte-Carlo estimate on moons), so a preset opens on it at once
PROCESS_RESOLUTION = 48

#: noised densities per snapshot: evenly spaced steps, 0 and K included
DENSITY_STEPS = 11
#: data points of the Monte-Carlo estimate of a noised density (1,000: the 11 densities of
#: moons at 48 x 48 cost ~0.1 s), and their seed
MC_POINTS = 1000
MC_SEED = 7
#: rows of a guided model's strip: one per class, at most this many
MAX_CLASS_ROWS = 10


@dataclass(frozen=True)
class DiffusionProcess:
    """Particles through the forward process and the learned reverse process, indexed by
    the same noise level, with the noised data density ``pi(x | k)`` under them.

    Step ``k = 0..K`` is a noise level: DDPM's ``t = k`` (``K = T``); an NCSN's levels in
    increasing order (``K = L``; ``k = 1`` is ``sigma_L``, the smallest, and ``k = L`` is
    ``sigma_1``, the largest). Both arrays are stored in this forward order.

    Attributes:
        forward: ``(K + 1, n, 2)`` float32: data points pushed through the forward
            process; index 0 is the data itself, index ``k`` is ``x_k ~ q(x_k | x_0)``.
        reverse: ``(K + 1, n, 2)`` float32: the learned reverse process, index ``k`` at
            the same noise level as ``forward[k]``. It runs from index ``K`` (the start
            noise ``x_T ~ N(0, I)``; for an NCSN the chains at the end of level
            ``sigma_1``) down to index 0 (the generated ``x_0``; for an NCSN the
            Tweedie-denoised last state ``x + sigma_L^2 s(x, sigma_L)``).
        labels: ``K + 1`` names of the steps: ``data...`` at 0, then ``t = 37`` (DDPM)
            or ``sigma_3 = 1.25`` (NCSN, the model's own numbering: ``sigma_1`` largest).
            Label 0 says when the density at step 0 is a smoothed estimate.
        noise_std: ``(K + 1,)`` float64, the std of the noise in ``x_k`` given ``x_0``,
            data units: ``sqrt(1 - abar_t)`` (DDPM), ``sigma`` (NCSN); 0 at ``k = 0``.
        signal_scale: ``(K + 1,)`` float64, the factor on ``x_0`` in ``x_k``:
            ``sqrt(abar_t)`` (DDPM), 1 (NCSN).
        densities: ``(m, res, res)`` float32 ``log pi(x | k)`` in nats at the steps
            ``density_steps``; row ``i`` at ``ys[i]``, column ``j`` at ``xs[j]``; finite
            (see :func:`~.snapshot.finite_image`).
        density_steps: ``(m,)`` int64, the ``k`` of each density, increasing, 0 and ``K``
            included.
        density_exact: the densities are exact (a Gaussian mixture, noised in closed
            form); False: Monte-Carlo estimates from :data:`MC_POINTS` data points.
        xs, ys: ``(res,)`` float32 grid axes over the data box.
        data: ``(m, 2)`` float32 data points to overlay, or ``None``.
        kind: ``ddpm`` or ``ncsn``.
    """

    forward: np.ndarray
    reverse: np.ndarray
    labels: tuple[str, ...]
    noise_std: np.ndarray
    signal_scale: np.ndarray
    densities: np.ndarray
    density_steps: np.ndarray
    density_exact: bool
    xs: np.ndarray
    ys: np.ndarray
    data: np.ndarray | None
    kind: str


@dataclass(frozen=True)
class ReverseStrip:
    """An image model's reverse process: rows of ``x_t`` from noise (left) to sample.

    Attributes:
        images: ``(rows, cols, h, w)`` float32 in ``[0, 1]``: column ``j`` is
            ``x_{timesteps[j]}`` mapped to data space (``(x + 1) / 2``) and clipped.
        timesteps: ``cols`` values of ``t``, decreasing from ``T`` to 0.
        row_labels: ``y = 3`` per row for a guided model (each row guided to its class),
            else ``None``.
        caption: what the rows and columns mean.
    """

    images: np.ndarray
    timesteps: tuple[int, ...]
    row_labels: tuple[str, ...] | None
    caption: str


def density_steps(K: int, count: int = DENSITY_STEPS) -> np.ndarray:
    """About ``count`` evenly spaced steps of ``0..K``, 0 and ``K`` included: ``(m,)``."""
    return np.unique(np.round(np.linspace(0, K, min(count, K + 1))).astype(np.int64))


def noised_densities(
    data: Any,
    noise_std: np.ndarray,
    signal_scale: np.ndarray,
    steps: np.ndarray,
    resolution: int,
    fallback: Tensor,
) -> tuple[np.ndarray, bool, str]:
    """``log pi(x | k)`` of ``x_k = s_k x_0 + std_k eps`` on a grid over ``data.box``.

    A Gaussian mixture ``sum_c w_c N(mu_c, std^2 I)`` is noised in closed form (Ho et al.
    2020, eq. 4 applied to each component): ``sum_c w_c N(s mu_c, (s^2 std^2 + std_k^2) I)``.
    Other data get the Monte-Carlo estimate ``mean_i N(x; s_k x0_i, std_k^2 I)`` over
    :data:`MC_POINTS` points drawn with a fixed seed (``fallback`` when the data cannot
    be sampled); at ``k = 0`` the exact ``data.log_prob`` where it exists, else the
    estimate with the smallest positive std as the kernel width.

    Arguments:
        data: a 2D density (its box, sampler, log-density, mixture parameters).
        noise_std, signal_scale: ``(K + 1,)`` per step, data units and dimensionless.
        steps: ``(m,)`` the steps to evaluate.
        resolution: grid points per side.
        fallback: ``(n, 2)`` data points for the estimate when the data has no sampler.

    Returns:
        ``(densities (m, res, res) float32 nats, exact, note)``: ``note`` names the
        kernel width of a smoothed ``k = 0`` (else empty).
    """
    pts = box_grid(data.box, resolution)[0].double()
    mixture = mixture_parts(data)
    x0 = None
    if mixture is None:
        g = torch.Generator().manual_seed(MC_SEED)
        x0 = data.sample(MC_POINTS, g) if data.can_sample else fallback.detach().cpu()
        x0 = x0.double()
        log_w = torch.full((len(x0),), -math.log(len(x0)), dtype=torch.float64)
    positive = noise_std[noise_std > 0]
    kernel = float(positive.min()) if len(positive) else 1e-2
    out, note = [], ""
    for k in steps:
        s, std = float(signal_scale[k]), float(noise_std[k])
        if mixture is not None:
            means, weights, mode_std = mixture
            means, log_wc = means.double(), weights.log()
            width = math.sqrt((s * mode_std) ** 2 + std**2)
            out.append(
                finite_image(gaussian_mixture_log_prob(pts, s * means, log_wc, width), resolution)
            )
        elif std == 0.0 and data.has_log_prob:
            out.append(finite_image(data.log_prob(pts), resolution))
        else:
            if std == 0.0:
                std, note = kernel, f"density smoothed, std {kernel:.2g}"
            out.append(finite_image(gaussian_mixture_log_prob(pts, s * x0, log_w, std), resolution))
    return np.stack(out), mixture is not None, note


@torch.no_grad()
def diffusion_process(
    model: Any,
    data: Any,
    device: torch.device,
    data_points: Tensor,
    cache: dict,
    particles: int = 400,
    seed: int = 0,
    resolution: int = 64,
) -> DiffusionProcess:
    """Push particles through the forward and the learned reverse process of a 2D model.

    The paths are the model's :meth:`~playground.core.models.base.GenerativeModel.process_paths`
    (a DDPM's forward chain and ancestral sampling; an NCSN's variance-exploding chain and
    annealed Langevin), stored in forward order (index ``k`` holds ``x_k``). The noised
    densities (:func:`noised_densities`) depend only on the data and the schedule,
    so they are computed once and kept in ``cache``. Fixed generators from ``seed`` make
    successive snapshots differ only by training.

    Arguments:
        model: a model with a :meth:`~playground.core.models.base.GenerativeModel.noise_process`
            (a DDPM or an NCSN) on a 2D density.
        data: that density.
        device: the model's device.
        data_points: ``(m, 2)`` data points; the first ``particles`` start the forward
            process, and all are overlaid.
        cache: a dict kept by the caller (the session's target cache).
        particles: particles per process (fewer when ``data_points`` has fewer).
        seed: seeds the forward noise (``seed``) and the reverse process (``seed + 1``).
        resolution: grid points per side of the densities.

    Returns:
        A :class:`DiffusionProcess`.

    Raises:
        TypeError: the model has no noise process.
    """
    process = model.noise_process()
    if process is None:
        raise TypeError(f"the diffusion view draws a DDPM or an NCSN, not {model.name}")
    kind, std, scale, key = process.kind, process.noise_std, process.signal_scale, process.key
    labels = list(process.labels)
    K = len(std) - 1
    steps = density_steps(K)
    cache_key = ("diffusion", data.name, tuple(data.box), resolution, key)
    if cache_key not in cache:
        densities, exact, note = noised_densities(data, std, scale, steps, resolution, data_points)
        densities.setflags(write=False)
        cache[cache_key] = (densities, exact, note)
    densities, exact, note = cache[cache_key]
    labels[0] = f"data ({note})" if note else "data"

    n = min(particles, len(data_points))
    x0 = data_points[:n].to(device=device, dtype=torch.float32)
    forward, reverse = model.process_paths(
        x0,
        torch.Generator(device=device).manual_seed(seed),
        torch.Generator(device=device).manual_seed(seed + 1),
        torch.Generator(device=device).manual_seed(seed + 2),
    )
    xs, ys = box_grid(data.box, resolution)[1:]
    return DiffusionProcess(
        forward=np.ascontiguousarray(forward.float().cpu().numpy()),
        reverse=np.ascontiguousarray(np.nan_to_num(reverse.float().cpu().numpy())),
        labels=tuple(labels),
        noise_std=std,
        signal_scale=scale,
        densities=densities,
        density_steps=steps,
        density_exact=exact,
        xs=xs.numpy(),
        ys=ys.numpy(),
        data=np.asarray(data_points.detach().cpu(), dtype=np.float32),
        kind=kind,
    )


@torch.no_grad()
def reverse_strip(
    model: Any, seed: int, device: torch.device, rows: int = 6, cols: int = 10
) -> ReverseStrip:
    """Ancestral sampling (Ho et al. 2020, algorithm 2) of an image DDPM, ``x_t`` at
    ``cols`` evenly spaced ``t`` from ``T`` to 0.

    Arguments:
        model: a :class:`DDPM` on images.
        seed: the noise's seed (fixed, so the strip evolves only with training).
        device: the model's device.
        rows: rows of an unguided model; a guided one gets one row per class (at most
            :data:`MAX_CLASS_ROWS`), each guided to its class.
        cols: columns; fewer when ``T + 1 < cols``.

    Returns:
        A :class:`ReverseStrip`.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    labels, y = None, None
    if model.needs_labels:
        rows = min(model.n_classes, MAX_CLASS_ROWS)
        y = torch.arange(rows, device=device)
        labels = tuple(f"y = {i}" for i in range(rows))
    path = model.reverse_process(rows, g, y)  # index j: x_{T - j}
    T = model.T
    ts = np.unique(np.round(np.linspace(0, T, min(cols, T + 1))).astype(np.int64))[::-1]
    x = model.from_diffusion(path[T - torch.as_tensor(ts.copy(), device=path.device)])
    x = x.float().cpu().clamp(0, 1).reshape(len(ts), rows, *x.shape[-2:]).transpose(0, 1)
    caption = f"reverse process: x_t from t = {T} (noise, left) to t = 0 (sample, right)"
    if labels is not None:
        caption += f"; rows: guided to class y ({guidance_text(model)})"
    return ReverseStrip(
        images=np.ascontiguousarray(x.numpy()),
        timesteps=tuple(int(t) for t in ts),
        row_labels=labels,
        caption=caption,
    )


def guidance_text(model: Any) -> str:
    """``classifier-free guidance, w = 1`` or ``classifier guidance, s = 3``."""
    cfg = model.config
    name = "w" if cfg.guidance == "classifier-free" else "s"
    return f"{cfg.guidance} guidance, {name} = {cfg.guidance_scale:g}"


def picture(ctx: SnapshotContext) -> DiffusionProcess:
    """The session's forward and reverse processes from its overlay's data points."""
    ncsn = ctx.model.noise_process().kind == "ncsn"
    return diffusion_process(
        ctx.model,
        ctx.data,
        ctx.device,
        ctx.overlay,
        ctx.target_cache,
        particles=NCSN_PROCESS_PARTICLES if ncsn else PROCESS_PARTICLES,
        seed=ctx.seed + 9,
        resolution=PROCESS_RESOLUTION,
    )


def reverse_strip_picture(ctx: SnapshotContext) -> ReverseStrip:
    """The reverse process of the session's image DDPM from the noise of ``seed + 4``."""
    return reverse_strip(ctx.model, ctx.seed + 4, ctx.device)
