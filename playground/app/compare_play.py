"""The Compare window's shared transport: Play both, Step both, and lock-step play that
keeps both sides at the same step (see :mod:`.lockstep`), with each side's step in a line."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStyle, QToolButton

from .commands import Pause, Play, PlayUntil, Step
from .lockstep import LockStep
from .qt_util import signals_blocked

__all__ = ["BothPlay", "TICK_MS"]

#: the lock-step driver looks at both step counts this often (ms): a fraction of a round
TICK_MS = 15
#: after Pause, a side still training to the last target counts as playing until it gets
#: there, for at most this long (s): a side reset meanwhile never reaches it
_FINISH_SECONDS = 5.0


class BothPlay(QObject):
    """Play both, Step both and Lock-step for two main-window panes.

    With Lock-step on (the default), Play both trains both sides to the same step target,
    a few steps a round (:class:`~.commands.PlayUntil`): the faster side waits for the
    slower, and the side behind catches up first. Off, each side plays at its own speed.
    A ``QObject`` child of the window, so the workers' signals reach it on the GUI thread.

    Arguments:
        panes: the two :class:`~.main_window.MainWindow` panes, left then right.
        parent: the Compare window.

    Attributes:
        schedule: the :class:`~.lockstep.LockStep` targets.
        play, step, state, lockstep_action: the buttons, the line (each side's step and
            state) and the Lock-step toggle; ``bar`` lays them out.
        waiting: the panes whose preset is being opened: Play and Step wait for them.
    """

    def __init__(self, panes: list[Any], parent: QObject):
        super().__init__(parent)
        self.panes = panes
        self.schedule = LockStep()
        self.waiting: set[int] = set()
        self._driving = False
        self._finishing: float | None = None  # clock at Pause while a round finishes
        self._shown: bool | None = None  # what the Play button shows: both playing
        self.play = QPushButton("Play both")
        self.play.setCheckable(True)
        self.play.setToolTip("Train both sessions (each pane's own Play still works alone)")
        self.step = QPushButton("Step both")
        self.step.setToolTip("One training step of each paused session")
        self.lockstep_action = QAction("&Lock-step", self)
        self.lockstep_action.setCheckable(True)
        self.lockstep_action.setChecked(True)
        self.lockstep_action.setToolTip(
            "Play both to the same step: the faster side waits for the slower one (and the "
            "side behind catches up first), so the pictures are comparable at every moment"
        )
        lockstep = QToolButton()
        lockstep.setDefaultAction(self.lockstep_action)
        self.state = QLabel("")
        self.bar = QHBoxLayout()
        for widget in (self.play, self.step, lockstep):
            self.bar.addWidget(widget)
        self.bar.addWidget(self.state, 1)
        self.play.toggled.connect(self._on_play)
        self.step.clicked.connect(self._on_step)
        self.lockstep_action.toggled.connect(self._on_lockstep)
        for pane in panes:
            worker = pane.worker
            worker.playing_changed.connect(self.refresh)
            worker.preset_opened.connect(self.refresh)
            worker.diverged.connect(self._on_diverged)
            worker.problem.connect(self._on_problem)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.refresh()

    def start(self) -> None:
        """Watch both step counts (the workers have started)."""
        self._timer.start()

    def stop(self) -> None:
        """Stop watching and driving (the workers are stopping)."""
        self._timer.stop()
        self._driving = False

    @property
    def step_counts(self) -> list[int | None]:
        """Each side's step count now (``None`` before its session is built)."""
        sessions = [pane.worker.session for pane in self.panes]
        return [s.step_count if s is not None else None for s in sessions]

    @property
    def lockstep(self) -> bool:
        """Whether Play both keeps both sides at the same step."""
        return self.lockstep_action.isChecked()

    @property
    def playing(self) -> list[bool]:
        """Whether each side trains, left then right: its own Play, or a lock-step run
        (until the round in progress at a Pause is finished)."""
        busy = self._driving or self._finishing is not None
        return [pane.worker.playing or busy for pane in self.panes]

    # ------------------------------------------------------------------ lock-step
    def _tick(self) -> None:
        """Every :data:`TICK_MS`: a new target once both sides reached the last one."""
        counts = self.step_counts
        if None not in counts and (self._driving or self._finishing is not None):
            now = time.perf_counter()
            if self._driving and not self.waiting:
                target = self.schedule.next_target(counts, now)
                if target is not None:
                    for pane, count in zip(self.panes, counts, strict=True):
                        if count < target:
                            pane.worker.post(PlayUntil(target))
            elif self._finishing is not None and (
                self.schedule.reached(counts) or now - self._finishing > _FINISH_SECONDS
            ):
                self._finishing = None
        self.refresh()

    def _drive(self, on: bool) -> None:
        if on == self._driving:
            return
        self._driving = on
        if on:
            self._finishing = None
            self.schedule.restart()
            for pane in self.panes:  # a side that plays on its own joins the lock-step
                if pane.worker.playing:
                    pane.worker.post(Pause())
        else:
            self._finishing = time.perf_counter()
            for pane in self.panes:  # after the round in progress: each draws where it stopped
                pane.worker.post(Pause())

    def _on_play(self, on: bool) -> None:
        if self.lockstep:
            self._drive(on)
        else:
            for pane in self.panes:
                pane.worker.post(Play() if on else Pause())
        self.refresh()

    def _on_step(self) -> None:
        for pane in self.panes:
            pane.worker.post(Step())

    def _on_lockstep(self, on: bool) -> None:
        """Switch while playing: the other way of playing takes over."""
        if on and any(pane.worker.playing for pane in self.panes):
            self._drive(True)
        elif not on and self._driving:
            self._drive(False)
            for pane in self.panes:
                pane.worker.post(Play())
        self.refresh()

    def _on_diverged(self, *_: Any) -> None:
        """A side's loss diverged (its banner says where): lock-step stops at once."""
        self._drive(False)
        self._finishing = None
        self.refresh()

    def _on_problem(self, message: str) -> None:
        if message.startswith("Cannot open preset"):
            self.waiting.clear()  # the side keeps its session: the pane's banner says why
        self.refresh()

    def refresh(self, *_: Any) -> None:
        """Each side's step and state in the bar; the shared button reads Pause while both
        train."""
        opened = {i for i in self.waiting if self.panes[i].presets.preset is not None}
        self.waiting -= opened
        playing = self.playing
        words = ["playing" if p else "paused" for p in playing]
        counts = ["starting" if c is None else f"step {c:,}" for c in self.step_counts]
        text = f"left: {counts[0]}, {words[0]}    right: {counts[1]}, {words[1]}"
        if self.waiting:
            text += "    (opening the session\u2026)"
        elif self._driving:
            text += f"    lock-step, {self.schedule.increment:,} steps a round"
            steps = self.step_counts
            if None not in steps and max(steps) - min(steps) > self.schedule.increment:
                behind = "left" if steps[0] < steps[1] else "right"
                text += f" ({behind} catching up to step {max(steps):,})"
        if text != self.state.text():
            self.state.setText(text)
        both = self._driving or (not self.lockstep and all(p.worker.playing for p in self.panes))
        self.play.setEnabled(not self.waiting)
        self.step.setEnabled(not any(playing) and not self.waiting)
        if self._shown == both:
            return
        self._shown = both
        with signals_blocked(self.play):
            self.play.setChecked(both)
        self.play.setText("Pause both" if both else "Play both")
        pixmap = QStyle.StandardPixmap.SP_MediaPause if both else QStyle.StandardPixmap.SP_MediaPlay
        self.play.setIcon(self.play.style().standardIcon(pixmap))
