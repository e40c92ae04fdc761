"""The "Fork here" dialog: the run's live hyperparameters at the fork point, to change one
or more for the branch (see :func:`.fork.open_fork`)."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..core import hyperparameters as hpm
from .panels.hyperparameter_form import FloatBox, IntBox

__all__ = ["ForkDialog", "ask_fork_changes"]


class ForkDialog(QDialog):
    """One editor per live hyperparameter of ``config`` (those that change between two
    steps: a learning rate, a batch size), showing the run's value at the fork point.
    Fields that rebuild the model are not offered: a branch keeps the run's weights.

    Arguments:
        step: the fork step (for the title and the explanation).
        config: the run's config dataclass at the fork point.

    Attributes:
        editors: field name to its editor widget.
    """

    def __init__(self, step: int, config: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Fork at step {step:,}")
        self.config = config
        values = hpm.to_dict(config)
        intro = QLabel(
            f"The fork starts at step {step:,} of this run with the values you change "
            "here; beside it, the run goes on as it was. Both train side by side in a "
            "Compare window, their curves overlaid. Only the hyperparameters that apply "
            "live are listed (the others would need a new model)."
        )
        intro.setWordWrap(True)
        form = QFormLayout()
        self.editors: dict[str, QWidget] = {}
        for info in hpm.fields_info(config):
            if not info.live:
                continue
            editor = _editor(info, values[info.name])
            editor.setToolTip(info.help)
            label = QLabel(info.name)
            label.setToolTip(info.help)
            form.addRow(label, editor)
            self.editors[info.name] = editor
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Fork")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def changes(self) -> dict[str, Any]:
        """The fields whose editor differs from the run's value: name to the new value."""
        values = hpm.to_dict(self.config)
        out = {}
        for name, editor in self.editors.items():
            value, old = _value(editor), values[name]
            if isinstance(value, float) and isinstance(old, float):
                # the spin box shows 12 decimals: a value it rounded is not a change
                changed = not math.isclose(value, old, rel_tol=1e-9, abs_tol=1e-12)
            else:
                changed = value != old
            if changed:
                out[name] = value
        return out


def _editor(info: Any, value: Any) -> QWidget:
    """An editor of the field ``info`` showing ``value`` (the form's editors' kinds)."""
    if info.choices is not None:
        box = QComboBox()
        box.addItems(list(info.choices))
        box.setCurrentText(str(value))
        return box
    if info.type is bool:
        check = QCheckBox()
        check.setChecked(bool(value))
        return check
    if info.type in (int, float):
        spin = IntBox(info) if info.type is int else FloatBox(info)
        spin.setValue(value)
        return spin
    text = QComboBox()
    text.setEditable(True)
    text.setEditText(str(value))
    return text


def _value(editor: QWidget) -> Any:
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, IntBox):
        return int(editor.value())
    if isinstance(editor, FloatBox):
        return float(editor.value())
    return editor.currentText()


def ask_fork_changes(parent: QWidget, step: int, config: Any) -> dict[str, Any] | None:
    """Ask which live hyperparameters the branch at ``step`` changes (a modal
    :class:`ForkDialog`); ``None``: cancelled."""
    dialog = ForkDialog(step, config, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.changes()
    finally:
        dialog.deleteLater()
