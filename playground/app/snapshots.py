"""Snapshot delivery: frames, and the thread that computes them beside training."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Frame", "Snapshotter"]


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


class Snapshotter(threading.Thread):
    """Runs snapshot jobs one at a time on its own thread (so on the other core).

    Arguments:
        deliver: called with each job's frame.
        report: called with a message when a job fails.
        torch_threads: ``torch.set_num_threads`` of this thread.
    """

    def __init__(self, deliver: Callable, report: Callable, torch_threads: int | None = None):
        super().__init__(name="snapshots", daemon=True)
        self._deliver, self._report, self._threads = deliver, report, torch_threads
        self._cond = threading.Condition()
        self._job: Callable[[], Frame] | None = None
        self._busy = self._stopping = False
        self.cost = 0.0  # CPU seconds per job, averaged over the last few

    @property
    def idle(self) -> bool:
        """No job is running or waiting."""
        with self._cond:
            return self._job is None and not self._busy

    def forget_cost(self) -> None:
        """Start :attr:`cost` afresh (other pictures are asked for from now on)."""
        self.cost = 0.0

    def submit(self, job: Callable[[], Frame]) -> None:
        """Queue ``job``, replacing one that waits."""
        with self._cond:
            self._job = job
            self._cond.notify()

    def stop(self) -> None:
        """Finish the running job, drop a waiting one, join."""
        with self._cond:
            self._stopping, self._job = True, None
            self._cond.notify()
        if self.is_alive():
            self.join()

    def run(self) -> None:
        """Wait for a job, run it, deliver its frame; until :meth:`stop`."""
        import torch

        if self._threads:
            torch.set_num_threads(self._threads)
        while True:
            with self._cond:
                while self._job is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job, self._job, self._busy = self._job, None, True
            try:
                start = time.thread_time()
                frame = job()
                cost = time.thread_time() - start
                self.cost = cost if self.cost == 0 else 0.7 * self.cost + 0.3 * cost
                self._deliver(frame)
            except Exception as e:  # noqa: BLE001 - a failed picture must not end the thread
                self._report(f"Snapshot failed: {type(e).__name__}: {e}")
            finally:
                with self._cond:
                    self._busy = False
