"""The Langevin-chains view's snapshot: chain positions and trails over the target's picture,
with the MALA acceptance rate, the annealing level and the chains' weight per mode."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..chain_settings import CHAIN_SOURCES
from ..data.base import box_grid
from ..sampling.chains import ChainSettings, ChainTarget, LangevinChains
from ..sampling.langevin import score_from_log_prob
from ..sampling.targets import exact_target
from .base import SnapshotContext, finite_image

__all__ = [
    "Chains",
    "chains_snapshot",
    "chain_target",
    "chain_options",
    "model_target",
    "picture",
    "offered",
    "MODEL_BACKGROUND_RESOLUTION",
    "START_DATA_POINTS",
]

#: the model's picture is recomputed every frame: at most this many grid points per side
MODEL_BACKGROUND_RESOLUTION = 64
#: data points the ``data`` start draws from when the caller gives none
START_DATA_POINTS = 2000
#: a chain within this many mode standard deviations of a mode has visited it
#: (the high-quality radius of VEEGAN and PacGAN, as in :mod:`~playground.core.metrics.modes`)
VISIT_RADIUS = 3.0


@dataclass(frozen=True)
class Chains:
    """Langevin chains at one frame, over the picture of what they sample. Arrays are numpy.

    Attributes:
        positions: ``(n, 2)`` float32, the chains now (data units).
        trails: ``(L, n, 2)`` float32, the last ``L`` frames since the restart, oldest
            first, the last equal to ``positions``.
        acceptance_rate: MALA: the smoothed fraction of accepted proposals in ``[0, 1]``
            (see :class:`~playground.core.sampling.chains.LangevinChains`); else ``None``.
        steps: Langevin steps since the restart.
        sigma, level, levels: annealed Langevin: the noise level of the last step
            (data units), its index ``0..levels-1`` and the number of levels; else ``None``.
        background: ``(res, res)`` float32 picture of the target (``log p`` in nats, or
            ``-E`` for an EBM), row ``i`` at ``ys[i]``; ``-inf`` replaced by the finite
            minimum less ``ZERO_DENSITY_DROP`` (as the density view's); ``None`` where
            there is nothing to draw (a score model on a target with no exact density).
        xs, ys: ``(res,)`` float32 grid axes.
        background_label: what the picture shows and what the chains follow; notes a
            fallback when the chosen source or sampler is not available.
        normalized: ``background`` is a normalised log-density.
        chain_mode_weights: ``(k,)`` fraction of the finite chains nearest each of the
            dataset's known modes (sums to 1), or ``None`` (no modes).
        target_mode_weights: ``(k,)`` the target's weights (``data.mode_weights``, else
            uniform), or ``None``.
        settings: the settings that ran (after any fallback).
        options: :func:`~playground.core.sampling.chains.chain_options` of the session.
        non_finite_restarts: chains restarted for a non-finite position since the restart.
        modes_visited: modes with at least one chain within ``VISIT_RADIUS`` mode standard
            deviations, or ``None`` (no modes).
    """

    positions: np.ndarray
    trails: np.ndarray
    acceptance_rate: float | None
    steps: int
    sigma: float | None
    level: int | None
    levels: int | None
    background: np.ndarray | None
    xs: np.ndarray
    ys: np.ndarray
    background_label: str
    normalized: bool
    chain_mode_weights: np.ndarray | None
    target_mode_weights: np.ndarray | None
    settings: ChainSettings
    options: dict
    non_finite_restarts: int
    modes_visited: int | None = None


def _effective(
    settings: ChainSettings, options: dict[str, dict[str, tuple[str, ...]]]
) -> tuple[ChainSettings, list[str]]:
    """The settings with an unavailable source, sampler or start replaced by the first
    available one, and notes saying what was replaced."""
    notes = []
    source = settings.source
    if source not in options:
        source = next(iter(options))
        notes.append(f"{settings.source} source not available")
    sampler = settings.sampler
    if sampler not in options[source]["samplers"]:
        sampler = options[source]["samplers"][0]
        notes.append(f"{settings.sampler} not available")
    start = settings.start
    if start not in options[source]["starts"]:
        start = options[source]["starts"][0]
        notes.append(f"{settings.start} start not available")
    return dataclasses.replace(settings, source=source, sampler=sampler, start=start), notes


def _picture(fn: Any, box: tuple, resolution: int, device: torch.device) -> np.ndarray:
    pts, _, _ = box_grid(box, resolution)
    return finite_image(fn(pts.to(device)), resolution)


def _mode_weights(
    data: Any, positions: Tensor
) -> tuple[np.ndarray | None, np.ndarray | None, int | None]:
    modes = data.modes
    if modes is None:
        return None, None, None
    k = modes.shape[0]
    weights = getattr(data, "mode_weights", None)
    target = np.asarray(weights if weights is not None else [1.0 / k] * k, dtype=np.float64)
    target = target / target.sum()
    x = positions.detach().double().cpu()
    x = x[torch.isfinite(x).all(1)]
    if x.shape[0] == 0:
        return np.zeros(k), target, 0
    sq = (x[:, None, :] - modes.double()[None, :, :]).square().sum(-1)
    nearest_sq, nearest = sq.min(1)
    counts = torch.bincount(nearest, minlength=k).double()
    std = getattr(data, "mode_std", None)
    visited = None
    if std is not None:
        near = nearest_sq <= (VISIT_RADIUS * float(std)) ** 2
        visited = int((torch.bincount(nearest[near], minlength=k) > 0).sum())
    return (counts / x.shape[0]).numpy(), target, visited


def chains_snapshot(
    model: Any,
    data: Any,
    device: torch.device,
    state: LangevinChains,
    settings: ChainSettings,
    data_points: Tensor | None,
    cache: dict,
    resolution: int = 96,
) -> Chains:
    """Advance the chains one frame and picture them over their target.

    An unavailable source, sampler or start (a GUI choice that this model does not offer)
    falls back to the first available one, and ``background_label`` says so. The exact
    target's picture is computed once (kept in ``cache``); a model's picture changes with
    its weights, so it is recomputed every call at ``min(resolution,
    MODEL_BACKGROUND_RESOLUTION)`` points per side.

    Arguments:
        model: the session's model (on ``device``).
        data: the session's 2D density.
        device: the model's device; the chains live there.
        state: the chains, kept by the caller between frames.
        settings: what the user chose.
        data_points: ``(m, 2)`` points for the ``data`` start; ``None``: ``START_DATA_POINTS``
            drawn from the data once (seed 0) and kept in ``cache``.
        cache: a dict kept by the caller for the session (pictures, data points).
        resolution: grid points per side of the exact picture.

    Returns:
        A :class:`Chains`.

    Raises:
        ValueError: invalid settings, or no source at all is available for this model and
            dataset (``chain_options`` is empty: do not offer the view).
    """
    settings = settings.validated()
    options = chain_options(model, data)
    if not options:
        raise ValueError(f"no Langevin chains for {model.name} on {data.name}: no score or density")
    settings, notes = _effective(settings, options)
    target: ChainTarget = chain_target(model, data, settings.source)
    if data_points is None and getattr(data, "can_sample", False):
        key = ("chains_data", START_DATA_POINTS)
        if key not in cache:
            cache[key] = data.sample(START_DATA_POINTS, torch.Generator().manual_seed(0))
        data_points = cache[key]
    was_training = model.training
    model.eval()
    try:
        state.advance(target, settings, data_points, data.box, device=device)
        background, res, label, normalized = _background(
            model, data, device, target, settings, cache, resolution
        )
    finally:
        if was_training:
            model.train()
    _, xs, ys = box_grid(data.box, res)
    chain_w, target_w, visited = _mode_weights(data, state.x)
    if notes:
        label = f"{label}   ({'; '.join(notes)})"
    annealed = settings.sampler == "annealed"
    return Chains(
        positions=np.ascontiguousarray(state.x.detach().float().cpu().numpy()),
        trails=np.ascontiguousarray(state.trail(), dtype=np.float32),
        acceptance_rate=state.acceptance_rate if settings.sampler == "mala" else None,
        steps=state.steps,
        sigma=state.sigma if annealed else None,
        level=state.level if annealed else None,
        levels=len(target.sigmas) if annealed else None,
        background=background,
        xs=xs.numpy(),
        ys=ys.numpy(),
        background_label=label,
        normalized=normalized,
        chain_mode_weights=chain_w,
        target_mode_weights=target_w,
        settings=settings,
        options=options,
        non_finite_restarts=state.restarted_non_finite,
        modes_visited=visited,
    )


@torch.no_grad()
def _background(
    model: Any,
    data: Any,
    device: torch.device,
    target: ChainTarget,
    settings: ChainSettings,
    cache: dict,
    resolution: int,
) -> tuple[np.ndarray | None, int, str, bool]:
    """``(picture, its resolution, label, normalized)``."""
    if settings.source == "model" and target.picture is not None:
        res = min(resolution, MODEL_BACKGROUND_RESOLUTION)
        return _picture(target.picture, data.box, res, device), res, target.label, target.normalized
    exact = target
    label = target.label
    if settings.source == "model":  # a score model: draw the exact density where there is one
        try:
            exact = chain_target(model, data, "exact")
        except ValueError:
            return None, resolution, label, False
        label = f"{label}; background: exact log p(x)"
    key = ("chains_background", resolution)
    if key not in cache:
        cache[key] = _picture(exact.picture, data.box, resolution, torch.device("cpu"))
    return cache[key], resolution, label, exact.normalized


# ----------------------------------------------------------------------------- targets


def model_target(model: Any) -> ChainTarget:
    """What chains on the model sample, from its declared capabilities: an ``energy``
    (``log p = -E`` up to log Z; its ``score`` if it has one, else autograd), a
    ``density`` (score by autograd of ``log_prob``; MALA possible), or a ``score`` (no
    density; annealed Langevin over the levels of a conditional score such as an NCSN's,
    plain Langevin at the last, smallest level).

    Raises:
        ValueError: no model (``None``), a latent-variable model (its ``log p`` is an
            importance-sampled estimate), or a model with none of those capabilities (a GAN).
    """
    if model is None:
        raise ValueError("no model to sample: use the exact source")
    caps = model.capabilities
    if "latent" in caps:
        raise ValueError(
            f"{model.name} is a latent-variable model: its log p(x) is an estimate, not a "
            "density to run Langevin on; use the exact source"
        )
    if "energy" in caps:
        neg_energy = lambda x: -model.energy(x)  # noqa: E731
        score = model.score if "score" in caps else score_from_log_prob(neg_energy)
        return ChainTarget(score, neg_energy, None, None, neg_energy, False, "-E(x) (EBM)")
    if "density" in caps:
        return ChainTarget(
            score_from_log_prob(model.log_prob),
            model.log_prob,
            None,
            None,
            model.log_prob,
            True,
            f"model log p(x) ({model.family or model.name})",
        )
    if "score" in caps:
        spec = model.score_levels()
        # annealed Langevin runs over noise levels sigma of x + sigma eps (an NCSN's); a
        # DDPM's steps t scale the data too, so its chains follow s(x, t = 1) alone
        if spec is not None and spec.conditional and bool((spec.signal_scale == 1).all()):
            levels = spec.values.detach().float().cpu()
            last = spec.values[-1]
            return ChainTarget(
                lambda x: model.score(x, float(last)),
                None,
                lambda x, sigma: model.score(x, float(sigma)),
                levels,
                None,
                False,
                "model score s(x, sigma) (no density)",
            )
        label = f"model score ({model.family or model.name}, no density)"
        return ChainTarget(model.score, None, None, None, None, False, label)
    raise ValueError(
        f"{model.name} has no log p(x), energy or score: Langevin chains cannot run on it"
    )


def chain_target(model: Any, data: Any, source: str) -> ChainTarget:
    """The target of the chains for a source.

    ``exact``: a 2D density with ``has_log_prob`` (see
    :func:`~playground.core.sampling.targets.exact_target`: closed-form scores for the
    Gaussian mixtures and 2D Gaussians, with their exact noised scores for annealed
    Langevin; the checkerboard blurred by ``CHECKERBOARD_SMOOTHING``; autograd of
    ``data.log_prob`` otherwise). ``model``: :func:`model_target`.

    Arguments:
        model: the session's model (its functions run on its device).
        data: the session's dataset.
        source: one of :data:`~playground.core.chain_settings.CHAIN_SOURCES`.

    Returns:
        A :class:`~playground.core.sampling.targets.ChainTarget`.

    Raises:
        ValueError: an unknown source, data that is not a 2D density, or the source is not
            available (the message says why).
    """
    if data.is_image or data.dim != 2:
        raise ValueError(f"Langevin chains run on 2D densities; {data.name} is not one")
    if source == "exact":
        return exact_target(data)
    if source == "model":
        return model_target(model)
    raise ValueError(f"unknown chain source {source!r}; valid: {', '.join(CHAIN_SOURCES)}")


def chain_options(model: Any, data: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    """The sources available for this model and dataset, with their samplers and starts.

    ``mala`` is offered where the target has a log-density, ``annealed`` where it has a
    noised score; the ``data`` start where the dataset can be sampled; ``uniform`` (on the
    box) and ``prior`` (``N(0, I)``, or ``N(0, sigma_1^2 I)`` for annealed Langevin) always.

    Returns:
        ``{source: {"samplers": (...), "starts": (...)}}`` in ``CHAIN_SOURCES`` order;
        empty when no source is available (a GAN on a density without an exact log p).
    """
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    if data.is_image:
        return out
    starts = ("uniform", "prior") + (("data",) if data.can_sample else ())
    for source in CHAIN_SOURCES:
        try:
            t = chain_target(model, data, source)
        except ValueError:
            continue
        samplers = ("langevin",) + (("mala",) if t.log_prob is not None else ())
        if t.noised_score is not None and t.sigmas is not None:
            samplers += ("annealed",)
        out[source] = {"samplers": samplers, "starts": starts}
    return out


def picture(ctx: SnapshotContext) -> Chains:
    """Advance the session's chains one frame (see :func:`chains_snapshot`)."""
    return chains_snapshot(
        ctx.model, ctx.data, ctx.device, ctx.chains, ctx.chain_settings, None, ctx.chain_cache
    )


def offered(ctx: SnapshotContext) -> bool:
    """Models that are a chain source of their own (a density, an energy or a score); the
    exact target is then a second source in the view."""
    return "model" in ctx.chain_options
