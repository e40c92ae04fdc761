"""ScoreModel: an MLP score ``s_theta(x)`` trained by implicit, sliced or denoising score
matching, sampled by Langevin dynamics."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import HyperparameterError, hp
from ...sampling import budget
from ...sampling.langevin import langevin
from ..base import GenerativeModel, ScoreLevels, TrainingConfig
from ..base import lr_decay_hp as _lr_decay_hp
from .objectives import (
    PROJECTIONS,
    denoising_score_matching,
    implicit_score_matching,
    sliced_score_matching,
)

__all__ = [
    "ScoreNet",
    "ScoreModelBase",
    "ScoreModel",
    "OBJECTIVES",
    "SAMPLERS",
    "check_sampler",
]

#: training objectives of :class:`ScoreModel`
OBJECTIVES = ("implicit", "sliced", "denoising")
#: the ``sampler`` choices of the score models; each refuses, with the reason, those it
#: cannot run (:func:`check_sampler`): "mala" always (no log-density), "annealed" where
#: the score has a single noise level
SAMPLERS = ("langevin", "mala", "annealed")

#: why each refused sampler cannot run on a score model
_REFUSALS = {
    "mala": (
        "sampler: 'mala' needs log p(x) for its Metropolis-Hastings test, and a score "
        "model learns only grad log p: use 'langevin' (or an energy model, ebm, for MALA)"
    ),
    "annealed": (
        "sampler: 'annealed' anneals through several noise levels sigma_1 > ... > sigma_L "
        "(Song & Ermon 2019), and a score model learns its score at one level only (its "
        "denoising sigma, or none): use 'langevin', or train an ncsn for annealed Langevin"
    ),
}


class ScoreNet(nn.Module):
    """``s_theta(x)``: an MLP with SiLU activations (smooth, so ``grad_x s`` is too).

    Arguments:
        dim: data dimension (2); hidden, depth: width and number of hidden layers.

    Shapes (forward): ``(n, dim) -> (n, dim)``.
    """

    def __init__(self, dim: int, hidden: int, depth: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(dim, hidden), nn.SiLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ScoreModelBase(GenerativeModel):
    """What the score models share: 2D data only, a cosine lr schedule, seeded noise,
    uniform starts on ``data.box``, and a train step that restores :attr:`rng` on a
    non-finite loss. Subclasses implement :meth:`losses`."""

    family: ClassVar[str] = "score"
    iterative_sampler: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[str]] = frozenset({"samples", "score"})

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.box = tuple(float(b) for b in data.box)

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """2D densities with an exact sampler; no image sets, no energy targets."""
        return bool(data.can_sample) and not getattr(data, "is_image", False)

    @abc.abstractmethod
    def losses(self, x: Tensor) -> dict[str, Tensor]:
        """The loss terms of a batch ``(b, 2)``; ``loss`` is minimised (each subclass
        implements its objective)."""

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on :meth:`losses` of a batch ``(b, 2)``.

        Returns:
            ``loss`` and the objective's parts, as floats.

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term or a gradient was not finite; no parameter, no
                optimiser state, no step counter and no rng state changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            terms = self.losses(batch)
            values = self.optimize(terms.pop("loss"), terms)
        self.steps_taken += 1
        return values

    def uniform_start(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, 2)`` points uniform on ``data.box``, on the model's device."""
        xmin, xmax, ymin, ymax = self.box
        like = next(self.parameters())
        u = torch.rand((n, 2), generator=rng, device=rng.device, dtype=like.dtype)
        lo = torch.tensor([xmin, ymin], dtype=like.dtype, device=u.device)
        hi = torch.tensor([xmax, ymax], dtype=like.dtype, device=u.device)
        return (lo + (hi - lo) * u).to(like.device)


def check_sampler(sampler: str, allowed: tuple[str, ...]) -> None:
    """Refuse a sampler a score model cannot run, saying why.

    Arguments:
        sampler: the config's ``sampler``.
        allowed: the samplers the model runs (a subset of :data:`SAMPLERS`).

    Raises:
        HyperparameterError: ``sampler`` not in ``allowed`` (a ``ValueError``): ``mala``
            needs a log-density (Roberts & Tweedie 1996) that a score model lacks;
            ``annealed`` needs several noise levels (Song & Ermon 2019).
    """
    if sampler not in allowed:
        raise HyperparameterError(
            _REFUSALS.get(sampler, f"sampler: {sampler!r} is not one of {', '.join(allowed)}")
        )


