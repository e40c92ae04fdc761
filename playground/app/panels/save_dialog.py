"""The Save preset dialog: where (a bundle or a folder), a title and a description."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["SaveChoice", "SaveDialog", "ask_save"]

#: kind combo entries: label, whether it is a bundle (one ``.dgmpreset`` file)
KIND_CHOICES = (("one file (.dgmpreset bundle)", True), ("a folder", False))


@dataclass(frozen=True)
class SaveChoice:
    """Where to save the session, and the title and description its preset carries."""

    path: str
    title: str
    description: str


class SaveDialog(QDialog):
    """Ask where to save the session as a preset, with its title and description.

    Arguments:
        folder: the folder the path starts in.
        name: the preset's file or folder name, without suffix.
        title, description: the fields' first text (the open preset's, or
            ``"MODEL on DATASET"`` and the step).
        title_max, description_max: the longest title and description a preset may
            have (:mod:`playground.core.preset_schema`).
        parent: the window.

    Attributes:
        path, kind, title, description: the fields; :meth:`choice` reads them.
    """

    def __init__(
        self,
        folder: str,
        name: str,
        title: str,
        description: str,
        title_max: int,
        description_max: int,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Save preset as")
        self.setMinimumWidth(560)
        self._description_max = description_max
        self.kind = QComboBox()
        for label, bundle in KIND_CHOICES:
            self.kind.addItem(label, bundle)
        self.path = QLineEdit(str(Path(folder) / f"{name}.dgmpreset"))
        self.browse = QPushButton("Browse\u2026")
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(self.browse)
        self.title = QLineEdit(title[:title_max])
        self.title.setMaxLength(title_max)
        self.description = QPlainTextEdit(description[:description_max])
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.description.fontMetrics().lineSpacing() * 4 + 12)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout()
        form.addRow("Save as:", self.kind)
        form.addRow("Path:", where)
        form.addRow("Title:", self.title)
        form.addRow("Description:", self.description)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.browse.clicked.connect(self._on_browse)
        self.path.textChanged.connect(self._check)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._check()

    @property
    def bundle(self) -> bool:
        """Whether the preset is written as one ``.dgmpreset`` file (else a folder)."""
        return bool(self.kind.currentData())

    def choice(self) -> SaveChoice:
        """The fields as a :class:`SaveChoice` (a bundle's path ends in ``.dgmpreset``)."""
        path = Path(self.path.text().strip()).expanduser()
        if self.bundle and path.suffix != ".dgmpreset":
            path = path.with_name(path.name + ".dgmpreset")
        elif not self.bundle and path.suffix == ".dgmpreset":
            path = path.with_suffix("")
        text = self.description.toPlainText().strip()[: self._description_max]
        return SaveChoice(str(path), self.title.text().strip(), text)

    def _on_kind(self, *_: object) -> None:
        text = self.path.text().strip()
        if text:
            self.path.setText(self.choice().path)

    def _on_browse(self) -> None:
        start = self.path.text().strip()
        if self.bundle:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save preset bundle", start, "Preset bundle (*.dgmpreset)"
            )
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Save preset folder", start, "")
        if chosen:
            self.path.setText(chosen)
            self.path.setText(self.choice().path)

    def _check(self, *_: object) -> None:
        ok = bool(self.path.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(ok)


def ask_save(parent: QWidget, info: Any, step: int, preset: Any = None) -> SaveChoice | None:
    """Ask where to save a session, with its title and description; ``None``: cancelled.

    Arguments:
        parent: the window.
        info: the session's :class:`~..commands.SessionInfo` (``None``: none built yet).
        step: its step.
        preset: the :class:`~playground.core.presets.PresetInfo` it was opened from and
            still is, or ``None``: its title and description come first, else
            ``"MODEL on DATASET"`` and the step.
    """
    from ...core.preset_schema import DESCRIPTION_MAX_CHARS, TITLE_MAX_CHARS

    if preset is not None:
        title, description = preset.title, preset.description or ""
    elif info is not None:
        title, description = f"{info.model} on {info.dataset}", f"step {step:,}"
    else:
        title, description = "", ""
    name = f"{info.model}-{info.dataset}-step{step}" if info is not None else "preset"
    location = QStandardPaths.StandardLocation.DocumentsLocation
    folder = QStandardPaths.writableLocation(location) or str(Path.home())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    dialog = SaveDialog(
        folder, safe, title, description, TITLE_MAX_CHARS, DESCRIPTION_MAX_CHARS, parent
    )
    try:
        return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
