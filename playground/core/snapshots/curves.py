"""The curves picture: every loss term and held-out metric against steps."""

from __future__ import annotations

import numpy as np

from .base import SnapshotContext

__all__ = ["picture", "CURVE_POINTS"]

#: points per curve at most (a long run is thinned, still ending at its last step)
CURVE_POINTS = 2000


def picture(ctx: SnapshotContext) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Name to ``(steps (m,), values (m,))`` from the session's history (see
    :meth:`~playground.core.training.history.History.as_arrays`)."""
    return ctx.history.as_arrays(max_points=CURVE_POINTS)
