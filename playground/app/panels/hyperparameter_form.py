"""The hyperparameter form, generated from a model's Config dataclass via ``fields_info``."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from ..qt_util import signals_blocked

__all__ = ["HyperparameterForm", "FloatBox", "IntBox"]

#: an editor accepts any typed number; the core checks the range and says what is wrong
_WIDE = 2**31 - 1
#: the keys that end an edit: Enter commits it, Esc reverts it; both leave the form
_COMMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_REVERT_KEY = Qt.Key.Key_Escape


def _next_125(value: float, up: bool) -> float:
    """The next value of the 1-2-5 sequence (1e-3, 2e-3, 5e-3, 1e-2, ...) above or below."""
    e = math.floor(math.log10(value))
    candidates = [m * 10.0**k for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
    if up:
        return min(c for c in candidates if c > value * (1 + 1e-9))
    return max(c for c in candidates if c < value * (1 - 1e-9))


class FloatBox(QDoubleSpinBox):
    """A float editor: 1-2-5 steps for log fields, arrows clamped to the field's range."""

    def __init__(self, info: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.info = info
        self.setDecimals(12)
        self.setRange(-1e12, 1e12)
        self.setKeyboardTracking(False)
        low, high = info.low, info.high
        span = (high - low) if low is not None and high is not None else 1.0
        self._step = span / 20 if span > 0 else 0.1

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        """Six significant digits, no trailing zeros."""
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        """Parse ``1e-3`` style text."""
        return float(text)

    def validate(self, text: str, pos: int) -> object:
        """Any float is acceptable; the core reports out-of-range values."""
        try:
            float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        """Step on the 1-2-5 ladder (log fields) or linearly, never past the bounds."""
        value = self.value()
        for _ in range(abs(steps)):
            if self.info.log and value > 0:
                value = _next_125(value, steps > 0)
            else:
                value += self._step if steps > 0 else -self._step
        if self.info.low is not None:
            value = max(value, self.info.low)
        if self.info.high is not None:
            value = min(value, self.info.high)
        self.setValue(value)


class IntBox(QSpinBox):
    """An int editor: doubling steps for log fields, arrows clamped to the field's range."""

    def __init__(self, info: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.info = info
        self.setRange(-_WIDE, _WIDE)
        self.setKeyboardTracking(False)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        """Double or halve (log fields), add one (small ranges) or one unit of the leading
        digit (ranges over 1000: 3000 -> 4000), never past the bounds."""
        low, high = self.info.low, self.info.high
        wide = low is None or high is None or high - low > 1000
        value = self.value()
        for _ in range(abs(steps)):
            if self.info.log and value > 0:
                value = value * 2 if steps > 0 else max(value // 2, 1)
            else:
                unit = 10 ** max(0, len(str(abs(value))) - 1) if wide else 1
                value += unit if steps > 0 else -unit
        if self.info.low is not None:
            value = max(value, int(self.info.low))
        if self.info.high is not None:
            value = min(value, int(self.info.high))
        self.setValue(value)


class HyperparameterForm(QGroupBox):
    """One editor per field: spin boxes, combo boxes for choices, check boxes for bools.

    :attr:`edited` fires ``(name, value)`` for a user's edit only; :meth:`show_config`
    blocks the editors' signals while it mirrors the session's config.

    Enter in a field commits its value, Esc reverts it to the config shown; either, and a
    choice made in a combo or check box, then emits :attr:`done`: the window gives the
    keyboard back to the view, so its plain keys (1..9, Space, R, Right) work next instead
    of typing into the field.
    """

    edited = Signal(str, object)
    done = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Hyperparameters", parent)
        self.layout_ = QFormLayout(self)
        self.editors: dict[str, QWidget] = {}
        self.fields: list[Any] = []
        self._model: str | None = None
        self._config: Any = None

    def build(self, model: str, fields: list[Any], config: Any) -> None:
        """Create the editors of ``model``'s fields (kept when the model is unchanged)."""
        if model != self._model or [f.name for f in fields] != [f.name for f in self.fields]:
            while self.layout_.rowCount():
                self.layout_.removeRow(0)
            self.editors.clear()
            self.fields = list(fields)
            self._model = model
            for info in fields:
                editor = self._editor(info)
                label = QLabel(info.name if info.live else f"{info.name} \u21bb")
                where = "applies live" if info.live else "\u21bb rebuilds the model and resets"
                tip = f"{info.help} ({where})" if info.help else where
                label.setToolTip(tip)
                editor.setToolTip(tip)
                editor.installEventFilter(self)
                self.layout_.addRow(label, editor)
                self.editors[info.name] = editor
            note = QLabel("\u21bb: changing it resets training")
            note.setEnabled(False)
            self.layout_.addRow(note)
        self.show_config(config)

    def _editor(self, info: Any) -> QWidget:
        name = info.name
        if info.choices is not None:
            box = QComboBox()
            box.addItems(list(info.choices))
            box.activated.connect(lambda _: self._commit(name, box.currentText()))
            return box
        if info.type is bool:
            check = QCheckBox()
            check.toggled.connect(lambda on: self._commit(name, bool(on)))
            return check
        if info.type is int:
            spin = IntBox(info)
            spin.valueChanged.connect(lambda v: self.edited.emit(name, int(v)))
            return spin
        if info.type is float:
            spin = FloatBox(info)
            spin.valueChanged.connect(lambda v: self.edited.emit(name, float(v)))
            return spin
        text = QComboBox()
        text.setEditable(True)
        text.lineEdit().editingFinished.connect(lambda: self.edited.emit(name, text.currentText()))
        return text

    def _commit(self, name: str, value: Any) -> None:
        """A choice made with one click or key (a combo or check box): apply it, then give
        the keyboard back to the view, as Enter does in a typed field (arrow keys would
        otherwise still move the combo's choice)."""
        self.edited.emit(name, value)
        self.done.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Enter commits the field's text (the editor interprets it first), Esc reverts it;
        both then emit :attr:`done`."""
        if event.type() != QEvent.Type.KeyPress or watched not in self.editors.values():
            return super().eventFilter(watched, event)
        key = event.key()
        if key in _COMMIT_KEYS:
            watched.event(event)  # a spin box interprets its text: valueChanged -> edited
        elif key == _REVERT_KEY:
            if self._config is not None:
                self.show_config(self._config)
        else:
            return super().eventFilter(watched, event)
        self.done.emit()
        return True

    def show_config(self, config: Any) -> None:
        """Show ``config``'s values without emitting :attr:`edited` (Esc returns to them)."""
        self._config = config
        values = dataclasses.asdict(config)
        with signals_blocked(*self.editors.values()):
            for name, editor in self.editors.items():
                value = values[name]
                if isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                elif isinstance(editor, (IntBox, FloatBox)):
                    editor.setValue(value)
                elif isinstance(editor, QComboBox):
                    index = editor.findText(str(value))
                    if index >= 0:
                        editor.setCurrentIndex(index)
                    else:
                        editor.setEditText(str(value))

    def value(self, name: str) -> Any:
        """The value shown by ``name``'s editor."""
        editor = self.editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, (IntBox, FloatBox)):
            return editor.value()
        return editor.currentText()
