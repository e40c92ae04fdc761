"""The score-field view's snapshot: the model's score ``s(x, sigma)`` on a grid, per noise
level, beside the target's score noised to the same level: exact for a Gaussian mixture,
else a Monte-Carlo estimate from data samples."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..data.base import Density2D, box_grid
from ..data.mixtures import mixture_parts, mixture_score
from ..sampling.langevin import score_from_log_prob
from .base import SnapshotContext
from .diffusion import MC_POINTS, MC_SEED

__all__ = [
    "ScoreField",
    "score_field",
    "picture",
    "SCORE_FIELD_POINTS",
    "EXACT",
    "MONTE_CARLO",
    "CLEAN",
]

#: data points drawn under the arrows (from the session's overlay, or drawn when none is given)
SCORE_FIELD_POINTS = 300
DATA_POINTS = 300
#: how the target's field was computed at a level (``ScoreField.true_method``): in closed
#: form, by the Monte-Carlo estimate, or the clean data's score as a stand-in
EXACT = "exact"
MONTE_CARLO = f"Monte-Carlo estimate from {MC_POINTS} data points"
CLEAN = "clean data score"
#: the Monte-Carlo estimate is a sum of spikes below this many times the samples' median
#: nearest-neighbour distance: there a density's clean score stands in (the noise is then
#: small against the data's own spread, so the two scores nearly agree)
MC_RESOLUTION = 2.0


@dataclass(frozen=True)
class ScoreField:
    """Score arrows on a regular grid over the data box, one field per noise level.

    Attributes:
        xs, ys: ``(res,)`` float32 grid axes; point ``[i, j]`` is ``(xs[j], ys[i])``.
        model: ``(L, res, res, 2)`` float32, the model's score at each of ``L`` noise
            levels (``L = 1`` for a model without sigma), ``1 / data`` units.
        true: ``(L, res, res, 2)`` float32 score of the target noised to each level, or
            ``None`` (neither an exact density nor a sampler). The noised target is the
            law of ``a x_0 + sigma eps`` (a DDPM: ``a = sqrt(abar_t)``,
            ``sigma = sqrt(1 - abar_t)``; an NCSN: ``a = 1``):
            ``q(x) = int N(x; a x_0, sigma^2 I) p(x_0) dx_0``. Exact for a Gaussian
            mixture (means ``a mu_k``, covariances ``a^2 S_k + sigma^2 I``); for other
            data that can be sampled, the score of ``mean_i N(x; a x_i, sigma^2 I)`` over
            :data:`MC_POINTS` samples ``x_i`` (the noised empirical distribution, a
            Monte-Carlo estimate of ``q``); at ``sigma = 0``, and where ``sigma`` is below
            the estimate's resolution (:data:`MC_RESOLUTION`) for data with a density, the
            exact clean ``grad log p``.
        true_is_noised: ``true`` is the score of the noised target at every level (always
            so where every level has ``sigma = 0``); False: at some level with
            ``sigma > 0`` it is the clean data's score, a stand-in.
        sigmas: ``(L,)`` float32 noise levels (NCSN: decreasing), or ``None`` for a model
            without noise (implicit / sliced score matching, an EBM).
        data: ``(m, 2)`` float32 data points to draw under the arrows, or ``None``.
        level_labels: ``L`` names of the levels where they are not plain sigmas (a DDPM:
            ``"t = 37"``, with ``sigmas`` its noise std ``sqrt(1 - abar_t)``), or ``None``.
    """

    xs: np.ndarray
    ys: np.ndarray
    model: np.ndarray
    true: np.ndarray | None
    true_is_noised: bool
    sigmas: np.ndarray | None
    data: np.ndarray | None
    level_labels: tuple[str, ...] | None = None
    #: per level, how ``true`` was computed: :data:`EXACT`, :data:`MONTE_CARLO` or
    #: :data:`CLEAN` (the clean score standing in at ``sigma > 0``); empty without ``true``
    true_method: tuple[str, ...] = ()


def _clean_score(data: Density2D, pts: Tensor) -> np.ndarray | None:
    """``(n, 2)`` exact ``grad log p`` by autograd, or ``None`` (no differentiable density)."""
    if not data.has_log_prob:
        return None
    try:
        clean = score_from_log_prob(data.log_prob)(pts.to(torch.float64)).float().numpy()
    except RuntimeError:  # a log-density autograd cannot differentiate
        return None
    return np.nan_to_num(clean, nan=0.0, posinf=0.0, neginf=0.0)


def _true_scores(
    data: Density2D, pts: Tensor, levels: list[float], scales: list[float] | None = None
) -> tuple[np.ndarray | None, bool, tuple[str, ...]]:
    """``(L, n, 2)`` target scores at ``levels``, whether every one is noised, and how each
    was computed (:data:`EXACT`, :data:`MONTE_CARLO`, :data:`CLEAN`): the score of
    ``a x + sigma eps``, ``x`` from the data, ``a = scales[i]`` (1 if ``None``; a DDPM's
    ``sqrt(abar_t)``) and ``sigma = levels[i]`` (see :class:`ScoreField`)."""
    scales = scales if scales is not None else [1.0] * len(levels)
    parts = mixture_parts(data)
    if parts is not None:
        means, weights, std = parts
        out = [
            mixture_score(pts, a * means, weights, a * std, s)
            for s, a in zip(levels, scales, strict=True)
        ]
        return torch.stack(out).float().numpy(), True, (EXACT,) * len(levels)
    clean = _clean_score(data, pts)
    if not (any(s > 0.0 for s in levels) and data.can_sample):
        if clean is None:
            return None, False, ()
        methods = tuple(EXACT if s == 0.0 else CLEAN for s in levels)
        return np.repeat(clean[None], len(levels), axis=0), CLEAN not in methods, methods
    # the noised empirical distribution mean_i N(a x_i, sigma^2 I) is a mixture of equal
    # isotropic Gaussians: its score is mixture_score's with mode std 0
    x0 = data.sample(MC_POINTS, torch.Generator().manual_seed(MC_SEED)).double()
    weights = torch.full((len(x0),), 1.0 / len(x0), dtype=torch.float64)
    spacing = float(torch.cdist(x0, x0).fill_diagonal_(math.inf).min(1).values.median())
    narrowest = min(v for v in levels if v > 0.0)
    out, methods = [], []
    for s, a in zip(levels, scales, strict=True):
        if clean is not None and s < MC_RESOLUTION * a * spacing:
            out.append(clean)
            methods.append(EXACT if s == 0.0 else CLEAN)
        else:  # sigma = 0 without a density: the narrowest positive level's kernel
            width = s if s > 0.0 else narrowest
            out.append(mixture_score(pts, a * x0, weights, 0.0, width).float().numpy())
            methods.append(MONTE_CARLO)
    return np.stack(out).astype(np.float32), CLEAN not in methods, tuple(methods)


@torch.no_grad()
def score_field(
    model: torch.nn.Module,
    data: Density2D,
    device: torch.device,
    resolution: int = 21,
    overlay: np.ndarray | None = None,
    target_cache: dict | None = None,
) -> ScoreField:
    """Evaluate the model's score (and the target's) on a ``resolution``-squared grid.

    Arguments:
        model: a model with the ``score`` capability: ``score(x)``, or ``score(x, v)``
            at the levels of its :meth:`~playground.core.models.base.GenerativeModel.score_levels`
            (an NCSN's sigmas; a DDPM's steps t, beside the score of the diffused
            target ``sqrt(abar_t) x + sqrt(1 - abar_t) eps``; a denoising score model's
            one sigma).
        data: the target; its box, and its noised score (see :class:`ScoreField`).
        device: the model's device.
        resolution: grid points per side.
        overlay: data points to draw under the arrows; ``None``: ``DATA_POINTS`` drawn
            from the data with a fixed seed (none for a target without a sampler).
        target_cache: a dict kept by the caller so the target's field is computed once.
    """
    pts, xs, ys = box_grid(data.box, resolution)
    x = pts.to(device)
    n = x.shape[0]
    spec = model.score_levels()
    sigmas = scales = labels = None
    if spec is None:  # a score at sigma 0
        out = model.score(x)[None]
    else:
        sigmas = spec.noise_std.detach().float().cpu().numpy()
        scale = spec.signal_scale.detach().double().cpu()
        scales = None if bool((scale == 1.0).all()) else scale.tolist()
        labels = tuple(spec.labels) if scales is not None else None
        if spec.conditional:  # one batched pass: every grid point at every level
            v = spec.values.to(device).repeat_interleave(n)
            out = model.score(x.repeat(len(sigmas), 1), v).reshape(len(sigmas), n, 2)
        else:  # one level (a denoising score model's sigma): score(x)
            out = model.score(x)[None]
    levels = [0.0] if sigmas is None else [float(v) for v in sigmas]
    key = ("score_field", resolution, tuple(levels), None if scales is None else tuple(scales))
    if target_cache is not None and key in target_cache:
        true, noised, method = target_cache[key]
    else:
        true, noised, method = _true_scores(data, pts, levels, scales)
        if true is not None:
            true = true.reshape(len(levels), resolution, resolution, 2)
        if target_cache is not None:
            target_cache[key] = (true, noised, method)
    if overlay is None and data.can_sample:
        overlay = data.sample(DATA_POINTS, torch.Generator().manual_seed(0)).numpy()
    model_field = out.detach().float().cpu().reshape(len(levels), resolution, resolution, 2)
    return ScoreField(
        xs=xs.numpy(),
        ys=ys.numpy(),
        model=np.nan_to_num(model_field.numpy()),
        true=true,
        true_is_noised=bool(noised),
        sigmas=None if sigmas is None else np.asarray(sigmas, dtype=np.float32),
        data=None if overlay is None else np.asarray(overlay, dtype=np.float32),
        level_labels=labels,
        true_method=method,
    )


def picture(ctx: SnapshotContext) -> ScoreField:
    """The session's score field over :data:`SCORE_FIELD_POINTS` data points."""
    return score_field(
        ctx.model,
        ctx.data,
        ctx.device,
        overlay=ctx.overlay_points(SCORE_FIELD_POINTS),
        target_cache=ctx.target_cache,
    )
