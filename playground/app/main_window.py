"""The main window: pickers, transport, hyperparameters on the left; numbered views on the right."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
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
from .panels import HyperparameterForm, SessionPanel, TransportPanel
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

__all__ = ["MainWindow"]

_BANNER_STYLE = {
    "error": "background:#b2182b; color:white; padding:8px; font-weight:bold;",
    "warning": "background:#fdb863; color:black; padding:8px;",
}


class MainWindow(QMainWindow):
    """The playground window. It draws the worker's newest frame and posts commands to it.

    Arguments:
        model, dataset, seed, device: the first session (built by the worker).
        paused: open without training.

    Attributes:
        confirm: ``confirm(question) -> bool``; asks before a change that resets
            training (tests replace it to answer without a dialog).
        choose_folder: ``choose_folder() -> (path, size) | None``; asks for an image
            folder and the pixel size to resize to when the ``folder`` dataset is picked.
        worker: the :class:`~.worker.TrainingWorker`; ``worker_thread`` is its ``WorkerThread``.
        views: view name to widget, in tab order; the tabs show those the session offers.
        step: the step of the newest drawn frame.
        draws: view name to number of frames drawn (for the benchmarks).
    """

    def __init__(
        self,
        model: str = "realnvp",
        dataset: str = "moons",
        seed: int = 0,
        device: str = "auto",
        paused: bool = False,
    ):
        super().__init__()
        self.setWindowTitle("DGM Playground")
        self.confirm: Callable[[str], bool] = self._ask
        self.choose_folder: Callable[[], tuple[str, int] | None] = self._ask_folder
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
        self._posted_parts: tuple[str, ...] = self.visible_parts
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()
        right = QVBoxLayout()
        right.addWidget(self.banner)
        right.addWidget(self.tabs, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
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
        w.diverged.connect(self._on_diverged)
        t = self.transport
        t.play_toggled.connect(lambda on: self._post("play" if on else "pause"))
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
        """Stop and join the worker; returns whether it finished."""
        return self.worker_thread.stop()

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
        view = self.views[self.visible_view]
        parts = getattr(view, "snapshot_parts", None)
        return tuple(parts()) if parts is not None else (self.visible_view,)

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
        self.session_panel.show_session(info.model, info.dataset, info.device, info.datasets)
        self.transport.show_seed(info.seed)
        self.transport.setEnabled(True)
        self.form.build(info.model, info.fields, info.config)
        self.form.setEnabled(True)
        self.config = info.config
        self.transport.show_parts(tuple(info.parts))
        self._show_tabs(info.views)
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
        if accepts(snap) if accepts is not None else getattr(snap, name, None) is not None:
            view.show_snapshot(snap)
            self.draws[name] += 1
        self.step_label.setText(f"step {snap.step:,}")
        rate = f"{frame.steps_per_second:,.0f} steps/s" if frame.playing else "paused"
        self.speed_label.setText(rate)
        self.terms_label.setText("   ".join(f"{k} {v:.4g}" for k, v in snap.terms.items()))

    # ------------------------------------------------------------- from user
    def _on_tab(self, index: int) -> None:
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

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Reset training?", question)
        return answer == QMessageBox.StandardButton.Yes
