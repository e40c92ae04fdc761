"""The training worker: owns the Session on a QThread, applies commands between steps."""

from __future__ import annotations

import copy
import dataclasses
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from .snapshots import Frame, Snapshotter

__all__ = ["SessionInfo", "TrainingWorker", "WorkerThread"]

#: a training chunk lasts about this long; a command waits at most this much
CHUNK_SECONDS = 0.02
#: snapshots per second of the visible view: at most SNAPSHOT_RATE, at least MIN_RATE, and
#: in between the snapshot thread uses at most SNAPSHOT_SHARE of a core (a RealNVP density
#: at 128x128 costs ~40 ms: ~6 per second; samples and trajectories: 10)
SNAPSHOT_RATE, MIN_RATE, SNAPSHOT_SHARE = 10.0, 5.0, 0.25
#: lower caps for views that are costly to paint and change slowly: the latent space draws
#: two heatmaps and 500 coloured points (at 10 per second training ran at 0.66 of its bare
#: speed; benchmarks/app_overhead.py --model vae --dataset digits --view latent_space)
VIEW_RATES = {"latent_space": 3.0, "diffusion": 2.0, "reverse_strip": 2.0}
#: held-out metrics every EVAL_SECONDS of training, on EVAL_SAMPLES samples (~1% of the time)
EVAL_SECONDS, EVAL_SAMPLES = 3.0, 2000
#: the most of the training time that held-out evaluation may take
EVAL_SHARE = 0.05
#: torch threads of the training and snapshot threads (set per OS thread): one each, so
#: training, snapshots and the GUI share two cores without oversubscription
TORCH_THREADS = 1
#: slow motion (models with parts, e.g. GANs): the pause after each half of an iteration
SLOW_MOTION_SECONDS = 0.5
#: views that move while training is paused (the Langevin chains run on their own), so
#: they are snapshot on the clock whether or not training plays
LIVE_VIEWS = ("chains",)
#: commands that apply before the first session exists
_WITHOUT_SESSION = (
    "views",
    "play",
    "pause",
    "rebuild",
    "slow_motion",
    "chain_settings",
    "open_preset",
)


@dataclass(frozen=True)
class SessionInfo:
    """The worker's session, for the pickers (``datasets``: those the model trains on),
    the hyperparameter form (``fields``, ``config``), the tabs (``views``) and the
    transport's half-step buttons (``parts``: ``("critic", "generator")`` for a GAN)."""

    model: str
    dataset: str
    seed: int
    device: str
    config: Any
    fields: list
    views: list[str]
    datasets: list[str]
    parts: tuple[str, ...] = ()


