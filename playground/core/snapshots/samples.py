"""The samples picture: model samples from a fixed base noise beside data samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..sampling import budget
from .base import SnapshotContext

__all__ = ["SampleCloud", "sample_cloud", "picture", "SAMPLE_POINTS", "QUICK_SAMPLE_POINTS"]

#: model samples drawn (and data samples beside them)
SAMPLE_POINTS = 1000
#: model samples of a preview of a model whose sampler is a long chain (see
#: :mod:`playground.core.sampling.budget`)
QUICK_SAMPLE_POINTS = 250


@dataclass(frozen=True)
class SampleCloud:
    """Model samples from a fixed base noise (so they move smoothly), and data samples.

    Attributes:
        model: ``(n, 2)`` float32.
        data: ``(m, 2)`` float32, or ``None`` for energy targets.
    """

    model: np.ndarray
    data: np.ndarray | None


@torch.no_grad()
def sample_cloud(
    model: torch.nn.Module, n: int, seed: int, device: torch.device, data: np.ndarray | None
) -> SampleCloud:
    """Draw ``n`` model samples ``(n, 2)`` with an rng reseeded every time (same noise)."""
    rng = torch.Generator(device=device).manual_seed(seed)
    x = model.sample(n, rng)
    return SampleCloud(model=x.float().cpu().numpy(), data=data)


def picture(ctx: SnapshotContext) -> SampleCloud:
    """:data:`SAMPLE_POINTS` model samples from the fixed noise of ``seed + 4`` (a preview
    of an iterative sampler: :data:`QUICK_SAMPLE_POINTS`), beside as many data samples."""
    n = SAMPLE_POINTS
    if ctx.model.iterative_sampler:
        n = budget.current().particles(n, QUICK_SAMPLE_POINTS)
    return sample_cloud(ctx.model, n, ctx.seed + 4, ctx.device, ctx.overlay_points(SAMPLE_POINTS))
