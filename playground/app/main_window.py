"""The main window: pickers, transport, hyperparameters on the left; numbered views on the right;
a File menu for presets and a presentation mode for the lecture hall."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QRect,
    QSettings,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QStyle,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import hyperparameters as hpm
from . import theme
from .panels import HyperparameterForm, PresetGallery, SessionPanel, TransportPanel
from .views import (
    VIEW_TITLES,
    ChainsView,
    CriticView,
    CurvesView,
    DensityView,
    DiffusionView,
    EnergyView,
    ExplorerView,
    ImageGridView,
    InterpolationView,
    LatentSpaceView,
    ManifoldView,
    ModesView,
    ReconstructionsView,
    ReverseStripView,
    SamplesView,
    ScoreFieldView,
    TrajectoryView,
    TraversalView,
)
from .worker import Frame, SessionInfo, TrainingWorker, WorkerThread

__all__ = ["MainWindow", "RECENT_KEY", "MAX_RECENT", "settings_store", "png_bytes"]

APP_TITLE = "DGM Playground"
#: recent presets: QSettings key, and how many the File menu lists (newest first)
RECENT_KEY, MAX_RECENT = "recent_presets", 8
PRESET_FILTER = "Presets (*.dgmpreset config.json);;All files (*)"

_BANNER_STYLE = {
    "error": "background:#b2182b; color:white; padding:8px; font-weight:bold;",
    "warning": "background:#fdb863; color:black; padding:8px;",
}


def settings_store() -> QSettings:
    """The user's settings (recent presets): an INI file in the user scope, so tests can
    redirect it with ``QSettings.setPath(IniFormat, UserScope, folder)``."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_TITLE, "playground")


