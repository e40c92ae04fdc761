"""Small Qt helpers shared by the window, the panels and the views."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject

__all__ = ["signals_blocked"]


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
