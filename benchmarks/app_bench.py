"""What the app benchmarks share: driving the Qt event loop from a script and reading this
process's memory. Imported by ``app_overhead.py``, ``gui_latency.py``, ``long_session.py``
and ``window_cycles.py`` (run from the repository root, as their docstrings say)."""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QEventLoop, QTimer

__all__ = ["rss_mb", "spin", "wait_for"]


def rss_mb() -> float:
    """This process's resident set size in MB (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def spin(ms: int) -> None:
    """Run the Qt event loop for ``ms`` (``QEventLoop.exec`` lets the worker threads run)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(predicate, timeout_s: float = 60.0) -> None:
    """Spin the event loop until ``predicate()`` holds.

    Raises:
        TimeoutError: it did not hold within ``timeout_s`` seconds.
    """
    end = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > end:
            raise TimeoutError("the app did not get there in time")
        spin(20)
