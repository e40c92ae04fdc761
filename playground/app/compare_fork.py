"""The Compare window's fork sides: a pane that starts as a branch of a run at a fork point
(see :class:`~.commands.StartFrom`), and each side's Curves view overlaid with the other
side's curves, dashed, so two branches read as one picture (issue 17)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .commands import StartFrom
from .qt_util import weakly

__all__ = ["ForkSides", "PLACEHOLDER_DATASET", "first_dataset"]

#: a pane on drawn points (dataset ``points``, not buildable without them: a branch, a
#: preset, a fresh model given the points) starts on this plane set; the branch, preset or
#: points replace it before Play both can start
PLACEHOLDER_DATASET = "moons"


def first_dataset(dataset: str, fork: Any = None) -> str:
    """The dataset a pane is first built on: ``dataset``, or :data:`PLACEHOLDER_DATASET`
    for a side on drawn points (bare ``points``: only the fork point, the preset or the
    points posted to the pane hold them); ``fork`` is unused (kept for callers)."""
    return PLACEHOLDER_DATASET if dataset == "points" else dataset


class ForkSides:
    """The :class:`~.compare.CompareWindow`'s fork sides (a mixin: ``panes``, ``both`` and
    the sides' names are the window's).

    Attributes:
        fork_step: the step both branches start at, or ``None`` (not a fork comparison).
        side_names: each side's name, left then right (its curves' label on the other).
    """

    panes: list[Any]
    both: Any
    fork_step: int | None = None
    side_names: tuple[str, str] = ("left", "right")

    def start_from(self, index: int, point: Any, changes: Mapping[str, Any] | None) -> None:
        """Make pane ``index`` (0: left) the branch of ``point`` (a ``ForkPoint``) with
        ``changes`` (live fields); Play both waits until it is there."""
        self.fork_step = int(point.step)
        self.both.waiting.add(index)
        self.panes[index].worker.post(StartFrom(point, dict(changes or {})))
        self.both.refresh()

    def watch_fork(self, index: int) -> None:
        """Follow pane ``index``'s branch: when it starts, and each curves picture it draws
        (shown dashed on the other side)."""
        pane = self.panes[index]
        pane.worker.fork_started.connect(self._fork_started)
        pane.worker.problem.connect(self._fork_problem)
        pane.frame_drawn.connect(weakly(self, lambda w, *_: w.share_curves(index)))

    def _index_of_sender(self) -> int | None:
        sender = self.sender()
        workers = [pane.worker for pane in self.panes]
        return workers.index(sender) if sender in workers else None

    def _fork_started(self, step: int) -> None:
        """A pane's branch is at the fork point: say which side it is; Play both may go."""
        index = self._index_of_sender()
        if index is None:
            return
        self.both.waiting.discard(index)
        other = self.side_names[1 - index]
        self.panes[index].show_banner(
            f"This side: {self.side_names[index]}, from step {step:,}. "
            f"Dashed curves: {other} (the other side).",
            "info",
        )
        self.both.refresh()

    def _fork_problem(self, message: str) -> None:
        """A branch that could not start: the pane keeps its session (its banner says
        why); Play both no longer waits for it."""
        index = self._index_of_sender()
        if index is not None and message.startswith("Cannot start the branch"):
            self.both.waiting.discard(index)
            self.both.refresh()

    def share_curves(self, index: int) -> None:
        """Pane ``index`` drew a frame: its curves picture, if it has one, goes dashed onto
        the other side's Curves view."""
        if len(self.panes) < 2 or self.panes[index].frame is None:
            return
        picture = self.panes[index].frame.snapshot.curves
        if picture is not None:
            other = self.panes[1 - index].views["curves"]
            other.set_other(picture, self.side_names[index], self.fork_step)
