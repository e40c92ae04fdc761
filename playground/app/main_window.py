"""The main window: pickers, transport, hyperparameters on the left; numbered views on the right;
a File menu for presets and a presentation mode for the lecture hall.

The window is composed of parts it owns: :class:`~.window_menus.PresetMenus` (``presets``:
the File menu, presets and tools) and :class:`~.presenting.PresentationMode`
(``presentation_mode``); it keeps thin methods for what the menus and tests call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core import hyperparameters as hpm
from .commands import (
    Command,
    Pause,
    Play,
    Reset,
    SessionInfo,
    SetDevice,
    SetHyperparameters,
    SetSeed,
    SetViews,
    SlowMotion,
    Step,
)
from .drawing_mode import DrawingMode
from .explain import ExplainPanel
from .lazy_views import LazyViews
from .panels import HyperparameterForm, SessionPanel, TransportPanel
from .presenting import PresentationMode, press
from .qt_util import GuiThreadCollector, delete_later, signals_blocked, weakly
from .session_choice import SessionChoice, ask_folder, ask_points
from .snapshots import Frame
from .timeline import Timeline
from .view_status import ViewStatus
from .views import VIEWS, View
from .window_drawing import FrameDrawing
from .window_menus import (
    APP_TITLE,
    MAX_RECENT,
    RECENT_KEY,
    PresetMenus,
    png_bytes,
    settings_store,
)
from .worker import TrainingWorker
from .worker_thread import WorkerThread, stop_threads

__all__ = ["MainWindow", "RECENT_KEY", "MAX_RECENT", "settings_store", "png_bytes"]

_BANNER_STYLE = {
    "error": "background:#b2182b; color:white; padding:8px; font-weight:bold;",
    "warning": "background:#fdb863; color:black; padding:8px;",
    "info": "background:#d1e5f0; color:black; padding:8px;",
}


class MainWindow(FrameDrawing, QMainWindow):
    """The playground window. It draws the worker's newest frame and posts commands to it.

    Keyboard: Space play/pause, Right one step (paused), R reset, 1..9 (or Ctrl+1..9) the
    n-th view, F11 presentation mode, Ctrl+O open a preset, Ctrl+S save one, Ctrl+G the
    gallery. Plain keys go to a spin box or line edit that has the focus, not to these;
    Enter (commit) or Esc (revert) there gives the keyboard back to the view.

    Arguments:
        model, dataset, seed, device: the first session (built by the worker).
        paused: open without training.
        settings: where the recent presets are kept (default: :func:`settings_store`).

    Signals:
        frame_drawn(int): the visible view drew a frame; the frame's step.

    Attributes:
        confirm: ``confirm(question) -> bool``; asks before a change that resets
            training (tests replace it to answer without a dialog).
        choose_folder: ``choose_folder() -> (path, size) | None``; asks for an image
            folder and the pixel size to resize to when the ``folder`` dataset is picked.
        choose_points: ``choose_points() -> path | None``; asks for a CSV file of 2D
            points when the ``points`` dataset is picked.
        choose_preset: ``choose_preset() -> path | None``; asks which preset folder to
            open (File > Open preset folder, Ctrl+O; bundles: ``presets.choose_bundle``).
        choose_save_path: ``choose_save_path() -> SaveChoice | path | None``; asks where
            to save the session (a name ending in ``.dgmpreset``: a bundle; otherwise a
            folder), with its title and description (a bare path: the default ones).
        choose_compare_model: ``choose_compare_model(options) -> option | None``; asks
            what to compare this session with: one of ``options`` (model names, preset
            paths) or another preset's path.
        worker: the :class:`~.worker.TrainingWorker`; ``worker_thread`` is its ``WorkerThread``.
        views: view name to widget, in tab order; the tabs show those the session offers.
        step: the step of the newest drawn frame.
        draws: view name to number of frames drawn (for the benchmarks).
        presets: the :class:`~.window_menus.PresetMenus` (File menu, presets, tools);
            ``preset``, ``last_open_seconds`` and ``gallery`` are its state.
        presentation_mode: the :class:`~.presenting.PresentationMode`.
        explain: the :class:`~.explain.ExplainPanel` (F1; it adds the Help menu).
        drawing: the :class:`~.drawing_mode.DrawingMode` (D: draw, erase, import and
            export 2D points; the drawing becomes the session's dataset).
        file_menu, recent_menu, view_menu, presentation_action: the menus and the F11 action.
        side_panel, slim_bar: the left column, and the Play/Step/Reset bar that replaces
            it in presentation mode.
    """

    frame_drawn = Signal(object)

    def __init__(
        self,
        model: str = "realnvp",
        dataset: str = "moons",
        seed: int = 0,
        device: str = "auto",
        paused: bool = False,
        settings: QSettings | None = None,
    ):
        super().__init__()
        # garbage is collected on this (the GUI) thread only while the worker threads run
        GuiThreadCollector.acquire()
        self._collecting = True
        self.setWindowTitle(APP_TITLE)
        self.confirm: Callable[[str], bool] = self._ask
        self.choose_folder: Callable[[], tuple[str, int] | None] = lambda: ask_folder(self)
        self.choose_points: Callable[[], str | None] = lambda: ask_points(self)
        self.settings = settings if settings is not None else settings_store()
        self.step = 0
        self.draws: Counter[str] = Counter()
        self.frame: Frame | None = None
        self.info: SessionInfo | None = None
        self.config: Any = None
        self._generation = -1
        self._drawn_at: float | None = None  # GUI thread CPU clock at the last frame drawn

        self.session_panel = SessionPanel()
        self.transport = TransportPanel()
        self.transport.show_seed(seed)
        self.form = HyperparameterForm()
        self.form.setEnabled(False)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.session_panel)
        side_layout.addWidget(self.transport)
        side_layout.addWidget(self.form)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(400)
        scroll.setMaximumWidth(440)
        self.side_panel = scroll

        # views are built when first shown (a session offers a handful of the 29)
        self.views: LazyViews = LazyViews(VIEWS, self._view_built)
        self.presentation_mode = PresentationMode(self, scroll, self.transport, self.views)
        self.slim_bar = self.presentation_mode.slim_bar
        self.presentation_action = self.presentation_mode.action
        self.tabs = QTabWidget()
        # until the first session says which views it has (a second or two): the first view
        # of the list, blank, while the status bar says the session is starting
        self._show_tabs([VIEWS[0].name])
        for i in range(1, len(self.views) + 1):
            QShortcut(
                QKeySequence(f"Ctrl+{i}"), self, weakly(self, lambda w, i=i: w._show_tab(i - 1))
            )
        self._add_keys()
        self._posted_parts: tuple[str, ...] = self.visible_parts
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        right = QVBoxLayout()
        right.addWidget(self.banner)
        # the step of the picture on show, previews, what is being computed
        self.view_status = ViewStatus()
        right.addWidget(self.view_status)
        right.addWidget(self.tabs, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.slim_bar)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)
        self.setCentralWidget(central)

        self.step_label = QLabel("starting\u2026")
        self.speed_label = QLabel("")
        self.terms_label = QLabel("")
        for label in (self.step_label, self.speed_label, self.terms_label):
            label.setContentsMargins(8, 0, 8, 0)
        self.statusBar().addPermanentWidget(self.terms_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)
        self.statusBar().addPermanentWidget(self.step_label)

        self.worker = TrainingWorker(
            model, dataset, seed, device, playing=not paused, views=self.visible_parts
        )
        self.worker_thread = WorkerThread(self.worker)
        self.session_panel.select_device(device)
        self.choice = SessionChoice(self, model, dataset)
        self.presets = PresetMenus(self)
        self.file_menu, self.recent_menu = self.presets.file_menu, self.presets.recent_menu
        self.choose_preset: Callable[[], str | None] = self.presets.ask_preset
        self.choose_save_path: Callable[[], str | None] = self.presets.ask_save_path
        self.choose_compare_model: Callable[[list[str]], str | None] = (
            self.presets.ask_compare_model
        )
        self.view_menu = self.menuBar().addMenu("&View")
        self.view_menu.addAction(self.presentation_action)
        self._connect()
        # View > Explain panel (F1), the Help menu, the tabs' tooltips
        self.explain = ExplainPanel.install(self)
        # View > Draw points (D): draw, erase, import and export 2D points
        self.drawing = DrawingMode.install(self)
        # the timeline under the views: scrub back, rewind, fork (right.addWidget in install)
        self.timeline = Timeline.install(self, right)

    # ------------------------------------------------------------------ wiring
    def _connect(self) -> None:
        w = self.worker
        w.catalog_ready.connect(self.session_panel.set_catalog)
        w.session_changed.connect(self._on_session)
        w.config_changed.connect(self._on_config)
        w.snapshot_ready.connect(self.draw_newest)
        w.progress.connect(self._on_progress)
        w.playing_changed.connect(self.transport.show_playing)
        # bound methods of GUI objects only: a lambda would run in the worker's thread
        w.problem.connect(self.show_banner)
        w.diverged.connect(self._on_diverged)
        w.playing_changed.connect(self.presentation_mode.show_playing)
        # widgets' signals: bound methods, or slots that hold the window weakly (a lambda
        # naming the window would keep it alive after it closed)
        t = self.transport
        t.play_toggled.connect(weakly(self, lambda w, on: w.post(Play() if on else Pause())))
        t.play_toggled.connect(self.presentation_mode.show_playing)
        t.step_clicked.connect(weakly(self, lambda w: w.post(Step())))
        t.part_step_clicked.connect(weakly(self, lambda w, part: w.post(Step(part))))
        t.slow_motion_toggled.connect(weakly(self, lambda w, on: w.post(SlowMotion(bool(on)))))
        t.reset_clicked.connect(weakly(self, lambda w: w.post(Reset())))
        t.seed_changed.connect(weakly(self, lambda w, seed: w.post(SetSeed(int(seed)))))
        self.session_panel.device_chosen.connect(weakly(self, lambda w, d: w.post(SetDevice(d))))
        self.form.edited.connect(self.edit_hyperparameter)
        self.form.done.connect(self.focus_view)
        self.tabs.currentChanged.connect(self._on_tab)

    def _view_built(self, view: View) -> None:
        """Wire a view built on first use (see :class:`~.lazy_views.LazyViews`): its
        commands and picture requests reach the worker; outside the tabs it is a hidden
        child of the window (deleted with it); in presentation mode it is scaled too."""
        view.parts_changed.connect(self.request_parts)
        view.command.connect(self.post)
        if view.parent() is None:
            view.setParent(self)
            view.hide()
        presenting = getattr(self, "presentation_mode", None)
        if presenting is not None and presenting.on:
            presenting.style.apply(view)

    def _add_keys(self) -> None:
        """Plain keys for the lecture hall. A focused spin box or line edit takes printable
        keys and arrows first (Qt's ShortcutOverride), so typing a value never triggers them."""
        t = self.transport
        keys: list[tuple[str, Callable[[], None]]] = [
            ("Space", lambda: press(t, t.play)),
            ("Right", lambda: press(t, t.step)),
            ("R", lambda: press(t, t.reset)),
        ]
        for i in range(1, 10):
            keys.append((str(i), weakly(self, lambda w, i=i: w._show_tab(i - 1))))
        self._key_shortcuts = [QShortcut(QKeySequence(k), self, slot) for k, slot in keys]

    def focus_view(self) -> None:
        """Give the keyboard to the visible view (a form field was left with Enter or Esc),
        so the plain keys (1..9, Space, R, Right) reach the window again."""
        (self.tabs.currentWidget() or self.tabs).setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_tab(self, index: int) -> None:
        if index < self.tabs.count():
            self.tabs.setCurrentIndex(index)

    def start(self) -> None:
        """Start the worker thread (it imports torch and builds the first session)."""
        self.worker_thread.start()

    def shutdown(self) -> bool:
        """Stop and join the worker, and those of the compare windows opened from here, all
        together for at most :data:`~.worker_thread.STOP_TIMEOUT_MS`; returns whether all
        finished. A thread still running then (a blocked step or read) is abandoned to the
        end of the process (see :mod:`.worker_thread`): closing never hangs."""
        tools = list(self.presets.tool_windows)
        panes = [pane for tool in tools for pane in tool.panes]
        stopped = stop_threads([self.worker_thread, *(p.worker_thread for p in panes)])
        done = [tool.shutdown() for tool in tools]  # joined above: this returns at once
        stopped = stopped and all(done)
        if stopped and self._collecting:  # no thread of ours runs: automatic GC may return
            self._collecting = False
            GuiThreadCollector.release()
        return stopped

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Join the worker before the window goes, even mid-training (a worker that does not
        stop within two seconds is abandoned, and the window closes all the same)."""
        self.shutdown()
        super().closeEvent(event)
        central = self.centralWidget()
        if event.isAccepted() and central is not None:
            # the views and panels go now, deleted by Qt (see qt_util.delete_later); the
            # empty window goes once nothing refers to it
            delete_later(central, keep=self)

    def post(self, command: Command) -> None:
        """Send ``command`` (see :mod:`.commands`) to the worker; hides the banner."""
        self.banner.hide()
        self.worker.post(command)

    # ------------------------------------------------------------- the views
    @property
    def visible_view(self) -> str:
        """The snapshot view of the current tab."""
        widget = self.tabs.currentWidget()
        return widget.name if widget is not None else next(iter(self.views))

    @property
    def visible_parts(self) -> tuple[str, ...]:
        """The snapshot parts the visible view draws (a view may need several)."""
        return tuple(self.views[self.visible_view].snapshot_parts())

    def request_parts(self, parts: tuple[str, ...] | None = None, force: bool = False) -> None:
        """Ask the worker to snapshot ``parts`` (default: the visible view's), if they are
        not those asked for last (``force``: even so)."""
        parts = self.visible_parts if parts is None else tuple(parts)
        if force or parts != self._posted_parts:
            self._posted_parts = parts
            self.worker.post(SetViews(parts))

    @property
    def tab_names(self) -> list[str]:
        """The view names of the tabs on show, in order."""
        return [self.tabs.widget(i).name for i in range(self.tabs.count())]

    def _show_tabs(self, names: list[str]) -> None:
        """Offer exactly the tabs ``names`` (in :attr:`views` order), numbered 1..n (Ctrl+n);
        the current view stays current if it is offered."""
        names = [n for n in self.views if n in names]
        if names == self.tab_names:
            return
        current = self.visible_view if self.tabs.count() else None
        with signals_blocked(self.tabs):
            while self.tabs.count():
                self.tabs.removeTab(0)
            for i, name in enumerate(names, start=1):
                self.tabs.addTab(self.views[name], f"{i}  {self.views[name].title}")
            if current in names:
                self.tabs.setCurrentIndex(names.index(current))

    # ------------------------------------------------------------ from worker
    def _on_session(self, info: SessionInfo) -> None:
        self.info = info
        self.choice.session_changed(info)
        self.transport.show_seed(info.seed)
        self.transport.setEnabled(True)
        self.form.build(info.model, info.fields, info.config)
        self.form.setEnabled(True)
        self.config = info.config
        self.transport.show_parts(tuple(info.parts))
        self._show_tabs(info.views)
        pending = self.presets.pending_view
        if pending in self.tab_names:
            self.tabs.setCurrentIndex(self.tab_names.index(pending))
        self.request_parts()

    def _on_config(self, config: Any) -> None:
        self.config = config
        self.form.show_config(config)

    def _on_diverged(self, error: Any) -> None:
        """A :class:`~playground.core.models.base.NonFiniteLossError` (or a subclass, such as
        a diverging loss) paused training: its own message names the term and the step."""
        self.transport.show_playing(False)
        advice = "" if "learning rate" in str(error) else "; lower the learning rate"
        self.show_banner(f"Training paused: {error}{advice}, or press Reset.", "error")

    def show_banner(self, text: str, kind: str = "warning") -> None:
        """Show ``text`` above the views and in the status bar until the next command."""
        self.banner.setStyleSheet(_BANNER_STYLE[kind])
        self.banner.setText(text)
        self.banner.show()
        self.statusBar().showMessage(text)

    def _on_tab(self, index: int) -> None:
        view = self.tabs.currentWidget()
        if view is not None:
            self.presentation_mode.restyle(view)
            self.view_status.show_view(view.name, view.title)
        self.request_parts()

    def edit_hyperparameter(self, name: str, value: Any) -> None:
        """Apply a form edit: live fields at once; others after :attr:`confirm` says yes."""
        try:
            new = hpm.replace(self.config, {name: value})
        except hpm.HyperparameterError as e:
            self.show_banner(f"Not applied: {e}", "warning")
            self.form.show_config(self.config)
            return
        resets = hpm.needs_reset(self.config, new)
        if resets:
            question = (
                f"Changing {', '.join(resets)} rebuilds the model and resets training. Continue?"
            )
            if not self.confirm(question):
                self.form.show_config(self.config)
                return
        self.config = new
        self.post(SetHyperparameters({name: getattr(new, name)}, bool(resets)))

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Reset training?", question)
        return answer == QMessageBox.StandardButton.Yes
