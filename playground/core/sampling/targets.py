"""What live Langevin chains sample: a model's score (a flow's autograd of log p, an EBM's
-grad E, a score network) or the exact target's, with the log-density MALA needs and the
noised score annealed Langevin needs, where they exist."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..chain_settings import CHAIN_SOURCES
from ..data.mixtures import mixture_score
from .langevin import geometric_sigmas, score_from_log_prob

__all__ = [
    "CHAIN_SOURCES",
    "ChainTarget",
    "exact_target",
    "checkerboard_log_prob",
    "EXACT_LEVELS",
    "EXACT_SIGMA_MIN",
    "CHECKERBOARD_SMOOTHING",
]

#: annealed Langevin on an exact target: this many geometric levels ...
EXACT_LEVELS = 10
#: ... from half the box width down to this sigma (data units)
EXACT_SIGMA_MIN = 0.05
#: the checkerboard's score is that of the board convolved with N(0, s^2 I), s = this
CHECKERBOARD_SMOOTHING = 0.05


@dataclass(frozen=True)
class ChainTarget:
    """The distribution the chains sample, as functions of the chains' positions.

    All functions take ``x (n, 2)`` on the chains' device and dtype and return tensors on
    the same device and dtype, detached.

    Attributes:
        score: ``(n, 2) -> (n, 2)``, ``grad_x log p(x)`` in ``1 / data`` units.
        log_prob: ``(n, 2) -> (n,)`` nats, possibly unnormalised; ``None`` for score-only
            models (then MALA is not offered).
        noised_score: ``(x (n, 2), sigma) -> (n, 2)``, the score of ``p * N(0, sigma^2 I)``
            (annealed Langevin); ``None`` where there is none.
        sigmas: ``(L,)`` decreasing noise levels for annealed Langevin, or ``None``.
        picture: ``(n, 2) -> (n,)`` the values drawn as the background (``log p``, or
            ``-E`` for an energy model), or ``None`` (a score model has no density).
        normalized: ``picture`` is a normalised log-density.
        label: what the chains follow, for the picture's title.
    """

    score: Callable[[Tensor], Tensor]
    log_prob: Callable[[Tensor], Tensor] | None
    noised_score: Callable[[Tensor, float], Tensor] | None
    sigmas: Tensor | None
    picture: Callable[[Tensor], Tensor] | None
    normalized: bool
    label: str


# ----------------------------------------------------------------------------- exact targets


def _cpu64(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` evaluated in float64 on the CPU, its result in the dtype and device of ``x``."""

    def wrapped(x: Tensor, *args: Any) -> Tensor:
        out = fn(x.detach().to(device="cpu", dtype=torch.float64), *args)
        return out.detach().to(device=x.device, dtype=x.dtype)

    return wrapped


def _log_interval(y: Tensor, lo: Tensor, width: float, s: float) -> Tensor:
    """``log(Phi((y - lo) / s) - Phi((y - lo - width) / s))``, stable in both tails.

    ``y (n, 1)``, ``lo (k,)`` -> ``(n, k)``. The value is symmetric about the interval's
    centre: fold onto the lower side, where ``log_ndtr`` keeps its relative accuracy.
    """
    d = width / 2 - (y - lo - width / 2).abs()
    la = torch.special.log_ndtr(d / s)
    lb = torch.special.log_ndtr((d - width) / s)
    diff = lb - la  # < 0
    # log(1 - e^diff): expm1 near 0, log1p far from it (Maechler's log1mexp)
    return la + torch.where(
        diff > -math.log(2), torch.log(-torch.expm1(diff)), torch.log1p(-torch.exp(diff))
    )


_BOARD_LOWER = torch.tensor([-4.0, -2.0, 0.0, 2.0], dtype=torch.float64)
# squares (i, j) of the checkerboard's support: index sum even
_BOARD_EVEN = (torch.arange(4)[:, None] + torch.arange(4)[None, :]) % 2 == 0


def checkerboard_log_prob(x: Tensor, sigma: float) -> Tensor:
    """``log (p * N(0, sigma^2 I))(x)`` for FFJORD's checkerboard, closed form, in float64.

    ``p`` is uniform (density 1/32) on the 8 squares of side 2 in ``[-4, 4]^2`` whose
    index sum is even, so ``p_sigma(x) = (1/32) sum_squares
    [Phi((b1 - x1)/sigma) - Phi((a1 - x1)/sigma)] [Phi((b2 - x2)/sigma) - Phi((a2 - x2)/sigma)]``
    for the squares ``[a1, b1] x [a2, b2]``; computed in log space, finite everywhere and
    differentiable.

    Arguments:
        x: ``(n, 2)`` points, any float dtype (computed in float64 on the CPU).
        sigma: the smoothing standard deviation, ``> 0``, data units.

    Returns:
        ``(n,)`` float64 nats.
    """
    u = x.to(device="cpu", dtype=torch.float64)
    lx = _log_interval(u[:, :1], _BOARD_LOWER, 2.0, sigma)  # (n, 4)
    ly = _log_interval(u[:, 1:], _BOARD_LOWER, 2.0, sigma)
    pair = lx[:, :, None] + ly[:, None, :]  # (n, 4, 4): square (i, j) = x-cell i, y-cell j
    return torch.logsumexp(pair[:, _BOARD_EVEN], dim=1) - math.log(32.0)