def png_bytes(widget: QWidget) -> bytes:
    """What ``widget`` shows now, as PNG bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


class MainWindow(QMainWindow):
    """The playground window. It draws the worker's newest frame and posts commands to it.

    Keyboard: Space play/pause, Right one step (paused), R reset, 1..9 (or Ctrl+1..9) the
    n-th view, F11 presentation mode, Ctrl+O open a preset, Ctrl+S save one, Ctrl+G the
    gallery. Plain keys go to a spin box or line edit that has the focus, not to these.

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
        choose_preset: ``choose_preset() -> path | None``; asks which preset to open
            (a ``.dgmpreset`` file, or a preset folder's ``config.json``).
        choose_save_path: ``choose_save_path() -> path | None``; asks where to save the
            session (a name ending in ``.dgmpreset``: a bundle; otherwise a folder).
        worker: the :class:`~.worker.TrainingWorker`; ``worker_thread`` is its ``WorkerThread``.
        views: view name to widget, in tab order; the tabs show those the session offers.
        step: the step of the newest drawn frame.
        draws: view name to number of frames drawn (for the benchmarks).
        preset: the :class:`~playground.core.presets.PresetInfo` of the open preset, or
            ``None`` (none opened, or the model or data changed since).
        last_open_seconds: seconds from :meth:`open_preset` to its first drawn view.
        gallery: the :class:`~.panels.PresetGallery` last opened, or ``None``.
        file_menu, recent_menu, view_menu, presentation_action: the menus; Recent lists
            :meth:`recent_presets`.
        side_panel, slim_bar: the left column, and the Play/Step/Reset bar that replaces
            it in presentation mode; ``presentation``: the :class:`~.theme.Presentation`
            that scales the plots.
    """

    frame_drawn = Signal(int)

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
        self.setWindowTitle(APP_TITLE)
        self.confirm: Callable[[str], bool] = self._ask
        self.choose_folder: Callable[[], tuple[str, int] | None] = self._ask_folder
        self.choose_preset: Callable[[], str | None] = self._ask_preset
        self.choose_save_path: Callable[[], str | None] = self._ask_save_path
        self.settings = settings if settings is not None else settings_store()
        self.preset: Any = None
        self.last_open_seconds: float | None = None
        self.gallery: PresetGallery | None = None
        # an open in flight: (clock at the click, generation then, whether it opened)
        self._opening: tuple[float, int, bool] | None = None
        self._pending: tuple[str, Any] | None = None  # (path, PresetInfo) being opened
        self.presentation = theme.Presentation()
        self._normal: tuple[QRect, Qt.WindowState, QFont] | None = None
        self.step = 0
        self.draws: Counter[str] = Counter()
        self.frame: Frame | None = None
        self.info: SessionInfo | None = None
        self.config: Any = None
        self._generation = -1

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
        self.slim_bar = self._make_slim_bar()

        self.views: dict[str, QWidget] = {
            "density": DensityView(),
            "energy": EnergyView(),
            "samples": SamplesView(),
            "diffusion": DiffusionView(),
            "trajectory": TrajectoryView(),
            "score_field": ScoreFieldView(),
            "chains": ChainsView(),
            "critic": CriticView(),
            "manifold": ManifoldView(),
            "grid": ImageGridView(),
            "interpolation": InterpolationView(),
            "reverse_strip": ReverseStripView(),
            "traversal": TraversalView(),
            "reconstructions": ReconstructionsView(),
            "latent_space": LatentSpaceView(),
            "explorer": ExplorerView(),
            # Modes after Curves: flows on mixtures offer it too, and Curves keeps its number
            "curves": CurvesView(),
            "modes": ModesView(),
        }
        self.tabs = QTabWidget()
        # until the first session says which views it has: those of every density model
        self._show_tabs(["density", "samples", "trajectory", "curves"])
        for i in range(1, len(self.views) + 1):
            QShortcut(QKeySequence(f"Ctrl+{i}"), self, lambda i=i: self.tabs.setCurrentIndex(i - 1))
        self._add_keys()
        self._posted_parts: tuple[str, ...] = self.visible_parts
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        right = QVBoxLayout()
        right.addWidget(self.banner)
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
        self._make_menus()
        self._connect()

    # ------------------------------------------------------------------ wiring
    def _connect(self) -> None:
        w = self.worker
        w.catalog_ready.connect(self.session_panel.set_catalog)
        w.session_changed.connect(self._on_session)
        w.config_changed.connect(self._on_config)
        w.snapshot_ready.connect(self.draw_newest)
        w.playing_changed.connect(self.transport.show_playing)
        # bound methods of GUI objects only: a lambda would run in the worker's thread
        w.problem.connect(self.show_banner)
        w.problem.connect(self._on_problem)
        w.diverged.connect(self._on_diverged)
        w.preset_opened.connect(self._on_preset_opened)
        w.preset_saved.connect(self._on_preset_saved)
        w.playing_changed.connect(self._show_slim_playing)
        t = self.transport
        t.play_toggled.connect(lambda on: self._post("play" if on else "pause"))
        t.play_toggled.connect(self._show_slim_playing)
        t.step_clicked.connect(lambda: self._post("step"))
        t.part_step_clicked.connect(lambda part: self._post("step", part))
        t.slow_motion_toggled.connect(lambda on: self._post("slow_motion", bool(on)))
        t.reset_clicked.connect(lambda: self._post("reset"))
        t.seed_changed.connect(lambda seed: self._post("seed", int(seed)))
        p = self.session_panel
        p.model_chosen.connect(self._on_model_chosen)
        p.dataset_chosen.connect(self._on_dataset_chosen)
        p.device_chosen.connect(lambda d: self._post("device", d))
        self.form.edited.connect(self.edit_hyperparameter)
        self.tabs.currentChanged.connect(self._on_tab)
        self.views["critic"].parts_changed.connect(self._post_views)
        self.views["chains"].settings_changed.connect(self._on_chain_settings)

    def _on_dataset_chosen(self, dataset: str) -> None:
        """Train on ``dataset``; ``folder`` first asks which folder and what size."""
        if dataset == "folder":
            chosen = self.choose_folder()
            if chosen is None:  # cancelled: show the session's dataset again
                self._on_session(self.info)
                return
            path, size = chosen
            dataset = f"folder:path={path},size={size}"
        self._post("rebuild", self.info.model, dataset)

    def _ask_folder(self) -> tuple[str, int] | None:
        from PySide6.QtWidgets import QFileDialog, QInputDialog

        path = QFileDialog.getExistingDirectory(self, "A folder of PNG or JPEG images")
        if not path:
            return None
        size, ok = QInputDialog.getInt(
            self, "Image size", "Resize images to (pixels per side):", 16, 4, 64
        )
        return (path, size) if ok else None

    def start(self) -> None:
        """Start the worker thread (it imports torch and builds the first session)."""
        self.worker_thread.start()

    def shutdown(self) -> bool:
        """Stop and join the worker, and those of the compare windows opened from here;
        returns whether all finished."""
        done = [w.shutdown() for w in getattr(self, "_tool_windows", []) if hasattr(w, "shutdown")]
        return self.worker_thread.stop() and all(done)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Join the worker before the window goes, even mid-training."""
        self.shutdown()
        super().closeEvent(event)

    def _post(self, command: str, *args: Any) -> None:
        self.banner.hide()
        self.worker.post(command, *args)

    @property
    def visible_view(self) -> str:
        """The snapshot view of the current tab."""
        widget = self.tabs.currentWidget()
        return widget.view_name if widget is not None else next(iter(self.views))

    @property
    def visible_parts(self) -> tuple[str, ...]:
        """The snapshot parts the visible view draws (a view may need several)."""
        return self._parts_of(self.visible_view)

    def _parts_of(self, name: str) -> tuple[str, ...]:
        parts = getattr(self.views[name], "snapshot_parts", None)
        return tuple(parts()) if parts is not None else (name,)

    @property
    def tab_names(self) -> list[str]:
        """The view names of the tabs on show, in order."""
        return [self.tabs.widget(i).view_name for i in range(self.tabs.count())]

    def _show_tabs(self, names: list[str]) -> None:
        """Offer exactly the tabs ``names`` (in :attr:`views` order), numbered 1..n (Ctrl+n);
        the current view stays current if it is offered."""
        names = [n for n in self.views if n in names]
        if names == self.tab_names:
            return
        current = self.visible_view if self.tabs.count() else None
        old = self.tabs.blockSignals(True)
        while self.tabs.count():
            self.tabs.removeTab(0)
        for i, name in enumerate(names, start=1):
            self.tabs.addTab(self.views[name], f"{i}  {VIEW_TITLES[name]}")
        if current in names:
            self.tabs.setCurrentIndex(names.index(current))
        self.tabs.blockSignals(old)

    # ------------------------------------------------------------ from worker
    def _on_session(self, info: SessionInfo) -> None:
        self.info = info
        if self.preset is not None and (info.model, info.dataset) != (
            self.preset.model,
            self.preset.dataset,
        ):  # another model or data: no longer the preset
            self.preset = None
            self.setWindowTitle(APP_TITLE)
        self.session_panel.show_session(info.model, info.dataset, info.device, info.datasets)
        self.transport.show_seed(info.seed)
        self.transport.setEnabled(True)
        self.form.build(info.model, info.fields, info.config)
        self.form.setEnabled(True)
        self.config = info.config
        self.transport.show_parts(tuple(info.parts))
        self._show_tabs(info.views)
        pending = self._pending[1] if self._pending is not None else None
        if pending is not None and pending.view in self.tab_names:
            self.tabs.setCurrentIndex(self.tab_names.index(pending.view))
        self._post_views()

    def _on_config(self, config: Any) -> None:
        self.config = config
        self.form.show_config(config)

    def _on_diverged(self, error: Any) -> None:
        self.transport.show_playing(False)
        self.show_banner(
            f"Training paused: non-finite loss at step {error.step}: the term "
            f"'{error.term}' is {error.value}. Lower the learning rate, or press Reset.",
            "error",
        )

    def show_banner(self, text: str, kind: str = "warning") -> None:
        """Show ``text`` above the views and in the status bar until the next command."""
        self.banner.setStyleSheet(_BANNER_STYLE[kind])
        self.banner.setText(text)
        self.banner.show()
        self.statusBar().showMessage(text)

    def draw_newest(self) -> None:
        """Draw the worker's newest frame into the visible view and the status bar."""
        frame = self.worker.take()
        if frame is None:
            return
        if frame.generation != self._generation:
            self._generation = frame.generation
            for view in self.views.values():
                view.clear()
        self.frame = frame
        snap = frame.snapshot
        self.step = snap.step
        name = self.visible_view
        view = self.views[name]
        accepts = getattr(view, "accepts", None)
        drawn = accepts(snap) if accepts is not None else getattr(snap, name, None) is not None
        if drawn:
            view.show_snapshot(snap)
            self.draws[name] += 1
            if self.presenting:  # scale what the view created or restyled as it drew
                self.presentation.apply(view)
        self.step_label.setText(f"step {snap.step:,}")
        rate = f"{frame.steps_per_second:,.0f} steps/s" if frame.playing else "paused"
        self.speed_label.setText(rate)
        self.terms_label.setText("   ".join(f"{k} {v:.4g}" for k, v in snap.terms.items()))
        if drawn:
            opening = self._opening
            if opening is not None and opening[2] and frame.generation > opening[1]:
                self.last_open_seconds = time.perf_counter() - opening[0]
                self._opening = None
            self.frame_drawn.emit(snap.step)

    # ------------------------------------------------------------- from user
    def _on_tab(self, index: int) -> None:
        if self.presenting and self.tabs.currentWidget() is not None:
            self.presentation.apply(self.tabs.currentWidget())
        self._post_views()

    def _post_views(self) -> None:
        """Tell the worker which snapshot parts the visible view needs (if they changed)."""
        parts = self.visible_parts
        if parts != self._posted_parts:
            self._posted_parts = parts
            self.worker.post("views", parts)

    def _on_chain_settings(self, settings: Any) -> None:
        self._post("chain_settings", settings)

    def _on_model_chosen(self, model: str) -> None:
        datasets = self.session_panel.datasets_for(model)
        current = self.info.dataset if self.info else None
        dataset = current if current in datasets else (datasets[0] if datasets else current)
        self._post("rebuild", model, dataset)

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
        self._post("hyperparameters", {name: getattr(new, name)}, bool(resets))

    # ------------------------------------------------------------- presets
    def open_preset(self, path: str) -> None:
        """Open the preset folder or ``.dgmpreset`` bundle at ``path``, paused at its trained
        state (the worker loads it; a broken one shows a banner and keeps the session)."""
        from ..core.presets import PresetError, read_preset_info

        self._opening = (time.perf_counter(), self.worker.generation, False)
        try:
            info = read_preset_info(path)
        except (PresetError, OSError):  # the worker says what is wrong with it
            info = None
        self._pending = (str(path), info)
        if info is not None and info.view in self.views:
            # the worker snapshots the preset's own view first: its tab is shown at once
            parts = self._parts_of(info.view)
            if parts != self._posted_parts:
                self._posted_parts = parts
                self.worker.post("views", parts)
        self._post("open_preset", str(path))

    def save_preset_as(
        self,
        path: str,
        title: str | None = None,
        description: str | None = None,
        notes: str | None = None,
    ) -> None:
        """Save the session as a preset at ``path`` (``.dgmpreset``: a bundle; otherwise a
        folder), with a PNG of the visible view as its preview. Title, description and notes
        default to those of the open preset, if the session is still that preset's."""
        if self.preset is not None:
            title = title if title is not None else self.preset.title
            description = description if description is not None else self.preset.description
            notes = notes if notes is not None else self.preset.notes
        view = self.visible_view
        preview = png_bytes(self.views[view])
        offered = self.info.views if self.info is not None else []
        self._post(
            "save_preset",
            str(path),
            preview,
            title,
            description,
            notes,
            view if view in offered else None,
        )

    def open_gallery(self) -> PresetGallery:
        """Show the preset gallery (the shipped and the recent presets); choosing one opens it."""
        if self.gallery is not None:
            self.gallery.close()
        self.gallery = PresetGallery(extra=self.recent_presets(), parent=self)
        self.gallery.preset_chosen.connect(self.open_preset)
        self.gallery.open()
        return self.gallery

    def recent_presets(self) -> list[str]:
        """The recently opened or saved presets that still exist, newest first."""
        value = self.settings.value(RECENT_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if Path(p).exists()][:MAX_RECENT]

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        paths = [path, *(p for p in self.recent_presets() if p != path)][:MAX_RECENT]
        self.settings.setValue(RECENT_KEY, paths)
        self.settings.sync()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.recent_presets()
        for i, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{i}  {Path(path).name}")
            action.setData(path)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_preset(p))
        menu.setEnabled(bool(paths))

    def _on_preset_opened(self, path: str) -> None:
        if self._opening is not None:
            self._opening = (*self._opening[:2], True)
        pending, self._pending = self._pending, None
        self.preset = pending[1] if pending is not None and pending[0] == path else None
        title = self.preset.title if self.preset is not None else Path(path).name
        self.setWindowTitle(f"{title} — {APP_TITLE}")
        self.statusBar().showMessage(f"Opened preset {path}", 5000)
        self._remember(path)

    def _on_problem(self, message: str) -> None:
        if self._pending is not None and self._opening is not None and not self._opening[2]:
            # the open failed: snapshot the visible view again, not the preset's
            self._pending = None
            self._posted_parts = ()
            self._post_views()

    def _on_preset_saved(self, path: str) -> None:
        self.statusBar().showMessage(f"Saved preset {path}", 5000)
        self._remember(path)

    def _ask_preset(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a preset: a .dgmpreset file, or a preset folder's config.json",
            "",
            PRESET_FILTER,
        )
        if not path:
            return None
        return str(Path(path).parent) if Path(path).name == "config.json" else path

    def _ask_save_path(self) -> str | None:
        from ..core.presets import BUNDLE_SUFFIX

        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Save preset as",
            "",
            f"Preset bundle (*{BUNDLE_SUFFIX});;Preset folder (*)",
        )
        if not path:
            return None
        if chosen.startswith("Preset bundle") and not path.endswith(BUNDLE_SUFFIX):
            path += BUNDLE_SUFFIX
        return path

    def _open_chosen(self) -> None:
        path = self.choose_preset()
        if path:
            self.open_preset(path)

    def _save_chosen(self) -> None:
        path = self.choose_save_path()
        if path:
            self.save_preset_as(path)

    # ------------------------------------------------------------- menus, keys
    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, keys, slot in (
            ("&Open preset\u2026", "Ctrl+O", self._open_chosen),
            ("&Save preset as\u2026", "Ctrl+S", self._save_chosen),
            ("Preset &gallery\u2026", "Ctrl+G", self.open_gallery),
        ):
            action = file_menu.addAction(text)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _=False, slot=slot: slot())
        self.recent_menu = file_menu.addMenu("&Recent presets")
        self._fill_recent_menu()
        file_menu.addSeparator()
        self._add_tool_actions(file_menu)
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.file_menu = file_menu
        view_menu = self.menuBar().addMenu("&View")
        self.presentation_action = QAction("&Presentation mode", self)
        self.presentation_action.setCheckable(True)
        self.presentation_action.setShortcut(QKeySequence("F11"))
        self.presentation_action.toggled.connect(self.set_presentation)
        view_menu.addAction(self.presentation_action)
        self.view_menu = view_menu

    def _add_tool_actions(self, menu: QMenu) -> None:
        """Add the tools' actions to the File menu, above Quit: record the current view (PNG,
        GIF or MP4) and compare this session with another model's on the same dataset."""
        record = menu.addAction("&Record view\u2026")
        record.setShortcut(QKeySequence("Ctrl+Shift+R"))
        record.triggered.connect(lambda _=False: self.open_record_dialog())
        compare = menu.addAction("&Compare with\u2026")
        compare.setShortcut(QKeySequence("Ctrl+Shift+C"))
        compare.triggered.connect(lambda _=False: self._compare_chosen())
        menu.addSeparator()
        self._tool_windows: list[QWidget] = []

    def open_record_dialog(self) -> QWidget:
        """Open the Record dialog on the current view (see :mod:`.panels.record_dialog`)."""
        from .panels.record_dialog import RecordDialog

        dialog = RecordDialog(self)
        dialog.show()
        return dialog

    def compare_with(self, model: str) -> QWidget:
        """Open a window with this session's model and ``model`` side by side on this
        session's dataset, each with its own controls and one shared Play (see
        :class:`.compare.CompareWindow`); it is kept until closed."""
        from .compare import CompareWindow

        info = self.info
        window = CompareWindow((info.model, info.dataset), (model, info.dataset), seed=info.seed)
        window.resize(1800, 900)
        window.show()
        window.start()
        self._tool_windows.append(window)
        return window

    def choose_compare_model(self, models: list[str]) -> str | None:
        """Ask which model to compare with (replaceable in tests)."""
        from PySide6.QtWidgets import QInputDialog

        model, ok = QInputDialog.getItem(
            self, "Compare with", f"Model to train beside {self.info.model}:", models, 0, False
        )
        return model if ok else None

    def _compare_chosen(self) -> None:
        if self.info is None:
            return
        dataset = self.info.dataset.partition(":")[0]
        trainable = self.worker._catalog.get("trainable", {})
        models = [m for m, ds in trainable.items() if dataset in ds]
        model = self.choose_compare_model(models) if models else None
        if model:
            self.compare_with(model)

    def _add_keys(self) -> None:
        """Plain keys for the lecture hall. A focused spin box or line edit takes printable
        keys and arrows first (Qt's ShortcutOverride), so typing a value never triggers them."""
        keys: list[tuple[str, Callable[[], None]]] = [
            ("Space", lambda: self._click(self.transport.play)),
            ("Right", lambda: self._click(self.transport.step)),
            ("R", lambda: self._click(self.transport.reset)),
        ]
        for i in range(1, 10):
            keys.append((str(i), lambda i=i: self._show_tab(i - 1)))
        self._key_shortcuts = [QShortcut(QKeySequence(k), self, slot) for k, slot in keys]

    def _click(self, button: Any) -> None:
        if button.isEnabled() and button.isVisibleTo(self.transport) and self.transport.isEnabled():
            button.click()

    def _show_tab(self, index: int) -> None:
        if index < self.tabs.count():
            self.tabs.setCurrentIndex(index)

    # ------------------------------------------------------------- presentation
    def _make_slim_bar(self) -> QWidget:
        """The controls of presentation mode: Play/Pause, Step and Reset, big, in a column."""
        bar = QWidget()
        layout = QVBoxLayout(bar)
        layout.setContentsMargins(0, 0, 0, 0)
        style = self.style()
        self.slim_buttons: dict[str, QToolButton] = {}
        for name, pixmap, tip in (
            ("play", QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)"),
            ("step", QStyle.StandardPixmap.SP_MediaSkipForward, "One step (Right arrow)"),
            ("reset", QStyle.StandardPixmap.SP_BrowserReload, "Reset (R)"),
        ):
            button = QToolButton()
            button.setIcon(style.standardIcon(pixmap))
            button.setIconSize(QSize(40, 40))
            button.setText(name.capitalize())
            button.setToolTip(tip)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setMinimumWidth(96)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(button)
            self.slim_buttons[name] = button
        layout.addStretch(1)
        self.slim_buttons["play"].clicked.connect(lambda: self._click(self.transport.play))
        self.slim_buttons["step"].clicked.connect(lambda: self._click(self.transport.step))
        self.slim_buttons["reset"].clicked.connect(lambda: self._click(self.transport.reset))
        bar.hide()
        return bar

    def _show_slim_playing(self, playing: bool) -> None:
        play = self.slim_buttons["play"]
        pixmap = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        play.setText("Pause" if playing else "Play")
        play.setIcon(self.style().standardIcon(pixmap))
        self.slim_buttons["step"].setEnabled(not playing)

    @property
    def presenting(self) -> bool:
        """Whether presentation mode is on."""
        return self._normal is not None

    def set_presentation(self, on: bool) -> None:
        """Presentation mode: full screen, the side panel collapsed to a slim bar of
        Play/Pause, Step and Reset, fonts x1.5, thicker lines, bigger points and a
        high-contrast heatmap colour map. Turning it off restores all of it exactly."""
        if bool(on) == self.presenting:
            return
        app = QApplication.instance()
        if on:
            self._normal = (self.geometry(), self.windowState(), QApplication.font())
            # plots first: their label sizes are read before the application font grows
            self.presentation.apply(*self.views.values())
            app.setFont(theme.scaled_font(QApplication.font(), theme.PRESENTATION_FONT_SCALE))
            self.side_panel.hide()
            self._show_slim_playing(self.transport.play.isChecked())
            self.slim_bar.show()
            self.showFullScreen()
        else:
            geometry, state, font = self._normal
            self._normal = None
            self.presentation.restore()
            app.setFont(font)
            self.slim_bar.hide()
            self.side_panel.show()
            # the widgets take the restored font and re-lay out now, not later: else the
            # geometry comes back clamped to the large fonts' minimum size
            QApplication.sendPostedEvents(None, QEvent.Type.ApplicationFontChange)
            for layout in self.findChildren(QLayout):  # hidden tabs keep stale size hints
                layout.invalidate()
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self.layout().activate()
            if state & Qt.WindowState.WindowMaximized:
                self.showMaximized()
            else:
                self.showNormal()
                self.setGeometry(geometry)
        old = self.presentation_action.blockSignals(True)
        self.presentation_action.setChecked(self.presenting)
        self.presentation_action.blockSignals(old)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Reset training?", question)
        return answer == QMessageBox.StandardButton.Yes
