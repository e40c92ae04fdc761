"""The conditionals picture of an autoregressive model: on the plane, its joint P(x1, x2) over
the grid's cells with the marginal of the first dimension and the conditional of the
second given every bin of the first (so a slider over the first bin needs no model call);
on images, one sample drawn pixel by pixel with each pixel's predictive distribution.

It reads only the ``autoregressive`` protocol (``conditional_logits``, ``sampling_order``,
``to_levels``, ``from_levels``, ``levels``), so it serves every autoregressive model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..data.grid import cell_probabilities
from ..sampling import budget
from .base import SnapshotContext

__all__ = [
    "offered",
    "PlaneConditionals",
    "PixelSampling",
    "plane_conditionals",
    "pixel_sampling",
    "target_cells",
    "picture",
    "TARGET_POINTS",
]

#: quadrature points per side of the whole grid for the data's cell probabilities: each
#: cell gets ``TARGET_POINTS // K`` a side (8 at K = 32; 2 at K = 128, about 1 s for
#: 2spirals), at most the default 8
TARGET_POINTS = 256


@dataclass(frozen=True)
class PlaneConditionals:
    """An autoregressive model of binned 2D points, as its conditionals.

    Attributes:
        first: the dimension generated first (0: x1, 1: x2); ``second = 1 - first``.
        x_centres, y_centres: ``(K,)`` float32 bin centres along x1 and x2.
        joint: ``(K, K)`` float32 ``P(x1 bin a, x2 bin b)`` at ``[a, b]``; sums to 1.
        marginal: ``(K,)`` float32 ``p(first = a)``.
        conditional: ``(K, K)`` float32 ``p(second = b | first = a)`` at ``[a, b]``; rows
            sum to 1.
        target_joint, target_marginal, target_conditional: the same of the data's cell
            probabilities (a row of zeros where the data has no mass in bin ``a``), or
            ``None`` where they cannot be computed.
        target_method: how the data's cell probabilities were found (quadrature or Monte
            Carlo), or ``""``.
        step: the training step of the weights.
        kind: ``"plane"`` (a class attribute: the view's page).
    """

    kind: ClassVar[str] = "plane"
    first: int
    x_centres: np.ndarray
    y_centres: np.ndarray
    joint: np.ndarray
    marginal: np.ndarray
    conditional: np.ndarray
    target_joint: np.ndarray | None
    target_marginal: np.ndarray | None
    target_conditional: np.ndarray | None
    target_method: str
    step: int


@dataclass(frozen=True)
class PixelSampling:
    """One sample of an autoregressive model of images (or sequences), pixel by pixel.

    Attributes:
        order: ``(D,)`` int64 the flattened pixels in the order they were drawn.
        probs: ``(D, levels)`` float32: ``probs[t]`` is the predictive distribution of
            pixel ``order[t]`` given the ``t`` pixels drawn before it.
        chosen: ``(D,)`` int64 the level drawn for each pixel (raster order).
        image: ``(h, w)`` float32 the finished sample in ``[0, 1]`` (a sequence: ``(1, T)``).
        levels: values per pixel.
        step: the training step of the weights.
        kind: ``"pixels"`` (a class attribute: the view's page).
    """

    kind: ClassVar[str] = "pixels"
    order: np.ndarray
    probs: np.ndarray
    chosen: np.ndarray
    image: np.ndarray
    levels: int
    step: int


def target_cells(data: Any, bins: int) -> tuple[np.ndarray | None, str]:
    """The data's ``(K, K)`` float64 cell probabilities at ``[x1 bin, x2 bin]`` and how
    they were found (see :func:`~playground.core.data.grid.cell_probabilities`, with
    ``TARGET_POINTS // K`` quadrature points a cell, cached per dataset and ``K``);
    ``(None, "")`` for a density that can neither be evaluated nor sampled."""
    points = max(2, min(8, TARGET_POINTS // bins))
    try:
        cells = cell_probabilities(data, bins, points=points)
    except ValueError:
        return None, ""
    return cells.probs.numpy(), cells.method


@torch.no_grad()
def plane_conditionals(model: Any, data: Any, device: torch.device) -> PlaneConditionals:
    """The joint, the first dimension's marginal and the second's conditional for every
    bin of the first, from one batch of ``K`` inputs to ``conditional_logits``.

    Arguments:
        model: an autoregressive model of 2D points (``D = 2``, ``K = model.levels``).
        data: the 2D density (its cells are drawn beside the model's).
        device: the model's device.

    Returns:
        A :class:`PlaneConditionals`.

    References:
        Germain et al., "MADE", ICML 2015, eq. (1): ``p(x) = p(x_first) p(x_second | x_first)``.
    """
    k_levels = int(model.levels)
    order = model.sampling_order().tolist()
    first, second = int(order[0]), int(order[1])
    bins = torch.arange(k_levels, device=device)
    k = torch.zeros(k_levels, 2, dtype=torch.long, device=device)
    k[:, first] = bins
    logits = model.conditional_logits(model.from_levels(k)).float()
    marginal = F.softmax(logits[0, first], dim=-1)
    conditional = F.softmax(logits[:, second], dim=-1)
    joint = marginal[:, None] * conditional
    if first == 1:  # [x2 bin, x1 bin] -> [x1 bin, x2 bin]
        joint = joint.T
    centres = model.from_levels(torch.stack([bins, bins], 1)).float().cpu()
    target, method = target_cells(data, k_levels)
    t_marginal = t_conditional = None
    if target is not None:
        by_first = target if first == 0 else target.T
        t_marginal = by_first.sum(axis=1)
        t_conditional = np.divide(
            by_first,
            t_marginal[:, None],
            out=np.zeros_like(by_first),
            where=t_marginal[:, None] > 0,
        )

    def f32(a: Any) -> np.ndarray | None:
        if a is None:
            return None
        a = a.cpu().numpy() if isinstance(a, torch.Tensor) else a
        return np.ascontiguousarray(a, dtype=np.float32)

    return PlaneConditionals(
        first=first,
        x_centres=f32(centres[:, 0]),
        y_centres=f32(centres[:, 1]),
        joint=f32(joint),
        marginal=f32(marginal),
        conditional=f32(conditional),
        target_joint=f32(target),
        target_marginal=f32(t_marginal),
        target_conditional=f32(t_conditional),
        target_method=method,
        step=int(model.steps_taken),
    )


@torch.no_grad()
def pixel_sampling(model: Any, device: torch.device, seed: int) -> PixelSampling:
    """Draw one sample dimension by dimension in ``model.sampling_order()`` (``D`` calls of
    ``conditional_logits``), keeping each step's predictive distribution.

    Arguments:
        model: an autoregressive model of images ``(n, c, h, w)`` or sequences ``(n, c, T)``.
        device: the model's device.
        seed: the draws' seed (fixed, so successive pictures differ by training only).

    Returns:
        A :class:`PixelSampling`.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    order = model.sampling_order().tolist()
    d = len(order)
    k = torch.zeros(1, d, dtype=torch.long, device=device)
    probs = torch.zeros(d, int(model.levels))
    spend = budget.current()
    for t, i in enumerate(order):
        if t % 16 == 0:
            spend.progress("sampling pixel by pixel, pixel", t, d)
        p = F.softmax(model.conditional_logits(model.from_levels(k))[0, i].float(), dim=-1)
        k[0, i] = torch.multinomial(p, 1, generator=g)[0]
        probs[t] = p.cpu()
    x = model.from_levels(k).float().cpu()[0]
    image = x.reshape(x.shape[-2], x.shape[-1]) if x.dim() >= 2 else x.reshape(1, -1)
    return PixelSampling(
        order=np.asarray(order, dtype=np.int64),
        probs=probs.numpy(),
        chosen=k[0].cpu().numpy(),
        image=np.ascontiguousarray(image.numpy(), dtype=np.float32),
        levels=int(model.levels),
        step=int(model.steps_taken),
    )


def offered(context: SnapshotContext) -> bool:
    """The plane and image sets: a sequence's conditionals are its own Waveforms and
    Receptive field views (a 1 x 256 strip of pixels says nothing there)."""
    return context.data.kind in ("plane", "image")


def picture(ctx: SnapshotContext) -> PlaneConditionals | PixelSampling:
    """The conditionals of the session's model: :func:`plane_conditionals` on a 2D density,
    else :func:`pixel_sampling` from the fixed seed ``seed + 21``."""
    if ctx.data.kind == "plane":
        return plane_conditionals(ctx.model, ctx.data, ctx.device)
    return pixel_sampling(ctx.model, ctx.device, ctx.seed + 21)
