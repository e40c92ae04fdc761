"""The session panel: model, dataset and device pickers."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QWidget

from ..qt_util import signals_blocked

__all__ = ["SessionPanel"]


class SessionPanel(QGroupBox):
    """Pickers filled from the worker's catalog; the dataset list follows the model.

    Signals fire only for user choices: :meth:`show_session` blocks them while it
    mirrors the worker's session, so nothing loops.
    """

    model_chosen = Signal(str)
    dataset_chosen = Signal(str)
    device_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Session", parent)
        self.model = QComboBox()
        self.dataset = QComboBox()
        self.device = QComboBox()
        self.model.setToolTip("The generative model (changing it starts a new session)")
        self.dataset.setToolTip("The target: only the datasets this model can train on")
        self.device.setToolTip("Where training runs; it continues from the same step")
        layout = QFormLayout(self)
        layout.addRow("Model", self.model)
        layout.addRow("Dataset", self.dataset)
        layout.addRow("Device", self.device)
        self._catalog: dict[str, Any] = {}
        self.setEnabled(False)
        self.model.activated.connect(lambda _: self.model_chosen.emit(self.model.currentData()))
        self.dataset.activated.connect(
            lambda _: self.dataset_chosen.emit(self.dataset.currentData())
        )
        self.device.activated.connect(lambda _: self.device_chosen.emit(self.device.currentText()))

    def set_catalog(self, catalog: dict[str, Any]) -> None:
        """Fill the model and device lists (``catalog`` as made by the worker)."""
        self._catalog = catalog
        with signals_blocked(self.model, self.device):
            self.model.clear()
            for name, info in catalog["models"].items():
                self.model.addItem(name, name)
                self.model.setItemData(self.model.count() - 1, info["description"], _TOOLTIP)
            self.device.clear()
            self.device.addItems(catalog["devices"])
        self.setEnabled(True)

    def show_session(self, model: str, dataset: str, device: str, datasets: list[str]) -> None:
        """Mirror the worker's session: select ``model``, list ``datasets``, select ``dataset``."""
        self.show_choice(model, dataset, datasets)
        with signals_blocked(self.device):
            # "auto" stays as chosen; an explicit choice that failed shows where training is
            current = self.device.currentText()
            if current != "auto" and not device.startswith(current):
                self.select_device(device)
            self.device.setToolTip(f"Where training runs (now: {device})")

    def show_choice(self, model: str, dataset: str, datasets: list[str]) -> None:
        """Select ``model``, list ``datasets`` (those it trains on) and select ``dataset``,
        without signalling: the user's choice shown before the worker has applied it."""
        with signals_blocked(self.model, self.dataset):
            self.model.setCurrentIndex(self.model.findData(model))
            self.dataset.clear()
            descriptions = self._catalog.get("datasets", {})
            for name in datasets:
                self.dataset.addItem(name, name)
                description = descriptions.get(name, {}).get("description", "")
                self.dataset.setItemData(self.dataset.count() - 1, description, _TOOLTIP)
            if self.dataset.findData(dataset) < 0:  # a spec with options, such as a folder
                name, _, options = dataset.partition(":")
                self.dataset.addItem(f"{name}: {options}", dataset)
                self.dataset.setItemData(self.dataset.count() - 1, dataset, _TOOLTIP)
            self.dataset.setCurrentIndex(self.dataset.findData(dataset))

    def select_device(self, device: str) -> None:
        """Show ``device`` as the chosen one without signalling."""
        index = self.device.findText(device)
        if index < 0 and device == "cuda":
            index = self.device.findText("cuda:0")
        if index >= 0:
            with signals_blocked(self.device):
                self.device.setCurrentIndex(index)

    def datasets_for(self, model: str) -> list[str]:
        """The datasets ``model`` can train on, from the catalog."""
        return list(self._catalog.get("trainable", {}).get(model, []))


_TOOLTIP = Qt.ItemDataRole.ToolTipRole
