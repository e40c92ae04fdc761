"""Small Qt helpers shared by the window, the panels and the views."""

from __future__ import annotations

import ctypes
import gc
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer, qInstallMessageHandler

__all__ = [
    "quiet_platform_notices",
    "signals_blocked",
    "weakly",
    "delete_later",
    "release_memory",
    "GuiThreadCollector",
]


#: Qt's notices that say nothing to a user (the offscreen platform, used for previews and
#: recordings without a display, prints this one each time a window is shown)
PLATFORM_NOTICES = ("This plugin does not support propagateSizeHints()",)
_quiet_installed = False


def quiet_platform_notices() -> None:
    """Drop Qt's :data:`PLATFORM_NOTICES` from stderr; every other Qt message is printed as
    Qt prints it (one line). Safe to call more than once."""
    global _quiet_installed
    if _quiet_installed:
        return
    _quiet_installed = True
    previous = None

    def handler(mode, context, message: str) -> None:
        if message in PLATFORM_NOTICES:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)


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


def weakly(owner: object, slot: Callable[..., object]) -> Callable[..., None]:
    """``slot(owner, *args)`` as a slot that holds ``owner`` by a weak reference.

    A lambda that names a window, connected to a signal of one of the window's widgets,
    keeps the window's Python object alive from inside Qt, where the garbage collector
    cannot see it: a closed window was never freed, with its session and plots (about
    30 MB a window). Connect ``weakly(self, lambda w, on: w.post(...))`` instead (or a
    bound method, which PySide holds weakly). Once ``owner`` is gone the slot does nothing.
    """
    ref = weakref.ref(owner)

    def call(*args: object) -> None:
        target = ref()
        if target is not None:
            slot(target, *args)

    return call


#: Python objects kept until a widget that Qt deletes later is destroyed (see delete_later)
_kept: dict[int, object] = {}


def delete_later(part: QObject, keep: object | None = None) -> None:
    """``part.deleteLater()``, keeping ``keep`` (default: ``part`` itself) referenced until
    Qt has destroyed ``part``.

    A closed window's plots must be deleted by Qt, while their Python objects are whole:
    left to Python's collector, a window's cycle is emptied first (pyqtgraph's items lose
    their attributes) and Qt, deleting the C++ tree afterwards, calls their overrides
    (``boundingRect``, ``sizeHint``), which fail. Keeping the window referenced until its
    parts are gone stops the collector from getting there first. Once they are gone,
    :func:`release_memory` runs from the event loop.
    """
    key = id(part)
    _kept[key] = part if keep is None else keep

    def gone(*_: object) -> None:
        _kept.pop(key, None)
        QTimer.singleShot(0, release_memory)

    part.destroyed.connect(gone)
    part.deleteLater()


def release_memory() -> None:
    """Collect the garbage (call it on the GUI thread) and give the C heap's free memory
    back to the system (glibc's ``malloc_trim``; elsewhere the collection only).

    A closed window frees its session and plots, but glibc keeps the freed pages of its
    heaps: without the trim, 50 open/close cycles of a Compare window still grew RSS by
    about 15% with nothing left referenced (``benchmarks/window_cycles.md``).
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to trim
            pass


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
