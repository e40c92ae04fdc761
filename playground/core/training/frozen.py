"""A session's pictures at one step, from a private copy of its weights: what the app's
snapshot thread draws while training goes on (made by :meth:`.session.Session.frozen_copy`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..models.base import GenerativeModel
from ..snapshots import Snapshot, SnapshotContext, take_snapshot
from .evaluation import heldout_metrics

__all__ = ["FrozenSession"]


class FrozenSession:
    """A session's pictures at one step, drawn from a private copy of its weights (see
    :meth:`Session.frozen_copy`), so another thread can build them while training goes on.

    Attributes:
        context: the :class:`~..snapshots.SnapshotContext` with the copied model.
        source: the session's live model the copy was taken from.
        step, terms: the step count and loss terms at the copy.
        offered: the pictures the session offers.
        objective: the session's objective (``forward_kl``, ``reverse_kl``, or the
            model's own), for :meth:`evaluate`.
    """

    def __init__(
        self,
        context: SnapshotContext,
        source: GenerativeModel,
        step: int,
        terms: dict[str, float],
        offered: tuple[str, ...],
        objective: str = "forward_kl",
    ):
        self.context, self.source = context, source
        self.step, self.terms, self.offered = step, terms, offered
        self.objective = objective

    @property
    def model(self) -> GenerativeModel:
        """The copied model."""
        return self.context.model

    def snapshot(self, views: Iterable[str]) -> Snapshot:
        """The pictures ``views`` of the copy (see :meth:`Session.snapshot`)."""
        return take_snapshot(self.context, views, self.step, self.terms, self.offered)

    def evaluate(self, n: int) -> dict[str, float]:
        """The session's held-out metrics (see :meth:`Session.evaluate`) of the copy, on
        ``n`` fresh samples, not recorded: the session records them with
        :meth:`Session.record_evaluation` at :attr:`step`.

        Raises:
            Cancelled: the budget this runs on says stop (see
                :mod:`playground.core.sampling.budget`).
        """
        c = self.context
        return heldout_metrics(self.model, c.data, self.objective, n, c.seed, c.device)
