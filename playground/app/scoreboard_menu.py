"""The main window's Scoreboard… and Run scoreboard… actions: open a scoreboard folder, or ask
for a dataset and minutes per model and run the scoreboard command, each in a
:class:`~.scoreboard_window.ScoreboardWindow`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QMenu,
    QWidget,
)

from .qt_util import weakly
from .scoreboard_window import ScoreboardWindow, default_out

__all__ = ["RunDialog", "ScoreboardMenu", "add_scoreboard_actions"]


class RunDialog(QDialog):
    """Asks for a scoreboard run: the dataset (an editable list; default the session's),
    the minutes per model and the output folder (it follows the dataset until edited)."""

    def __init__(self, datasets: list[str], dataset: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Run scoreboard")
        self.dataset = QComboBox()
        self.dataset.setEditable(True)
        self.dataset.addItems(datasets)
        self.dataset.setCurrentText(dataset)
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.05, 600.0)
        self.minutes.setDecimals(2)
        self.minutes.setSingleStep(0.5)
        self.minutes.setValue(1.0)
        self.minutes.setSuffix(" min")
        self.models = QLineEdit()
        self.models.setPlaceholderText("all that train on the dataset")
        self.models.setToolTip("Comma-separated model names, e.g. gan,realnvp,vae")
        self.out = QLineEdit(str(default_out(dataset)))
        self._out_edited = False
        self.out.textEdited.connect(lambda *_: setattr(self, "_out_edited", True))
        self.dataset.currentTextChanged.connect(self._follow)
        form = QFormLayout(self)
        form.addRow("Dataset", self.dataset)
        form.addRow("Minutes per model", self.minutes)
        form.addRow("Models", self.models)
        form.addRow("Output folder", self.out)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _follow(self, dataset: str) -> None:
        if not self._out_edited:
            self.out.setText(str(default_out(dataset)))

    def choice(self) -> tuple[str, float, str, list[str]]:
        """``(dataset, minutes, out, models)`` as entered (no models: all of them)."""
        models = [m.strip() for m in self.models.text().split(",") if m.strip()]
        dataset, out = self.dataset.currentText().strip(), self.out.text().strip()
        return dataset, self.minutes.value(), out, models


class ScoreboardMenu(QObject):
    """The File menu's Scoreboard… and Run scoreboard… actions of a main window, and the
    scoreboard windows they opened (kept until closed).

    Attributes:
        windows: the open scoreboard windows.
        choose_folder: ``choose_folder() -> path | None`` (tests replace it).
        choose_run: ``choose_run() -> (dataset, minutes, out, models) | None`` (tests
            replace it).
    """

    def __init__(self, menu: QMenu, window: Any):
        super().__init__(window)
        self.window = window
        self.windows: list[ScoreboardWindow] = []
        self.choose_folder = self.ask_folder
        self.choose_run = self.ask_run
        opened = menu.addAction("Score&board\u2026")
        opened.triggered.connect(weakly(self, lambda m, *_: m.open_chosen()))
        run = menu.addAction("R&un scoreboard\u2026")
        run.triggered.connect(weakly(self, lambda m, *_: m.run_chosen()))
        self.actions = (opened, run)
        app = QCoreApplication.instance()
        if app is not None:  # the app may end with os._exit: no run outlives it
            app.aboutToQuit.connect(weakly(self, lambda m, *_: m.stop_all()))

    def stop_all(self) -> None:
        """Kill the runs of every scoreboard window opened from here."""
        for tool in self.windows:
            tool.stop()

    def new_window(self) -> ScoreboardWindow:
        """A new scoreboard window, kept until it closes."""
        tool = ScoreboardWindow()
        tool.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        tool.closed.connect(self._forget)
        self.windows.append(tool)
        screen = self.window.screen() if self.window is not None else None
        if screen is not None:
            area = screen.availableGeometry()
            tool.resize(min(1300, area.width() - 40), min(720, area.height() - 40))
        tool.show()
        return tool

    def _forget(self, tool: ScoreboardWindow) -> None:
        self.windows = [w for w in self.windows if w is not tool]

    def ask_folder(self) -> str | None:
        """Ask for a scoreboard folder (starting in ``scoreboards/``)."""
        start = Path.cwd() / "scoreboards"
        path = QFileDialog.getExistingDirectory(
            self.window, "Open a scoreboard folder", str(start if start.is_dir() else Path.cwd())
        )
        return path or None

    def ask_run(self) -> tuple[str, float, str, list[str]] | None:
        """Ask for a dataset, minutes per model, output folder and models
        (:class:`RunDialog`)."""
        from ..core.data import DATASETS, IMAGE_DATASETS

        info = getattr(self.window, "info", None)
        dataset = info.dataset if info is not None else "moons"
        names = [*DATASETS, *(n for n in IMAGE_DATASETS if n != "folder")]
        dialog = RunDialog(names, dataset, self.window)
        try:
            return dialog.choice() if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def open_chosen(self) -> ScoreboardWindow | None:
        """Ask for a folder and open it in a new scoreboard window."""
        path = self.choose_folder()
        if not path:
            return None
        tool = self.new_window()
        tool.open_folder(path)
        return tool

    def run_chosen(self) -> ScoreboardWindow | None:
        """Ask for a run and start it in a new scoreboard window (a bad choice: a banner)."""
        choice = self.choose_run()
        if not choice:
            return None
        dataset, minutes, out, models = choice
        tool = self.new_window()
        try:
            tool.run(dataset, minutes, out or default_out(dataset), models)
        except ValueError as e:
            tool.show_banner(f"Cannot run the scoreboard: {e}", "error")
        return tool


def add_scoreboard_actions(menu: QMenu, window: Any) -> ScoreboardMenu:
    """Add Scoreboard… and Run scoreboard… to ``menu`` of ``window``; returns their owner
    (a child of ``window``)."""
    return ScoreboardMenu(menu, window)
