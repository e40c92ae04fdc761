"""The modes picture: a bar per known mode of the mixture with its count of high-quality
samples, and the three numbers of the VEEGAN / PacGAN tables."""

from __future__ import annotations

from ..metrics.modes import ModeCoverage, mode_coverage
from .base import SnapshotContext

__all__ = ["ModeCoverage", "picture", "offered"]


def picture(ctx: SnapshotContext) -> ModeCoverage:
    """Mode coverage of 2,500 model samples from the fixed noise of ``seed + 6`` (see
    :func:`~playground.core.metrics.modes.mode_coverage`)."""
    return mode_coverage(ctx.model, ctx.data, ctx.seed + 6, ctx.device)


def offered(ctx: SnapshotContext) -> bool:
    """Datasets with known modes (8gaussians, ring8, grid25, gmm82)."""
    return ctx.data.modes is not None
