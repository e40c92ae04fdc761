"""The score-field view's snapshot: the model's score ``s(x, sigma)`` on a grid, per noise
level, beside the target's exact (noised) score where the data has an exact density."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..data.base import Density2D, box_grid
from ..sampling import geometric_sigmas
from ..sampling.langevin import score_from_log_prob

__all__ = [
    "ScoreField",
    "score_field",
    "score_levels",
    "mixture_score",
    "ddpm_field_steps",
    "mixture_parts",
]

#: data points drawn under the arrows when the caller gives none
DATA_POINTS = 300
#: a DDPM's score field is drawn at this many steps, evenly spaced from T down to 1
DDPM_FIELD_STEPS = 10


def ddpm_field_steps(T: int, count: int = DDPM_FIELD_STEPS) -> list[int]:
    """The diffusion steps a DDPM's score field shows: ``count`` (or ``T``, if fewer)
    distinct steps from ``T`` down to ``1`` (most noise first, as NCSN's levels)."""
    steps = np.unique(np.round(np.linspace(1, T, min(count, T))).astype(int))
    return [int(t) for t in steps[::-1]]


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


def score_levels(model: torch.nn.Module) -> tuple[np.ndarray | None, bool]:
    """The noise levels a model's score is defined at, and whether ``score`` takes sigma.

    Returns:
        ``(sigmas, conditional)``: an NCSN's geometric sigmas (``model.sigmas``, else from
        its config) and True; a denoising ScoreModel's one config ``sigma`` and False;
        else ``(None, False)`` (sigma 0).
    """
    cfg = getattr(model, "config", None)
    sigmas = getattr(model, "sigmas", None)
    if torch.is_tensor(sigmas):
        return sigmas.detach().float().cpu().numpy(), True
    if cfg is not None and all(hasattr(cfg, k) for k in ("sigma_max", "sigma_min", "levels")):
        sigmas = geometric_sigmas(cfg.sigma_max, cfg.sigma_min, cfg.levels)
        return sigmas.float().numpy(), True
    if cfg is not None and getattr(cfg, "objective", None) == "denoising":
        return np.array([float(cfg.sigma)], dtype=np.float32), False
    return None, False


def mixture_score(
    x: Tensor, means: Tensor, weights: Tensor, std: float, sigma: float = 0.0
) -> Tensor:
    """``grad log sum_k w_k N(x; mu_k, (std^2 + sigma^2) I)`` in float64: ``(n, 2)``.

    The score of an isotropic Gaussian mixture convolved with ``N(0, sigma^2 I)``:
    ``sum_k r_k(x) (mu_k - x) / s^2`` with ``s^2 = std^2 + sigma^2`` and ``r_k`` the
    posterior responsibilities.
    """
    x = x.to(torch.float64)
    mu = means.to(torch.float64)
    var = float(std) ** 2 + float(sigma) ** 2
    diff = mu[None, :, :] - x[:, None, :]  # (n, k, 2)
    logits = weights.to(torch.float64).log()[None, :] - 0.5 * diff.square().sum(-1) / var
    r = torch.softmax(logits, dim=1)
    return (r[:, :, None] * diff).sum(1) / var


def mixture_parts(data: Density2D) -> tuple[Tensor, Tensor, float] | None:
    """``(means (k, 2), weights (k,) float64 summing to 1, std)`` of an isotropic Gaussian
    mixture (``data.means``, ``data.mode_std``, ``data.mode_weights`` or equal weights);
    ``None`` for any other dataset."""
    means = getattr(data, "means", None)
    std = getattr(data, "mode_std", None)
    if not torch.is_tensor(means) or std is None:
        return None
    k = means.shape[0]
    w = getattr(data, "mode_weights", None)
    weights = torch.tensor(w if w is not None else [1.0 / k] * k, dtype=torch.float64)
    return means, weights / weights.sum(), float(std)


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
        model: has ``score(x)``, or ``score(x, sigma)`` with noise levels (NCSN: its
            ``sigmas``; a denoising ScoreModel: its config ``sigma``; else sigma 0), or is
            a DDPM (a ``schedule``): ``score(x, t)`` at :func:`ddpm_field_steps`, beside
            the exact score of the diffused target where it is a Gaussian mixture.
        data: the target; its box, and its exact score where it has a log-density.
        device: the model's device.
        resolution: grid points per side.
        overlay: data points to draw under the arrows; ``None``: ``DATA_POINTS`` drawn
            from the data with a fixed seed (none for a target without a sampler).
        target_cache: a dict kept by the caller so the target's field is computed once.
    """
    pts, xs, ys = box_grid(data.box, resolution)
    sigmas, conditional = score_levels(model)
    x = pts.to(device)
    n = x.shape[0]
    scales, labels = None, None
    schedule = getattr(model, "schedule", None)
    if schedule is not None:  # a DDPM: s_theta(x_t, t) at a few steps t
        steps = ddpm_field_steps(int(schedule.T))
        abar = schedule.alpha_bars[torch.tensor(steps) - 1].double()
        sigmas = (1.0 - abar).sqrt().float().numpy()
        scales = abar.sqrt().tolist()
        labels = tuple(f"t = {t}" for t in steps)
        t = torch.tensor(steps, device=device).repeat_interleave(n)
        out = model.score(x.repeat(len(steps), 1), t).reshape(len(steps), n, 2)
    elif conditional:
        # one batched pass: every grid point at every level
        s = torch.as_tensor(sigmas, dtype=x.dtype, device=device).repeat_interleave(n)
        out = model.score(x.repeat(len(sigmas), 1), s).reshape(len(sigmas), n, 2)
    else:
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
