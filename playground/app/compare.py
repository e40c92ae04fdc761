"""Two sessions side by side on one dataset, one menu bar, a shared Play that can keep both
at the same step (lock-step), in a window that fits the screen it opens on."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from .commands import SetHyperparameters
from .compare_fork import ForkSides, first_dataset
from .compare_layout import fit_panes
from .compare_play import BothPlay
from .qt_util import delete_later, signals_blocked, weakly
from .worker_thread import stop_threads

__all__ = ["CompareWindow", "Side"]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a fresh ``model`` on ``dataset`` (with ``hyperparameters``),
    the ``preset`` at that path (its model and dataset, see :meth:`of_preset`), or the
    branch of a run at a ``fork`` point (a ``ForkPoint``) with ``changes`` (live fields;
    see :class:`~.commands.StartFrom`), called ``label`` (default: the model)."""

    model: str
    dataset: str
    hyperparameters: Mapping[str, Any] | None = None
    preset: str | None = None
    fork: Any = None
    changes: Mapping[str, Any] | None = None
    label: str | None = None

    @classmethod
    def of_preset(cls, path: str | Path) -> Side:
        """The side of the preset at ``path``; raises ``PresetError`` if it cannot be read."""
        from ..core.presets import read_preset_info

        info = read_preset_info(path)
        return cls(info.model, info.dataset, preset=str(path))

    @property
    def name(self) -> str:
        """The label, the preset's folder name, or the model."""
        return self.label or (Path(self.preset).name if self.preset else self.model)


def _side(side: Side | tuple) -> Side:
    if isinstance(side, Side):
        return side
    if len(side) in (2, 3):
        return Side(*side)
    raise ValueError(f"a side is (model, dataset) or (model, dataset, hyperparameters), not {side}")


def _remover(folder: Path) -> Callable[..., None]:
    """A slot that deletes ``folder`` (it names no window, so it keeps none alive)."""

    def remove(*_: object) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    return remove


