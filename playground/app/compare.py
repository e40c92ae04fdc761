"""Two sessions side by side on one dataset, each with its own controls, and a shared Play."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from .commands import Pause, Play, SetHyperparameters, Step
from .qt_util import delete_later, signals_blocked
from .worker_thread import stop_threads

__all__ = ["CompareWindow"]

Side = tuple[str, str] | tuple[str, str, dict[str, Any]]


def _parse(side: Side) -> tuple[str, str, dict[str, Any] | None]:
    if len(side) == 2:
        return side[0], side[1], None
    if len(side) == 3:
        return side[0], side[1], dict(side[2])
    raise ValueError(f"a side is (model, dataset) or (model, dataset, hyperparameters), not {side}")


class CompareWindow(QWidget):
    """Two main-window panes in a splitter, on the same dataset.

    Each pane keeps its own pickers, transport and hyperparameter form; the bar above
    them plays, pauses and single-steps both at once. Examples: a GAN beside WGAN-GP on
    ``ring8``; ``("realnvp", "u1", {"objective": "forward_kl"})`` beside the same model
    with ``reverse_kl``.

    Arguments:
        left, right: ``(model, dataset)`` or ``(model, dataset, hyperparameters)``; the
            hyperparameters are applied once the pane's session exists (a rebuild).
        pane: makes each side's window, called as ``pane(model, dataset, seed=..,
            device=.., paused=True)``: the :class:`~.main_window.MainWindow` class (passed
            in, so this module does not import the window that opens it).
        seed, device: of both sessions.

    Attributes:
        panes: the two windows, left then right.

    Signals:
        closed(object): the window closed (itself); Qt deletes it right after, its panes
            with it (see :func:`~.qt_util.delete_later`).

    Raises:
        ValueError: the two datasets differ.
    """

    closed = Signal(object)

    def __init__(
        self,
        left: Side,
        right: Side,
        *,
        pane: Callable[..., Any],
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        super().__init__()
        sides = [_parse(left), _parse(right)]
        if sides[0][1] != sides[1][1]:
            raise ValueError(
                f"compare on one dataset: the left side trains on {sides[0][1]}, "
                f"the right side on {sides[1][1]}"
            )
        self.setWindowTitle(f"DGM Playground: {sides[0][0]} vs {sides[1][0]} on {sides[0][1]}")
        self.panes: list[Any] = []
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for model, dataset, hyperparameters in sides:
            window = pane(model, dataset, seed=seed, device=device, paused=True)
            # a QMainWindow embedded as a child widget, not a window of its own
            window.setWindowFlags(Qt.WindowType.Widget)
            if hyperparameters:
                # queued before the thread starts: applied right after the session is built
                window.worker.post(SetHyperparameters(hyperparameters, True))
            window.worker.playing_changed.connect(self._show_state)
            # two panes in one window: each pane's keys act on the pane that has the focus
            # (window-wide shortcuts of both would be ambiguous and fire in neither), and
            # full-screen presentation belongs to a window of its own
            for shortcut in window.findChildren(QShortcut):
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            for action in window.findChildren(QAction):
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            window.presentation_action.setEnabled(False)
            splitter.addWidget(window)
            self.panes.append(window)

        self.play = QPushButton("Play both")
        self.play.setCheckable(True)
        self.play.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play.setToolTip("Train both sessions (each pane's own Play still works alone)")
        self.step = QPushButton("Step both")
        self.step.setToolTip("One training step of each paused session")
        self.state = QLabel("")
        bar = QHBoxLayout()
        bar.addWidget(self.play)
        bar.addWidget(self.step)
        bar.addWidget(self.state, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        self.play.toggled.connect(self._on_play)
        self.step.clicked.connect(self._on_step)
        self._show_state()

    def start(self) -> None:
        """Start both workers (each builds its session on its own thread)."""
        for pane in self.panes:
            pane.start()

    def shutdown(self) -> bool:
        """Stop and join both workers together (see :func:`~.worker_thread.stop_threads`:
        one that does not stop in time is abandoned); returns whether both finished."""
        stopped = stop_threads([pane.worker_thread for pane in self.panes])
        done = [pane.shutdown() for pane in self.panes]  # returns at once: joined above
        return stopped and all(done)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Join both workers before the window goes (embedded panes get no close event);
        then the window is deleted, and forgotten by the window that opened it."""
        self.shutdown()
        super().closeEvent(event)
        if event.isAccepted():
            delete_later(self)
            self.closed.emit(self)

    @property
    def playing(self) -> list[bool]:
        """Whether each pane's worker trains, left then right."""
        return [pane.worker.playing for pane in self.panes]

    def _on_play(self, on: bool) -> None:
        for pane in self.panes:
            pane.worker.post(Play() if on else Pause())
        self._label(on)

    def _on_step(self) -> None:
        for pane in self.panes:
            pane.worker.post(Step())

    def _label(self, on: bool) -> None:
        self.play.setText("Pause both" if on else "Play both")
        pixmap = QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(self.style().standardIcon(pixmap))

    def _show_state(self, *_: Any) -> None:
        """Show each side's state; the shared button reads Pause while both train."""
        playing = self.playing
        words = ["playing" if p else "paused" for p in playing]
        self.state.setText(f"left: {words[0]}    right: {words[1]}")
        both = all(playing)
        with signals_blocked(self.play):
            self.play.setChecked(both)
        self._label(both)
        self.step.setEnabled(not any(playing))