def _exact_sigmas(data: Any) -> Tensor:
    xmin, xmax, ymin, ymax = data.box
    top = 0.5 * max(xmax - xmin, ymax - ymin)
    return geometric_sigmas(top, min(EXACT_SIGMA_MIN, top), EXACT_LEVELS)


def _mixture_noised_score(data: Any) -> Callable[[Tensor, float], Tensor]:
    means = data.means.to(torch.float64)
    k = means.shape[0]
    w = getattr(data, "mode_weights", None)
    weights = torch.tensor(w if w is not None else [1.0 / k] * k, dtype=torch.float64)
    weights = weights / weights.sum()
    std = float(data.mode_std)
    return _cpu64(lambda x, sigma: mixture_score(x, means, weights, std, float(sigma)))


def _gaussian_noised_score(data: Any) -> Callable[[Tensor, float], Tensor]:
    cov = data.covariance()
    mean = data.mean.to(torch.float64)

    def score(x: Tensor, sigma: float) -> Tensor:
        precision = torch.linalg.inv(cov + float(sigma) ** 2 * torch.eye(2, dtype=torch.float64))
        return -(x - mean) @ precision  # precision is symmetric

    return _cpu64(score)


_EXACT_SCORE_WORKS: dict[type, bool] = {}


def _autograd_works(data: Any, score: Callable[[Tensor], Tensor]) -> bool:
    """Whether autograd differentiates the data's log-density (probed once per class)."""
    cls = type(data)
    if cls not in _EXACT_SCORE_WORKS:
        xmin, xmax, ymin, ymax = data.box
        probe = torch.tensor([[0.5 * (xmin + xmax), 0.5 * (ymin + ymax)], [xmin, ymax]])
        try:
            _EXACT_SCORE_WORKS[cls] = bool(torch.isfinite(score(probe)).any())
        except (RuntimeError, NotImplementedError):
            _EXACT_SCORE_WORKS[cls] = False
    return _EXACT_SCORE_WORKS[cls]


def exact_target(data: Any) -> ChainTarget:
    """What chains on the exact target sample (see
    :func:`playground.core.snapshots.chains.chain_target`, source ``exact``).

    Raises:
        ValueError: ``data`` has no exact density, or autograd cannot differentiate it.
    """
    from ..data.gaussian import Gaussian2D
    from ..data.toy import Checkerboard

    if getattr(data, "is_image", False) or not getattr(data, "has_log_prob", False):
        name = getattr(data, "name", type(data).__name__)
        raise ValueError(f"{name} has no exact density: its chains need a model ('model')")
    picture = _cpu64(data.log_prob)
    label = "exact log p(x)"
    noised = sigmas = None
    log_prob = picture
    if isinstance(data, Checkerboard):
        s0 = CHECKERBOARD_SMOOTHING
        smooth = lambda x, sigma=0.0: checkerboard_log_prob(x, math.hypot(s0, sigma))  # noqa: E731
        score = _cpu64(score_from_log_prob(smooth))
        log_prob = _cpu64(smooth)  # MALA tests the density whose score it follows
        noised = _cpu64(lambda x, sigma: score_from_log_prob(lambda y: smooth(y, sigma))(x))
        sigmas = _exact_sigmas(data)
        label = f"exact log p(x); score of p * N(0, {s0:g}^2)"
    elif torch.is_tensor(getattr(data, "means", None)) and data.mode_std is not None:
        noised = _mixture_noised_score(data)
        score = lambda x: noised(x, 0.0)  # noqa: E731
        sigmas = _exact_sigmas(data)
    elif isinstance(data, Gaussian2D):
        noised = _gaussian_noised_score(data)
        score = lambda x: noised(x, 0.0)  # noqa: E731
        sigmas = _exact_sigmas(data)
    else:
        score = _cpu64(score_from_log_prob(data.log_prob))
        if not _autograd_works(data, score):
            raise ValueError(f"autograd cannot differentiate {data.name}'s exact log-density")
    return ChainTarget(score, log_prob, noised, sigmas, picture, True, label)
