"""The training worker's own thread, and what happens to one that does not stop in time.

A step, a snapshot or a session build can block (a stuck read, a very slow device): the
window never waits for it longer than :data:`STOP_TIMEOUT_MS`. A thread that has not
finished by then is *abandoned*: it is kept referenced here for the rest of the process
(Qt aborts the process when a running ``QThread`` is destroyed), and the app's exit path
(:func:`exit_if_abandoned`, called by :func:`~.main.launch`) ends the process with
``os._exit`` so that no running thread is ever destroyed.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from collections.abc import Iterable

from PySide6.QtCore import QThread

from .worker import TrainingWorker

__all__ = ["WorkerThread", "STOP_TIMEOUT_MS", "stop_threads", "abandoned", "exit_if_abandoned"]

#: how long closing a window waits for its worker threads (all of them together)
STOP_TIMEOUT_MS = 2_000
#: at interpreter exit (no app exit path: a script, a test run), how long an abandoned
#: thread may still take before the process ends without destroying it
_ATEXIT_GRACE_MS = 30_000

#: threads that did not stop in time, kept alive until the process ends
_abandoned: list[WorkerThread] = []


class WorkerThread:
    """A :class:`TrainingWorker` moved to its own ``QThread``; :meth:`stop` joins it, or
    abandons it if it does not finish in time.

    Attributes:
        worker, thread: the worker and its ``QThread``.
        abandoned: :meth:`stop` gave up waiting (the thread may still run).
    """

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        self.abandoned = False

    def start(self) -> None:
        """Start the thread (the worker builds its first session there)."""
        self.thread.start()

    def request_stop(self) -> None:
        """Ask the worker's loop and the thread's event loop to end (returns at once)."""
        if self.thread.isRunning():
            self.worker.request_quit()
            self.thread.quit()

    def stop(self, timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
        """Ask the thread to end and wait up to ``timeout_ms`` for it; returns whether it
        finished. One that did not is abandoned (kept referenced until the process ends);
        a later ``stop`` of an abandoned thread does not wait again."""
        return stop_threads([self], timeout_ms)


def stop_threads(threads: Iterable[WorkerThread], timeout_ms: int = STOP_TIMEOUT_MS) -> bool:
    """Stop ``threads`` together: all are asked first, then all are waited for, up to
    ``timeout_ms`` in all. Returns whether every one finished; those that did not are
    abandoned (see the module's note)."""
    threads = list(threads)
    for t in threads:
        t.request_stop()
    deadline = time.monotonic() + timeout_ms / 1000
    finished = True
    for t in threads:
        if not t.thread.isRunning():
            continue
        left = 0 if t.abandoned else max(0, int((deadline - time.monotonic()) * 1000))
        if t.thread.wait(left):
            continue
        finished = False
        if not t.abandoned:
            t.abandoned = True
            _abandoned.append(t)
            print(
                f"the training thread did not stop within {timeout_ms / 1000:g} s; "
                "it is left to the end of the process",
                file=sys.stderr,
                flush=True,
            )
    return finished


def abandoned() -> list[WorkerThread]:
    """The threads abandoned so far in this process (some may have finished since)."""
    return list(_abandoned)


def exit_if_abandoned(code: int) -> int:
    """Return ``code``; but where a thread was abandoned, flush stdout and stderr and end
    the process at once with ``os._exit(code)``, so that Qt never destroys a running
    ``QThread`` (which aborts the process). Call it after the event loop returned."""
    if _abandoned:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: nothing to keep
                pass
        os._exit(code)
    return code


@atexit.register
def _end_with_abandoned_threads() -> None:
    """A script or test run that abandoned a thread and exits normally: give the thread a
    grace period, then end the process before the interpreter destroys it."""
    running = [t for t in _abandoned if t.thread.isRunning()]
    deadline = time.monotonic() + _ATEXIT_GRACE_MS / 1000
    for t in running:
        t.thread.wait(max(0, int((deadline - time.monotonic()) * 1000)))
    if any(t.thread.isRunning() for t in running):
        print("a training thread still runs at exit: the process ends now", file=sys.stderr)
        exit_if_abandoned(1)
