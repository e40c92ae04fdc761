"""An objective's formulas in the explain panel: one picture per line (rendered once per
font size), a short note under it and the line's live value beside the note."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from .lines import Line, format_value, value_of

__all__ = ["FormulaTable", "FORMULA_SCALE", "label"]

#: formulas are drawn this much larger than the panel's text
FORMULA_SCALE = 1.25


def label(text: str = "") -> QLabel:
    """A wrapping, selectable rich-text label."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    widget.setTextFormat(Qt.TextFormat.RichText)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return widget


class FormulaTable(QWidget):
    """The lines of an objective: formula, note, value.

    Formulas follow the widget's font (presentation mode scales it) and shrink to the
    widget's width when wider.

    Attributes:
        rows: ``(line, formula label, value label)`` per line.
        values: line key to the value shown (``None``: no number).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setColumnStretch(0, 1)
        self.rows: list[tuple[Line, QLabel, QLabel]] = []
        self.values: dict[str, float | None] = {}

    def set_lines(self, lines: tuple[Line, ...]) -> None:
        """Show ``lines`` (their formulas rendered now; no values until :meth:`show_values`)."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows, self.values = [], {}
        for i, line in enumerate(lines):
            formula, value = QLabel(), label()
            formula.setToolTip(line.tex)
            # a formula wider than the panel is shrunk to fit (see fit)
            formula.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            value.setWordWrap(False)
            note = label(f"<small>{line.note}</small>" if line.note else "")
            self.grid.addWidget(formula, 2 * i, 0, 1, 2)
            self.grid.addWidget(note, 2 * i + 1, 0)
            self.grid.addWidget(value, 2 * i + 1, 1)
            self.rows.append((line, formula, value))
        self.render()

    def render(self) -> None:
        """Render every formula at the widget's font size (cached: see :mod:`.formulas`)."""
        from .formulas import formula_pixmap

        font = self.font()
        points = font.pointSizeF() if font.pointSizeF() > 0 else 0.75 * font.pixelSize()
        color = self.palette().windowText().color()
        for line, formula, _ in self.rows:
            try:
                pixmap = formula_pixmap(
                    line.tex,
                    FORMULA_SCALE * points,
                    self.logicalDpiY(),
                    self.devicePixelRatioF(),
                    color,
                )
            except ValueError:  # mathtext cannot parse it: show the source, never nothing
                formula.setText(line.tex)
                formula.setProperty("formula", None)
            else:
                formula.setProperty("formula", pixmap)
        self.fit()

    def fit(self) -> None:
        """Show each formula at its size, or shrunk to the widget's width if wider."""
        width = self.width()
        for _, formula, _ in self.rows:
            pixmap = formula.property("formula")
            if pixmap is None:
                continue
            ratio = pixmap.devicePixelRatio()
            if width > 0 and pixmap.width() / ratio > width:
                pixmap = pixmap.scaledToWidth(
                    int(width * ratio), Qt.TransformationMode.SmoothTransformation
                )
                pixmap.setDevicePixelRatio(ratio)
            formula.setPixmap(pixmap)
            formula.setMinimumHeight(int(pixmap.height() / ratio))

    def formula_height(self, index: int) -> int:
        """The drawn height of formula ``index`` in pixels at its full size."""
        pixmap = self.rows[index][1].property("formula")
        return 0 if pixmap is None else int(pixmap.height() / pixmap.devicePixelRatio())

    def show_values(self, terms: Mapping[str, float], snapshot: Any = None) -> None:
        """Each line's value from ``terms`` (or its picture in ``snapshot``)."""
        values = {}
        for line, _, value_label in self.rows:
            value = value_of(line, terms, snapshot)
            values[line.key] = value
            text = format_value(value, line.unit)
            value_label.setText(f"<b>{text}</b>" if text else "")
        self.values = values

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        """Redraw the formulas at a new font size (presentation mode scales the fonts)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and self.rows:
            self.render()
