"""The draw mode's tool bar: brush or eraser, the brush's spread and density, Clear,
Import CSV…, Export CSV… and Done, and a line that says what the drawing is."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QSpinBox, QToolBar, QWidget

from .qt_util import weakly

__all__ = ["DrawBar"]


class DrawBar(QToolBar):
    """Controls of the draw mode (a window tool bar, shown while drawing).

    Signals:
        tool_changed(str): ``"brush"`` or ``"eraser"``.
        spread_changed(float): the brush's standard deviation (data units).
        density_changed(float): points a second while the button is held.
        clear_clicked(), import_clicked(), export_clicked(), done_clicked().

    Attributes:
        brush, eraser, clear, import_csv, export_csv, done: the actions.
        spread, density: the spin boxes; hint: the status line.
    """

    tool_changed = Signal(str)
    spread_changed = Signal(float)
    density_changed = Signal(float)
    clear_clicked = Signal()
    import_clicked = Signal()
    export_clicked = Signal()
    done_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Draw points", parent)
        self.setObjectName("draw_bar")
        self.setMovable(False)
        tools = QActionGroup(self)
        self.brush = self._action("Brush", "Add points where you press and drag", tools)
        self.eraser = self._action("Eraser", "Remove the points under the pointer", tools)
        self.brush.setChecked(True)
        self.brush.toggled.connect(
            weakly(self, lambda b, on: b.tool_changed.emit("brush" if on else "eraser"))
        )
        self.addSeparator()
        self.spread = QDoubleSpinBox()
        self.spread.setRange(0.005, 5.0)
        self.spread.setDecimals(3)
        self.spread.setSingleStep(0.05)
        self.spread.setValue(0.15)
        self.spread.setPrefix("spread \u03c3 ")
        self.spread.setToolTip("The brush's standard deviation, in data units")
        self.spread.valueChanged.connect(self.spread_changed)
        self.addWidget(self.spread)
        self.density = QSpinBox()
        self.density.setRange(10, 20000)
        self.density.setSingleStep(50)
        self.density.setValue(300)
        self.density.setSuffix(" points/s")
        self.density.setToolTip("Points the brush adds each second while the button is held")
        self.density.valueChanged.connect(
            weakly(self, lambda b, v: b.density_changed.emit(float(v)))
        )
        self.addWidget(self.density)
        self.addSeparator()
        self.clear = self.addAction("Clear")
        self.clear.triggered.connect(self.clear_clicked)
        self.import_csv = self.addAction("Import CSV\u2026")
        self.import_csv.triggered.connect(self.import_clicked)
        self.export_csv = self.addAction("Export CSV\u2026")
        self.export_csv.triggered.connect(self.export_clicked)
        self.done = self.addAction("Done")
        self.done.setToolTip("Leave the draw mode (D)")
        self.done.triggered.connect(self.done_clicked)
        self.addSeparator()
        self.hint = QLabel("")
        self.hint.setContentsMargins(8, 0, 8, 0)
        self.addWidget(self.hint)

    def _action(self, text: str, tip: str, group: QActionGroup) -> QAction:
        action = self.addAction(text)
        action.setCheckable(True)
        action.setToolTip(tip)
        group.addAction(action)
        return action

    def show_hint(self, text: str) -> None:
        """Say what the drawing is (its size, whether it trains, what is missing)."""
        self.hint.setText(text)
