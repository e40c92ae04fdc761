"""The curves view: the training terms and held-out metrics against the training step, in
a few large panels sorted by meaning (see :mod:`playground.core.snapshots.curves`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from .base import View
from .curve_panel import CurvePanel, nice_above

if TYPE_CHECKING:
    from ...core.snapshots.base import Snapshot
    from ...core.snapshots.curves import CurvesPicture

__all__ = ["CurvesView"]

#: the log button's tooltip; the panels left linear are named after it
LOG_TIP = (
    "Logarithmic y axes, on the panels whose values are all positive.\n"
    "Losses, ELBOs and MMD² estimates can be negative: those panels stay linear."
)
#: where n panels sit: (row, column, columns spanned) per panel; wide rows for 2 (time
#: runs left to right), the training objective across the top for 3, a 2 x 2 grid for 4
GRID = {
    1: ((0, 0, 2),),
    2: ((0, 0, 2), (1, 0, 2)),
    3: ((0, 0, 2), (1, 0, 1), (1, 1, 1)),
    4: ((0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1)),
}


class CurvesView(View):
    """At most four panels: the training objective, the held-out fit to the data, sample
    quality and coverage, training diagnostics; each with its title, a legend row above
    its plot, its units on the y axes and ``step`` on the x axis, which every panel
    shares. Items are created the first time a name appears and then only given new data.

    Attributes:
        panels: panel key to its :class:`~.curve_panel.CurvePanel`, in drawing order.
        curves: every drawn name to its PlotDataItem (or reference line, band).
        log_button: the checkable "log y" button.
        other, other_label, fork_step: in a fork comparison, the other branch's
            :class:`~playground.core.snapshots.curves.CurvesPicture` (drawn dashed on
            every panel, see :meth:`set_other`), what the legend calls it, and the step
            the branches part at; ``None`` otherwise.
    """

    name = "curves"
    title = "Curves"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.log_button = QPushButton("Log y axes")
        self.log_button.setCheckable(True)
        self.log_button.setToolTip(LOG_TIP)
        self.log_button.toggled.connect(self._on_log)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.ci.setContentsMargins(4, 0, 4, 2)
        self.canvas.ci.setSpacing(6)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(self.log_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        self.panels: dict[str, CurvePanel] = {}
        self.curves: dict[str, pg.GraphicsObject] = {}
        self._picture: CurvesPicture | None = None
        self._x_end, self._x_new = 0.0, True
        self.other: CurvesPicture | None = None
        self.other_label, self.fork_step = "other branch", None

    def set_other(
        self,
        picture: CurvesPicture | None,
        label: str = "other branch",
        fork_step: int | None = None,
    ) -> None:
        """Draw another branch's curves over these, dashed (a fork comparison), labelled
        "dashed: ``label``" in each panel's legend, with a dotted line at ``fork_step``;
        ``None`` removes them. Kept across :meth:`clear` (a new run of this side)."""
        self.other, self.other_label, self.fork_step = picture, label, fork_step
        if self._picture is not None:
            self._show_panels(self._picture)

    def clear(self) -> None:
        """Remove every panel (a new session has other quantities)."""
        self.canvas.clear()
        self.panels.clear()
        self.curves.clear()
        self._picture = None
        self._x_end, self._x_new = 0.0, True

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot.curves``, a :class:`~playground.core.snapshots.curves.CurvesPicture`."""
        picture = snapshot.curves
        if picture is None:
            return
        self._picture = picture
        keys = [spec.key for spec in picture.panels]
        if keys != list(self.panels):
            self._arrange(picture)
        self._show_panels(picture)

    def _show_panels(self, picture: CurvesPicture) -> None:
        for spec in picture.panels:
            panel = self.panels[spec.key]
            panel.show(spec, picture, self.other, self.other_label, self.fork_step)
            self.curves.update(panel.items)
        self._share_steps(picture)
        self._fit_legends()  # presentation mode may have grown their fonts since
        self._tell_linear()

    def _share_steps(self, picture: CurvesPicture) -> None:
        """One step axis for every panel: 0 to the latest step, grown in steps (see
        :func:`~.curve_panel.nice_above`)."""
        drawn = [*picture.curves.values(), *(self.other.curves.values() if self.other else ())]
        last = max((float(c.steps[-1]) for c in drawn if len(c.steps)), default=0)
        if last > self._x_end or self._x_end > 4 * max(last, 25.0) or self._x_new:
            self._x_end = nice_above(max(last, 1.0))
            for panel in self.panels.values():
                panel.set_x_range(self._x_end)
            self._x_new = False

    def _arrange(self, picture: CurvesPicture) -> None:
        """Create the panels of new keys and lay every panel out (only when the set of
        panels changes: a first evaluation brings the held-out panels)."""
        for cell in [p.cell for p in self.panels.values()]:
            self.canvas.removeItem(cell)
        panels = {}
        for spec in picture.panels:
            panel = self.panels.get(spec.key)
            if panel is None:
                panel = CurvePanel(spec)
                panel.set_log(self.log_button.isChecked())
            panels[spec.key] = panel
        self.panels = panels
        for panel, (row, col, span) in zip(panels.values(), GRID[len(panels)], strict=True):
            self.canvas.addItem(panel.cell, row=row, col=col, colspan=span)
            panel.span = span
            panel.cell.setPreferredWidth(100)  # the columns share the width equally
        for col in (0, 1):
            self.canvas.ci.layout.setColumnStretchFactor(col, 1)
        self._x_new = True
        self._fit_legends()

    def _fit_legends(self) -> None:
        """Legend rows as wide as their panels: half the canvas, or all of it."""
        for panel in self.panels.values():
            panel.fit_legend(self.canvas.width() * panel.span / 2 - 30)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_legends()

    def _on_log(self, on: bool) -> None:
        for panel in self.panels.values():
            panel.set_log(on)
        if self._picture is not None:
            for spec in self._picture.panels:
                other = (self.other, self.other_label, self.fork_step)
                self.panels[spec.key].show(spec, self._picture, *other)
        self._tell_linear()

    def _tell_linear(self) -> None:
        """Name the panels the log button left linear in its tooltip."""
        linear = [
            p.title.text for p in self.panels.values() if self.log_button.isChecked() and not p.log
        ]
        tip = LOG_TIP + ("\nLinear now: " + "; ".join(linear) if linear else "")
        if tip != self.log_button.toolTip():
            self.log_button.setToolTip(tip)
