"""The modes picture: a bar per known mode of the mixture with its count of high-quality
samples, and the three numbers of the VEEGAN / PacGAN tables."""

from __future__ import annotations

from ..metrics.modes import MODE_SAMPLES, ModeCoverage, mode_coverage
from ..sampling import budget
from .base import SnapshotContext

__all__ = ["ModeCoverage", "picture", "offered"]


#: model samples of a preview of a model whose sampler is a long chain (see
#: :mod:`playground.core.sampling.budget`)
QUICK_MODE_SAMPLES = 500


def picture(ctx: SnapshotContext) -> ModeCoverage:
    """Mode coverage of 2,500 model samples (a preview of an iterative sampler:
    :data:`QUICK_MODE_SAMPLES`) from the fixed noise of ``seed + 6`` (see
    :func:`~playground.core.metrics.modes.mode_coverage`)."""
    n = MODE_SAMPLES
    if ctx.model.iterative_sampler:
        n = budget.current().particles(n, QUICK_MODE_SAMPLES)
    return mode_coverage(ctx.model, ctx.data, ctx.seed + 6, ctx.device, n)


def offered(ctx: SnapshotContext) -> bool:
    """Datasets with known modes (8gaussians, ring8, grid25, gmm82)."""
    return ctx.data.modes is not None
