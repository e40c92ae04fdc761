"""Small Qt helpers shared by the window, the panels and the views."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject

__all__ = ["signals_blocked", "GuiThreadCollector"]


@contextmanager
def signals_blocked(*objects: QObject) -> Iterator[None]:
    """Block the signals of ``objects`` inside a ``with`` (napari's ``qt_signals_blocked``),
    e.g. while a widget mirrors the model, so the change is not sent back as a user's edit.

    On leaving, even by an exception, each object's previous state is restored: blocks nest,
    and an object that was blocked before stays blocked.

    Arguments:
        objects: widgets, actions or any ``QObject``.
    """
    previous = [o.blockSignals(True) for o in objects]
    try:
        yield
    finally:
        for o, old in zip(objects, previous, strict=True):
            o.blockSignals(old)


class GuiThreadCollector:
    """Python's cyclic garbage collected on the GUI thread only, while a window is open.

    Left automatic, a collection runs in whichever thread happens to allocate: the training
    or the snapshot thread (importing torch's compiler stack, building a model) then frees
    Qt wrappers of the GUI thread's plots, and PySide can deadlock or crash there (seen as
    a test run that hung with the worker inside an import and the GUI inside a Qt call).
    pyqtgraph's :class:`~pyqtgraph.util.garbage_collector.GarbageCollector` disables the
    automatic collection and collects from a timer on the GUI thread instead; this keeps
    one for as long as any window holds it and turns automatic collection back on after the
    last one lets go.
    """

    #: seconds between two checks of the collector's counts on the GUI thread
    INTERVAL = 0.5
    _holders = 0
    _collector = None

    @classmethod
    def acquire(cls) -> None:
        """Start collecting on the GUI thread (call it on the GUI thread)."""
        if cls._holders == 0:
            from pyqtgraph.util.garbage_collector import GarbageCollector

            cls._collector = GarbageCollector(interval=cls.INTERVAL)
        cls._holders += 1

    @classmethod
    def release(cls) -> None:
        """Let go; after the last holder, automatic collection is on again."""
        if cls._holders == 0:
            return
        cls._holders -= 1
        if cls._holders == 0:
            cls._collector.timer.stop()
            cls._collector = None
            gc.enable()

    @classmethod
    def active(cls) -> bool:
        """Whether collection runs on the GUI thread now (automatic collection is off)."""
        return cls._holders > 0 and not gc.isenabled()
