"""The training worker: owns the Session on a QThread, applies commands between steps."""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from .commands import (
    Command,
    OpenPreset,
    Pause,
    Play,
    PlayUntil,
    Quit,
    Rebuild,
    Reset,
    SavePreset,
    SessionInfo,
    SetChainSettings,
    SetDevice,
    SetHyperparameters,
    SetPoints,
    SetSeed,
    SetViews,
    SlowMotion,
    StartFrom,
    Step,
)
from .pacing import SNAPSHOT_RATE, Pacing
from .snapshots import Frame, Snapshotter
from .worker_fork import ForkCommands
from .worker_points import PointsCommands
from .worker_presets import PresetCommands
from .worker_snapshots import SnapshotSchedule
from .worker_timeline import TimelineCommands
from .worker_training import TrainingSteps

__all__ = ["TrainingWorker", "TORCH_THREADS"]

#: torch threads of the training and snapshot threads (set per OS thread): one each, so
#: training, snapshots and the GUI share two cores without oversubscription
TORCH_THREADS = 1


class TrainingWorker(
    TimelineCommands,
    TrainingSteps,
    SnapshotSchedule,
    PresetCommands,
    ForkCommands,
    PointsCommands,
    QObject,
):
    """Trains in small chunks and reads commands between them (superqt style).

    :meth:`post` queues a typed command (:mod:`.commands`) from any thread; it is applied
    between two steps. The newest :class:`Frame` waits in a one-element slot (older ones
    are dropped) and :attr:`snapshot_ready` fires once until the GUI :meth:`take` s it.
    Snapshots of the model's views are computed by a :class:`Snapshotter` thread on the
    session's :meth:`frozen copy <playground.core.training.Session.frozen_copy>`, so they
    run on the other core while training goes on; :attr:`pacing` says when. So does the
    held-out evaluation, whose metrics the training thread records at the step they were
    measured at.

    No picture holds training or the window hostage: while training plays, pictures are
    built on a quick :class:`~playground.core.sampling.budget.Budget` (a model whose
    sampler is a long chain draws a preview: fewer particles, fewer steps); while paused,
    a preview comes first and the full picture follows, and full pictures are kept per
    session state, so a tab shown again draws at once. A picture no longer wanted (another
    tab, a new session, Play) is stopped at its sampler's next progress report, and so is
    an evaluation when the user asks for a picture. :attr:`progress` reports the step and
    what is being computed a few times a second, so the window never looks frozen.

    Arguments:
        model, dataset, seed, device: the first session.
        playing: train as soon as the session is built.
        views: the pictures to snapshot (those of the view on show in the window).
        snapshot_rate: the most snapshots per second.
        torch_threads: ``torch.set_num_threads`` of the worker's threads (``None``: leave it).

    Attributes:
        pacing: the :class:`~.pacing.Pacing` schedule of evaluations and snapshots.
        session: the :class:`~playground.core.training.Session` (``None`` until built).
        playing, slow_motion: the transport's state.
        generation: counts session restarts (see :class:`Frame`).
        rebuilds_applied: counts the :class:`~.commands.Rebuild` commands applied (or
            refused), so the window knows when the user's last choice has been answered.
        chain_settings: the chains view's settings, kept for every later session.
    """

    catalog_ready = Signal(object)
    session_changed = Signal(object)
    config_changed = Signal(object)
    snapshot_ready = Signal()
    #: a :class:`~.snapshots.Progress`: the step and what is being computed, between frames
    progress = Signal(object)
    playing_changed = Signal(bool)
    problem = Signal(str)
    diverged = Signal(object)
    #: a preset is being opened: its path and ``PresetInfo`` (``None``: unreadable), read on
    #: this thread (a slow or stuck read never holds up the GUI), before it is loaded
    preset_read = Signal(str, object)
    #: a preset was opened (its path): the session is replaced, paused at its trained state
    preset_opened = Signal(str)
    #: the session was saved as a preset (its path)
    preset_saved = Signal(str)

    def __init__(
        self,
        model: str,
        dataset: str,
        seed: int = 0,
        device: str = "auto",
        playing: bool = True,
        views: tuple[str, ...] = (),
        snapshot_rate: float = SNAPSHOT_RATE,
        torch_threads: int | None = TORCH_THREADS,
    ):
        super().__init__()
        self._start = (model, dataset, seed, device)
        self.playing = playing
        self.pacing = Pacing(views=views, snapshot_rate=snapshot_rate)
        self.torch_threads = torch_threads
        self.session: Any = None
        self.generation = 0
        self.rebuilds_applied = 0
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._quit = threading.Event()
        self._lock = threading.Lock()
        self._slot: Frame | None = None
        self._signalled = False
        self._rate: deque = deque()
        self._snapshotter = Snapshotter(self._publish, self.problem.emit, torch_threads)
        self._frozen: Any = None  # the last FrozenSession, refreshed in place
        self._evaluations: queue.SimpleQueue = queue.SimpleQueue()
        self._cache: dict[tuple, Any] = {}  # session state -> full Snapshot (model views)
        self._next_progress = 0.0
        # lock-step training (PlayUntil) counts as playing for the pictures until then
        self._stepping_until = 0.0
        self._reported_computing = False
        self.slow_motion = False
        self._slow_due = 0.0
        self._slow_phase = 0
        self._catalog: dict[str, Any] = {"trainable": {}}
        self.chain_settings: Any = None
        self._handlers: dict[type[Command], Callable[[Any], None]] = {
            Play: self._play,
            Pause: self._pause,
            Step: self._step,
            PlayUntil: self._play_until,
            SlowMotion: self._slow_motion,
            Reset: self._reset,
            SetSeed: self._set_seed,
            SetViews: self._set_views,
            SetChainSettings: self._set_chain_settings,
            SetDevice: self._set_device,
            SetHyperparameters: self._set_hyperparameters,
            Rebuild: self._rebuild,
            OpenPreset: self._open_preset,
            SavePreset: self._save_preset,
            StartFrom: self._start_from,
            SetPoints: self._set_points,
            **self._timeline_handlers(),  # ScrubTo, Rewind, ...; Play/Step when scrubbed
        }

    # ------------------------------------------------------------ any thread
    def post(self, command: Command) -> None:
        """Queue ``command`` (one of :mod:`.commands`); it is applied between two steps.

        Raises:
            TypeError: ``command`` is not a command the worker knows.
        """
        if type(command) not in self._handlers and not isinstance(command, Quit):
            raise TypeError(f"not a worker command: {command!r}")
        self._commands.put(command)

    def request_quit(self) -> None:
        """Ask the loop to end after the current step."""
        self._quit.set()
        self._commands.put(Quit())

    def take(self) -> Frame | None:
        """The newest frame (or ``None``); the slot empties and may signal again."""
        with self._lock:
            frame, self._slot, self._signalled = self._slot, None, False
        return frame

    @property
    def catalog(self) -> dict[str, Any]:
        """The core's catalog (models, datasets, which model trains on which), once loaded."""
        return self._catalog

    @property
    def views(self) -> tuple[str, ...]:
        """The pictures snapshot now (those of the visible view)."""
        return self.pacing.views

    # ------------------------------------------------------------ worker thread
    @Slot()
    def run(self) -> None:
        """Build the session, then loop: commands, a chunk of steps, maybe a snapshot."""
        try:
            import torch

            if self.torch_threads:
                torch.set_num_threads(self.torch_threads)
            self._snapshotter.start()
            from ..core.catalog import catalog

            self._catalog = catalog()
            self.catalog_ready.emit(self._catalog)
            self._build(*self._start[:2], None, *self._start[2:])
            self.playing_changed.emit(self.playing)
            while not self._quit.is_set():
                try:
                    self._iterate()
                except Exception as e:  # noqa: BLE001 - report, pause, keep the window alive
                    self._set_playing(False)
                    self.problem.emit(f"Training paused: {type(e).__name__}: {e}")
        finally:
            self._snapshotter.stop()

    def _iterate(self) -> None:
        forced = self.pacing.forced
        idle = not self.playing or self.session is None
        # idle: wait for a command (briefly if a forced snapshot waits for the snapshotter)
        timeout = (0.01 if forced else 0.1) if idle else None
        if not idle and self._slow:
            # between two halves: wait for a command until the next half is due
            wait = self._slow_due - time.perf_counter()
            timeout = min(wait, 0.01) if forced else wait
            timeout = timeout if timeout > 0 else None
        try:
            command = (
                self._commands.get(timeout=timeout) if timeout else self._commands.get_nowait()
            )
            while not isinstance(command, Quit):
                if self.session is not None or not command.needs_session:
                    self._handlers[type(command)](command)
                command = self._commands.get_nowait()
        except queue.Empty:
            pass
        if self._quit.is_set() or self.session is None:
            return
        self._record_evaluations()
        if self.playing:
            if self._slow:
                self._train_half()
            else:
                self._train_chunk()
        self._maybe_snapshot()
        self._maybe_progress()

    def _publish(self, frame: Frame) -> None:
        with self._lock:
            self._slot = frame
            signal, self._signalled = not self._signalled, True
        if signal:
            self.snapshot_ready.emit()

    def _set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.playing = playing
            self._rate.clear()
            self.playing_changed.emit(playing)
            if playing:  # a full picture of the paused weights is no longer wanted
                self._snapshotter.cancel("picture")
        self.pacing.postpone_evaluation(time.perf_counter())

    def _restarted(self) -> None:
        self.generation += 1
        self._rate.clear()
        self._slow_phase = 0
        self._snapshotter.cancel()
        self._cache.clear()
        self.pacing.restarted(time.perf_counter())
        self._timeline_restarted()  # a new checkpoint ring; back to live

    def _build(self, model: str, dataset: str, hyperparameters, seed: int, device: str) -> None:
        from ..core.training import Session

        try:
            self.session = Session(model, dataset, hyperparameters, seed=seed, device=device)
            if self.chain_settings is not None:
                self.session.set_chain_settings(self.chain_settings)
            self._restarted()
        except Exception as e:  # noqa: BLE001 - any failure keeps the previous session
            self.problem.emit(f"Cannot train {model} on {dataset}: {e}")
        if self.session is not None:
            self._emit_info()

    def _install(self, session: Any) -> None:
        """Make ``session`` (built on this thread: a branch, drawn points) the worker's
        session: the chains view's settings follow it, its first picture is taken at once
        and the window hears of it."""
        if self.chain_settings is not None:
            session.set_chain_settings(self.chain_settings)
        self.session = session
        self._frozen = None  # the copy of the previous session: copy anew
        self._restarted()  # forces the first snapshot: the view draws at once
        self._emit_info()

    def _emit_info(self) -> None:
        from ..core import hyperparameters as hpm
        from ..core.preset_points import session_points

        s = self.session
        fields = hpm.fields_info(s.config)
        datasets = self._catalog["trainable"].get(s.model_name, [])
        self.session_changed.emit(
            SessionInfo(
                s.model_name,
                s.dataset_name,
                s.seed,
                str(s.device),
                s.config,
                fields,
                s.available_views,
                datasets,
                tuple(s.parts),
                points=session_points(s),
            )
        )

    # ------------------------------------------------------------ commands
    def _play(self, _: Play) -> None:
        self._set_playing(True)

    def _pause(self, _: Pause) -> None:
        self._set_playing(False)
        self.pacing.request_snapshot()

    def _slow_motion(self, command: SlowMotion) -> None:
        self.slow_motion = bool(command.on)
        self._slow_due, self._slow_phase = 0.0, 0

    def _reset(self, _: Reset) -> None:
        self.session.reset()
        self._restarted()

    def _set_seed(self, command: SetSeed) -> None:
        self.session.set_seed(command.seed)
        self._restarted()

    def _set_views(self, command: SetViews) -> None:
        if tuple(command.views) != self.pacing.views:
            self._snapshotter.cancel("picture")  # the old tab's picture is not wanted
        self.pacing.set_views(command.views)
        self._snapshotter.forget_cost()  # the new pictures cost what they cost

    def _set_chain_settings(self, command: SetChainSettings) -> None:
        try:
            if self.session is not None:
                self.session.set_chain_settings(command.settings)
            self.chain_settings = command.settings
            self.pacing.request_snapshot()
        except ValueError as e:  # an out-of-range control: the chains run on unchanged
            self.problem.emit(f"Chains not changed: {e}")

    def _set_device(self, command: SetDevice) -> None:
        try:
            self.session.set_device(command.device)
            self._frozen = None  # the copy lives on the old device: copy anew
        except Exception as e:  # noqa: BLE001 - a device error leaves training where it was
            self.problem.emit(f"Cannot use device {command.device}: {e}")
        self._emit_info()

    def _set_hyperparameters(self, command: SetHyperparameters) -> None:
        from ..core import hyperparameters as hpm

        old = self.session.config
        try:
            if self.session.set_hyperparameters(
                dict(command.changes), allow_reset=command.allow_reset
            ):
                self._restarted()
            else:  # a live change (a sampler's steps): pictures of the old one are stale
                self._snapshotter.cancel("picture")
                self.pacing.request_snapshot()
        except Exception as e:  # noqa: BLE001 - a bad value changes nothing
            if self.session.config is not old:  # the rebuild failed half-way: restore
                self.session.set_hyperparameters(hpm.to_dict(old), allow_reset=True)
            self.problem.emit(f"Hyperparameter not applied: {e}")
        self.config_changed.emit(self.session.config)

    def _rebuild(self, command: Rebuild) -> None:
        from ..core import hyperparameters as hpm

        self.rebuilds_applied += 1  # before the answer: the window reads it on receipt
        model, dataset, s = command.model, command.dataset, self.session
        if s is None:
            self._build(model, dataset, None, *self._start[2:])
            return
        keep = None
        kinds = self._catalog.get("datasets", {})
        old_kind = kinds.get(s.dataset_name.partition(":")[0], {}).get("kind")
        new_kind = kinds.get(dataset.partition(":")[0], {}).get("kind")
        if model == s.model_name and old_kind == new_kind:
            # new data of the same kind: keep the form, let the objective follow the data
            keep = {k: v for k, v in hpm.to_dict(s.config).items() if k != "objective"}
        self._build(model, dataset, keep, s.seed, str(s.device))
