"""What every view is: a widget that draws the pictures of a :class:`Snapshot` it is given,
named like the core picture it draws, and never calls the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from ...core.snapshots import Snapshot

__all__ = ["View"]


class View(QWidget):
    """Base class of the views: one tab of the window, one picture of the core.

    A subclass sets :attr:`name` (its picture in :data:`playground.core.snapshots.PICTURES`),
    :attr:`title` (its tab), and :attr:`parts` when it reads more pictures than its own
    (the critic view: the generator's gradients too), and implements
    ``show_snapshot(snapshot)`` (draw the view's pictures of a :class:`Snapshot`) and
    ``clear()`` (forget the session's picture: a new model, dataset or reset is coming);
    ``tests/test_architecture.py`` checks that every view of the list has both.

    Signals:
        parts_changed(): the pictures it needs changed (a toggle); the window asks the
            worker for :meth:`snapshot_parts` again.
        command(object): a command for the worker (a typed message of
            :mod:`playground.app.commands`), posted as is by the window.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: every picture the view may read (default: its own)
    parts: ClassVar[tuple[str, ...]] = ()

    parts_changed = Signal()
    command = Signal(object)

    @classmethod
    def reads(cls) -> tuple[str, ...]:
        """Every picture the view may read: :attr:`parts`, or its own picture."""
        return cls.parts or (cls.name,)

    def snapshot_parts(self) -> tuple[str, ...]:
        """The pictures to ask the worker for now (default: :meth:`reads`)."""
        return self.reads()

    def accepts(self, snapshot: Snapshot) -> bool:
        """Whether ``snapshot`` was made for this view and has its picture."""
        return snapshot.made_for(self.name) and snapshot.parts.get(self.name) is not None
