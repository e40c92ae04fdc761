"""The Compare dialog: what to train beside the current session, a fresh model or a preset
on the same dataset (the shipped ones listed, any other through a file dialog)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["CompareDialog", "compare_options", "matching_presets"]

#: item role: the model name or the preset path the item stands for
CHOICE_ROLE = Qt.ItemDataRole.UserRole


def matching_presets(dataset: str, paths: Iterable[str | Path] | None = None) -> list[Any]:
    """The presets that trained on ``dataset``, as ``PresetInfo`` s, in ``paths`` order.

    Arguments:
        dataset: a dataset spec (``"ring8"``); a preset matches when its spec is the same.
        paths: the presets to look at; default: the shipped ones (``shipped_presets()``).
            One that cannot be read is left out (the gallery says why).
    """
    from ..core.presets import read_preset_info, shipped_presets

    out = []
    for path in shipped_presets() if paths is None else paths:
        try:
            info = read_preset_info(path)
        except Exception:  # noqa: BLE001 - an unreadable preset is simply not offered
            continue
        if info.dataset == dataset:
            out.append(info)
    return out


def compare_options(dataset: str, trainable: Mapping[str, Iterable[str]]) -> list[str]:
    """What the current session on ``dataset`` may be compared with: the models that train
    on its kind of data (``trainable``: model to dataset names, the catalog's), then the
    paths of the shipped presets on ``dataset`` itself."""
    kind = dataset.partition(":")[0]
    models = [m for m, names in trainable.items() if kind in names]
    return [*models, *(str(info.path) for info in matching_presets(dataset))]


class CompareDialog(QDialog):
    """A list of models (a fresh session, step 0) and presets (at their trained step) to
    train beside the current session, and buttons that ask for any other preset.

    Arguments:
        current: the current session's model (for the question).
        dataset: its dataset spec.
        options: model names and preset paths (see :func:`compare_options`); a preset is
            listed by its folder name, title and step.
        others: ``(button text, ask)`` pairs: ``ask() -> path | None`` asks for another
            preset (a folder or a file dialog).
        parent: the owning window.

    Attributes:
        choice: the model name or preset path chosen, or ``None``.
    """

    def __init__(
        self,
        current: str,
        dataset: str,
        options: Iterable[str],
        others: Sequence[tuple[str, Callable[[], str | None]]] = (),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Compare with")
        self.choice: str | None = None
        self.list = QListWidget()
        infos = {str(i.path): i for i in matching_presets(dataset, _paths(options))}
        for option in options:
            info = infos.get(option)
            if info is not None:
                text = f"{Path(option).name}  \u2014  {info.title} (preset, step {info.steps:,})"
                tip = info.description or info.title
            elif _is_path(option):
                continue  # a preset on another dataset, or unreadable: not offered
            else:
                text, tip = f"{option}  (a fresh {option}, step 0)", f"Train a new {option}"
            item = QListWidgetItem(text)
            item.setData(CHOICE_ROLE, option)
            item.setToolTip(tip)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        for text, ask in others:
            other = QPushButton(text)
            other.setToolTip(f"A preset that trained on {dataset}")
            other.clicked.connect(lambda *_, ask=ask: self._other(ask))
            buttons.addButton(other, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Train beside {current} (this session) on {dataset}:"))
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        buttons.accepted.connect(lambda: self._choose(self.list.currentItem()))
        buttons.rejected.connect(self.reject)
        self.list.itemDoubleClicked.connect(self._choose)
        self.resize(560, 420)

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.choice = item.data(CHOICE_ROLE)
            self.accept()

    def _other(self, ask: Callable[[], str | None]) -> None:
        path = ask()
        if path:
            self.choice = path
            self.accept()


def _is_path(option: str) -> bool:
    return "/" in option or "\\" in option or Path(option).suffix == ".dgmpreset"


def _paths(options: Iterable[str]) -> list[str]:
    return [o for o in options if _is_path(o)]
