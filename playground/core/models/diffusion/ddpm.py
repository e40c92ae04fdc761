"""DDPM: a denoising diffusion model trained on the simple noise-prediction loss."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ..base import (
    GenerativeModel,
    NonFiniteLossError,
    TrainingConfig,
    cosine_lr_factor,
    lr_decay_hp,
)
from .schedules import SCHEDULES, NoiseSchedule

__all__ = ["DDPM", "EpsilonNet", "timestep_embedding", "TIME_EMBEDDING_DIM"]

#: width of the sinusoidal embedding of t
TIME_EMBEDDING_DIM = 32
#: seed of the noise of :meth:`DDPM.trajectory` (fixed, so the paths evolve smoothly)
TRAJECTORY_SEED = 0


def timestep_embedding(t: Tensor, T: int, dim: int = TIME_EMBEDDING_DIM) -> Tensor:
    """Sinusoidal embedding of steps ``t (n,)`` in ``1..T`` -> ``(n, dim)``.

    ``t`` is rescaled to ``1000 t / T`` first, so the frequencies (periods from ``2 pi``
    to ``10000 * 2 pi``) see the same range whatever ``T`` is.

    References:
        Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5; Ho et al.
        2020, appendix B (the diffusion step as a Transformer position).
    """
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    args = (t.float() * (1000.0 / T))[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class EpsilonNet(nn.Module):
    """``eps_theta(x_t, t)``: a residual MLP on flattened ``x_t`` with ``t`` added to every
    block (a learned projection of :func:`timestep_embedding`).

    Arguments:
        dim: data elements (2 on the plane, ``h * w`` for images).
        T: the number of diffusion steps.
        hidden, depth: width and number of residual blocks.

    Shapes (forward):
        ``x (n, dim)``, ``t (n,)`` int64 in ``1..T`` -> ``(n, dim)``.
    """

    def __init__(self, dim: int, T: int, hidden: int, depth: int):
        super().__init__()
        self.T = T
        self.time = nn.Sequential(nn.Linear(TIME_EMBEDDING_DIM, hidden), nn.SiLU())
        self.inp = nn.Linear(dim, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.time_proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        temb = self.time(timestep_embedding(t, self.T))
        h = self.inp(x)
        for block, proj in zip(self.blocks, self.time_proj, strict=True):
            h = h + block(nn.functional.silu(h + proj(temb)))
        return self.out(h)


def _noise(shape: tuple[int, ...], generator: torch.Generator, like: Tensor) -> Tensor:
    """``N(0, I)`` of ``shape`` from ``generator`` only, on ``like``'s device and dtype."""
    eps = torch.randn(shape, generator=generator, device=generator.device, dtype=like.dtype)
    return eps.to(like.device)


