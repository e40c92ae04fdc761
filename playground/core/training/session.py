"""The Session: one model, one dataset, a seed and a device; steps, snapshots, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from copy import deepcopy
from typing import Any

import torch
from torch import Tensor

from .. import hyperparameters as hpm
from ..data import ALL_DATASETS, ImageDataset, make_dataset
from ..data.base import Density2D
from ..device import resolve_device
from ..metrics.latent import test_points
from ..models import get_model_class
from ..models.base import GenerativeModel, NonFiniteLossError
from ..sampling.chains import ChainSettings, LangevinChains
from ..snapshots import (
    OVERLAY_POINTS,
    Snapshot,
    SnapshotContext,
    offered_pictures,
    take_snapshot,
)
from ..snapshots.chains import chain_options
from ..snapshots.samples import SAMPLE_POINTS
from .evaluation import heldout_metrics, history_values
from .frozen import FrozenSession
from .history import DivergenceWatch, History

__all__ = ["Session"]


def _zero_somewhere(data: Density2D) -> bool:
    """Whether ``data``'s exact density is zero (``log p = -inf``) at some point of a
    32 x 32 grid over its box: a density with holes (the checkerboard)."""
    xmin, xmax, ymin, ymax = data.box
    xs, ys = torch.linspace(xmin, xmax, 32), torch.linspace(ymin, ymax, 32)
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1).reshape(-1, 2)
    with torch.no_grad():
        return bool(torch.isneginf(data.log_prob(grid)).any())


class Session:
    """A model training on a dataset: the core's whole API for the app, the CLI and scripts.

    ``Session("realnvp", "moons").run(3000)`` trains; :meth:`snapshot` returns numpy
    arrays for the views; :meth:`evaluate` computes the held-out metrics.

    Arguments:
        model: a model name (``python -m playground list`` shows them).
        dataset: a dataset spec: a name, with options after a colon for image sets
            (``digits``, ``shapes:size=20``, ``folder:path=~/faces,size=16``).
        hyperparameters: field name to value for the model's config; strings are
            parsed. Where the model has an ``objective`` field that is not given, it
            follows the dataset where the field allows it: ``reverse_kl`` for an energy
            target (no sampler), ``forward_kl`` for a dataset with no density or with
            zero density somewhere in its box (the checkerboard). Fields not given take the
            model's ``defaults_for(dataset)`` where it has one (image sizes, categories).
        seed: seeds the model's initialisation, the data batches and the training noise;
            :meth:`reset` repeats a run exactly.
        device: ``auto``, ``cpu``, ``cuda[:N]`` or ``mps``.
        points: ``(n, 2)`` points drawn or imported in the app, with ``dataset="points"``:
            the session trains on their empirical distribution (see
            :class:`~playground.core.data.points.Points`); kept as :attr:`points`.

    Raises:
        UnknownModelError, UnknownDatasetError: the name is not in the registry.
        HyperparameterError: an unknown key or a bad value.
        DeviceError: the device is not available.
        ValueError: the model cannot train on this dataset (the message says why).
    """

    def __init__(
        self,
        model: str,
        dataset: str,
        hyperparameters: dict[str, Any] | None = None,
        seed: int = 0,
        device: str = "auto",
        points: Tensor | None = None,
    ):
        self.model_class: type[GenerativeModel] = get_model_class(model)
        self.data: Density2D | ImageDataset = make_dataset(dataset, points)
        self.points: Tensor | None = None if points is None else self.data.points
        self.model_name, self.dataset_name = model, dataset
        if not self.model_class.fits(self.data):
            raise ValueError(self._cannot_train_message())
        self.seed = int(seed)
        self.device = resolve_device(device)
        values = self._with_fitting_objective(dict(hyperparameters or {}))
        for key, value in self.model_class.defaults_for(self.data).items():
            values.setdefault(key, value)
        self.config = hpm.from_dict(self.model_class.Config, values)
        self._target_cache: dict = {}
        #: pauses training whose loss terms grow by orders of magnitude (see
        #: :class:`~.history.DivergenceWatch`); restarted by :meth:`reset`,
        #: :meth:`set_seed`, a rebuild and a new :attr:`history`; ``None`` turns it off
        self.divergence_watch: DivergenceWatch | None = DivergenceWatch()
        #: what the Langevin chains view runs (its controls); kept across resets
        self.chain_settings = ChainSettings()
        self._build()

    def _cannot_train_message(self) -> str:
        kind = {"image": "image set", "sequence": "sequence set", "point": "point mass"}.get(
            self.data.kind, "2D density"
        )
        fits = [
            name
            for name, cls in ALL_DATASETS.items()
            if cls.kind == self.data.kind and self.model_class.fits(cls)
        ]
        return f"{self.model_name} cannot train on the {kind} {self.data.name}" + (
            f"; it trains on: {', '.join(fits)}" if fits else f"; it trains on no {kind}"
        )

    def _with_fitting_objective(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with the objective the dataset needs, where the model has an
        ``objective`` field the user did not set and that field allows it: ``reverse_kl``
        for an energy target (no sampler); ``forward_kl`` for a dataset with no density,
        or with a density that is zero somewhere in its box (a checkerboard: the reverse
        KL of any model with full support is infinite there). A score model's objectives
        are its own (``implicit``, ``sliced``, ``denoising``): its default stands."""
        field = next(
            (i for i in hpm.fields_info(self.model_class.Config) if i.name == "objective"), None
        )
        if field is None or "objective" in values:
            return values
        if not self.data.can_sample:
            wanted = "reverse_kl"
        elif not self.data.has_log_prob:
            wanted = "forward_kl"
        elif field.default == "reverse_kl" and _zero_somewhere(self.data):
            wanted = "forward_kl"
        else:
            return values
        if field.choices is None or wanted in field.choices:
            values["objective"] = wanted
        return values

    def _build(self) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = self.model_class(self.config, self.data)
        self.model = model.to(self.device)
        self.model.rng = torch.Generator(device=self.device).manual_seed(self.seed + 1)
        self.model.configure_optimizers()
        self._data_rng = torch.Generator().manual_seed(self.seed + 2)
        overlay_rng = torch.Generator().manual_seed(self.seed + 3)
        self._overlay = (
            self.data.sample(max(OVERLAY_POINTS, SAMPLE_POINTS), overlay_rng)
            if self.data.can_sample
            else None
        )
        self._test: tuple | None = None
        self._offered: list[str] | None = None
        # the chains view's state: chains that persist from frame to frame, and their cache
        self.chains = LangevinChains(self.seed + 10)
        self._chain_cache: dict = {}
        self._chain_options: dict | None = None
        self.step_count = 0
        self.history = History()  # also starts the divergence watch afresh
        self.last_terms: dict[str, float] = {}
        self.train_seconds = 0.0

    @property
    def history(self) -> History:
        """Every loss term and metric against its step. Replacing it (a preset's history,
        read from its file) starts the divergence watch afresh."""
        return self._history

    @history.setter
    def history(self, history: History) -> None:
        self._history = history
        if self.divergence_watch is not None:
            self.divergence_watch.reset()

    # ----------------------------------------------------------------- training
    def step(self, part: str | None = None) -> dict[str, float]:
        """One training step, or one half of a GAN iteration.

        Arguments:
            part: ``None`` for a full step; ``critic`` or ``generator`` for one update of
                that network alone (models with two networks, see :attr:`parts`).

        Returns:
            The named loss terms of this step (also recorded in :attr:`history`).

        Raises:
            NonFiniteLossError: a loss term was NaN or infinite, naming the step it
                would have been; nothing was updated and the step count did not move.
            DivergingLossError: (a NonFiniteLossError) a loss term grew by orders of
                magnitude (see :class:`~.history.DivergenceWatch`), naming the step,
                the term and the growth. This step *was* taken and recorded; the watch
                starts afresh, so training may go on from here (at a lower rate).
            ValueError: ``part`` is not one of :attr:`parts`.
        """
        if part is not None and part not in self.parts:
            raise ValueError(
                f"{self.model_name} has no {part!r} step; parts: {', '.join(self.parts) or 'none'}"
            )
        t0 = time.perf_counter()
        batch = None
        if self.model.needs_data:
            rows = self.config.batch_size * (1 if part else self.model.batches_per_step)
            if self.model.needs_labels:  # guided models: (x, y)
                x, y = self.data.sample_with_labels(rows, self._data_rng)
                batch = (x.to(self.device), y.to(self.device))
            else:
                batch = self.data.sample(rows, self._data_rng)
                batch = batch.to(self.device, non_blocking=True)
        self.model.train()
        try:
            if part is None:
                terms = self.model.train_step(batch)
            else:
                terms = self.model.train_part(part, batch)
        except NonFiniteLossError as e:
            raise e.at_step(self.step_count + 1) from None
        self.step_count += 1
        self.history.record(self.step_count, terms)
        self.last_terms = terms
        self.train_seconds += time.perf_counter() - t0
        if self.divergence_watch is not None:
            diverging = self.divergence_watch.observe(self.step_count, terms)
            if diverging is not None:
                raise diverging
        return terms

    @property
    def parts(self) -> tuple[str, ...]:
        """The halves of a step that can run alone: ``("critic", "generator")`` for GANs."""
        return self.model.parts

    def run(self, steps: int, callback: Callable[[int, dict[str, float]], Any] | None = None):
        """Train ``steps`` steps; ``callback(step, terms)`` after each; returns the last terms."""
        terms: dict[str, float] = {}
        for _ in range(steps):
            terms = self.step()
            if callback is not None:
                callback(self.step_count, terms)
        return terms

    def reset(self) -> None:
        """Re-initialise model, optimiser, data stream and history from the same seed."""
        self._build()

    def set_seed(self, seed: int) -> None:
        """Change the seed and reset."""
        self.seed = int(seed)
        self._build()

    def set_hyperparameters(self, changes: dict[str, Any], allow_reset: bool = False) -> list[str]:
        """Apply hyperparameter changes.

        Live fields (learning rate, batch size) apply before the next step. Other
        fields change the architecture and need a reset.

        Arguments:
            changes: field name to new value.
            allow_reset: if the changes include non-live fields, rebuild the model
                (step count back to 0); otherwise nothing is changed.

        Returns:
            The names of the changed non-live fields (empty: applied live).

        Raises:
            HyperparameterError: an unknown name or a bad value; nothing is changed.
        """
        new = hpm.replace(self.config, changes)
        resets = hpm.needs_reset(self.config, new)
        if resets and not allow_reset:
            return resets
        self.config = new
        if resets:
            self._build()
        else:
            self.model.apply_live(new)
        return resets

    def set_device(self, device: str) -> None:
        """Move the model and its optimiser state to another device; training continues.

        Raises:
            DeviceError: the device is not available.
        """
        target = resolve_device(device)
        if target == self.device:
            return
        self.model.to(target)
        for opt in self.model.optimizers.values():
            for state in opt.state.values():
                for k, v in state.items():
                    if torch.is_tensor(v) and v.dim() > 0:
                        state[k] = v.to(target)
        self.model.rng = torch.Generator(device=target).manual_seed(self.seed + 1 + self.step_count)
        self.device = target

    def set_chain_settings(self, settings: ChainSettings) -> None:
        """What the Langevin chains view runs from its next frame: source, sampler, step
        size, number of chains, steps per frame, start (a new ``restart`` count restarts
        the chains; see :class:`~..sampling.chains.LangevinChains`).

        Raises:
            ValueError: an unknown name or an out-of-range number; nothing changes.
        """
        self.chain_settings = settings.validated()

    @property
    def chain_options(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """The chains view's sources (``model``, ``exact``) with their samplers and starts;
        empty when no chains can run (see :func:`~..sampling.chains.chain_options`)."""
        if self._chain_options is None:
            self._chain_options = chain_options(self.model, self.data)
        return self._chain_options

    # ---------------------------------------------------------------- observing
    @property
    def objective(self) -> str:
        """``forward_kl``, ``reverse_kl``, or the model's own objective name."""
        return getattr(self.config, "objective", "forward_kl")

    def snapshot_context(self, model: GenerativeModel | None = None, resolution: int = 128):
        """What the pictures of this session are built from (see
        :class:`~..snapshots.SnapshotContext`).

        Arguments:
            model: the model to draw (default: the session's; the snapshot thread passes a
                frozen copy of its weights, see :meth:`frozen_copy`).
            resolution: grid points per side of the density picture.
        """
        return SnapshotContext(
            model=self.model if model is None else model,
            data=self.data,
            device=self.device,
            seed=self.seed,
            overlay=self._overlay,
            target_cache=self._target_cache,
            chains=self.chains,
            chain_settings=self.chain_settings,
            chain_cache=self._chain_cache,
            chain_options=self.chain_options,
            test_set=lambda: self.test_set,
            history=self.history,
            resolution=resolution,
        )

    @property
    def available_views(self) -> list[str]:
        """The pictures this session offers, in the order of
        :data:`~..snapshots.PICTURES`."""
        if self._offered is None:
            self._offered = offered_pictures(self.snapshot_context())
        return list(self._offered)

    def snapshot(self, views: Iterable[str], resolution: int = 128) -> Snapshot:
        """Build what the named pictures draw, as immutable numpy arrays (see
        :func:`~..snapshots.take_snapshot`); the chains picture advances the chains one
        frame.

        Arguments:
            views: picture names; those this session does not offer are ignored.
            resolution: grid points per side of the density image.
        """
        return take_snapshot(
            self.snapshot_context(resolution=resolution),
            views,
            self.step_count,
            self.last_terms,
            self.available_views,
        )

    def frozen_copy(self, previous: FrozenSession | None = None) -> FrozenSession:
        """A copy of this step's weights and state that another thread draws from while
        training goes on (the app's snapshot thread).

        Arguments:
            previous: the last frozen copy of this session: its model is reused and its
                weights are copied in place (~0.3 ms for a RealNVP) while the session's
                model is the same object; otherwise the model is deep-copied (without its
                optimisers).

        Returns:
            A :class:`FrozenSession`; its pictures share the session's caches and chains.
        """
        if previous is not None and previous.source is self.model:
            copy = previous.model
            with torch.no_grad():
                mine, theirs = copy.state_dict(), self.model.state_dict()
                for a, b in zip(mine.values(), theirs.values(), strict=True):
                    a.copy_(b)
            # live fields (a sampler, a step size) reach the pictures too; configs are
            # replaced on change, never mutated, so sharing one is safe
            copy.config = self.model.config
        else:
            model = self.model
            memo = {id(model.data): model.data, id(model.optimizers): {}}
            memo[id(model.rng)] = torch.Generator(device=model.rng.device)
            copy = deepcopy(model, memo)
        return FrozenSession(
            self.snapshot_context(copy),
            self.model,
            self.step_count,
            dict(self.last_terms),
            tuple(self.available_views),
            self.objective,
        )

    def evaluate(self, n: int = 10_000, record: bool = True) -> dict[str, float]:
        """Held-out metrics in nats (see :func:`~.evaluation.heldout_metrics`), and for
        datasets with known modes the mode metrics (``modes_captured``, ``high_quality``,
        ``mode_kl``).

        Arguments:
            n: fresh samples.
            record: also append them to :attr:`history` at the current step, with
                ``nll`` and ``reverse_kl`` as ``heldout_nll`` and ``heldout_reverse_kl``.
        """
        out = heldout_metrics(self.model, self.data, self.objective, n, self.seed, self.device)
        if record:
            self.record_evaluation(self.step_count, out)
        return out

    def record_evaluation(self, step: int, metrics: dict[str, float]) -> None:
        """Append held-out ``metrics`` (from :meth:`evaluate`, or a frozen copy's
        :meth:`FrozenSession.evaluate` made at ``step``) to :attr:`history` at ``step``."""
        if metrics:
            self.history.record(step, history_values(metrics))

    @property
    def test_set(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The held-out points and labels views and metrics use (see
        :func:`~.latent_metrics.test_points`), computed once."""
        if self._test is None:
            self._test = test_points(self.data)
        return self._test

    @property
    def steps_per_second(self) -> float:
        """Training throughput so far (time inside :meth:`step` only)."""
        return self.step_count / self.train_seconds if self.train_seconds > 0 else 0.0

    def describe(self) -> dict[str, Any]:
        """Model, dataset, seed, device, step and hyperparameters as a JSON-able dict."""
        return {
            "model": self.model_name,
            "dataset": self.dataset_name,
            "seed": self.seed,
            "device": str(self.device),
            "steps": self.step_count,
            "hyperparameters": hpm.to_dict(self.config),
        }
