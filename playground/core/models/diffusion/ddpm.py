"""DDPM: a denoising diffusion model trained on the simple noise-prediction loss."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from ...hyperparameters import hp, with_defaults
from ...sampling.probability_flow import SDEODEPaths
from ..base import GenerativeModel, NoiseProcess, ScoreLevels, TrainingConfig, lr_decay_hp
from .networks import TIME_EMBEDDING_DIM, EpsilonNet, timestep_embedding
from .samplers import DDPM_SAMPLERS, ancestral_path, generate, sample_classes, sde_ode_paths
from .schedules import SCHEDULES, NoiseSchedule

__all__ = [
    "DDPM",
    "EpsilonNet",
    "timestep_embedding",
    "TIME_EMBEDDING_DIM",
    "GUIDANCE",
    "DDPM_SAMPLERS",
    "ddpm_field_steps",
]

#: how samples are steered to a class: none, a classifier on noisy samples (Dhariwal &
#: Nichol 2021), or the difference of a conditional and an unconditional model (Ho &
#: Salimans 2022)
GUIDANCE = ("none", "classifier", "classifier-free")

#: seed of the noise of :meth:`DDPM.trajectory` (fixed, so the paths evolve smoothly)
TRAJECTORY_SEED = 0
#: a DDPM's score field is drawn at this many steps, evenly spaced from T down to 1
DDPM_FIELD_STEPS = 10


def ddpm_field_steps(T: int, count: int = DDPM_FIELD_STEPS) -> list[int]:
    """The diffusion steps :meth:`DDPM.score_levels` offers: ``count`` (or ``T``, if fewer)
    distinct steps from ``T`` down to ``1`` (most noise first, as NCSN's levels)."""
    steps = np.unique(np.round(np.linspace(1, T, min(count, T))).astype(int))
    return [int(t) for t in steps[::-1]]


def _noise(shape: tuple[int, ...], rng: torch.Generator, like: Tensor) -> Tensor:
    """``N(0, I)`` of ``shape`` from ``rng`` only, on ``like``'s device and dtype."""
    eps = torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype)
    return eps.to(like.device)


def class_count(data: Any) -> int:
    """Classes of a labelled dataset: the modes of a mixture, the classes of an image set;
    0 when it has no labels."""
    if getattr(data, "modes", None) is not None:
        return int(len(data.modes))
    names = getattr(data, "class_names", None)
    return len(names) if names else 0


