"""The receptive field picture of an autoregressive model: for each output dimension (a
pixel, a time step), how strongly its conditional ``p(x_i | x_<i)`` depends on every input
dimension of a test example. Zero after ``i`` (causality); a PixelCNN's also zero on a wedge
of pixels up and to the right of ``i`` (its blind spot), a Gated PixelCNN's not."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..sampling import budget
from .base import SnapshotContext

__all__ = [
    "ReceptiveField",
    "sensitivities",
    "target_grid",
    "picture",
    "offered",
    "EXAMPLES",
    "MAX_TARGETS",
]

#: test examples the sensitivities are averaged over (1 on a quick budget): one example
#: may leave a pixel of the field at exactly zero through dead ReLUs
EXAMPLES = 4
#: output dimensions with a map at most: all of an 8 x 8 digit, a 16 x 16 or 20 x 20 shape
#: and a 256-step sequence; larger data gets a regular grid of targets
MAX_TARGETS = 400
#: copies of an example per network call (bounds the memory of one call)
CHUNK = 64


@dataclass(frozen=True)
class ReceptiveField:
    """Which inputs each output's conditional reads.

    Attributes:
        kind: ``image`` or ``sequence``.
        shape: ``(h, w)`` of an image, ``(T,)`` of a sequence.
        targets: ``(m,)`` int64 flattened (raster-order) indices of the outputs that have a
            map: every dimension, or a regular grid of them when there are more than
            :data:`MAX_TARGETS`.
        sensitivity: ``(m, D)`` float32, row ``t``: the mean over the test examples of
            ``|d log p(x_i = k_i | x_<i) / d x_j|`` for ``i = targets[t]`` and every input
            ``j`` (data units: images in ``[0, 1]``), or, for a model whose conditionals are
            not differentiable in ``x`` (levels looked up in an embedding), of
            ``|Delta log p(x_i = k_i | x_<i)|`` in nats when ``x_j`` moves half the levels
            away. Exactly 0 where ``x_j`` does not reach output ``i``.
        order: ``(D,)`` int64, each dimension's position in the model's sampling order
            (raster order: ``0..D-1``); the causal past of ``i`` is ``order < order[i]``.
        example: ``(D,)`` float32, the first test example (drawn under the map).
        examples: how many test examples the rows average.
        method: ``gradient`` or ``perturbation`` (see ``sensitivity``).
    """

    kind: str
    shape: tuple[int, ...]
    targets: np.ndarray
    sensitivity: np.ndarray
    order: np.ndarray
    example: np.ndarray
    examples: int
    method: str

    def row(self, target: int) -> np.ndarray:
        """The ``(D,)`` sensitivities of the output :attr:`targets` holds nearest to the
        flattened index ``target`` (in the grid's own sense: the same row, then column)."""
        return self.sensitivity[self.nearest(target)]

    def nearest(self, target: int) -> int:
        """The row of :attr:`targets` nearest to the flattened index ``target``: the
        nearest row and column of an image's grid, the nearest step of a sequence."""
        if self.kind == "image":
            w = self.shape[1]
            r, c = divmod(int(target), w)
            tr, tc = np.divmod(self.targets, w)
            return int(np.argmin((tr - r) ** 2 * (w * w) + (tc - c) ** 2))
        return int(np.argmin(np.abs(self.targets - int(target))))

    def unseen_past(self, target: int) -> np.ndarray:
        """``(D,)`` bool: the inputs before output ``targets[nearest(target)]`` in the
        sampling order whose sensitivity is exactly 0 (a blind spot, or beyond the reach
        of the network)."""
        i = int(self.targets[self.nearest(target)])
        return (self.order < self.order[i]) & (self.row(i) == 0.0)

    def reach(self, target: int) -> int:
        """How far back the output nearest to ``target`` sees: ``i - j`` for the earliest
        input ``j`` with a nonzero sensitivity (0 if none), in flattened steps (a
        sequence's receptive field in time steps)."""
        i = int(self.targets[self.nearest(target)])
        seen = np.flatnonzero(self.row(i))
        return int(i - seen.min()) if len(seen) else 0


def target_grid(shape: tuple[int, ...], limit: int = MAX_TARGETS) -> Tensor:
    """The flattened indices of the outputs that get a map: every one when there are at
    most ``limit``, else every ``s``-th row and column of an image (``s`` the smallest that
    fits) or every ``s``-th step of a sequence. ``(m,)`` int64."""
    d = math.prod(shape)
    if d <= limit:
        return torch.arange(d)
    if len(shape) == 2:
        h, w = shape
        s = math.ceil(math.sqrt(d / limit))
        rows, cols = torch.arange(0, h, s), torch.arange(0, w, s)
        return (rows[:, None] * w + cols[None, :]).reshape(-1)
    return torch.arange(0, d, math.ceil(d / limit))


def _observed(logits: Tensor, k: Tensor) -> Tensor:
    """``log softmax(logits)`` at the observed levels: ``(c, D, L)``, ``(c, D)`` -> ``(c, D)``
    (float32 at least)."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return F.log_softmax(logits, dim=-1).gather(-1, k[..., None])[..., 0]


def _by_gradient(model, x: Tensor, targets: Tensor, spend) -> Tensor | None:
    """``(m, D)`` mean ``|d log p(x_i | x_<i) / d x_j|`` over the examples ``x (n, ...)``,
    one network call per :data:`CHUNK` copies; ``None`` when the conditionals do not
    depend differentiably on ``x``."""
    n, k = x.shape[0], model.to_levels(x)
    rows = []
    chunk = max(1, CHUNK // n)
    for start in range(0, len(targets), chunk):
        t = targets[start : start + chunk].to(x.device)
        # copy c is example c % n for output t[c // n]
        xb = x.repeat(len(t), *([1] * (x.dim() - 1))).requires_grad_(True)
        copy, ti = torch.arange(len(t) * n, device=x.device), t.repeat_interleave(n)
        with torch.enable_grad():
            logits = model.conditional_logits(xb)
            if not logits.requires_grad:
                return None
            logp = _observed(logits[copy, ti][:, None], k.repeat(len(t), 1)[copy, ti][:, None])
            (grad,) = torch.autograd.grad(logp.sum(), xb, allow_unused=True)
        if grad is None:  # x reaches the logits through levels only (an embedding)
            return None
        rows.append(grad.abs().reshape(len(t), n, -1).mean(1))
        spend.progress("receptive field, outputs", min(start + chunk, len(targets)), len(targets))
    return torch.cat(rows)


def _in_double(model):
    """A float64 copy of ``model`` (its data, optimisers and rng shared, not copied)."""
    memo = {id(model.data): model.data, id(model.optimizers): {}, id(model.rng): model.rng}
    return copy.deepcopy(model, memo).double()


@torch.no_grad()
def _by_perturbation(model, x: Tensor, targets: Tensor, spend) -> Tensor:
    """``(m, D)`` mean ``|Delta log p(x_i | x_<i)|`` over the examples when input ``j``
    moves to the level half the range away (``(k_j + L // 2) mod L``), in float64: the
    far past of a deep network moves ``log p`` by less than float32 resolves."""
    model = _in_double(model)
    n, k = x.shape[0], model.to_levels(x)
    d, levels = k.shape[1], int(model.levels)
    base = _observed(model.conditional_logits(x.double()), k)  # (n, D)
    total = torch.zeros(d, d, dtype=torch.float64, device=x.device)  # [input j, output i]
    chunk = max(1, CHUNK // n)
    for start in range(0, d, chunk):
        j = torch.arange(start, min(start + chunk, d), device=x.device)
        kb = k.repeat(len(j), 1)  # copy c is example c % n with input j[c // n] moved
        copy, jj = torch.arange(len(j) * n, device=x.device), j.repeat_interleave(n)
        kb[copy, jj] = (kb[copy, jj] + levels // 2) % levels
        moved = model.conditional_logits(model.from_levels(kb).double())
        moved = _observed(moved, k.repeat(len(j), 1))
        delta = (moved - base.repeat(len(j), 1)).abs().reshape(len(j), n, d).mean(1)
        total[j] = delta
        spend.progress("receptive field, inputs", int(j[-1]) + 1, d)
    return total.T[targets.to(x.device)]


def sensitivities(model, x: Tensor, targets: Tensor) -> tuple[Tensor, str]:
    """How each output's conditional depends on each input, over examples ``x``.

    Arguments:
        model: a model with the ``autoregressive`` capability.
        x: ``(n, *event_shape)`` test examples in the dataset's format (``(n, 1, h, w)``
            images, ``(n, 1, T)`` sequences), on the model's device.
        targets: ``(m,)`` int64 flattened output indices.

    Returns:
        ``(m, D)`` float32 on the CPU and the method: ``gradient`` (autograd through
        ``conditional_logits``) or, when the conditionals are not differentiable in ``x``,
        ``perturbation`` (see :class:`ReceptiveField`).

    Raises:
        Cancelled: the picture is no longer wanted (checked between network calls).

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
        NeurIPS 2016, figure 1 (the blind spot); Luo et al., "Understanding the Effective
        Receptive Field in Deep Convolutional Neural Networks", NeurIPS 2016 (the
        gradient of an output with respect to the input).
    """
    spend = budget.current()
    grads = _by_gradient(model, x, targets, spend)
    if grads is not None:
        return grads.detach().float().cpu(), "gradient"
    return _by_perturbation(model, x, targets, spend).float().cpu(), "perturbation"


def picture(ctx: SnapshotContext) -> ReceptiveField:
    """The sensitivities of the first :data:`EXAMPLES` test examples (1 on a quick budget)
    at every output of :func:`target_grid`."""
    model, data = ctx.model, ctx.data
    spend = budget.current()
    n = EXAMPLES
    if spend.quick:
        n = 1
        spend.notes.append(f"1 of {EXAMPLES} test examples")
    x = data.test_examples[:n].to(ctx.device)
    shape = tuple(int(s) for s in x.shape[2:])
    targets = target_grid(shape)
    sens, method = sensitivities(model, x, targets)
    order = torch.empty(model.dims, dtype=torch.long)
    order[model.sampling_order().cpu()] = torch.arange(model.dims)
    return ReceptiveField(
        kind="image" if len(shape) == 2 else "sequence",
        shape=shape,
        targets=targets.numpy(),
        sensitivity=np.ascontiguousarray(sens.numpy(), dtype=np.float32),
        order=order.numpy(),
        example=x[0].reshape(-1).float().cpu().numpy(),
        examples=n,
        method=method,
    )


def offered(ctx: SnapshotContext) -> bool:
    """Images and sequences (a model of 2D points has no pixels to map)."""
    return ctx.data.kind != "plane"
