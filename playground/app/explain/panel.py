"""The explain panel: a dock beside the views that says what is on screen. The session and
its preset's notes, the model's objective as formulas with each term's live value, and what
every colour, arrow and line of the current view means.

It only reads what the window already has (``info``, ``config``, ``frame``, the open
preset, the current tab): it never calls the model, and its formulas are pictures rendered
once (matplotlib, imported the first time the panel is shown) while only the value labels
change per frame.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from ..theme import PRESENTATION_FONT_SCALE
from .formula_table import FormulaTable, label
from .lines import Objective
from .notes import NotesBrowser
from .objectives import objective_for
from .view_help import VIEW_HELP, help_html

__all__ = ["ExplainPanel", "PANEL_KEY"]

#: the panel's toggle (View > Explain panel); F1: the usual key for help, free here
PANEL_KEY = "F1"
#: the panel's width when it first opens, in pixels, where the screen has room for it beside
#: the window's other columns; else what is left, but at least MIN_PANEL_WIDTH
PANEL_WIDTH, MIN_PANEL_WIDTH = 480, 260
NO_PRESET = (
    "No preset open. <i>File \u203a Preset gallery</i> (Ctrl+G) has trained sessions "
    "ready for a lecture, each with notes on what to show."
)


def _heading(text: str) -> Any:
    return label(f"<h3>{text}</h3>")


class ExplainPanel(QDockWidget):
    """A dock on the right of a main window that explains the session on screen.

    Install it with :meth:`install`; it follows the window's signals itself (session,
    config, preset, drawn frames, current tab) and does nothing while hidden.

    Arguments:
        window: the :class:`~playground.app.main_window.MainWindow`.

    Attributes:
        toggle: the checkable action that shows and hides it (View and Help menus,
            :data:`PANEL_KEY`).
        help_menu: the window's Help menu (see :mod:`.help_menu`), once installed.
        objective: the :class:`~.lines.Objective` on show, or ``None``.
        formulas: its :class:`~.formula_table.FormulaTable`; ``values`` the values shown.
        notes: the open preset's notes (a :class:`~.notes.NotesBrowser`).
    """

    def __init__(self, window: QMainWindow):
        super().__init__("Explain", window)
        self.setObjectName("explain_panel")
        self.setAllowedAreas(
            Qt.DockWidgetArea.RightDockWidgetArea | Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.main = window
        self.objective: Objective | None = None
        self.help_menu: Any = None
        self._session_key: tuple | None = None
        self._sized = False
        self.toggle = self.toggleViewAction()
        self.toggle.setText("&Explain panel")
        self.toggle.setShortcut(QKeySequence(PANEL_KEY))
        self.toggle.setToolTip("What is on screen: notes, the objective, the view's key")
        self._build()
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)
        self.hide()
        window.frame_drawn.connect(self._on_frame)
        window.tabs.currentChanged.connect(self._on_tab)
        worker = window.worker
        worker.session_changed.connect(self._on_session)
        worker.config_changed.connect(self._on_session)
        worker.preset_opened.connect(self._on_session)
        self.folded_side_panel = False
        self.visibilityChanged.connect(self._on_visibility)
        window.presentation_action.toggled.connect(self._on_presenting)

    @classmethod
    def install(cls, window: QMainWindow) -> ExplainPanel:
        """Add the panel to ``window``: the dock (hidden), its toggle in the View menu, the
        Help menu (see :mod:`.help_menu`) and the tabs' tooltips; returns the panel."""
        from .help_menu import add_help_menu

        panel = cls(window)
        window.view_menu.addAction(panel.toggle)
        panel.help_menu = add_help_menu(window, panel.toggle)
        panel.set_tab_tooltips()
        return panel

    @property
    def values(self) -> dict[str, float | None]:
        """Line key (its term, or its formula) to the value shown now (``None``: none)."""
        return self.formulas.values

    def _build(self) -> None:
        self.session_label = label()
        self.preset_label = label()
        self.notes = NotesBrowser()
        self.objective_title = _heading("Objective")
        self.formulas = FormulaTable()
        self.objective_text = label()
        self.source_label = label()
        self.view_title = _heading("In this view")
        self.view_text = label()
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(_heading("Session"))
        for widget in (
            self.session_label,
            self.preset_label,
            self.notes,
            self.objective_title,
            self.formulas,
            self.objective_text,
            self.source_label,
            self.view_title,
            self.view_text,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(scroll)

    # ------------------------------------------------------------------ signals
    def _on_visibility(self, visible: bool) -> None:
        if visible:
            if not self._sized:
                self._sized = True
                self._make_room()
            self._fold_if_squeezed()
            self.refresh()
        elif self.folded_side_panel:
            self.folded_side_panel = False
            if not self.main.presentation_mode.on:
                self.main.side_panel.show()

    def _fold_if_squeezed(self) -> None:
        """On a screen too narrow for the side panel, the views' minimum and this panel at
        :data:`PANEL_WIDTH` (a 1366 px screen), fold the side panel while this panel is
        open, as presentation mode does, rather than crop the views."""
        main = self.main
        area = main.screen().availableGeometry()
        frame = main.frameGeometry().width() - main.width()
        room = area.width() - frame - main.centralWidget().minimumSizeHint().width() - 12
        if room < PANEL_WIDTH and main.side_panel.isVisible():
            main.side_panel.hide()
            self.folded_side_panel = True
            main.resizeDocks([self], [PANEL_WIDTH], Qt.Orientation.Horizontal)
            main.statusBar().showMessage(
                "Side panel folded to make room for the explain panel: F1 closes the panel "
                "and brings it back",
                10_000,
            )

    def _make_room(self) -> None:
        """Open at :data:`PANEL_WIDTH`, or what the screen leaves beside the side panel
        and the views' minimum (at least :data:`MIN_PANEL_WIDTH`): the window widens up to
        the screen's edge for it, never past it (a 1366 px screen leaves ~300 px)."""
        main = self.main
        area = main.screen().availableGeometry()
        frame = main.frameGeometry().width() - main.width()
        central = main.centralWidget()
        room = area.width() - frame - central.minimumSizeHint().width() - 12
        width = max(MIN_PANEL_WIDTH, min(PANEL_WIDTH, room))
        if not (main.isFullScreen() or main.isMaximized()):
            wanted = min(area.width() - frame, max(main.width(), central.width() + width + 12))
            main.resize(wanted, main.height())
            overhang = main.frameGeometry().right() - area.right()
            if overhang > 0:
                main.move(max(area.left(), main.x() - overhang), main.y())
        main.resizeDocks([self], [width], Qt.Orientation.Horizontal)

    def _on_presenting(self, on: bool) -> None:
        """Widen the panel as presentation mode enlarges its fonts (and back)."""
        if self.isVisible():
            scale = PRESENTATION_FONT_SCALE if on else 1.0
            # at most a third of the screen: the views are what the hall looks at
            third = self.main.screen().availableGeometry().width() // 3
            width = min(int(PANEL_WIDTH * scale), third)
            self.main.resizeDocks([self], [width], Qt.Orientation.Horizontal)

    def _on_session(self, *_: Any) -> None:
        self.set_tab_tooltips()
        if self.isVisible():
            self.refresh()

    def _on_tab(self, *_: Any) -> None:
        if self.isVisible():
            self.show_view()

    def _on_frame(self, _step: int) -> None:
        tabs = self.main.tabs
        if any(not tabs.tabToolTip(i) for i in range(tabs.count())):  # tabs made anew
            self.set_tab_tooltips()
        if not self.isVisible():
            return
        if self._key() != self._session_key:  # a preset or session came with this frame
            self.refresh()
        else:
            self.show_session()
            self.show_values()

    # ------------------------------------------------------------------ content
    def _key(self) -> tuple:
        window = self.main
        return (id(window.info), id(window.config), id(window.presets.preset))

    def refresh(self) -> None:
        """Show everything anew: session, notes, objective, values and the view."""
        self._session_key = self._key()
        self.show_session()
        self.show_objective()
        self.show_values()
        self.show_view()

    def _catalog_entry(self, kind: str, name: str) -> dict[str, Any]:
        catalog = self.main.worker.catalog
        return catalog.get(kind, {}).get(name.partition(":")[0], {})

    def show_session(self) -> None:
        """The model, its family and description, the dataset, the step; the preset's
        title, description and notes (Markdown)."""
        info = self.main.info
        if info is None:
            self.session_label.setText("The session is starting\u2026")
        else:
            model = self._catalog_entry("models", info.model)
            family = f" ({model['family']})" if model.get("family") else ""
            about = f"<br><small>{model['description']}</small>" if model.get("description") else ""
            self.session_label.setText(
                f"<b>{info.model}</b>{family} on <b>{info.dataset}</b>, step "
                f"{self.main.step:,}{about}"
            )
        preset = self.main.presets.preset
        if preset is None:
            self.preset_label.setText(NO_PRESET)
            self.notes.hide()
            return
        description = f"<br>{preset.description}" if preset.description else ""
        self.preset_label.setText(f"Preset: <b>{preset.title}</b>{description}")
        if preset.notes:
            self.notes.show_notes(preset.notes)
        self.notes.setVisible(bool(preset.notes))

    def show_objective(self) -> None:
        """The model's objective: rebuilt when the model or its config changed it."""
        info = self.main.info
        objective = None
        if info is not None:
            exact = bool(self._catalog_entry("datasets", info.dataset).get("exact_density"))
            objective = objective_for(info.model, self.main.config, exact)
        if objective == self.objective and (self.formulas.rows or objective is None):
            return
        self.objective = objective
        self.formulas.set_lines(objective.lines if objective is not None else ())
        if objective is None:
            self.objective_title.setText("<h3>Objective</h3>")
            self.objective_text.setText("")
            self.source_label.setText("")
            return
        self.objective_title.setText(f"<h3>Objective: {objective.title}</h3>")
        self.objective_text.setText(objective.text)
        self.source_label.setText(f"<small><i>Source:</i> {objective.source}</small>")

    def show_values(self) -> None:
        """Each line's live value from the newest drawn frame (no frame: no numbers)."""
        frame = self.main.frame
        snapshot = frame.snapshot if frame is not None else None
        self.formulas.show_values(snapshot.terms if snapshot is not None else {}, snapshot)

    def show_view(self) -> None:
        """What the current tab's colours, arrows, lines and markers mean."""
        widget = self.main.tabs.currentWidget()
        if widget is None:
            return
        self.view_title.setText(f"<h3>In this view: {widget.title}</h3>")
        self.view_text.setText(help_html(widget.name))

    def set_tab_tooltips(self) -> None:
        """Each tab's tooltip: its view's one-line summary."""
        tabs = self.main.tabs
        for i in range(tabs.count()):
            entry = VIEW_HELP.get(tabs.widget(i).name)
            tabs.setTabToolTip(i, entry.summary if entry is not None else "")
