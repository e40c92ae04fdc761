"""Discrete data on a grid of levels: the integers behind an image set's ``[0, 1]`` pixels.

An image set with ``levels = L`` stores pixel ``k`` (``k = 0..L-1``) as the float
``k / (L - 1)`` (DESIGN.md: images are floats in ``[0, 1]``); the discrete models and
``bits_per_dim`` work on the integers ``k``. These two functions are the only place the
two views meet.
"""

from __future__ import annotations

import math

from torch import Tensor

__all__ = ["to_levels", "from_levels", "bits_per_dim"]


def to_levels(x: Tensor, levels: int) -> Tensor:
    """The integers ``k = round(x (levels - 1))`` of values on the grid ``k / (levels - 1)``.

    Arguments:
        x: ``(*)`` floats in ``[0, 1]`` (values off the grid are rounded to the nearest
            level, values outside it clamped).
        levels: values per dimension, at least 2.

    Returns:
        ``(*)`` int64 in ``0..levels-1``.

    Raises:
        ValueError: ``levels < 2``.
    """
    if levels < 2:
        raise ValueError(f"levels must be at least 2, not {levels}")
    return (x * (levels - 1)).round().clamp(0, levels - 1).long()


def from_levels(k: Tensor, levels: int) -> Tensor:
    """The floats ``k / (levels - 1)`` in ``[0, 1]`` of integers ``k`` (``(*)`` -> ``(*)``
    float32); the inverse of :func:`to_levels`.

    Raises:
        ValueError: ``levels < 2``.
    """
    if levels < 2:
        raise ValueError(f"levels must be at least 2, not {levels}")
    return k.float() / (levels - 1)


def bits_per_dim(nll_nats: Tensor | float, dims: int) -> float:
    """Bits per dimension of a negative log-likelihood of discrete data.

    ``nll / (D ln 2)``: uniform coding of ``L`` levels costs ``log2 L`` (17-level digits:
    4.09 bits/dim).

    Arguments:
        nll_nats: ``-log P(x)`` per example in nats, a float or an ``(n,)`` tensor (its mean
            is taken).
        dims: ``D``, the discrete dimensions of one example (pixels, time steps).

    Returns:
        The mean in bits per dimension.

    References:
        Theis, van den Oord and Bethge, "A note on the evaluation of generative models",
        ICLR 2016, section 3.1.
    """
    value = float(nll_nats.mean()) if isinstance(nll_nats, Tensor) else float(nll_nats)
    return value / (dims * math.log(2))
