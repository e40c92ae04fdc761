"""The training worker's own thread."""

from __future__ import annotations

from PySide6.QtCore import QThread

from .worker import TrainingWorker

__all__ = ["WorkerThread"]


class WorkerThread:
    """A :class:`TrainingWorker` moved to its own ``QThread``; :meth:`stop` joins it."""

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)

    def start(self) -> None:
        """Start the thread (the worker builds its first session there)."""
        self.thread.start()

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Quit flag, ``QThread.quit()``, ``wait()``: returns whether the thread finished."""
        if not self.thread.isRunning():
            return True
        self.worker.request_quit()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
