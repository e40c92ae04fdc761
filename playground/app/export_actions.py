"""The File menu's Export as Python script… and Export as notebook… actions (see
:mod:`playground.core.training.export`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMenu

from ..core.training.export import SessionRecipe, write_notebook, write_script
from .qt_util import weakly

__all__ = ["ExportActions", "add_export_actions"]

#: format name to (dialog title, file filter, suffix, writer)
_FORMATS = {
    "script": (
        "Export as Python script",
        "Python scripts (*.py);;All files (*)",
        ".py",
        write_script,
    ),
    "notebook": (
        "Export as notebook",
        "Jupyter notebooks (*.ipynb);;All files (*)",
        ".ipynb",
        write_notebook,
    ),
}


class ExportActions(QObject):
    """Export the window's session as a script or a notebook that retrains it headless.

    The GUI thread never touches the worker's session: the recipe comes from what the
    worker already sent the window (``window.info``: model, dataset, seed, device;
    ``window.config``: the current hyperparameters; ``window.step``: the step of the
    picture on show).

    Attributes:
        actions: the two menu actions (script, notebook).
        choose_path: ``choose_path(kind) -> path | None`` with kind ``script`` or
            ``notebook`` (a save dialog; tests replace it).
        last_path: the file last written, or ``None``.
    """

    def __init__(self, menu: QMenu, window: Any):
        super().__init__(window)
        self.window = window
        self.choose_path = self.ask_path
        self.last_path: Path | None = None
        script = menu.addAction("Export as &Python script\u2026")
        script.triggered.connect(weakly(self, lambda m, *_: m.export("script")))
        notebook = menu.addAction("Export as &notebook\u2026")
        notebook.triggered.connect(weakly(self, lambda m, *_: m.export("notebook")))
        self.actions = (script, notebook)

    def recipe(self) -> SessionRecipe | None:
        """The window's session as a :class:`SessionRecipe`, or ``None`` before the worker
        has described one."""
        from ..core import hyperparameters as hpm

        info = getattr(self.window, "info", None)
        if info is None:
            return None
        config = getattr(self.window, "config", None) or info.config
        return SessionRecipe(
            info.model,
            info.dataset,
            int(info.seed),
            int(getattr(self.window, "step", 0)),
            hpm.to_dict(config),
            str(info.device),
            getattr(info, "points", None),  # drawn or imported points: a CSV beside it
        )

    def ask_path(self, kind: str) -> str | None:
        """Ask where to save the ``kind`` export (a save dialog)."""
        title, filters, suffix, _ = _FORMATS[kind]
        info = getattr(self.window, "info", None)
        name = f"{info.model}_{info.dataset.split(':')[0]}{suffix}" if info else f"session{suffix}"
        path, _ = QFileDialog.getSaveFileName(self.window, title, str(Path.cwd() / name), filters)
        return path or None

    def export(self, kind: str) -> Path | None:
        """Ask for a path and write the ``kind`` (``script`` or ``notebook``) export there.
        A failure (no session yet, an unwritable path) is shown in the window's banner;
        returns the written path, or ``None``."""
        recipe = self.recipe()
        if recipe is None:
            self._tell("There is no session to export yet.", "warning")
            return None
        chosen = self.choose_path(kind)
        if not chosen:
            return None
        path = Path(chosen)
        suffix, writer = _FORMATS[kind][2], _FORMATS[kind][3]
        if not path.suffix:
            path = path.with_suffix(suffix)
        try:
            writer(recipe, path)
        except OSError as error:
            self._tell(f"Could not export to {path}: {error.strerror or error}", "error")
            return None
        self.last_path = path
        self._tell(f"Exported {recipe.model} at step {recipe.steps} to {path}", "info")
        return path

    def _tell(self, text: str, kind: str) -> None:
        show = getattr(self.window, "show_banner", None)
        if show is not None:
            show(text, kind)


def add_export_actions(menu: QMenu, window: Any) -> ExportActions:
    """Add the two export actions to ``menu`` (the File menu of ``window``)."""
    return ExportActions(menu, window)
