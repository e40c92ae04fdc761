"""Snapshot delivery: frames, and the thread that computes them beside training."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Frame", "Progress", "Snapshotter"]


@dataclass(frozen=True)
class Frame:
    """The newest snapshot and the worker's state when it was taken.

    Attributes:
        snapshot: a core ``Snapshot`` (numpy arrays only).
        steps_per_second: training throughput over the last two seconds (0 when paused).
        playing: whether training runs.
        generation: counts session restarts (reset, seed, rebuild), so views drop the
            previous run's pictures and curves.
    """

    snapshot: Any
    steps_per_second: float
    playing: bool
    generation: int


@dataclass(frozen=True)
class Progress:
    """The worker's state between frames, a few times a second while training plays or a
    picture is being computed: the step counter moves even while a costly picture is late.

    Attributes:
        step: the session's step count.
        steps_per_second: training throughput over the last two seconds (0 when paused).
        playing: whether training runs.
        terms: the latest loss terms.
        computing: what the snapshot thread computes now (``samples: annealed Langevin,
            level 6 of 15, step 40 of 150``), or ``""``.
        generation: as :attr:`Frame.generation`.
    """

    step: int
    steps_per_second: float
    playing: bool
    terms: Any
    computing: str
    generation: int


class Snapshotter(threading.Thread):
    """Runs snapshot and evaluation jobs one at a time on its own thread (so on the other
    core), each on a :class:`~playground.core.sampling.budget.Budget` that carries its
    progress (:attr:`progress`) and can stop it (:meth:`cancel`).

    A job is ``job(budget) -> value``; a value that is not ``None`` is delivered.

    Arguments:
        deliver: called with each job's value.
        report: called with a message when a job fails.
        torch_threads: ``torch.set_num_threads`` of this thread.

    Attributes:
        cost: CPU seconds per picture job, averaged over the last few.
    """

    def __init__(self, deliver: Callable, report: Callable, torch_threads: int | None = None):
        super().__init__(name="snapshots", daemon=True)
        self._deliver, self._report, self._threads = deliver, report, torch_threads
        self._cond = threading.Condition()
        self._job: tuple[Callable[[Any], Any], str, bool, bool] | None = None
        self._busy = self._stopping = False
        self._cancel = threading.Event()
        self._what = ""
        self._progress = ""
        self.running_kind = ""  # "picture" or "evaluation" while one runs
        self.cost = 0.0

    @property
    def idle(self) -> bool:
        """No job is running or waiting."""
        with self._cond:
            return self._job is None and not self._busy

    @property
    def progress(self) -> str:
        """What the running job computes now (``samples: annealed Langevin, level 6 of
        15, step 40 of 150``), or ``""`` when idle."""
        with self._cond:
            if not self._busy:
                return ""
            return f"{self._what}: {self._progress}" if self._progress else self._what

    def forget_cost(self) -> None:
        """Start :attr:`cost` afresh (other pictures are asked for from now on)."""
        self.cost = 0.0

    def submit(
        self,
        job: Callable[[Any], Any],
        what: str,
        quick: bool = False,
        kind: str = "picture",
    ) -> None:
        """Queue ``job``, replacing one that waits.

        Arguments:
            job: ``job(budget) -> value or None``.
            what: what it computes, for :attr:`progress` (``samples``).
            quick: run it on a quick budget (a preview, see
                :mod:`playground.core.sampling.budget`).
            kind: ``picture`` (its CPU time counts in :attr:`cost`) or ``evaluation``.
        """
        with self._cond:
            self._job = (job, what, quick, kind == "picture")
            self._cond.notify()

    def cancel(self, kind: str | None = None) -> None:
        """Drop a waiting job and stop the running one at its next progress report (only
        if it is of ``kind``, when given)."""
        with self._cond:
            if kind is None or kind == "picture":
                self._job = None
            if self._busy and (kind is None or kind == self.running_kind):
                self._cancel.set()

    def stop(self) -> None:
        """Stop the running job, drop a waiting one, join."""
        with self._cond:
            self._stopping, self._job = True, None
            self._cancel.set()
            self._cond.notify()
        if self.is_alive():
            self.join()

    def _set_progress(self, text: str) -> None:
        self._progress = text

    def run(self) -> None:
        """Wait for a job, run it, deliver its value; until :meth:`stop`."""
        import torch

        from ..core.sampling.budget import Budget, Cancelled, working

        if self._threads:
            torch.set_num_threads(self._threads)
        while True:
            with self._cond:
                while self._job is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                (job, what, quick, counted), self._job = self._job, None
                self._busy, self._what, self._progress = True, what, ""
                self.running_kind = "picture" if counted else "evaluation"
                self._cancel.clear()
            budget = Budget(quick, self._set_progress, self._cancel.is_set)
            try:
                start = time.thread_time()
                with working(budget):
                    value = job(budget)
                cost = time.thread_time() - start
                if counted:
                    self.cost = cost if self.cost == 0 else 0.7 * self.cost + 0.3 * cost
                if value is not None:
                    self._deliver(value)
            except Cancelled:
                pass  # no longer wanted: a newer job follows
            except Exception as e:  # noqa: BLE001 - a failed picture must not end the thread
                self._report(f"Snapshot failed: {type(e).__name__}: {e}")
            finally:
                with self._cond:
                    self._busy, self.running_kind = False, ""
