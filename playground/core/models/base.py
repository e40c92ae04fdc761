"""The one protocol every model of the zoo follows: everything the core may ask a model,
declared here with its default, so the core never probes a model with getattr, hasattr or
isinstance; and the training plumbing every model shares (step counter, random number
generator, learning-rate schedule)."""

from __future__ import annotations

import abc
import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..hyperparameters import hp
from .errors import DivergingLossError, NonFiniteLossError
from .levels import NoiseProcess, ScoreLevels

__all__ = [
    "GenerativeModel",
    "NonFiniteLossError",
    "DivergingLossError",
    "TrainingConfig",
    "CAPABILITIES",
    "ScoreLevels",
    "NoiseProcess",
    "FINAL_LR_FRACTION",
    "cosine_lr_factor",
    "lr_decay_hp",
]

#: a cosine decay ends at this fraction of the learning rate
FINAL_LR_FRACTION = 0.02


def cosine_lr_factor(step: int, decay_steps: int) -> float:
    """The factor on a learning rate after ``step`` of a cosine decay over ``decay_steps``
    steps: 1 at step 0, :data:`FINAL_LR_FRACTION` from ``decay_steps`` on; 1 when
    ``decay_steps <= 0`` (a constant rate).

    References:
        Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
        ICLR 2017, eq. (5) (without restarts).
    """
    if decay_steps <= 0:
        return 1.0
    frac = min(int(step), decay_steps) / decay_steps
    return FINAL_LR_FRACTION + (1.0 - FINAL_LR_FRACTION) * 0.5 * (1.0 + math.cos(math.pi * frac))


def lr_decay_hp(default: int, help: str = "") -> Any:
    """The ``lr_decay_steps`` hyperparameter field (live; 0 keeps the rate constant)."""
    return hp(
        default,
        low=0,
        high=1_000_000,
        live=True,
        help=help or "cosine decay of lr to 2% of it over this many steps (0: constant lr)",
    )


#: capability -> the methods a model that declares it implements (DESIGN.md, "One protocol
#: for every model"). Only such a model has them: the core asks ``"density" in
#: model.capabilities``, never ``hasattr``. Signatures (``x (n, d)`` points, or images
#: ``(n, 1, h, w)``; densities in nats):
#:
#: - density: ``log_prob(x) -> (n,)``
#: - energy: ``energy(x) -> (n,)``, unnormalised ``-log p``
#: - samples: ``sample(n, rng) -> (n, d)``, every random number from ``rng``
#: - trajectory: ``trajectory(x, direction) -> (steps + 1, n, d)`` and ``layer_names()``,
#:   one name per step (:attr:`GenerativeModel.trajectory_grid`: whether a grid is warped)
#: - layers: ``layer_log_dets(x) -> ((n,), (layers, n))``: ``log p_Z`` and each layer's
#:   ``log|det J|``
#: - score: ``score(x) -> (n, d)``, or ``score(x, level)`` at the levels of
#:   :meth:`GenerativeModel.score_levels`
#: - latent: ``encode(x) -> (n, latent_dim)`` and ``decode(z) -> (n, *event_shape)``
#:   (the whole latent protocol: :class:`~.latent.base.LatentModel`)
#: - critic: ``critic(x) -> (n,)``
#: - process: ``noise_process() -> NoiseProcess`` (a DDPM's or an NCSN's noising) and
#:   ``process_paths(x0, forward_rng, reverse_rng, label_rng) -> ((K + 1, n, d), (K + 1, n, d))``,
#:   the forward and the learned reverse paths, index ``k`` at step ``k``; and
#:   ``sde_ode_paths(n, steps, rng) -> SDEODEPaths``, reverse-SDE and probability-flow-ODE
#:   particles from the same noise (``playground.core.sampling.probability_flow``)
#: - ode: ``velocity(x, s) -> (n, d)``, ``dx/ds`` of a continuous-time flow at normalised
#:   time ``s`` in ``[0, 1]`` (0 the base, 1 the data); ``ode_path(x, s0, s1, steps) ->
#:   (steps + 1, n, d)``, the points moved from ``s0`` to ``s1``; ``log_prob_at(x, s) -> (n,)``,
#:   the flow's density at ``s`` (nats)
#: - paths: ``conditional_paths(n, rng, steps) -> (steps + 1, n, d)``, flow matching's
#:   conditional paths: ``n`` (source, target) pairs coupled as in training, moved along the
#:   chosen probability path from ``s = 0`` to 1
#: - codes: ``generate_with_codes(z (n, latent_dim), c (n,), c_cont (n, k)) -> samples``, an
#:   InfoGAN's samples of chosen latent codes
#: - autoregressive: ``conditional_logits(x) -> (n, D, levels)``, the logits of each of the ``D``
#:   discrete dimensions of ``x`` (the dataset's own format: ``(n, 2)`` points, ``(n, 1, h,
#:   w)`` images, ``(n, 1, T)`` sequences; flattened in raster order) given the dimensions
#:   before it in ``sampling_order()``, a ``(D,)`` int64 permutation; ``to_levels(x) ->
#:   (n, D)`` int64 in ``0..levels-1`` and ``from_levels(k (n, D)) -> x``, the model's
#:   discretisation and its inverse (the ``levels`` attribute: values per dimension)
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "density": ("log_prob",),
    "energy": ("energy",),
    "samples": ("sample",),
    "trajectory": ("trajectory", "layer_names"),
    "layers": ("layer_log_dets",),
    "score": ("score",),
    "latent": ("encode", "decode"),
    "critic": ("critic",),
    "process": ("noise_process", "process_paths", "sde_ode_paths"),
    "codes": ("generate_with_codes",),
    "ode": ("velocity", "ode_path", "log_prob_at"),
    "paths": ("conditional_paths",),
    "autoregressive": ("conditional_logits", "sampling_order", "to_levels", "from_levels"),
    # codebook (a VQ-VAE): code_usage(x) -> (K,) int64 counts of each code over x's maps;
    # code_indices(x) -> (n, h, w) int64 code maps; sample_codes(n, rng) -> (n, h, w), maps
    # from the prior; decode_codes(c (n, h, w)) -> (n, *event_shape), the decoder's mean
    "codebook": ("code_usage", "code_indices", "sample_codes", "decode_codes"),
}