class TrainingWorker(QObject):
    """Trains in small chunks and reads commands between them (superqt style).

    :meth:`post` queues a command from any thread; it is applied between two steps. The
    newest :class:`Frame` waits in a one-element slot (older ones are dropped) and
    :attr:`snapshot_ready` fires once until the GUI :meth:`take` s it. Snapshots of the
    model's views are computed by a :class:`Snapshotter` thread on a copy of the weights,
    so they run on the other core while training goes on.

    Arguments:
        model, dataset, seed, device: the first session.
        playing: train as soon as the session is built.
        views: the views to snapshot (those visible in the window).
        snapshot_rate: the most snapshots per second.
        torch_threads: ``torch.set_num_threads`` of the worker's threads (``None``: leave it).
    """

    catalog_ready = Signal(object)
    session_changed = Signal(object)
    config_changed = Signal(object)
    snapshot_ready = Signal()
    playing_changed = Signal(bool)
    problem = Signal(str)
    diverged = Signal(object)
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
        views: tuple[str, ...] = ("density",),
        snapshot_rate: float = SNAPSHOT_RATE,
        torch_threads: int | None = TORCH_THREADS,
    ):
        super().__init__()
        self._start = (model, dataset, seed, device)
        self.playing, self.views, self.snapshot_rate = playing, tuple(views), snapshot_rate
        self.torch_threads = torch_threads
        self.session: Any = None
        self.generation = 0
        self._commands: queue.SimpleQueue = queue.SimpleQueue()
        self._quit = threading.Event()
        self._lock = threading.Lock()
        self._slot: Frame | None = None
        self._signalled = False
        self._rate: deque = deque()
        self._snapshotter = Snapshotter(self._publish, self.problem.emit, torch_threads)
        self._shadow: Any = None
        self._shadow_of: Any = None
        self._next_snapshot = self._next_eval = 0.0
        self._eval_cost = 0.0  # seconds of the session's last held-out evaluation
        self._force = True
        self.slow_motion = False
        self._slow_due = 0.0
        self._slow_phase = 0
        self._catalog: dict[str, Any] = {"trainable": {}}
        self.chain_settings: Any = None

    # ------------------------------------------------------------ any thread
    def post(self, command: str, *args: Any) -> None:
        """Queue ``play``, ``pause``, ``step`` (optionally with a part: ``critic`` or
        ``generator``), ``slow_motion``, ``reset``, ``seed``, ``hyperparameters``,
        ``device``, ``rebuild``, ``views``, ``chain_settings`` (a ``ChainSettings``,
        kept for every later session), ``open_preset`` (a path) or ``save_preset``
        (path, preview, title, description, notes, view) with its arguments."""
        self._commands.put((command, args))

    def request_quit(self) -> None:
        """Ask the loop to end after the current step."""
        self._quit.set()
        self._commands.put(("quit", ()))

    def take(self) -> Frame | None:
        """The newest frame (or ``None``); the slot empties and may signal again."""
        with self._lock:
            frame, self._slot, self._signalled = self._slot, None, False
        return frame

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
        idle = not self.playing or self.session is None
        # idle: wait for a command (briefly if a forced snapshot waits for the snapshotter)
        timeout = (0.01 if self._force else 0.1) if idle else None
        if not idle and self._slow:
            # between two halves: wait for a command until the next half is due
            wait = self._slow_due - time.perf_counter()
            timeout = min(wait, 0.01) if self._force else wait
            timeout = timeout if timeout > 0 else None
        try:
            command = (
                self._commands.get(timeout=timeout) if timeout else self._commands.get_nowait()
            )
            while command[0] != "quit":
                if self.session is not None or command[0] in _WITHOUT_SESSION:
                    getattr(self, f"_do_{command[0]}")(*command[1])
                command = self._commands.get_nowait()
        except queue.Empty:
            pass
        if self._quit.is_set() or self.session is None:
            return
        if self.playing:
            if self._slow:
                self._train_half()
            else:
                self._train_chunk()
        self._maybe_snapshot()

    @property
    def _slow(self) -> bool:
        return self.slow_motion and bool(self.session.parts)

    def _train_half(self) -> None:
        """Slow motion: one half of an iteration (``n_critic`` critic updates, or
        ``n_generator`` generator updates) when due, then a snapshot and a pause."""
        from ..core.models.base import NonFiniteLossError

        if time.perf_counter() < self._slow_due:
            return
        session = self.session
        part = session.parts[self._slow_phase % len(session.parts)]
        repeats = max(1, int(getattr(session.config, f"n_{part}", 1)))
        try:
            for _ in range(repeats):
                session.step(part)
        except NonFiniteLossError as e:
            self._set_playing(False)
            self._force = True
            self.diverged.emit(e)
            return
        self._slow_phase += 1
        self._force = True
        self._slow_due = time.perf_counter() + SLOW_MOTION_SECONDS
        self._count_steps()

    def _train_chunk(self) -> None:
        from ..core.models.base import NonFiniteLossError

        session, end = self.session, time.perf_counter() + CHUNK_SECONDS
        try:
            session.step()
            while time.perf_counter() < end:
                session.step()
        except NonFiniteLossError as e:
            self._set_playing(False)
            self._force = True
            self.diverged.emit(e)
            return
        self._count_steps()

    def _count_steps(self) -> None:
        """Record the throughput; evaluate every ``EVAL_SECONDS``."""
        session = self.session
        now = time.perf_counter()
        self._rate.append((now, session.step_count))
        while now - self._rate[0][0] > 2.0:
            self._rate.popleft()
        if now >= self._next_eval:
            session.evaluate(n=EVAL_SAMPLES)
            # a slow evaluation (a DDPM samples through all its timesteps) comes less often,
            # so evaluating never takes more than EVAL_SHARE of the training time
            self._eval_cost = time.perf_counter() - now
            self._next_eval = self._eval_delay()

    def _eval_delay(self) -> float:
        """When the next held-out evaluation is due: ``EVAL_SECONDS`` from now, or later
        if the last one was slow, so it takes at most ``EVAL_SHARE`` of the training time."""
        return time.perf_counter() + max(EVAL_SECONDS, self._eval_cost / EVAL_SHARE)

    def _maybe_snapshot(self) -> None:
        now = time.perf_counter()
        # slow motion snapshots once per half (forced), not on the clock; live views (the
        # chains) move while training is paused
        live = any(v in LIVE_VIEWS for v in self.views)
        periodic = (self.playing or live) and not self._slow and now >= self._next_snapshot
        due = self._force or periodic
        if not due or not self._snapshotter.idle:
            return  # busy: this snapshot is dropped (or, if forced, retried next time)
        self._force = False
        period = self._snapshotter.cost / SNAPSHOT_SHARE
        if not any(v in VIEW_RATES for v in self.views):
            # views drawn from cheap snapshots keep at least MIN_RATE; the slow ones (an
            # NCSN's diffusion process samples 2,250 Langevin steps) keep to their share
            period = min(1.0 / MIN_RATE, period)
        rate_cap = min(
            [self.snapshot_rate, *(VIEW_RATES.get(v, SNAPSHOT_RATE) for v in self.views)]
        )
        self._next_snapshot = now + max(1.0 / rate_cap, period)
        rate = 0.0
        if self.playing and len(self._rate) > 1:
            (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
            rate = (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0
        state = (rate, self.playing, self.generation)
        model_views = [v for v in self.views if v != "curves"]
        if not model_views:  # curves only: cheap, and History is not thread-safe
            self._publish(Frame(self.session.snapshot(views=self.views), *state))
            return
        curves = self.session.snapshot(views=["curves"]).curves if "curves" in self.views else None
        shadow = self._frozen_session()

        def job() -> Frame:
            snapshot = shadow.snapshot(views=model_views)
            if curves is not None:
                snapshot = dataclasses.replace(snapshot, curves=curves)
            return Frame(snapshot, *state)

        self._snapshotter.submit(job)

    def _frozen_session(self) -> Any:
        """A shallow copy of the session whose model is a private copy of this step's weights.

        The copy is made between two steps (a consistent picture) and reused: later
        snapshots copy the weights in place, ~0.3 ms for a RealNVP.
        """
        import torch

        session, model = self.session, self.session.model
        if self._shadow_of is not model:
            memo = {
                id(model.data): model.data,
                id(model.optimizers): {},
                id(model.rng): torch.Generator(device=model.rng.device),
            }
            self._shadow, self._shadow_of = copy.deepcopy(model, memo), model
        else:
            with torch.no_grad():
                mine, theirs = self._shadow.state_dict(), model.state_dict()
                for a, b in zip(mine.values(), theirs.values(), strict=True):
                    a.copy_(b)
            # live fields (a sampler, a step size) reach the pictures too; configs are
            # replaced on change, never mutated, so sharing one is safe
            self._shadow.config = model.config
        shadow = copy.copy(session)
        shadow.model = self._shadow
        return shadow

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
        # play after a pause waits as long as after an evaluation: pressing play and pause
        # again and again never makes a slow evaluation (a DDPM's) come more often
        self._next_eval = self._eval_delay()

    def _restarted(self) -> None:
        self.generation += 1
        self._rate.clear()
        self._slow_phase = 0
        self._force = True
        self._eval_cost = 0.0
        self._next_eval = self._eval_delay()

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

    def _emit_info(self) -> None:
        from ..core import hyperparameters as hpm

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
            )
        )

    # ------------------------------------------------------------ commands
    def _do_play(self) -> None:
        self._set_playing(True)

    def _do_pause(self) -> None:
        self._set_playing(False)
        self._force = True

    def _do_step(self, part: str | None = None) -> None:
        from ..core.models.base import NonFiniteLossError

        if not self.playing:
            try:
                self.session.step(part)
            except NonFiniteLossError as e:
                self.diverged.emit(e)
            self._force = True

    def _do_slow_motion(self, on: bool) -> None:
        self.slow_motion = bool(on)
        self._slow_due, self._slow_phase = 0.0, 0

    def _do_reset(self) -> None:
        self.session.reset()
        self._restarted()

    def _do_seed(self, seed: int) -> None:
        self.session.set_seed(seed)
        self._restarted()

    def _do_views(self, views: tuple[str, ...]) -> None:
        self.views, self._force = tuple(views), True

    def _do_chain_settings(self, settings: Any) -> None:
        try:
            if self.session is not None:
                self.session.set_chain_settings(settings)
            self.chain_settings = settings
            self._force = True
        except ValueError as e:  # an out-of-range control: the chains run on unchanged
            self.problem.emit(f"Chains not changed: {e}")

    def _do_device(self, device: str) -> None:
        try:
            self.session.set_device(device)
            self._shadow_of = None
        except Exception as e:  # noqa: BLE001 - a device error leaves training where it was
            self.problem.emit(f"Cannot use device {device}: {e}")
        self._emit_info()

    def _do_hyperparameters(self, changes: dict[str, Any], allow_reset: bool) -> None:
        from ..core import hyperparameters as hpm

        old = self.session.config
        try:
            if self.session.set_hyperparameters(changes, allow_reset=allow_reset):
                self._restarted()
        except Exception as e:  # noqa: BLE001 - a bad value changes nothing
            if self.session.config is not old:  # the rebuild failed half-way: restore
                self.session.set_hyperparameters(hpm.to_dict(old), allow_reset=True)
            self.problem.emit(f"Hyperparameter not applied: {e}")
        self.config_changed.emit(self.session.config)

    def _do_rebuild(self, model: str, dataset: str) -> None:
        from ..core import hyperparameters as hpm

        s = self.session
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

    def _do_open_preset(self, path: str) -> None:
        """Replace the session by the preset at ``path``, paused; on any failure keep it."""
        from ..core.presets import load_preset

        device = str(self.session.device) if self.session is not None else self._start[3]
        try:
            session = load_preset(path, device=device)
            if self.chain_settings is not None:
                session.set_chain_settings(self.chain_settings)
        except Exception as e:  # noqa: BLE001 - a broken preset keeps the current session
            self.problem.emit(f"Cannot open preset: {e}")
            return
        self.session = session
        self._set_playing(False)
        self._restarted()  # forces the first snapshot: the view draws at once
        self._emit_info()
        self.preset_opened.emit(str(path))

    def _do_save_preset(
        self,
        path: str,
        preview: bytes | None = None,
        title: str | None = None,
        description: str | None = None,
        notes: str | None = None,
        view: str | None = None,
    ) -> None:
        """Save the session (between two steps) as a preset folder or bundle at ``path``."""
        from ..core.presets import save_preset

        try:
            saved = save_preset(
                self.session,
                path,
                preview=preview,
                notes=notes,
                title=title,
                description=description,
                view=view,
            )
        except Exception as e:  # noqa: BLE001 - a failed save leaves training as it was
            self.problem.emit(f"Cannot save preset: {e}")
            return
        self.preset_saved.emit(str(saved))


class WorkerThread:
    """A :class:`TrainingWorker` moved to its own ``QThread``; :meth:`stop` joins it."""

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)

    def start(self) -> None:
        """Start the thread (the worker builds its first session there)."""
        self.thread.start()

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Quit flag, ``QThread.quit()``, ``wait()``: returns whether the thread finished."""
        if not self.thread.isRunning():
            return True
        self.worker.request_quit()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