class ScoreModel(ScoreModelBase):
    """A score network ``s_theta(x) ~ grad_x log p(x)`` trained by score matching.

    Objectives (``objective``): ``implicit`` (Hyvarinen 2005, exact Jacobian trace),
    ``sliced`` (Song et al. 2019, the plain form with Gaussian or Rademacher directions,
    see :func:`.sliced_score_matching`), ``denoising`` (Vincent 2011 at one ``sigma``: the
    model then learns the score of the data convolved with ``N(0, sigma^2 I)``).

    Sampling is unadjusted Langevin from a uniform start on ``data.box``; it is the only
    sampler. ``mala`` is refused: MALA's acceptance test needs ``log p``, which a score
    model does not have. ``annealed`` is refused: annealed Langevin steps through a
    decreasing sequence of noise levels, and this model's score has one (the denoising
    ``sigma``) or none (implicit, sliced); running plain Langevin under that name would
    mislead, so the error points to ``ncsn``. Both are refused where the config is built
    (``Config.__post_init__``: the Session, ``--set`` and the app's form report a
    :class:`~playground.core.hyperparameters.HyperparameterError` and change nothing),
    and again at construction, on a live change and in :meth:`sample`.

    Arguments:
        config: a :class:`ScoreModel.Config`; data: a 2D density (its box).

    Raises:
        HyperparameterError: ``sampler`` is ``"mala"`` or ``"annealed"``.

    References:
        Hyvarinen, JMLR 2005, eq. (4); Song, Garg, Shi and Ermon, UAI 2019, eq. (7);
        Vincent, Neural Computation 2011, eq. (11); Roberts and Tweedie 1996 (Langevin).
    """

    name: ClassVar[str] = "score"
    description: ClassVar[str] = "score matching (implicit, sliced, denoising) + Langevin"

    @dataclass
    class Config(TrainingConfig):
        """Score network, objective and Langevin sampler."""

        # 128 x 3 SiLU: the implicit objective's two extra backward passes stay ~10 ms a step
        hidden: int = hp(128, low=8, high=2048, log=True, help="width of s_theta")
        depth: int = hp(3, low=1, high=8, help="hidden layers of s_theta")
        lr_decay_steps: int = _lr_decay_hp(4000)
        objective: str = hp("denoising", choices=OBJECTIVES, help="score-matching objective")
        projection: str = hp("gaussian", choices=PROJECTIONS, help="sliced: law of v")
        projections: int = hp(1, low=1, high=64, help="sliced: directions v per point")
        # 0.1: about a third of 8gaussians' mode std; smaller sigmas give noisier targets
        sigma: float = hp(0.1, low=1e-3, high=10.0, log=True, help="denoising: noise std")
        # only "langevin" runs; the others are choices so that picking one says why not
        sampler: str = hp(
            "langevin", choices=SAMPLERS, live=True, help="Langevin variant (langevin only)"
        )
        step_size: float = hp(
            1e-2, low=1e-5, high=1.0, log=True, live=True, help="Langevin step (data units^2)"
        )
        sampler_steps: int = hp(200, low=1, high=10_000, log=True, live=True, help="steps")

        def __post_init__(self) -> None:
            check_sampler(self.sampler, ScoreModel.RUNS)

    #: the samplers this model runs
    RUNS: ClassVar[tuple[str, ...]] = ("langevin",)

    def __init__(self, config: Any, data: Any):
        check_sampler(config.sampler, self.RUNS)
        super().__init__(config, data)
        self.net = ScoreNet(2, config.hidden, config.depth)

    def apply_live(self, config: Any) -> None:
        """Take new live fields.

        Raises:
            HyperparameterError: ``sampler`` is ``"mala"`` or ``"annealed"`` (nothing
                changes).
        """
        check_sampler(config.sampler, self.RUNS)
        super().apply_live(config)

    def score(self, x: Tensor) -> Tensor:
        """``s_theta(x)``: ``(n, 2) -> (n, 2)``, units ``1 / data``."""
        return self.net(x)

    def score_levels(self) -> ScoreLevels | None:
        """Denoising: the one level of the config ``sigma`` (the score is that of the data
        convolved with ``N(0, sigma^2 I)``; ``score(x)`` takes ``x`` only, so
        ``conditional`` is False). Implicit and sliced: ``None``, the clean data's score."""
        if self.config.objective != "denoising":
            return None
        sigma = torch.tensor([float(self.config.sigma)], dtype=torch.float32)
        return ScoreLevels(
            values=sigma,
            noise_std=sigma.clone(),
            signal_scale=torch.ones_like(sigma),
            labels=(f"sigma = {float(sigma[0]):.3g}",),
            conditional=False,
        )

    def losses(self, x: Tensor) -> dict[str, Tensor]:
        """The chosen objective on ``x (b, 2)``: ``loss`` plus its parts (implicit:
        ``trace``, ``norm``; sliced: ``jacobian``, ``norm``; denoising: none)."""
        c = self.config
        if c.objective == "implicit":
            return implicit_score_matching(self.net, x)
        if c.objective == "sliced":
            return sliced_score_matching(self.net, x, self.rng, c.projection, c.projections)
        if c.objective == "denoising":
            return denoising_score_matching(self.net, x, c.sigma, self.rng)
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {c.objective!r}")

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``sampler_steps`` of unadjusted Langevin with step ``step_size`` from a uniform
        start on ``data.box``: ``(n, 2)``.

        Raises:
            HyperparameterError: ``sampler`` is ``"mala"`` or ``"annealed"``.
        """
        check_sampler(self.config.sampler, self.RUNS)
        x0 = self.uniform_start(n, rng)
        c = self.config
        steps = budget.current().steps(c.sampler_steps, "Langevin steps")  # a preview: fewer
        return langevin(self.score, x0, c.step_size, steps, rng).x