@dataclass
class TrainingConfig:
    """Hyperparameters every model trains with; model configs inherit and add theirs."""

    lr: float = hp(1e-3, low=1e-6, high=1.0, log=True, live=True, help="Adam learning rate")
    batch_size: int = hp(256, low=1, high=8192, log=True, live=True, help="samples per step")


class GenerativeModel(nn.Module, metaclass=abc.ABCMeta):
    """Base class of every model: the whole protocol the core asks a model about.

    A subclass sets the class attributes, builds its networks in ``__init__`` and
    implements :meth:`train_step`, plus the methods of the capabilities it declares (see
    :data:`CAPABILITIES`; only a model that declares a capability has its methods). Every
    other flag and optional method is declared below with its default, which is right for a
    model that does not have the feature.

    Training plumbing, once for every model: :attr:`rng` draws every random number of a
    training step (the Session seeds it); :attr:`steps_taken` counts the steps (a model's
    :meth:`train_step` adds one when it succeeds) and is saved with the weights, so a
    reloaded model resumes its schedules; :meth:`apply_lr_schedule` sets every optimiser's
    rate from it.

    Arguments:
        config: an instance of the subclass's ``Config`` dataclass.
        data: the dataset the session trains on (a :class:`~playground.core.data.Density2D`
            for 2D models); reverse-KL models read the target density from it.

    Attributes:
        name: the model name on the command line.
        family: ``flow``, ``gan``, ``vae``, ``energy``, ``score``, ``diffusion``, ...
        Config: the hyperparameter dataclass.
        capabilities: a subset of the keys of :data:`CAPABILITIES`.
        description: one line for ``list`` and the app.
        discrete_latent: ``z`` takes discrete values (VQ-VAE, Gumbel-softmax): no latent
            traversal, no latent-space heatmaps.
        trajectory_grid: the trajectory view warps a grid with the particles (a flow's
            bijection); False for a stochastic process (DDPM), whose particles are drawn alone.
        parts: the halves of a step that :meth:`train_part` runs alone (GANs:
            ``("critic", "generator")``).
        data_kinds: the kinds of dataset (``plane``, ``image``, ``sequence``: a dataset's
            ``kind``) the model is built for; :meth:`fits` checks it before
            :meth:`trains_on`.
        iterative_sampler: :meth:`sample` runs a chain or a reverse process (many network
            evaluations per sample): pictures draw fewer of its samples while training
            plays (see :mod:`playground.core.sampling.budget`).
        last_acceptance_rate: a MALA sampler's acceptance rate in the last :meth:`sample`,
            in ``[0, 1]``; ``None`` for any other sampler.
        optimizers: name to optimiser (:meth:`configure_optimizers`).
        rng: the ``torch.Generator`` of the training noise, on the model's device.
        steps_taken: ``()`` int64 buffer, the training steps taken.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    Config: ClassVar[type] = TrainingConfig
    capabilities: ClassVar[frozenset[str]] = frozenset()
    description: ClassVar[str] = ""
    discrete_latent: ClassVar[bool] = False
    trajectory_grid: ClassVar[bool] = True
    parts: ClassVar[tuple[str, ...]] = ()
    iterative_sampler: ClassVar[bool] = False
    data_kinds: ClassVar[tuple[str, ...]] = ("plane", "image")
    last_acceptance_rate: float | None = None
    steps_taken: Tensor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = set(cls.capabilities) - set(CAPABILITIES)
        if unknown:
            raise TypeError(
                f"{cls.__name__}: unknown capabilities {sorted(unknown)}; "
                f"valid: {', '.join(CAPABILITIES)}"
            )

    def __init__(self, config: Any, data: Any):
        super().__init__()
        self.config = config
        self.data = data
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # the Session replaces it with one seeded from its seed, on its device
        self.rng = torch.Generator()
        # saved with the weights, so a reloaded model resumes its schedules (learning rate,
        # KL weight, temperature, dead codes)
        self.register_buffer("steps_taken", torch.zeros((), dtype=torch.long))

    @classmethod
    def fits(cls, data: Any) -> bool:
        """Whether the model trains on ``data`` (class or instance): its ``kind`` is one of
        :attr:`data_kinds` and :meth:`trains_on` agrees. What the Session and the model
        list ask."""
        return data.kind in cls.data_kinds and cls.trains_on(data)

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """Whether some setting of the hyperparameters trains on ``data`` (class or instance).

        The default needs exact samples (maximum likelihood, adversarial training).
        """
        return bool(data.can_sample)

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Hyperparameter defaults that depend on the dataset (an instance), applied by the
        Session to the fields the user did not set; none by default."""
        return {}

    # ---------------------------------------------------------------- flags
    @property
    def batches_per_step(self) -> int:
        """Data batches one :meth:`train_step` consumes (a GAN: one per critic step).

        The Session passes ``batch_size * batches_per_step`` rows.
        """
        return 1

    @property
    def needs_data(self) -> bool:
        """Whether :meth:`train_step` needs a batch of data samples."""
        return True

    @property
    def needs_labels(self) -> bool:
        """Whether :meth:`train_step` takes ``(x, y)`` batches, samples with their class
        labels (a guided DDPM); False: ``x`` alone."""
        return False

    def sample_labelled(self, y: Tensor, rng: torch.Generator) -> Tensor:
        """One sample of each class in ``y`` (``(n,)`` int64, on the model's device): ``(n,
        *event_shape)`` in data space, every random number from ``rng``. Only a model whose
        :attr:`needs_labels` is True (a guided DDPM, a conditional Gated PixelCNN) has it.

        Raises:
            ValueError: the model is not class-conditional.
        """
        raise ValueError(f"{self.name or type(self).__name__} is not class-conditional")

    def sample_class(self, n: int, y: int, rng: torch.Generator) -> Tensor:
        """``n`` samples of class ``y``: :meth:`sample_labelled` of ``n`` copies of ``y``.

        Raises:
            ValueError: the model is not class-conditional.
        """
        device = self.steps_taken.device
        return self.sample_labelled(torch.full((n,), int(y), dtype=torch.long, device=device), rng)

    @property
    def has_probability(self) -> bool:
        """Whether ``critic(x)`` is the logit of a probability ``D(x)`` (a GAN's classifier
        critic), so the critic view may draw ``sigmoid(critic(x))``."""
        return False

    # ------------------------------------------------------- optional methods
    def train_part(self, part: str, batch: Tensor | None) -> dict[str, float]:
        """One update of the half ``part`` of a step alone (one of :attr:`parts`).

        Arguments:
            part: a name in :attr:`parts`.
            batch: ``(batch_size, d)`` data (one chunk, not ``batches_per_step`` of them).

        Returns:
            The named loss terms of that update.

        Raises:
            ValueError: ``part`` is not one of :attr:`parts` (by default there are none).
        """
        raise ValueError(
            f"{self.name or type(self).__name__} has no {part!r} step; "
            f"parts: {', '.join(self.parts) or 'none'}"
        )

    def codebook_perplexity(self, x: Tensor) -> float | None:
        """``exp`` of the entropy of the codebook usage over ``x (n, ...)``, in codes (a
        VQ-VAE: from 1 to its codebook size); ``None`` for a model without a codebook."""
        return None

    def discrete_nll(self, x: Tensor, rng: torch.Generator | None = None) -> Tensor | None:
        """``-log P(x)`` of discrete data in nats, ``(n,)``, or an upper bound of it (a
        dequantised flow's, a latent model's IWAE bound); ``None`` for a model without a
        likelihood of discrete data (the default). ``x`` is in the dataset's format (images
        ``(n, 1, h, w)`` on the dataset's ``levels``; sequences ``(n, 1, T)``); a stochastic
        bound draws its noise from ``rng`` (a fresh generator when ``None``). Held-out
        evaluation reports it as ``bits_per_dim`` (Theis et al. 2016)."""
        return None

    def score_levels(self) -> ScoreLevels | None:
        """The noise levels of :meth:`score` (capability ``score``); ``None``: one score
        of the clean data, sigma 0, taking ``x`` only (an EBM, implicit score matching)."""
        return None

    def noise_process(self) -> NoiseProcess | None:
        """How the model noises data step by step (capability ``process``); ``None`` for
        a model without a noising process."""
        return None

    # ------------------------------------------------------------ training
    def configure_optimizers(self) -> None:
        """Create ``self.optimizers``; called by the Session after the model is on its device."""
        self.optimizers = {"model": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def base_lr(self, optimizer: str) -> float:
        """The rate of optimiser ``optimizer`` before any decay: ``config.lr`` (a GAN
        overrides it: a rate per network)."""
        return float(self.config.lr)

    def lr_factor(self) -> float:
        """The cosine schedule's factor on every rate at :attr:`steps_taken` over
        ``config.lr_decay_steps`` (see :func:`cosine_lr_factor`); 1 for a config without
        that field (a constant rate)."""
        decay_steps = getattr(self.config, "lr_decay_steps", 0)
        return cosine_lr_factor(int(self.steps_taken), decay_steps)

    def scheduled_lr(self, optimizer: str = "model") -> float:
        """The rate of optimiser ``optimizer`` at the current step: :meth:`base_lr` times
        :meth:`lr_factor` (floor: 2% of it)."""
        return self.base_lr(optimizer) * self.lr_factor()

    def apply_lr_schedule(self) -> None:
        """Set every optimiser's rate to :meth:`scheduled_lr`; models call it at the start
        of :meth:`train_step`, so the rate of step ``t`` follows ``t = steps_taken``."""
        for key, opt in self.optimizers.items():
            lr = self.scheduled_lr(key)
            for group in opt.param_groups:
                group["lr"] = lr

    def apply_live(self, config: Any) -> None:
        """Take a new config whose changed fields are all live (learning rate, batch size):
        every rate becomes its :meth:`base_lr` (the next :meth:`train_step` decays it)."""
        self.config = config
        for key, opt in self.optimizers.items():
            for group in opt.param_groups:
                group["lr"] = self.base_lr(key)

    @contextlib.contextmanager
    def rng_kept_on_failure(self) -> Iterator[None]:
        """Within it, a :class:`NonFiniteLossError` puts :attr:`rng` back to its state on
        entry, so a refused step leaves no trace (repeating it draws the same numbers)."""
        state = self.rng.get_state()
        try:
            yield
        except NonFiniteLossError:
            self.rng.set_state(state)
            raise

    @abc.abstractmethod
    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One optimisation step on a batch ``(b, d)`` (``None`` if ``needs_data`` is False).

        Returns:
            The named terms of the loss as floats; ``loss`` is the total minimised.

        Raises:
            NonFiniteLossError: a term was NaN or infinite; no update was applied.
        """

    @staticmethod
    def check_finite(terms: dict[str, Tensor]) -> dict[str, float]:
        """Floats of the loss terms, or :class:`NonFiniteLossError` for the first bad one
        (in the order of ``terms``)."""
        values = {k: float(v.detach()) for k, v in terms.items()}
        for k, v in values.items():
            if not math.isfinite(v):
                raise NonFiniteLossError(k, v)
        return values

    def optimize(self, loss: Tensor, terms: dict[str, Tensor], optimizer: str = "model"):
        """Check every term is finite, then ``zero_grad``, ``backward``, ``step``.

        Arguments:
            loss: the scalar to minimise.
            terms: named terms to report; ``loss`` is added (first) if missing.
            optimizer: the key in ``self.optimizers``.

        Returns:
            The terms as floats, ``loss`` first.

        Raises:
            NonFiniteLossError: before any parameter changes. It names the first
                non-finite of the model's own ``terms`` (a GAN's ``loss_d`` or
                ``loss_g``, a flow's ``nll``), and ``loss`` only when the total is not
                finite while every named term is (or there are no named terms);
                ``gradient`` when a gradient is not finite.
        """
        own = self.check_finite(terms)
        if "loss" in own:
            values = own
        else:
            same = next((k for k, t in terms.items() if t is loss), None)
            total = own[same] if same is not None else float(loss.detach())
            if not math.isfinite(total):
                raise NonFiniteLossError("loss", total)
            values = {"loss": total, **own}
        opt = self.optimizers[optimizer]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_ok = all(
            p.grad is None or torch.isfinite(p.grad).all()
            for g in opt.param_groups
            for p in g["params"]
        )
        if not grad_ok:
            opt.zero_grad(set_to_none=True)
            raise NonFiniteLossError("gradient", float("nan"))
        opt.step()
        return values
