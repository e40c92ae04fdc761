"""Conditional flow matching: a velocity field regressed onto the velocities of simple
conditional paths between source and data points, without solving any ODE in training;
minibatch optimal transport couplings and rectified-flow reflow straighten its paths.

The loss (Lipman et al. 2023, eq. (9); Tong et al. 2024, eq. (13)):

    L(theta) = E_{t ~ U(0, 1), (x0, x1) ~ pi} || v_theta(t, x_t) - u_t(x0, x1) ||^2,
    x_t = mu_t(x0, x1) + sigma eps,

``pi`` the coupling of the source ``x0`` with the data ``x1`` (independent, minibatch OT,
or the model's own pairs after reflow), ``mu_t`` and ``u_t`` the conditional path of
:mod:`.couplings`. Its minimiser's flow carries the source at ``s = 0`` to the data at
``s = 1``; the density is the ODE's, by the exact trace (:class:`.base.ContinuousFlow`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from ...data import DATASETS, NoDensityError, make_dataset
from ...hyperparameters import hp, with_defaults
from ..base import cosine_lr_factor
from .base import EVAL_TOLERANCE, ContinuousConfig, ContinuousFlow
from .couplings import COUPLINGS, PATHS, conditional_path, ot_permutation
from .ode import solve

__all__ = ["FlowMatching", "SOURCES", "REFLOW_TOLERANCE"]

#: the source at ``s = 0``: a standard normal, or any 2D dataset with an exact sampler
SOURCES = ("normal", *(name for name, cls in DATASETS.items() if cls.can_sample))
#: tolerance of the adaptive solve that makes reflow's pairs (they are the new targets)
REFLOW_TOLERANCE = 1e-5


@dataclass
class FlowMatchingConfig(
    # hidden 128, silu: the field is a regression target (silu is smooth: the exact trace
    # of the density still works); batch 256: an exact OT assignment costs ~5 ms there,
    # 30 ms at 512; euler 16 steps: samples near dopri5's at a fixed, low cost per picture.
    # lr 2e-3 decayed over 5000 steps: about a minute of one core at ~100 steps/s; the
    # benchmark's figures decay over their own run (benchmarks/flow_matching.md)
    with_defaults(
        ContinuousConfig,
        lr=2e-3,
        batch_size=256,
        hidden=128,
        activation="silu",
        solver="euler",
        solver_steps=16,
        lr_decay_steps=5000,
    )
):
    """Flow matching: path, coupling, source, reflow."""

    path: str = hp("linear", choices=PATHS, help="conditional path: linear (rectified) or vp")
    # live: switch to OT while training plays and watch the paths straighten
    coupling: str = hp(
        "independent", choices=COUPLINGS, live=True, help="pairs: independent or minibatch OT"
    )
    source: str = hp("normal", choices=SOURCES, help="the distribution at s = 0 (a dataset)")
    # 0: rectified flow's deterministic paths (Liu et al.); Tong et al. use 0.1 in 2D
    sigma: float = hp(0.0, low=0.0, high=2.0, live=True, help="noise std around the paths")
    reflow_after: int = hp(
        0,
        low=0,
        high=1_000_000,
        live=True,
        help="from this step on, train on the model's own (source, sample) pairs (0: never)",
    )
    reflow_pairs: int = hp(
        10_000, low=64, high=200_000, log=True, live=True, help="pairs reflow draws from"
    )


class FlowMatching(ContinuousFlow):
    """Conditional flow matching (I-CFM / OT-CFM) with rectified-flow reflow.

    Training (:meth:`train_step`) is simulation-free: one evaluation of the field on the
    batch, no ODE solve. Sampling solves ``dx/ds = v(s, x)`` from the source with the
    config's ``solver`` and ``solver_steps`` (both live: 1, 2, 4 Euler steps show how
    straight the paths are). :meth:`log_prob_at` always solves adaptively with the exact
    trace, whatever sampler is chosen: it is the density of the learned ODE, comparable
    with the discrete flows' ``nll_gap``.

    With a dataset as source, ``log p_0`` is that dataset's exact ``log_prob``; a source
    without one (``line``, ``cos``, ``pinwheel``, ...) leaves ``density`` out of this
    model's :attr:`capabilities` and :meth:`base_log_prob` raises.

    Reflow (``reflow_after > 0``): at the first step with ``steps_taken >= reflow_after``
    the model draws ``reflow_pairs`` source points ``x0`` and moves them with its own flow
    (dopri5, tolerance :data:`REFLOW_TOLERANCE`) to ``x1``; from then on it trains on those
    fixed pairs (no data, the coupling ignored), which straightens its paths (Liu et al.,
    the 2-rectified flow, initialised from the 1-rectified one). The pairs are not saved in
    a preset: a reopened model past ``reflow_after`` draws fresh pairs from its current
    flow at its next step (one more round of reflow). Setting ``reflow_after`` back to 0
    (or above the step) returns to the data.

    Capabilities: ``density`` (unless the source has none), ``samples``, ``trajectory``,
    ``ode`` and ``paths`` (:meth:`conditional_paths`).

    References:
        Lipman et al., "Flow Matching for Generative Modeling", ICLR 2023, eq. (9) and
        theorem 2; Tong et al., "Improving and generalizing flow-based generative models
        with minibatch optimal transport", TMLR 2024, algorithms 1-2; Liu, Gong and Liu,
        "Flow Straight and Fast", ICLR 2023, algorithm 1 (reflow).
    """

    name: ClassVar[str] = "flow-matching"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"density", "samples", "trajectory", "ode", "paths"}
    )
    description: ClassVar[str] = (
        "Flow matching: regress a velocity field on straight paths (I-CFM, OT-CFM, reflow)"
    )
    Config: ClassVar[type] = FlowMatchingConfig

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.source = None if config.source == "normal" else make_dataset(config.source)
        if self.source is not None and not self.source.has_log_prob:
            self.capabilities = type(self).capabilities - {"density"}
        self.reflow_pool: tuple[Tensor, Tensor] | None = None

    # --------------------------------------------------------------- source
    @staticmethod
    def _cpu_generator(rng: torch.Generator) -> torch.Generator:
        """``rng`` itself on the CPU; else a CPU generator seeded from it (data samplers
        draw on the CPU)."""
        if rng.device.type == "cpu":
            return rng
        seed = int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device))
        return torch.Generator().manual_seed(seed)

    def base_sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, 2)`` source draws at ``s = 0``: ``N(0, I)`` or the source dataset's
        samples, every number from ``rng``."""
        if self.source is None:
            return super().base_sample(n, rng)
        return self.source.sample(n, self._cpu_generator(rng)).to(self._device())

    def base_log_prob(self, z: Tensor) -> Tensor:
        """``log p_0(z)`` ``(n,)`` nats: the standard normal's or the source dataset's.

        Raises:
            NoDensityError: the source dataset has no exact density.
        """
        if self.source is None:
            return super().base_log_prob(z)
        if not self.source.has_log_prob:
            raise NoDensityError(f"source {self.source.name} has no exact density")
        return self.source.log_prob(z.detach().cpu().double()).to(z.device, z.dtype)

    def data_sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, 2)`` draws of the data at ``s = 1`` from ``rng``, on the model's device."""
        return self.data.sample(n, self._cpu_generator(rng)).to(self._device())

    # ------------------------------------------------------------- density
    def log_prob_at(self, x: Tensor, s: float) -> Tensor:
        """``log p_s(x)`` ``(n,)`` nats of the learned ODE at normalised time ``s``: the
        augmented ODE with the exact trace solved from ``s`` back to 0 by dopri5 at
        tolerance :data:`~.base.EVAL_TOLERANCE`, whatever the sampling solver (a few
        Euler steps with the trace integrated alongside would be no density at all).

        Raises:
            NoDensityError: the source has no exact density.

        References:
            Chen et al. 2018, theorem 1; Lipman et al. 2023, appendix C (likelihoods of
            a flow-matching model by the same ODE).
        """
        with torch.no_grad():
            if s <= 0.0:
                return self.base_log_prob(x)
            c0 = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
            self.dynamics.reset_nfe()
            times = self._times(s, 0.0, 2)
            xs, cs = solve(self.dynamics, (x, c0), times, "dopri5", EVAL_TOLERANCE, EVAL_TOLERANCE)
            self.last_nfe = self.dynamics.nfe
            return self.base_log_prob(xs[-1]) + cs[-1]

    # -------------------------------------------------------------- reflow
    @property
    def reflowing(self) -> bool:
        """Whether training is in the reflow stage: ``0 < reflow_after <= steps_taken``."""
        after = int(self.config.reflow_after)
        return after > 0 and int(self.steps_taken) >= after

    def lr_factor(self) -> float:
        """The cosine decay over ``lr_decay_steps`` (:func:`~..base.cosine_lr_factor`),
        restarted when reflow starts: the second stage trains like the first (Liu et al.
        train each rectified flow from the previous one's weights with the same recipe)."""
        step = int(self.steps_taken)
        if self.reflowing:
            step -= int(self.config.reflow_after)
        return cosine_lr_factor(step, self.config.lr_decay_steps)

    @property
    def needs_data(self) -> bool:
        """Data batches until reflow starts; then the model's own pairs."""
        return not self.reflowing

    @torch.no_grad()
    def push(self, x0: Tensor) -> Tensor:
        """``x0`` ``(n, 2)`` at ``s = 0`` moved to ``s = 1`` by the learned flow, adaptively
        (dopri5, tolerance :data:`REFLOW_TOLERANCE`): the coupling reflow trains on."""
        self.moving.reset_nfe()
        times = self._times(0.0, 1.0, 2)
        x1 = solve(self.moving, x0, times, "dopri5", REFLOW_TOLERANCE, REFLOW_TOLERANCE)[-1]
        self.last_nfe = self.moving.nfe
        return x1

    def make_reflow_pairs(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """``n`` pairs ``(x0, x1)``, each ``(n, 2)``: source draws from ``rng`` and their
        images under the current flow (:meth:`push`).

        References:
            Liu, Gong and Liu 2023, algorithm 1: ``(X0, Z1 = Flow(X0))`` of the previous
            rectified flow are the next one's coupling.
        """
        x0 = self.base_sample(n, rng)
        return x0, self.push(x0)

    # ------------------------------------------------------------ training
    def training_pairs(self, batch: Tensor | None) -> tuple[Tensor, Tensor, int]:
        """The pairs ``(x0, x1)`` of one step, each ``(b, 2)``, and the field
        evaluations spent making them (nonzero only when reflow's pairs are drawn).

        Raises:
            ValueError: no batch before reflow.
        """
        c, rng = self.config, self.rng
        if self.reflowing:
            nfe = 0
            if self.reflow_pool is None or self.reflow_pool[0].shape[0] != c.reflow_pairs:
                self.reflow_pool = self.make_reflow_pairs(c.reflow_pairs, rng)
                nfe = self.last_nfe
            x0, x1 = self.reflow_pool
            idx = torch.randint(0, x0.shape[0], (c.batch_size,), generator=rng, device=rng.device)
            idx, device = idx.to(x0.device), self._device()  # the pool stays where it was made
            return x0[idx].to(device), x1[idx].to(device), nfe
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches until reflow; got None")
        self.reflow_pool = None
        x0 = self.base_sample(batch.shape[0], rng)
        if c.coupling == "ot":
            x0 = x0[ot_permutation(x0, batch)]
        return x0, batch, 0

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the conditional flow matching loss.

        Arguments:
            batch: ``(b, 2)`` data samples (``x1``); ``None`` in the reflow stage.

        Returns:
            ``loss``: ``mean_i |v(t_i, x_t,i) - u_t(x0_i, x1_i)|^2`` (squared distance
            per pair, data units squared per unit time squared; 0 only when every
            conditional path is the flow's, i.e. the paths never cross); ``nfe``: field
            evaluations of this step: 1 (training is simulation-free: one forward
            evaluation on the batch, no ODE solve), plus the adaptive solve's evaluations
            on the step that draws reflow's pairs.

        Raises:
            NonFiniteLossError: no parameter and no step counter changed.
        """
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            x0, x1, nfe = self.training_pairs(batch)
            rng, n = self.rng, x0.shape[0]
            t = torch.rand(n, 1, generator=rng, device=rng.device).to(x0)
            mu, u = conditional_path(self.config.path, x0, x1, t)
            if self.config.sigma > 0:
                eps = torch.randn(mu.shape, generator=rng, device=rng.device).to(mu)
                mu = mu + self.config.sigma * eps
            v = self.field(t[:, 0], mu)
            loss = (v - u).square().sum(dim=1).mean()
            terms = self.optimize(loss, {"loss": loss})
        self.steps_taken += 1
        return {**terms, "nfe": float(nfe + 1)}

    # --------------------------------------------------------------- paths
    @torch.no_grad()
    def conditional_paths(self, n: int, rng: torch.Generator, steps: int) -> Tensor:
        """``n`` pairs coupled as in training, each moved along the conditional path's
        mean ``mu_s`` (no ``sigma`` noise) at ``steps + 1`` equally spaced ``s`` in
        ``[0, 1]``: the straight (or VP) paths the field is regressed on.

        Pairs: source draws and data draws from ``rng``, independent or OT-matched as
        the ``coupling``; in the reflow stage, source draws and their images under the
        current flow (what the next round of reflow would train on).

        Arguments:
            n: pairs, >= 1.
            rng: every random number.
            steps: time steps, >= 1.

        Returns:
            ``(steps + 1, n, 2)``; index 0 the source points, index ``steps`` the targets.

        Raises:
            ValueError: ``n < 1`` or ``steps < 1``.
        """
        if n < 1 or steps < 1:
            raise ValueError(f"n and steps must be >= 1, got n={n}, steps={steps}")
        if self.reflowing:
            x0, x1 = self.make_reflow_pairs(n, rng)
        else:
            x0, x1 = self.base_sample(n, rng), self.data_sample(n, rng)
            if self.config.coupling == "ot":
                x0 = x0[ot_permutation(x0, x1)]
        s = torch.linspace(0.0, 1.0, steps + 1, device=x0.device, dtype=x0.dtype)
        return conditional_path(self.config.path, x0, x1, s.view(-1, 1, 1))[0]
