"""Lock-step training of two sessions: a plain schedule of step targets (no Qt, no torch), so
it can be tested with made-up clocks and step counts.

Both sides train to the same target step, then wait for each other; the next target is a
small increment above the side that is behind. The increment follows the slower side's
speed, so one round lasts about :data:`ROUND_SECONDS`: the pictures of both sides are at
most one increment apart at any moment, and a Pause is answered within a round.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["LockStep", "ROUND_SECONDS", "MAX_INCREMENT"]

#: a round (both sides reach the target) lasts about this long: the snapshot period at the
#: snapshot rate (see :data:`~.pacing.SNAPSHOT_RATE`), so each round's pictures can be drawn
ROUND_SECONDS = 0.125
#: the largest increment (steps): a round of a fast model stays short even if it speeds up
MAX_INCREMENT = 500
#: an increment at most doubles (or halves) from one round to the next: one slow round (a
#: held-out evaluation, a snapshot) does not swing it
_MAX_CHANGE = 2.0


class LockStep:
    """The targets of a lock-step run: each round, every side trains until its step count
    reaches :attr:`target`; a new target is set once all have.

    Arguments:
        round_seconds: the duration of a round to aim for (seconds).
        max_increment: the largest increment (steps).

    Attributes:
        target: the step every side trains to now (``None`` before the first round).
        increment: steps per round now (starts at 1, then follows the slower side).
        largest_increment: the largest increment used since :meth:`restart`.
    """

    def __init__(self, round_seconds: float = ROUND_SECONDS, max_increment: int = MAX_INCREMENT):
        self.round_seconds = round_seconds
        self.max_increment = max_increment
        self.restart()

    def restart(self) -> None:
        """Forget the target and the speed (a new run: increments start small again)."""
        self.target: int | None = None
        self.increment = 1
        self.largest_increment = 1
        self._since: tuple[float, int] | None = None  # (clock, lowest count) at the last target

    def reached(self, counts: Sequence[int]) -> bool:
        """Whether every side's step count is at the target (or there is none)."""
        return self.target is None or min(counts) >= self.target

    def next_target(self, counts: Sequence[int], now: float) -> int | None:
        """The new target once every side reached the current one, else ``None``.

        Arguments:
            counts: each side's step count now.
            now: the clock (seconds).

        Returns:
            ``min(counts) + increment``: the side behind catches up an increment at a time
            while the others wait at their count; ``None`` while a side trains to the target.
        """
        if not self.reached(counts):
            return None
        low = min(counts)
        if self._since is not None:
            then, start = self._since
            steps, elapsed = low - start, now - then
            if steps > 0 and elapsed > 0:
                wanted = steps / elapsed * self.round_seconds
                wanted = min(
                    max(wanted, self.increment / _MAX_CHANGE), self.increment * _MAX_CHANGE
                )
                self.increment = int(min(max(1, round(wanted)), self.max_increment))
                self.largest_increment = max(self.largest_increment, self.increment)
        self._since = (now, low)
        self.target = low + self.increment
        return self.target
