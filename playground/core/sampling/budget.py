"""How much work a picture may do now: the budget a long sampler reads between its steps.

A picture that samples through a chain (NCSN's annealed Langevin, an EBM's Langevin run, a
DDPM's reverse process) can take seconds. While training plays, the app's snapshot thread
builds it on a :class:`Budget` with ``quick=True``: the pictures draw fewer particles and
the samplers that allow it run fewer steps, and each reduction is noted, so the view says
it shows a preview. While paused the app builds the full picture next. Whatever the
budget, the samplers report their progress (``annealed Langevin, level 6 of 15``) and stop
with :class:`Cancelled` when the picture is no longer wanted (another tab, a new session).

The budget is a per-thread setting, like ``torch.no_grad``: :func:`working` installs one
for a block and :func:`current` reads it. Outside such a block (training, the command
line, evaluation) :func:`current` is the full budget, which changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Budget", "Cancelled", "current", "working", "QUICK_STEPS"]

#: a quick picture's sampler runs at most this many steps in all (a few tenths of a second
#: for a small network on a few hundred particles; an EBM's 200 steps stay whole)
QUICK_STEPS = 300


class Cancelled(Exception):
    """The picture being built is no longer wanted; raised from :meth:`Budget.progress`."""


class Budget:
    """What a picture may spend, where its progress goes, and whether it is still wanted.

    Arguments:
        quick: draw a preview: fewer particles (:meth:`particles`) and, where a sampler
            allows it, fewer steps (:meth:`steps`).
        report: called with a one-line progress text, e.g. ``annealed Langevin, level 6
            of 15``.
        cancelled: returns True once the picture is no longer wanted.

    Attributes:
        notes: what this budget reduced so far, one phrase each (``250 of 1,000
            particles``); empty for a full picture.
    """

    def __init__(
        self,
        quick: bool = False,
        report: Callable[[str], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ):
        self.quick = quick
        self._report, self._cancelled = report, cancelled
        self.notes: list[str] = []

    def full(self) -> Budget:
        """A full budget that reports to the same place and stops when this one does."""
        return Budget(False, self._report, self._cancelled)

    def particles(self, n: int, quick_n: int) -> int:
        """``n``, or ``min(n, quick_n)`` for a quick picture (noted when smaller)."""
        if not self.quick or quick_n >= n:
            return n
        self._note(f"{quick_n:,} of {n:,} particles")
        return quick_n

    def steps(self, n: int, what: str, repeats: int = 1) -> int:
        """``n`` steps of a sampler that runs them ``repeats`` times (an annealed sampler's
        levels), or for a quick picture at most :data:`QUICK_STEPS` in all (at least
        one per repeat); ``what`` names them in the note (``Langevin steps per level``)."""
        k = max(1, QUICK_STEPS // max(1, repeats))
        if not self.quick or n <= k:
            return n
        self._note(f"{k:,} of {n:,} {what}")
        return k

    def progress(self, what: str, done: int, total: int) -> None:
        """Report ``what, done of total``; then stop if the picture is no longer wanted.

        Raises:
            Cancelled: :attr:`cancelled` says so.
        """
        if self._report is not None:
            self._report(f"{what} {done:,} of {total:,}")
        if self._cancelled is not None and self._cancelled():
            raise Cancelled(what)

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


_FULL = Budget()
_local = threading.local()


def current() -> Budget:
    """The budget of this thread's picture, or the full budget outside :func:`working`."""
    return getattr(_local, "budget", None) or _FULL


@contextmanager
def working(budget: Budget) -> Iterator[Budget]:
    """Build pictures on ``budget`` in this thread for the block (nested: the innermost)."""
    previous = getattr(_local, "budget", None)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = previous
