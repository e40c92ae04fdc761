"""The score-field view's snapshot: the model's score ``s(x, sigma)`` on a grid, per noise
level, beside the target's exact (noised) score where the data has an exact density."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..data.base import Density2D, box_grid
from ..data.mixtures import mixture_parts, mixture_score
from ..sampling.langevin import score_from_log_prob
from .base import SnapshotContext

__all__ = [
    "ScoreField",
    "score_field",
    "picture",
    "SCORE_FIELD_POINTS",
]

#: data points drawn under the arrows (from the session's overlay, or drawn when none is given)
SCORE_FIELD_POINTS = 300
DATA_POINTS = 300


@dataclass(frozen=True)
class ScoreField:
    """Score arrows on a regular grid over the data box, one field per noise level.

    Attributes:
        xs, ys: ``(res,)`` float32 grid axes; point ``[i, j]`` is ``(xs[j], ys[i])``.
        model: ``(L, res, res, 2)`` float32, the model's score at each of ``L`` noise
            levels (``L = 1`` for a model without sigma), ``1 / data`` units.
        true: ``(L, res, res, 2)`` float32 exact score of the target, or ``None`` (no exact
            density). For a Gaussian mixture it is the score of the noised density
            ``p_sigma = p * N(0, sigma^2 I)`` at each level; otherwise the unnoised score
            ``grad log p`` repeated over the levels.
        true_is_noised: ``true`` is the score of ``p_sigma`` at every level (always so
            where every level has ``sigma = 0``); False: it is the clean data's score,
            a stand-in at levels with ``sigma > 0``.
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


def _true_scores(
    data: Density2D, pts: Tensor, levels: list[float], scales: list[float] | None = None
) -> tuple[np.ndarray | None, bool]:
    """``(L, n, 2)`` exact target scores at ``levels`` and whether they are noised: the
    score of ``a x + sigma eps``, ``x`` from the data, ``a = scales[i]`` (1 if ``None``;
    a DDPM's ``sqrt(abar_t)``) and ``sigma = levels[i]``."""
    if not data.has_log_prob:
        return None, False
    scales = scales if scales is not None else [1.0] * len(levels)
    parts = mixture_parts(data)
    if parts is not None:
        means, weights, std = parts
        out = [
            mixture_score(pts, a * means, weights, a * std, s)
            for s, a in zip(levels, scales, strict=True)
        ]
        return torch.stack(out).float().numpy(), True
    try:
        clean = score_from_log_prob(data.log_prob)(pts.to(torch.float64)).float().numpy()
    except RuntimeError:  # a log-density autograd cannot differentiate
        return None, False
    clean = np.nan_to_num(clean, nan=0.0, posinf=0.0, neginf=0.0)
    return np.repeat(clean[None], len(levels), axis=0), all(s == 0.0 for s in levels)


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
            (an NCSN's sigmas; a DDPM's steps t, beside the exact score of the diffused
            target ``sqrt(abar_t) x + sqrt(1 - abar_t) eps`` where it is a Gaussian
            mixture; a denoising score model's one sigma).
        data: the target; its box, and its exact score where it has a log-density.
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
        true, noised = target_cache[key]
    else:
        true, noised = _true_scores(data, pts, levels, scales)
        if true is not None:
            true = true.reshape(len(levels), resolution, resolution, 2)
        if target_cache is not None:
            target_cache[key] = (true, noised)
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
