"""NCSN: a noise-conditional score network trained by denoising score matching over
geometric noise levels, sampled by annealed Langevin dynamics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ...sampling import budget
from ...sampling.langevin import annealed_langevin, geometric_sigmas, langevin
from ...sampling.probability_flow import SDEODEPaths, probability_flow_sample, sde_ode_paths
from ...sampling.sde import VESDE, reverse_sde_sample
from ..base import NoiseProcess, ScoreLevels, TrainingConfig, lr_decay_hp
from .models import SAMPLERS, ScoreModelBase, check_sampler

__all__ = ["NCSN", "NoiseConditionalScoreNet", "SIGMA_EMBEDDING_DIM", "NCSN_SAMPLERS"]

#: NCSN's ``sampler`` choices: the score models' (:data:`.models.SAMPLERS`) and the
#: reverse-time VE SDE and its probability-flow ODE (Song et al. 2021)
NCSN_SAMPLERS = (*SAMPLERS, "reverse-sde", "probability-flow")

#: width of the Fourier embedding of log sigma
SIGMA_EMBEDDING_DIM = 16


class NoiseConditionalScoreNet(nn.Module):
    """``s_theta(x, sigma)``: a residual SiLU MLP on ``x / sqrt(sigma^2 + scale^2)`` with a
    Fourier embedding of ``log sigma`` added to every block; the output is divided by
    ``sigma``, so the net predicts ``-eps`` at every level (NCSNv2's parametrisation).

    Arguments:
        scale: the data's spread (data units), to normalise the input; hidden, depth:
            width and residual blocks.

    Shapes (forward): ``x (n, 2)``, ``sigma (n, 1)`` ``> 0`` -> ``(n, 2)``, ``1 / data``.

    References:
        Song and Ermon, "Improved Techniques for Training Score-Based Generative Models",
        NeurIPS 2020, technique 3 (``s(x, sigma) = s(x) / sigma``).
    """

    def __init__(self, scale: float, hidden: int, depth: int):
        super().__init__()
        self.scale = float(scale)
        self.register_buffer("freqs", torch.arange(1, SIGMA_EMBEDDING_DIM // 2 + 1).float())
        self.emb = nn.Sequential(nn.Linear(SIGMA_EMBEDDING_DIM, hidden), nn.SiLU())
        self.inp = nn.Linear(2, hidden)
        self.blocks = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.proj = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, 2))

    def forward(self, x: Tensor, sigma: Tensor) -> Tensor:
        # log sigma in about [-5, 3] -> phases up to ~ +-8 per frequency unit / 4
        args = 0.25 * sigma.log() * self.freqs
        temb = self.emb(torch.cat([torch.sin(args), torch.cos(args)], dim=-1))
        h = self.inp(x / torch.sqrt(sigma**2 + self.scale**2))
        for block, proj in zip(self.blocks, self.proj, strict=True):
            h = h + block(nn.functional.silu(h + proj(temb)))
        return self.out(h) / sigma


class NCSN(ScoreModelBase):
    """Noise-conditional score network.

    Trained by denoising score matching at ``L`` geometric noise levels
    ``sigma_1 = sigma_max > ... > sigma_L = sigma_min``, one level drawn uniformly per
    point, weighted by ``lambda(sigma) = sigma^2``:
    ``loss = E_i E ||sigma_i s(x~, sigma_i) + eps||^2 / 2``, ``x~ = x + sigma_i eps``
    (Song & Ermon 2019, eqs. (5)-(6)).

    Sampling (``sampler``, live) starts from uniform noise on ``data.box``:
    ``annealed`` is annealed Langevin (their algorithm 1), ``steps_per_level`` steps per
    level with step ``epsilon (sigma_i / sigma_L)^2``; ``langevin`` is the baseline it
    improves on: plain unadjusted Langevin on ``s(x, sigma_min)`` alone, with the same
    total ``levels * steps_per_level`` steps, each of step ``epsilon`` (on a mixture it
    gets the mode weights wrong, their section 3.2.2). ``reverse-sde`` and
    ``probability-flow`` treat the levels as the VE SDE ``sigma(t) = sigma_min
    (sigma_max / sigma_min)^t`` (Song et al. 2021, eq. (9)) and start from
    ``N(0, sigma_max^2 I)``: Euler-Maruyama on the reverse SDE, or the probability-flow
    ODE by RK4, over ``sampling_steps``, then Tweedie's denoising at ``sigma_min``.
    ``mala`` is refused as for
    :class:`~.models.ScoreModel`: a score network has no log-density for the
    Metropolis-Hastings test.

    Arguments:
        config: a :class:`NCSN.Config`; data: a 2D density (its box).

    Raises:
        HyperparameterError: ``sampler == "mala"`` (when the config is built, at
            construction, on a live change and in :meth:`sample`).

    References:
        Song and Ermon, "Generative Modeling by Estimating Gradients of the Data
        Distribution", NeurIPS 2019, eqs. (5)-(6), section 3.2.2 and algorithm 1; Song et
        al., "Score-Based Generative Modeling through SDEs", ICLR 2021, eqs. (6), (9), (13).
    """

    name: ClassVar[str] = "ncsn"
    #: ``process``: the diffusion-process view (data noised level by level, and annealed
    #: Langevin back)
    capabilities: ClassVar[frozenset[str]] = frozenset({"samples", "score", "process"})
    description: ClassVar[str] = "NCSN: noise-conditional score, annealed Langevin"

    @dataclass
    class Config(TrainingConfig):
        """Noise levels, network and annealed Langevin sampler."""

        hidden: int = hp(128, low=8, high=2048, log=True, help="width of s_theta")
        depth: int = hp(3, low=1, high=8, help="residual blocks of s_theta")
        lr_decay_steps: int = lr_decay_hp(4000)
        # about the largest distance between data points (Song & Ermon 2020, technique 1);
        # defaults_for sets it from the dataset's box
        sigma_max: float = hp(4.0, low=1e-3, high=100.0, log=True, help="largest noise std")
        sigma_min: float = hp(0.05, low=1e-4, high=10.0, log=True, help="smallest noise std")
        # 15 levels x 150 steps at epsilon 5e-4: with the exact noised score of gmm82, annealed
        # Langevin gives the 0.8 mode 0.797 +- 0.002 (3 seeds); 10 x 100 at 2.5e-4 gave 0.77
        levels: int = hp(15, low=1, high=1000, log=True, help="noise levels L")
        sampler: str = hp(
            "annealed",
            choices=NCSN_SAMPLERS,
            live=True,
            help="annealed or plain Langevin, reverse-sde or probability-flow (mala: refused)",
        )
        # epsilon / sigma_min^2 = 0.2: each level's step is a fifth of its variance
        epsilon: float = hp(
            5e-4, low=1e-7, high=1.0, log=True, live=True, help="step at sigma_min (data^2)"
        )
        steps_per_level: int = hp(150, low=1, high=10_000, log=True, live=True, help="T")
        # 500: the VE SDE's Euler-Maruyama step then moves sigma^2 by ~1.6% (log(sigma_max /
        # sigma_min) ~ 4 over 500 steps), a fifth of annealed Langevin's 2,250 evaluations
        sampling_steps: int = hp(
            500, low=1, high=10_000, log=True, live=True, help="reverse-sde, ODE steps"
        )

        def __post_init__(self) -> None:
            check_sampler(self.sampler, NCSN.RUNS)

    #: the samplers this model runs
    RUNS: ClassVar[tuple[str, ...]] = ("annealed", "langevin", "reverse-sde", "probability-flow")

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """``sigma_max`` = the half-width of the data's box (9 for gmm82, whose modes are
        14 apart), so the largest level connects the modes."""
        xmin, xmax, ymin, ymax = data.box
        return {"sigma_max": round(0.5 * max(xmax - xmin, ymax - ymin), 3)}

    def __init__(self, config: Any, data: Any):
        check_sampler(config.sampler, self.RUNS)
        super().__init__(config, data)
        xmin, xmax, ymin, ymax = self.box
        self.net = NoiseConditionalScoreNet(
            0.25 * max(xmax - xmin, ymax - ymin), config.hidden, config.depth
        )
        self.register_buffer(
            "sigmas", geometric_sigmas(config.sigma_max, config.sigma_min, config.levels)
        )

    def score(self, x: Tensor, sigma: float | Tensor | None = None) -> Tensor:
        """``s_theta(x, sigma)``: ``x (n, 2)``, ``sigma`` a float, ``(n,)`` or ``(n, 1)``
        (``None``: ``sigma_min``) -> ``(n, 2)``, ``1 / data``."""
        if sigma is None:
            sigma = float(self.sigmas[-1])
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        s = s.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(x, s)

    def score_levels(self) -> ScoreLevels:
        """:meth:`score` at every level: ``values`` = ``noise_std`` = the sigmas
        (decreasing, float32), ``signal_scale`` ones (the noise is added: ``x + sigma eps``)."""
        sigmas = self.sigmas.detach().float().cpu()
        return ScoreLevels(
            values=sigmas,
            noise_std=sigmas.clone(),
            signal_scale=torch.ones_like(sigmas),
            labels=tuple(f"sigma = {float(v):.3g}" for v in sigmas),
            conditional=True,
        )

    def noise_process(self) -> NoiseProcess:
        """The levels in increasing order, 0 first (the data): ``noise_std`` ``(0,
        sigma_L, ..., sigma_1)``, ``signal_scale`` ones; labels in the model's numbering
        (``sigma_1`` the largest)."""
        sigmas = self.sigmas.detach().double().cpu().numpy()  # decreasing
        levels = len(sigmas)
        std = np.concatenate([[0.0], sigmas[::-1]])
        labels = ["data"] + [f"sigma_{levels + 1 - k} = {std[k]:.3g}" for k in range(1, levels + 1)]
        key = ("ncsn", tuple(round(float(s), 8) for s in sigmas))
        return NoiseProcess("ncsn", std, np.ones_like(std), labels, key)

    @torch.no_grad()
    def process_paths(
        self,
        x0: Tensor,
        forward_rng: torch.Generator,
        reverse_rng: torch.Generator,
        label_rng: torch.Generator,
    ) -> tuple[Tensor, Tensor]:
        """Forward: the variance-exploding chain ``x_k = x_{k-1} + sqrt(std_k^2 -
        std_{k-1}^2) eps_k`` over :meth:`noise_process`'s stds, so ``x_k ~ N(x_0, std_k^2 I)``
        and particles move smoothly (Song et al. 2021, eq. (8) discretised). Reverse:
        annealed Langevin (Song & Ermon 2019, algorithm 1) from the uniform start, the state
        at the end of each level, largest sigma last, and at index 0 the Tweedie denoising
        ``x + sigma_L^2 s(x, sigma_L)`` of the final state (Song & Ermon 2020, appendix;
        Efron 2011). ``label_rng`` is unused (no classes). Both ``(L + 1, n, 2)``."""
        std = self.noise_process().noise_std
        path = [x0]
        for k in range(1, len(std)):
            eps = torch.randn(x0.shape, generator=forward_rng, device=forward_rng.device)
            path.append(path[-1] + math.sqrt(std[k] ** 2 - std[k - 1] ** 2) * eps.to(x0))
        c = self.config
        per_level = budget.current().steps(c.steps_per_level, "Langevin steps per level", c.levels)
        start = self.uniform_start(x0.shape[0], reverse_rng)
        chains = annealed_langevin(
            self.score, start, self.sigmas, per_level, c.epsilon, reverse_rng, return_path=True
        ).path
        ends = chains[per_level::per_level]  # (L, n, 2), sigma_1 first
        last, sigma_min = ends[-1], float(self.sigmas[-1])
        denoised = last + sigma_min**2 * self.score(last, sigma_min)
        return torch.stack(path), torch.cat([denoised[None], ends.flip(0)])

    def losses(self, x: Tensor) -> dict[str, Tensor]:
        """Eq. (6) on ``x (b, 2)``: ``loss`` (sigma^2-weighted DSM, dimensionless)."""
        g = self.rng
        idx = torch.randint(0, len(self.sigmas), (x.shape[0],), generator=g, device=g.device)
        sigma = self.sigmas[idx.to(x.device)][:, None]
        eps = torch.randn(x.shape, generator=g, device=g.device, dtype=x.dtype).to(x.device)
        s = self.net(x + sigma * eps, sigma)
        return {"loss": 0.5 * (sigma * s + eps).square().sum(-1).mean()}

    def apply_live(self, config: Any) -> None:
        """Take new live fields.

        Raises:
            HyperparameterError: ``sampler == "mala"`` (nothing changes).
        """
        check_sampler(config.sampler, self.RUNS)
        super().apply_live(config)

    def sde(self) -> VESDE:
        """The variance-exploding SDE through the levels: ``sigma(0) = sigma_min``,
        ``sigma(1) = sigma_max``."""
        return VESDE(float(self.sigmas[-1]), float(self.sigmas[0]))

    def sde_score(self, x: Tensor, t: Tensor) -> Tensor:
        """``s_theta(x, sigma(t))`` at VE time ``t`` in ``[0, 1]``: ``(n, 2) -> (n, 2)``."""
        return self.score(x, float(self.sde().sigma(t)))

    @torch.no_grad()
    def sde_ode_paths(self, n: int, steps: int, rng: torch.Generator) -> SDEODEPaths:
        """The reverse-time VE SDE (Euler-Maruyama) and its probability-flow ODE (RK4) from
        the same ``x(1) ~ N(0, sigma_max^2 I)`` of ``rng``, over ``steps`` times from 1 to
        0 then Tweedie's denoising (Song et al. 2021, eqs. (6), (9), (13)).

        Returns:
            :class:`~playground.core.sampling.probability_flow.SDEODEPaths`, paths ``(steps
            + 1, n, 2)``: index 0 the start, the last the sample.

        Raises:
            ValueError: ``steps < 1``.
            Cancelled: the budget's picture is no longer wanted.
        """
        sde = self.sde()
        x1 = sde.prior_sample((n, 2), rng, next(self.parameters()))
        return sde_ode_paths(sde, self.sde_score, x1, steps, rng)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` samples by ``sampler``: annealed Langevin (Song & Ermon 2019, algorithm
        1) or ``levels * steps_per_level`` steps of plain Langevin with step ``epsilon`` on
        ``s(x, sigma_min)``, both from a uniform start on ``data.box``; or the reverse VE
        SDE or its probability-flow ODE over ``sampling_steps`` from ``N(0, sigma_max^2 I)``.

        Returns:
            ``(n, 2)`` samples in data units (not clamped to the box).

        Raises:
            HyperparameterError: ``sampler == "mala"``.
        """
        c = self.config
        check_sampler(c.sampler, self.RUNS)
        if c.sampler in ("reverse-sde", "probability-flow"):
            sde, spend = self.sde(), budget.current()
            x1 = sde.prior_sample((n, 2), rng, next(self.parameters()))
            if c.sampler == "reverse-sde":
                steps = spend.steps(c.sampling_steps, "reverse-SDE steps")
                return reverse_sde_sample(sde, self.sde_score, x1, steps, rng)[-1]
            steps = spend.steps(c.sampling_steps, "ODE steps", repeats=4)  # RK4: 4 a step
            return probability_flow_sample(sde, self.sde_score, x1, steps)[-1]
        x0 = self.uniform_start(n, rng)
        per_level = budget.current().steps(c.steps_per_level, "Langevin steps per level", c.levels)
        if c.sampler == "langevin":
            sigma_min = float(self.sigmas[-1])
            steps = len(self.sigmas) * per_level
            return langevin(lambda x: self.score(x, sigma_min), x0, c.epsilon, steps, rng).x
        return annealed_langevin(self.score, x0, self.sigmas, per_level, c.epsilon, rng).x
