"""The model and dataset the user chose: shown at once, applied as one command each time.

The worker answers a :class:`~.commands.Rebuild` a moment later (a new model takes a
second to build), and while training plays the user may pick a dataset right after a
model. So the window keeps the user's latest choice here, not the worker's last answer:
the dataset picker lists the chosen model's datasets at once, and a dataset picked next
is posted with the chosen model, never with the model the worker still trains.

A choice that would replace a trained, unsaved session asks first (``window.confirm``,
through the :class:`~.session_guard.SessionGuard`); a No keeps the session and shows it
in the pickers again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from .commands import Rebuild

__all__ = ["SessionChoice", "ask_folder", "ask_points"]


class SessionChoice(QObject):
    """The session picker's choices of a main window (a part it owns: ``window.choice``).

    Arguments:
        window: the :class:`~.main_window.MainWindow` (its ``session_panel``, ``info``,
            ``worker``, ``choose_folder`` and :meth:`post`).
        model, dataset: the first session's.

    Attributes:
        chosen: the ``(model, dataset)`` the user chose last, while the worker has not yet
            answered every rebuild posted; ``None`` once it has.
    """

    def __init__(self, window: Any, model: str, dataset: str):
        super().__init__(window)
        self.window = window
        self.chosen: tuple[str, str] | None = None
        self._first = (model, dataset)
        self._posted = 0  # rebuilds posted; the worker counts those it applied
        panel = window.session_panel
        panel.model_chosen.connect(self.choose_model)
        panel.dataset_chosen.connect(self.choose_dataset)

    @property
    def current(self) -> tuple[str, str]:
        """The ``(model, dataset)`` the next choice builds on: the user's latest choice,
        else the worker's session, else the first session asked for."""
        if self.chosen is not None:
            return self.chosen
        info = self.window.info
        return (info.model, info.dataset) if info is not None else self._first

    def choose_model(self, model: str) -> None:
        """Train ``model``, on the current dataset if it trains on it, else on the first
        dataset of its list."""
        if not self._may_replace():
            return
        datasets = self.window.session_panel.datasets_for(model)
        current = self.current[1]
        dataset = current if current in datasets or not datasets else datasets[0]
        self._apply(model, dataset)

    def choose_dataset(self, dataset: str) -> None:
        """Train the chosen model on ``dataset``; ``folder`` first asks which folder and
        what size, ``points`` which CSV file of 2D points (cancelled: nothing changes; a
        file that is refused: the worker's message, and the session on screen stays)."""
        if dataset == "points":
            path = self.window.choose_points()
            if not path:
                self.show()
                return
            dataset = f"points:path={path}"
        if dataset == "folder":
            chosen = self.window.choose_folder()
            if chosen is None:
                self.show()
                return
            path, size = chosen
            dataset = f"folder:path={path},size={size}"
        if not self._may_replace():
            return
        self._apply(self.current[0], dataset)

    def session_changed(self, info: Any) -> None:
        """The worker's session changed (``info``): show it, unless the user has chosen
        something the worker has not applied yet."""
        if self.chosen is not None and self.window.worker.rebuilds_applied >= self._posted:
            self.chosen = None
        if self.chosen is None:
            panel = self.window.session_panel
            panel.show_session(info.model, info.dataset, info.device, info.datasets)
        else:
            self.show()

    def show(self) -> None:
        """Show :attr:`current` in the pickers (the model's own dataset list), silently."""
        model, dataset = self.current
        panel = self.window.session_panel
        panel.show_choice(model, dataset, panel.datasets_for(model))

    def _may_replace(self) -> bool:
        """Whether the session may be replaced: asked over a trained, unsaved one (not
        again while a choice already agreed to is on its way); a No shows it again."""
        if self.chosen is not None or self.window.presets.guard.allow_replace():
            return True
        self.show()
        return False

    def _apply(self, model: str, dataset: str) -> None:
        self.chosen = (model, dataset)
        self.show()
        self._posted += 1
        self.window.post(Rebuild(model, dataset))


def ask_folder(parent: QWidget) -> tuple[str, int] | None:
    """Ask for a folder of images and the size to resize them to (two dialogs)."""
    path = QFileDialog.getExistingDirectory(parent, "A folder of PNG or JPEG images")
    if not path:
        return None
    size, ok = QInputDialog.getInt(
        parent, "Image size", "Resize images to (pixels per side):", 16, 4, 64
    )
    return (path, size) if ok else None


def ask_points(parent: QWidget) -> str | None:
    """Ask for a CSV file of 2D points (two numeric columns ``x1,x2``, header optional)."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "A CSV file of 2D points (x1,x2 rows)", "", "CSV files (*.csv *.txt);;All files (*)"
    )
    return path or None