class DDPM(GenerativeModel):
    """Denoising diffusion probabilistic model with an epsilon-predicting network.

    Forward process ``q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)``, ``t = 1..T``
    (see :mod:`.schedules` for the indexing); trained on the simple loss (Ho eq. 14)
    ``E || eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t) ||^2`` with ``t``
    uniform on ``1..T``, the squared error averaged over elements. :meth:`sample` runs the
    ``sampler`` (live, :mod:`.samplers`): ancestral (Ho algorithm 2, ``sigma_t^2 =
    beta_t``), DDIM with ``eta``, or the reverse-time VP SDE or its probability-flow ODE
    (Song et al. 2021); the paths of the diffusion views are always ancestral.

    Images ``[0, 1]`` are diffused in ``[-1, 1]`` (``2 x - 1``, as Ho et al.); :meth:`sample`
    maps back and clips to ``[0, 1]``. :meth:`forward_process`, :meth:`reverse_process`
    and :meth:`trajectory` return paths in the diffusion space (``[-1, 1]`` scale for
    images; the plane's own coordinates for 2D). The learning rate decays by a cosine
    over ``lr_decay_steps``.

    Arguments:
        config: a :class:`DDPM.Config`.
        data: the dataset (its shape).

    References:
        Ho, Jain and Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020,
        eqs. (4), (11), (14) and algorithms 1-2; Nichol and Dhariwal, "Improved Denoising
        Diffusion Probabilistic Models", ICML 2021 (the cosine schedule).
    """

    name: ClassVar[str] = "ddpm"
    family: ClassVar[str] = "diffusion"
    iterative_sampler: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"samples", "trajectory", "score", "process"}
    )
    #: the reverse process is stochastic: it maps no grid, so the trajectory view draws
    #: the particles alone
    trajectory_grid: ClassVar[bool] = False
    description: ClassVar[str] = (
        "DDPM: denoising diffusion, noise-prediction loss, ancestral sampling"
    )

    @dataclass
    class Config(
        # lr 3e-3 with the cosine decay: moons and 8gaussians reach the data's MMD within a
        # minute on one core (benchmarked at 4000 steps)
        with_defaults(TrainingConfig, lr=3e-3, batch_size=512)
    ):
        """DDPM hyperparameters: diffusion steps, schedule, network."""

        # 100, not the paper's 1000: a sample costs T network calls, and the views draw
        # samples and reverse paths about 10 times a second on a shared 2-core CPU; with the
        # betas rescaled by 1000 / T, alpha_bar_T is still 2e-5 (linear; 4e-5 at T = 1000)
        T: int = hp(100, low=2, high=4000, log=True, help="diffusion steps T")
        schedule: str = hp("linear", choices=SCHEDULES, help="betas: linear (Ho) or cosine")
        # 128 x 3: ~7 ms per step at batch 512 on the plane, on one core
        hidden: int = hp(128, low=8, high=2048, log=True, help="width of eps_theta")
        depth: int = hp(3, low=1, high=8, help="residual blocks of eps_theta")
        lr_decay_steps: int = lr_decay_hp(4000)
        guidance: str = hp(
            "none",
            choices=GUIDANCE,
            help="sample a chosen class: classifier guidance or classifier-free guidance",
        )
        guidance_scale: float = hp(
            1.0, low=0.0, high=100.0, live=True, help="s (classifier) or w (classifier-free)"
        )
        # 0.1: Ho and Salimans's p_uncond (they found 0.1 and 0.2 best)
        p_uncond: float = hp(
            0.1, low=0.0, high=1.0, live=True, help="classifier-free: drop the class this often"
        )
        guidance_class: int = hp(
            -1, low=-1, high=1000, live=True, help="the class samples are guided to (-1: random)"
        )
        sampler: str = hp(
            "ancestral", choices=DDPM_SAMPLERS, live=True, help="ancestral, ddim, SDE or ODE"
        )
        # 0: the deterministic DDIM of the paper's main results
        eta: float = hp(0.0, low=0.0, high=1.0, live=True, help="ddim: 0 deterministic, 1 DDPM")
        sampling_steps: int = hp(
            100, low=1, high=10_000, log=True, live=True, help="ddim (T at most), sde, ode steps"
        )

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Nothing on the plane; for images a wider network, smaller batches and a
        slower learning rate (a 64-pixel digit is a 64-dimensional regression target)."""
        if not getattr(data, "is_image", False):
            return {}
        return {"hidden": 256, "depth": 3, "batch_size": 128, "lr": 1e-3, "lr_decay_steps": 8000}

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.is_image = bool(getattr(data, "is_image", False))
        self.event_shape: tuple[int, ...] = tuple(data.shape) if self.is_image else (2,)
        self.dim = math.prod(self.event_shape)
        self.schedule = NoiseSchedule(config.T, config.schedule)
        self.n_classes = class_count(data) if config.guidance != "none" else 0
        if config.guidance != "none" and not self.n_classes:
            raise ValueError(
                f"guidance needs a labelled dataset (a mixture with known modes or digits); "
                f"{getattr(data, 'name', data)} has no labels"
            )
        conditional = config.guidance == "classifier-free"
        self.net = EpsilonNet(
            self.dim, config.T, config.hidden, config.depth,
            n_classes=self.n_classes if conditional else 0,
        )  # fmt: skip
        self.last_classifier_loss: Tensor | None = None
        self.classifier = (
            EpsilonNet(self.dim, config.T, config.hidden, config.depth, n_out=self.n_classes)
            if config.guidance == "classifier"
            else None
        )

    @property
    def T(self) -> int:
        return self.schedule.T

    @property
    def needs_labels(self) -> bool:
        """Guided models train on ``(x, y)`` batches (the Session passes labels)."""
        return self.config.guidance != "none"

    def configure_optimizers(self) -> None:
        """Adam on ``eps_theta`` (``model``) and, for classifier guidance, a second Adam on
        the noisy classifier (``classifier``)."""
        self.optimizers = {"model": torch.optim.Adam(self.net.parameters(), lr=self.config.lr)}
        if self.classifier is not None:
            self.optimizers["classifier"] = torch.optim.Adam(
                self.classifier.parameters(), lr=self.config.lr
            )

    # ------------------------------------------------------------ data space
    def to_diffusion(self, x: Tensor) -> Tensor:
        """Data ``(n, *event_shape)`` -> diffusion space (images: ``2 x - 1``)."""
        return 2.0 * x - 1.0 if self.is_image else x

    def from_diffusion(self, x: Tensor) -> Tensor:
        """Diffusion space -> data: images ``(x + 1) / 2`` clipped to ``[0, 1]``."""
        return ((x + 1.0) / 2.0).clamp(0.0, 1.0) if self.is_image else x

    def epsilon(self, xt: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        """``eps_theta(x_t, t[, y])``: ``xt (n, *event_shape)``, ``t (n,)`` in ``1..T``,
        ``y (n,)`` classes (classifier-free models; ``n_classes`` is the null class) ->
        the predicted noise, shaped like ``xt``."""
        return self.net(xt.reshape(xt.shape[0], -1), t, y).view_as(xt)

    def guided_epsilon(self, xt: Tensor, t: Tensor, y: Tensor | None) -> Tensor:
        """The noise prediction of guided sampling toward classes ``y (n,)``.

        Classifier-free (Ho & Salimans 2022, eq. 6):
        ``(1 + w) eps(x_t, t, y) - w eps(x_t, t, null)``; ``y = None``: the null class.
        Classifier guidance shifts the mean instead (:meth:`reverse_from`), so for it, and
        for an unguided model, this is the plain prediction.
        """
        cfg = self.config
        if y is None or cfg.guidance != "classifier-free":
            if cfg.guidance == "classifier-free":  # unconditional: the null class
                null = torch.full(t.shape, self.n_classes, dtype=torch.long, device=t.device)
                return self.epsilon(xt, t, null)
            return self.epsilon(xt, t)
        w = cfg.guidance_scale
        null = torch.full_like(y, self.n_classes)
        return (1.0 + w) * self.epsilon(xt, t, y) - w * self.epsilon(xt, t, null)

    @torch.no_grad()
    def score(self, xt: Tensor, t: int | Tensor | None = None) -> Tensor:
        """The score the noise prediction implies: ``s_theta(x_t, t) = -eps_theta(x_t, t) /
        sqrt(1 - abar_t)``, an estimate of ``grad log q(x_t)``, the score of the data
        diffused to step ``t`` (Ho eq. 4 with Tweedie's formula; Song et al. 2021, eq. 4
        with their section 4.2's correspondence). A guided model gives its unconditional
        score (the null class, or the plain network).

        Arguments:
            xt: ``(n, *event_shape)`` or ``(n, d)`` points in diffusion space.
            t: the step, in ``1..T`` (the course's indexing): an int, or an int64 tensor
                ``(n,)``; ``None``: ``t = 1``, the least noise.

        Returns:
            ``(n, d)``, in ``1 / diffusion-space`` units.
        """
        n = xt.shape[0]
        x = xt.reshape(n, *self.event_shape)
        if t is None:
            t = 1
        tt = torch.as_tensor(t, device=x.device, dtype=torch.long).reshape(-1).expand(n)
        eps = self.guided_epsilon(x, tt, None) if self.needs_labels else self.epsilon(x, tt)
        abar = self.schedule.at(self.schedule.alpha_bars, tt, x)
        return (-eps / (1.0 - abar).sqrt()).reshape(n, -1)

    def score_levels(self) -> ScoreLevels:
        """:meth:`score` at the steps :func:`ddpm_field_steps` ``(T)``: ``values`` are the
        steps ``t`` (int64), ``noise_std`` ``sqrt(1 - abar_t)`` and ``signal_scale``
        ``sqrt(abar_t)``, since ``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`` (Ho eq. 4)."""
        steps = ddpm_field_steps(self.T)
        abar = self.schedule.alpha_bars.detach().cpu()[torch.tensor(steps) - 1].double()
        return ScoreLevels(
            values=torch.tensor(steps),
            noise_std=(1.0 - abar).sqrt().float(),
            signal_scale=abar.sqrt(),
            labels=tuple(f"t = {t}" for t in steps),
            conditional=True,
        )

    def noise_process(self) -> NoiseProcess:
        """The forward process at every step ``t = 0..T`` (Ho eq. 4): ``noise_std``
        ``sqrt(1 - abar_t)``, ``signal_scale`` ``sqrt(abar_t)``, with ``abar_0 = 1``."""
        abar = self.schedule.alpha_bars.detach().double().cpu().numpy()
        abar = np.concatenate([[1.0], abar])
        labels = ["data"] + [f"t = {t}" for t in range(1, len(abar))]
        key = ("ddpm", self.T, self.schedule.kind)
        return NoiseProcess("ddpm", np.sqrt(1.0 - abar), np.sqrt(abar), labels, key)

    def classifier_log_prob(self, xt: Tensor, t: Tensor, y: Tensor) -> Tensor:
        """``log p_phi(y | x_t, t)`` ``(n,)`` of the noisy classifier."""
        logits = self.classifier(xt.reshape(xt.shape[0], -1), t)
        return torch.log_softmax(logits, -1).gather(1, y[:, None])[:, 0]

    # -------------------------------------------------------------- training
    def simple_loss(self, x0: Tensor, rng: torch.Generator, y: Tensor | None = None) -> Tensor:
        """The simple loss (Ho eq. 14) of ``x0 (n, *event_shape)`` in diffusion space: the
        mean over the batch and elements of ``(eps - eps_theta(x_t, t))^2``, ``t`` uniform
        on ``1..T``. A classifier-free model sees the classes ``y (n,)``, each replaced by
        the null class with probability ``p_uncond`` (Ho & Salimans 2022, algorithm 1); a
        model with classifier guidance also returns the classifier's cross-entropy on the
        same ``x_t`` (:attr:`last_classifier_loss`)."""
        n = x0.shape[0]
        t = torch.randint(1, self.T + 1, (n,), generator=rng, device=rng.device)
        t = t.to(x0.device)
        eps = _noise(tuple(x0.shape), rng, x0)
        xt = self.schedule.q_sample(x0, t, eps)
        cond = None
        if y is not None and self.config.guidance == "classifier-free":
            drop = torch.rand(n, generator=rng, device=rng.device).to(x0.device)
            cond = torch.where(drop < self.config.p_uncond, torch.full_like(y, self.n_classes), y)
        if y is not None and self.classifier is not None:
            logits = self.classifier(xt.reshape(n, -1).detach(), t)
            self.last_classifier_loss = nn.functional.cross_entropy(logits, y)
        return (eps - self.epsilon(xt, t, cond)).pow(2).mean()

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the simple loss of a batch ``(b, *event_shape)``.

        Returns:
            ``loss``: the mean squared error of the noise prediction (per element).

        Raises:
            ValueError: no batch.
            NonFiniteLossError: the loss or a gradient was not finite; no parameter, no
                optimiser state, no step counter and no rng state changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        labels = None
        if isinstance(batch, tuple):  # (x, y): a guided model's labelled batch
            batch, labels = batch
            labels = labels.to(batch.device)
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            x0 = self.to_diffusion(batch.reshape(batch.shape[0], *self.event_shape))
            loss = self.simple_loss(x0, self.rng, labels)
            values = self.optimize(loss, {})
            if self.classifier is not None and labels is not None:
                c = self.last_classifier_loss
                values.update(self.optimize(c, {"classifier_loss": c}, optimizer="classifier"))
                values["loss"] = float(loss.detach())
        self.steps_taken += 1
        return values

    # -------------------------------------------------------------- sampling
    def _path_rng(self, rng: torch.Generator | None) -> torch.Generator:
        """``rng``, or a fresh one seeded :data:`TRAJECTORY_SEED` on the model's device."""
        if rng is not None:
            return rng
        return torch.Generator(next(self.parameters()).device).manual_seed(TRAJECTORY_SEED)

    @torch.no_grad()
    def reverse_from(
        self, xT: Tensor, rng: torch.Generator | None = None, y: Tensor | None = None
    ) -> Tensor:
        """Ancestral sampling (Ho algorithm 2) from ``x_T`` ``(n, *event_shape)``, guided
        to ``y (n,)`` when given: :func:`.samplers.ancestral_path` with ``rng`` (``None``: a
        fresh one seeded 0). ``(T + 1, n, *event_shape)``, index ``k`` is ``x_{T-k}``,
        diffusion space, not clipped."""
        return ancestral_path(self, xT, self._path_rng(rng), y)

    @torch.no_grad()
    def reverse_process(self, n: int, rng: torch.Generator, y: Tensor | None = None) -> Tensor:
        """``x_T ~ N(0, I)`` then :meth:`reverse_from` (guided to ``y`` if given):
        ``(T + 1, n, *event_shape)`` from ``x_T`` (index 0) to ``x_0`` (last), diffusion
        space."""
        like = next(self.parameters())
        xT = _noise((n, *self.event_shape), rng, like)
        return self.reverse_from(xT, rng, y)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``x_0`` of the configured ``sampler`` from ``x_T ~ N(0, I)`` in data space
        (:func:`.samplers.generate`): ``(n, 2)`` on the plane, ``(n, 1, h, w)`` in
        ``[0, 1]`` for images; guided models guide to :func:`.samplers.sample_classes`."""
        return generate(self, n, rng, sample_classes(self, n, rng))

    @torch.no_grad()
    def sample_labelled(self, y: Tensor, rng: torch.Generator) -> Tensor:
        """One sample guided to each class of ``y (n,)`` by the configured ``sampler`` (data
        space; one batched reverse process for all classes)."""
        return generate(self, len(y), rng, y)

    @torch.no_grad()
    def sde_ode_paths(self, n: int, steps: int, rng: torch.Generator) -> SDEODEPaths:
        """The reverse-time SDE and the probability-flow ODE from the same noise, ``steps``
        steps each: :func:`.samplers.sde_ode_paths`."""
        return sde_ode_paths(self, n, steps, rng)

    @torch.no_grad()
    def process_paths(
        self,
        x0: Tensor,
        forward_rng: torch.Generator,
        reverse_rng: torch.Generator,
        label_rng: torch.Generator,
    ) -> tuple[Tensor, Tensor]:
        """The forward Markov chain ``q(x_t | x_{t-1})`` (Ho et al. 2020, eq. 2) from ``x0``
        and ancestral sampling (their algorithm 2) from ``N(0, I)``, guided to
        :func:`.samplers.sample_classes` of ``label_rng`` when guided; both ``(T + 1, n, d)`` in
        forward order (index ``t`` holds ``x_t``)."""
        forward = self.forward_process(x0, forward_rng)
        y = sample_classes(self, x0.shape[0], label_rng)
        reverse = self.reverse_process(x0.shape[0], reverse_rng, y).flip(0)
        return forward, reverse

    @torch.no_grad()
    def forward_process(self, x0: Tensor, rng: torch.Generator | None = None) -> Tensor:
        """The forward Markov chain (Ho eq. 2) from data ``x0 (n, *event_shape)``:
        ``x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps_t``.

        Arguments:
            x0: data, in data space (images in ``[0, 1]``).
            rng: the noise (``None``: a fresh one seeded 0).

        Returns:
            ``(T + 1, n, *event_shape)``: index ``t`` is ``x_t`` (index 0 is ``x_0``),
            diffusion space.
        """
        g = self._path_rng(rng)
        s = self.schedule
        x = self.to_diffusion(x0.reshape(x0.shape[0], *self.event_shape))
        path = [x]
        for t in range(1, self.T + 1):
            x = s.q_step(x, t, _noise(tuple(x.shape), g, x))
            path.append(x)
        return torch.stack(path)

    @torch.no_grad()
    def trajectory(
        self, x: Tensor, direction: str = "inverse", rng: torch.Generator | None = None
    ) -> Tensor:
        """The path of the reverse or the forward process, one point per step.

        Arguments:
            x: ``(n, d)`` (or ``(n, *event_shape)``): noise ``x_T`` for ``inverse``,
                data ``x_0`` for ``forward``.
            direction: ``inverse`` (the reverse process, noise to data, as a flow's z to
                x) or ``forward`` (data to noise).
            rng: the noise of the path (``None``: a fresh one seeded 0, so paths of
                successive snapshots differ only by training).

        Returns:
            ``(T + 1, n, d)``, diffusion space; index 0 is ``x``.

        Raises:
            ValueError: an unknown ``direction``.
        """
        if direction not in ("forward", "inverse"):
            raise ValueError(f"direction must be 'forward' or 'inverse', not {direction!r}")
        n = x.shape[0]
        x = x.reshape(n, *self.event_shape)
        if direction == "forward":
            path = self.forward_process(x, rng)
        else:
            path = self.reverse_from(x, rng)
        return path.reshape(self.T + 1, n, self.dim)

    def layer_names(self) -> list[str]:
        """One name per step of :meth:`trajectory` ``inverse``: name ``k`` takes index
        ``k`` (``x_{T-k}``) to ``k + 1``."""
        return [f"t = {t} -> {t - 1}" for t in range(self.T, 0, -1)]
