"""Reading and writing CSV files of 2D points off the GUI thread: a million rows take
seconds to parse or format (about 20 s and 12 s on the shared 2-core machine), which
would freeze the window if done in a slot."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

__all__ = ["PointFiles"]


class PointFiles(QObject):
    """One CSV read or write at a time, on a daemon thread; the answer comes back as a
    signal, queued to the GUI thread (this object lives there).

    Signals:
        loaded(str, object): the path read and its points (``(n, 2)`` float32 numpy), or
            the refusal's one-line message (a ``str``: see
            :func:`~playground.core.data.points.read_points_csv`).
        written(str, object): the path written and ``None``, or the error's message.

    Attributes:
        busy: the path being read or written, or ``None``.
    """

    loaded = Signal(str, object)
    written = Signal(str, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.busy: str | None = None

    def read(self, path: str) -> bool:
        """Start reading ``path``; ``False`` if a file is already being read or written."""
        from ..core.data.points import read_points_csv  # here: torch loads after the window

        return self._start(path, lambda: read_points_csv(path).numpy(), self.loaded)

    def write(self, path: str, points: Any) -> bool:
        """Start writing ``points`` (``(n, 2)``; copied now) to ``path``; ``False`` if a
        file is already being read or written."""
        import torch

        from ..core.data.points import write_points_csv

        if isinstance(points, torch.Tensor):
            points = points.detach().cpu().numpy()
        array = np.array(points, dtype=np.float32)

        def run() -> None:
            write_points_csv(path, array)

        return self._start(path, run, self.written)

    def _start(self, path: str, work: Callable[[], Any], signal: Any) -> bool:
        if self.busy is not None:
            return False
        self.busy = path

        from ..core.files import FileRefusedError

        def run() -> None:
            try:
                result: Any = work()
            except (FileRefusedError, ValueError, OSError) as e:
                result = str(e)
            except Exception as e:  # noqa: BLE001 - the thread must answer, whatever failed
                result = f"{path}: {type(e).__name__}: {e}"
            try:
                self.busy = None
                signal.emit(path, result)
            except RuntimeError:  # the window closed meanwhile: nobody to tell
                pass

        threading.Thread(target=run, name="point-files", daemon=True).start()
        return True