class CompareWindow(ForkSides, QMainWindow):
    """Two main-window panes on the same dataset, and one bar that plays both.

    Each pane is a :class:`~.main_window.MainWindow` without its menu bar; its side panel
    (pickers, transport, hyperparameters) folds when the screen is too small for both
    (View > Side panels), and the panes stack when even that is too wide (see
    :func:`.compare_layout.fit_panes`). With Lock-step on (the default), Play both trains
    both sides to the same step, a small increment at a time (see :mod:`.compare_play`);
    off, each trains at its own speed. A preset side opens at its trained state. A fork
    side starts at its fork point, and each side's Curves view also draws the other's
    curves, dashed (see :mod:`.compare_fork`). A view chosen on one side is shown on the
    other too (View > Same view on both sides).

    Arguments:
        left, right: :class:`Side` s, or ``(model, dataset[, hyperparameters])``; the
            hyperparameters are applied once the pane's session exists (a rebuild).
        pane: makes each side's window, called as ``pane(model, dataset, seed=..,
            device=.., paused=True, settings=..)``: the :class:`~.main_window.MainWindow`
            class (passed in, so this module does not import the window that opens it).
        seed, device: of both sessions (a preset keeps its own seed).
        folder: a temporary folder this window owns (the copy of the session it compares,
            the panes' settings): deleted when it shuts down.

    Attributes:
        panes: the two windows, left then right; ``splitter`` holds them.
        both: the :class:`~.compare_play.BothPlay` bar; its ``play``, ``step``, ``state``
            (each side's step and state), ``lockstep_action`` and ``schedule`` (the
            :class:`~.lockstep.LockStep` targets) are also the window's.
        close_action, side_panels_action, stack_action, same_view_action: the menus'
            actions (File > Close is Ctrl+W).

    Signals:
        closed(object): the window closed (itself); Qt deletes it right after, its panes
            with it (see :func:`~.qt_util.delete_later`).

    Raises:
        ValueError: the two datasets differ.
    """

    closed = Signal(object)

    def __init__(
        self,
        left: Side | tuple,
        right: Side | tuple,
        *,
        pane: Callable[..., Any],
        seed: int = 0,
        device: str = "auto",
        folder: str | Path | None = None,
    ) -> None:
        super().__init__()
        sides = [_side(left), _side(right)]
        if sides[0].dataset != sides[1].dataset:
            raise ValueError(
                f"compare on one dataset: the left side ({sides[0].name}) trains on "
                f"{sides[0].dataset}, the right side ({sides[1].name}) on {sides[1].dataset}"
            )
        self.folder = Path(folder) if folder is not None else None
        if self.folder is not None:
            # again once the panes are gone: a queued signal may still have written there
            self.destroyed.connect(_remover(self.folder))
        self.setWindowTitle(
            f"DGM Playground: {sides[0].name} vs {sides[1].name} on {sides[0].dataset}"
        )
        self.panes: list[Any] = []
        self._shut = False
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for index, side in enumerate(sides):
            self.splitter.addWidget(self._make_pane(index, side, pane, seed, device))
        self.both = BothPlay(self.panes, self)
        self.play, self.step, self.state = self.both.play, self.both.step, self.both.state
        self.lockstep_action, self.schedule = self.both.lockstep_action, self.both.schedule
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(self.both.bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._make_menus()
        self.side_names = (sides[0].name, sides[1].name)
        for index, side in enumerate(sides):
            if side.preset:
                self.open_preset(index, side.preset)
            elif side.fork is not None:
                self.watch_fork(index)
                self.start_from(index, side.fork, side.changes)

    def _make_pane(
        self, index: int, side: Side, pane: Callable[..., Any], seed: int, device: str
    ) -> Any:
        # the panes' recent presets go to this window's folder, never the user's list
        settings = None
        if self.folder is not None:
            path = str(self.folder / f"pane{index}.ini")
            settings = QSettings(path, QSettings.Format.IniFormat)
        dataset = first_dataset(side.dataset, side.fork)
        window = pane(side.model, dataset, seed=seed, device=device, paused=True, settings=settings)
        # a QMainWindow embedded as a child widget, not a window of its own, without menus
        window.setWindowFlags(Qt.WindowType.Widget)
        window.menuBar().hide()
        if side.hyperparameters and not side.preset:
            # queued before the thread starts: applied right after the session is built
            window.worker.post(SetHyperparameters(dict(side.hyperparameters), True))
        # two panes in one window: each pane's keys act on the pane that has the focus
        # (window-wide shortcuts of both would be ambiguous and fire in neither), and
        # full-screen presentation belongs to a window of its own
        for shortcut in window.findChildren(QShortcut):
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for action in window.findChildren(QAction):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.presentation_action.setEnabled(False)
        window.tabs.currentChanged.connect(weakly(self, lambda w, *_: w._same_view(index)))
        self.panes.append(window)
        return window

    def _make_menus(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self.close_action = menu.addAction("&Close")
        self.close_action.setShortcut(QKeySequence("Ctrl+W"))
        self.close_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&Training")
        menu.addAction(self.lockstep_action)
        menu = self.menuBar().addMenu("&View")
        self.side_panels_action = menu.addAction("&Side panels")
        self.side_panels_action.setCheckable(True)
        self.side_panels_action.setChecked(True)
        self.side_panels_action.setToolTip("Each pane's pickers, transport and hyperparameters")
        self.stack_action = menu.addAction("S&tack the panes")
        self.stack_action.setCheckable(True)
        self.same_view_action = menu.addAction("Same &view on both sides")
        self.same_view_action.setCheckable(True)
        self.same_view_action.setChecked(True)
        self.same_view_action.setToolTip("A tab chosen on one side is shown on the other too")
        self.side_panels_action.toggled.connect(weakly(self, lambda w, on: w.arrange(panels=on)))
        self.stack_action.toggled.connect(weakly(self, lambda w, on: w.arrange(stacked=on)))

    @classmethod
    def in_temp_folder(
        cls, left: Side | tuple, right: Side | tuple, *, prefix: str, **kwargs: Any
    ) -> CompareWindow:
        """A compare window owning a fresh temporary folder (named ``prefix`` + random),
        deleted when the window goes, or at once if the window cannot be built
        (``kwargs``: as :class:`CompareWindow`'s, ``folder`` excepted).

        Raises:
            ValueError: as :class:`CompareWindow` (the folder is gone then)."""
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            return cls(left, right, folder=folder, **kwargs)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    # ------------------------------------------------------------------ the window
    def start(self) -> None:
        """Start both workers (each builds its session on its own thread); once shut down,
        never again."""
        if self._shut:
            return
        for pane in self.panes:
            pane.start()
        self.both.start()

    def open_preset(self, index: int, path: str | Path) -> None:
        """Open the preset at ``path`` in pane ``index`` (0: left); Play both waits for it."""
        self.both.waiting.add(index)
        self.panes[index].presets.open_preset(str(path))
        self.both.refresh()

    def copy_failed(self, index: int, message: str) -> None:
        """The preset meant for pane ``index`` could not be made: it keeps its fresh session."""
        self.both.waiting.discard(index)
        self.panes[index].show_banner(f"Not the main window's session: {message}")
        self.both.refresh()

    def arrange(self, *, panels: bool | None = None, stacked: bool | None = None) -> None:
        """Show or fold the panes' side panels, and put the panes side by side or stacked."""
        if panels is not None:
            for pane in self.panes:
                pane.side_panel.setVisible(panels)
        if stacked is not None:
            vertical = Qt.Orientation.Vertical
            self.splitter.setOrientation(vertical if stacked else Qt.Orientation.Horizontal)
        with signals_blocked(self.side_panels_action, self.stack_action):
            self.side_panels_action.setChecked(self.panes[0].side_panel.isVisibleTo(self.panes[0]))
            self.stack_action.setChecked(self.splitter.orientation() == Qt.Orientation.Vertical)

    def fit_screen(self, available: QRect | None = None) -> str:
        """Size the window to the available area of its screen (``available``: that area,
        default the screen the window is on), folding the side panels and stacking the
        panes as needed; returns the arrangement (see :func:`.compare_layout.fit_panes`)."""
        if available is None:
            screen = self.screen() or QGuiApplication.primaryScreen()
            available = screen.availableGeometry()
        return fit_panes(self, available)

    def shutdown(self) -> bool:
        """Stop and join both workers together (see :func:`~.worker_thread.stop_threads`:
        one that does not stop in time is abandoned), then delete :attr:`folder`; returns
        whether both finished."""
        self._shut = True
        self.both.stop()
        stopped = stop_threads([pane.worker_thread for pane in self.panes])
        done = [pane.shutdown() for pane in self.panes]  # returns at once: joined above
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        return stopped and all(done)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Join both workers before the window goes (embedded panes get no close event);
        then the window is deleted, and forgotten by the window that opened it."""
        self.shutdown()
        super().closeEvent(event)
        if event.isAccepted():
            delete_later(self)
            self.closed.emit(self)

    def _same_view(self, index: int) -> None:
        """Pane ``index`` shows another view: the other side shows it too, if it has it
        (its own tab change comes back here and stops, the view being the same)."""
        if not self.same_view_action.isChecked() or len(self.panes) < 2:
            return
        view = self.panes[index].visible_view
        other = self.panes[1 - index]
        if view in other.tab_names and other.visible_view != view:
            other.tabs.setCurrentIndex(other.tab_names.index(view))

    # ------------------------------------------------------------------ the state
    @property
    def step_counts(self) -> list[int | None]:
        """Each side's step count now (``None`` before its session is built)."""
        return self.both.step_counts

    @property
    def lockstep(self) -> bool:
        """Whether Play both keeps both sides at the same step."""
        return self.both.lockstep

    @property
    def playing(self) -> list[bool]:
        """Whether each side trains, left then right (see :attr:`.BothPlay.playing`)."""
        return self.both.playing