class DDPM(GenerativeModel):
    """Denoising diffusion probabilistic model with an epsilon-predicting network.

    Forward process ``q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1}, beta_t I)``, ``t = 1..T``
    (see :mod:`.schedules` for the indexing); trained on the simple loss (Ho eq. 14)
    ``E || eps - eps_theta(sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, t) ||^2`` with ``t``
    uniform on ``1..T``, the squared error averaged over elements. Sampling is ancestral
    (Ho algorithm 2) with ``sigma_t^2 = beta_t``.

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
    capabilities: ClassVar[frozenset[str]] = frozenset({"samples", "trajectory"})
    #: the reverse process is stochastic: it maps no grid, so the trajectory view draws
    #: the particles alone
    trajectory_grid: ClassVar[bool] = False
    description: ClassVar[str] = (
        "DDPM: denoising diffusion, noise-prediction loss, ancestral sampling"
    )

    @dataclass
    class Config(TrainingConfig):
        """DDPM hyperparameters: diffusion steps, schedule, network."""

        # 3e-3 with the cosine decay: moons and 8gaussians reach the data's MMD within a
        # minute on one core (benchmarked at 4000 steps)
        lr: float = hp(3e-3, low=1e-6, high=1.0, log=True, live=True, help="Adam learning rate")
        batch_size: int = hp(512, low=1, high=8192, log=True, live=True, help="samples per step")
        # 100, not the paper's 1000: a sample costs T network calls, and the views draw
        # samples and reverse paths about 10 times a second on a shared 2-core CPU; with the
        # betas rescaled by 1000 / T, alpha_bar_T is still 2e-5 (linear; 4e-5 at T = 1000)
        T: int = hp(100, low=2, high=4000, log=True, help="diffusion steps T")
        schedule: str = hp("linear", choices=SCHEDULES, help="betas: linear (Ho) or cosine")
        # 128 x 3: ~7 ms per step at batch 512 on the plane, on one core
        hidden: int = hp(128, low=8, high=2048, log=True, help="width of eps_theta")
        depth: int = hp(3, low=1, high=8, help="residual blocks of eps_theta")
        lr_decay_steps: int = lr_decay_hp(4000)

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
        self.net = EpsilonNet(self.dim, config.T, config.hidden, config.depth)
        self.generator = torch.Generator()
        # saved with the weights, so the lr schedule resumes after a preset reload
        self.register_buffer("steps_taken", torch.zeros((), dtype=torch.long))

    @property
    def T(self) -> int:
        return self.schedule.T

    # ------------------------------------------------------------ data space
    def to_diffusion(self, x: Tensor) -> Tensor:
        """Data ``(n, *event_shape)`` -> diffusion space (images: ``2 x - 1``)."""
        return 2.0 * x - 1.0 if self.is_image else x

    def from_diffusion(self, x: Tensor) -> Tensor:
        """Diffusion space -> data: images ``(x + 1) / 2`` clipped to ``[0, 1]``."""
        return ((x + 1.0) / 2.0).clamp(0.0, 1.0) if self.is_image else x

    def epsilon(self, xt: Tensor, t: Tensor) -> Tensor:
        """``eps_theta(x_t, t)``: ``xt (n, *event_shape)``, ``t (n,)`` in ``1..T`` -> the
        predicted noise, shaped like ``xt``."""
        return self.net(xt.reshape(xt.shape[0], -1), t).view_as(xt)

    # -------------------------------------------------------------- training
    def simple_loss(self, x0: Tensor, generator: torch.Generator) -> Tensor:
        """The simple loss (Ho eq. 14) of ``x0 (n, *event_shape)`` in diffusion space: the
        mean over the batch and elements of ``(eps - eps_theta(x_t, t))^2``, ``t`` uniform
        on ``1..T``."""
        n = x0.shape[0]
        t = torch.randint(1, self.T + 1, (n,), generator=generator, device=generator.device)
        t = t.to(x0.device)
        eps = _noise(tuple(x0.shape), generator, x0)
        abar = self.schedule.at(self.schedule.alpha_bars, t, x0)
        xt = abar.sqrt() * x0 + (1.0 - abar).sqrt() * eps
        return (eps - self.epsilon(xt, t)).pow(2).mean()

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the simple loss of a batch ``(b, *event_shape)``.

        Returns:
            ``loss``: the mean squared error of the noise prediction (per element).

        Raises:
            ValueError: no batch.
            NonFiniteLossError: the loss or a gradient was not finite; no parameter, no
                optimiser state, no step counter and no generator state changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        lr = self.config.lr * cosine_lr_factor(int(self.steps_taken), self.config.lr_decay_steps)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
        state = self.generator.get_state()
        x0 = self.to_diffusion(batch.reshape(batch.shape[0], *self.event_shape))
        loss = self.simple_loss(x0, self.generator)
        try:
            values = self.optimize(loss, {})
        except NonFiniteLossError:
            self.generator.set_state(state)
            raise
        self.steps_taken += 1
        return values

    # -------------------------------------------------------------- sampling
    def _generator(self, generator: torch.Generator | None) -> torch.Generator:
        device = next(self.parameters()).device
        return (
            generator
            if generator is not None
            else torch.Generator(device).manual_seed(TRAJECTORY_SEED)
        )

    @torch.no_grad()
    def reverse_from(self, xT: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Ancestral sampling (Ho algorithm 2) from ``x_T`` ``(n, *event_shape)``:
        ``x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps_theta(x_t, t)) / sqrt(alpha_t)
        + sqrt(beta_t) z`` with ``z ~ N(0, I)`` for ``t > 1`` and ``z = 0`` at ``t = 1``.

        Arguments:
            xT: the start, in diffusion space.
            generator: the noise ``z`` (``None``: a fresh one seeded 0).

        Returns:
            ``(T + 1, n, *event_shape)``: index ``k`` is ``x_{T-k}`` (index 0 is ``xT``,
            the last is ``x_0``), diffusion space, not clipped.
        """
        g = self._generator(generator)
        s = self.schedule
        x = xT
        path = [x]
        for t in range(self.T, 0, -1):
            tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
            beta, alpha = s.at(s.betas, t, x), s.at(s.alphas, t, x)
            abar = s.at(s.alpha_bars, t, x)
            x = (x - beta / (1.0 - abar).sqrt() * self.epsilon(x, tt)) / alpha.sqrt()
            if t > 1:
                x = x + beta.sqrt() * _noise(tuple(x.shape), g, x)
            path.append(x)
        return torch.stack(path)

    @torch.no_grad()
    def reverse_process(self, n: int, generator: torch.Generator) -> Tensor:
        """``x_T ~ N(0, I)`` then :meth:`reverse_from`: ``(T + 1, n, *event_shape)`` from
        ``x_T`` (index 0) to ``x_0`` (last), diffusion space."""
        like = next(self.parameters())
        xT = _noise((n, *self.event_shape), generator, like)
        return self.reverse_from(xT, generator)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``x_0`` of :meth:`reverse_process` in data space: ``(n, 2)`` on the plane,
        ``(n, 1, h, w)`` in ``[0, 1]`` for images."""
        return self.from_diffusion(self.reverse_process(n, generator)[-1])

    @torch.no_grad()
    def forward_process(self, x0: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The forward Markov chain (Ho eq. 2) from data ``x0 (n, *event_shape)``:
        ``x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps_t``.

        Arguments:
            x0: data, in data space (images in ``[0, 1]``).
            generator: the noise (``None``: a fresh one seeded 0).

        Returns:
            ``(T + 1, n, *event_shape)``: index ``t`` is ``x_t`` (index 0 is ``x_0``),
            diffusion space.
        """
        g = self._generator(generator)
        s = self.schedule
        x = self.to_diffusion(x0.reshape(x0.shape[0], *self.event_shape))
        path = [x]
        for t in range(1, self.T + 1):
            eps = _noise(tuple(x.shape), g, x)
            x = s.at(s.alphas, t, x).sqrt() * x + s.at(s.betas, t, x).sqrt() * eps
            path.append(x)
        return torch.stack(path)

    @torch.no_grad()
    def trajectory(
        self, x: Tensor, direction: str = "inverse", generator: torch.Generator | None = None
    ) -> Tensor:
        """The path of the reverse or the forward process, one point per step.

        Arguments:
            x: ``(n, d)`` (or ``(n, *event_shape)``): noise ``x_T`` for ``inverse``,
                data ``x_0`` for ``forward``.
            direction: ``inverse`` (the reverse process, noise to data, as a flow's z to
                x) or ``forward`` (data to noise).
            generator: the noise of the path (``None``: a fresh one seeded 0, so paths of
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
            path = self.forward_process(x, generator)
        else:
            path = self.reverse_from(x, generator)
        return path.reshape(self.T + 1, n, self.dim)

    def layer_names(self) -> list[str]:
        """One name per step of :meth:`trajectory` ``inverse``: name ``k`` takes index
        ``k`` (``x_{T-k}``) to ``k + 1``."""
        return [f"t = {t} -> {t - 1}" for t in range(self.T, 0, -1)]
