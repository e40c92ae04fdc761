"""The errors that stop a training step: a non-finite loss or gradient (raised by
:meth:`~.base.GenerativeModel.optimize` before any update) and a diverging loss (raised by
the Session's divergence watch). Both are re-exported by :mod:`.base`."""

from __future__ import annotations

import math

__all__ = ["NonFiniteLossError", "DivergingLossError"]


class NonFiniteLossError(FloatingPointError):
    """A loss term was NaN or infinite; the update was not applied.

    Attributes:
        term: the name of the first non-finite loss term (the model's own name for it:
            ``nll``, ``loss_d``, ``loss_g``; ``loss`` when the total minimised is not one
            of its terms; ``gradient`` for a non-finite gradient).
        value: its value.
        step: the session step at which it happened (set by the Session).
    """

    def __init__(self, term: str, value: float, step: int | None = None):
        self.term, self.value, self.step = term, value, step
        super().__init__(self._message())

    def __reduce__(self):
        return (type(self), (self.term, self.value, self.step))

    def _message(self) -> str:
        where = f" at step {self.step}" if self.step is not None else ""
        return f"non-finite loss{where}: {self.term} = {self.value}"

    def at_step(self, step: int) -> NonFiniteLossError:
        """The same error, naming the step."""
        return NonFiniteLossError(self.term, self.value, step)


class DivergingLossError(NonFiniteLossError):
    """A loss term grew by orders of magnitude: training is diverging (raised by the
    Session's divergence watch, :class:`~playground.core.training.history.DivergenceWatch`).

    A subclass of :class:`NonFiniteLossError`, so whatever pauses or stops training on a
    non-finite loss (the app's worker, the command line) does so here too. Unlike a
    non-finite loss, the step that showed it *was* taken and recorded: the values are
    finite, only far too large.

    Attributes:
        term: the loss term that grew.
        value: its size now: the median of its latest window, or the single latest value
            that was absurd on its own (signed, in the term's units).
        step: the session step at which the growth was seen.
        start: the term's typical value when it was smallest: the median of its
            best window (signed); NaN when its first value was already absurd.
        over: the steps from that window to ``step``.
    """

    def __init__(
        self,
        term: str,
        value: float,
        step: int | None = None,
        start: float = float("nan"),
        over: int = 0,
    ):
        self.start, self.over = float(start), int(over)
        super().__init__(term, value, step)

    def __reduce__(self):
        return (type(self), (self.term, self.value, self.step, self.start, self.over))

    def _message(self) -> str:
        where = f" at step {self.step}" if self.step is not None else ""
        if not math.isfinite(self.start):  # its first value was already absurd
            return (
                f"loss diverging{where}: {self.term} = {self.value:.3g}, far too large "
                "from the start; lower the learning rate"
            )
        return (
            f"loss diverging{where}: {self.term} grew from {self.start:.3g} to "
            f"{self.value:.3g} over {self.over} step{'' if self.over == 1 else 's'}; "
            "lower the learning rate"
        )

    def at_step(self, step: int) -> DivergingLossError:
        """The same error, naming the step."""
        return DivergingLossError(self.term, self.value, step, self.start, self.over)
