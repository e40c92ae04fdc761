"""Maximum-likelihood training of a continuous normalizing flow, shared by ``cnf`` and
``ffjord``: the augmented ODE from the data at ``s = 1`` down to the base at ``s = 0``, in
normalised time ``s = t / T``, with or without the adjoint method.

``log p_T(x) = log p_0(z(0)) - int_0^T tr(df/dz) dt`` (Chen et al. 2018, theorem 1); the
loss is its negative batch mean, plus FFJORD's optional regularisers (Finlay et al. 2020).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp, with_defaults
from .base import ContinuousConfig, ContinuousFlow
from .ode import AugmentedDynamics, draw_probe, solve

__all__ = ["LikelihoodConfig", "LikelihoodFlow", "IntegrationTime", "NormalisedTime"]


@dataclass
class LikelihoodConfig(
    # rk4 with 8 steps (32 evaluations) at lr 3e-3 fits moons, 8gaussians and the
    # checkerboard at 10-17 steps/s on one thread (benchmarks/cnf_quality.md); dopri5 at 1e-5
    # starts at 20 evaluations but needs 50-60 after 300 steps on moons, as the field
    # sharpens; batch 256: half the cost of 512 per step; the cosine decay to 2% over 2,000
    # steps settles the fit
    with_defaults(
        ContinuousConfig,
        lr=3e-3,
        batch_size=256,
        solver="rk4",
        solver_steps=8,
        lr_decay_steps=2000,
    )
):
    """Hyperparameters of maximum-likelihood continuous flows: the field, the solver, and
    how the gradient is computed."""

    adjoint: bool = hp(
        False,
        live=True,
        help="gradients by the adjoint ODE (memory constant in steps) instead of backprop",
    )


class IntegrationTime(nn.Module):
    """The integration time ``T > 0``: ``softplus(raw)``, a learned parameter or a fixed buffer.

    Arguments:
        initial: ``T`` at initialisation (> 0), in the field's time units.
        learned: make ``raw`` a parameter that the optimiser moves.

    Raises:
        ValueError: ``initial <= 0``.

    References:
        Grathwohl et al., "FFJORD", ICLR 2019, section 4 (the end time of each CNF block
        is learned).
    """

    def __init__(self, initial: float, learned: bool):
        super().__init__()
        if initial <= 0:
            raise ValueError(f"the integration time must be > 0, got {initial}")
        raw = torch.tensor(initial + math.log(-math.expm1(-initial)))  # softplus^-1
        if learned:
            self.raw = nn.Parameter(raw)
        else:
            self.register_buffer("raw", raw)

    def forward(self) -> Tensor:
        """``T`` as a ``()`` tensor."""
        return nn.functional.softplus(self.raw)


class NormalisedTime(nn.Module):
    """Augmented dynamics in normalised time ``s = t / T``: ``d/ds = T d/dt``.

    The state ``(x, c[, kinetic, frobenius])`` of :class:`~.ode.AugmentedDynamics` moves at
    ``T (f, tr(df/dx))``; the regularisers are measured in ``s`` (``||dx/ds||^2 =
    T^2 ||f||^2``, and the same for ``e^T d(dx/ds)/dx``), so they depend on the path and not
    on how it is split between ``T`` and ``f``: a learned ``T`` cannot lower them by growing
    while ``f`` shrinks. Gradients reach ``T`` through the dynamics, with or without the
    adjoint (``T`` is one of this module's parameters when learned).

    Arguments:
        dynamics: the augmented dynamics (counts the evaluations, ``nfe``).
        time: the :class:`IntegrationTime`.
    """

    def __init__(self, dynamics: AugmentedDynamics, time: IntegrationTime):
        super().__init__()
        self.dynamics = dynamics
        self.time = time

    def forward(self, s: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """The ``s``-derivative of ``state`` (each ``(n, 2)`` or ``(n,)``)."""
        t_end = self.time()
        d = self.dynamics(s * t_end, state)
        return (t_end * d[0], t_end * d[1], *(t_end.square() * r for r in d[2:]))


class LikelihoodFlow(ContinuousFlow):
    """A continuous normalizing flow trained by maximum likelihood on data batches.

    Subclasses choose the trace (:attr:`trace`) and may override :meth:`probe_kind`,
    :meth:`regularizer_weights` and the integration time's :meth:`initial_time` and
    :meth:`learns_time`; the training step is here, once.

    Attributes:
        integration_time: the :class:`IntegrationTime` ``T``.
        training_dynamics: the augmented dynamics of training (the subclass's trace).
        normalised: ``training_dynamics`` in normalised time (what the solver integrates).

    References:
        Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018, theorem 1 and
        algorithm 1; Grathwohl et al., "FFJORD", ICLR 2019, algorithm 1.
    """

    #: ``exact`` (one autograd call per dimension) or ``hutchinson`` (one probe per solve)
    trace: ClassVar[str] = "exact"
    Config: ClassVar[type] = LikelihoodConfig

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.integration_time = IntegrationTime(self.initial_time(), self.learns_time())
        # out of the module tree, as the base class's wrappers: each weight once in the state
        # dict (a preset's safetensors refuses shared tensors)
        dynamics = AugmentedDynamics(self.field, trace=self.trace)
        self.__dict__["training_dynamics"] = dynamics
        self.__dict__["normalised"] = NormalisedTime(dynamics, self.integration_time)

    # ------------------------------------------------------------- the hooks
    def initial_time(self) -> float:
        """``T`` at initialisation: 1 (Chen et al.'s CNF)."""
        return 1.0

    def learns_time(self) -> bool:
        """Whether ``T`` is a parameter: no (a fixed ``T``)."""
        return False

    def probe_kind(self) -> str:
        """The Hutchinson probe's distribution (``rademacher`` or ``gaussian``)."""
        return "rademacher"

    def regularizer_weights(self) -> tuple[float, float]:
        """The weights of the kinetic energy and the Jacobian Frobenius norm: none here."""
        return 0.0, 0.0

    def end_time(self) -> Tensor:
        """``T`` as a ``()`` tensor (with its gradient when learned)."""
        return self.integration_time()

    # ------------------------------------------------------------- training
    def objective(self, batch: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The loss of a batch and its named terms, with the graph for ``backward``.

        The augmented state ``(x, 0[, 0, 0])`` is integrated from ``s = 1`` down to 0 with
        the configured solver (``solver_steps`` steps for a fixed-step one; ``rtol``,
        ``atol`` for dopri5), with the adjoint when ``adjoint`` is on, and one Hutchinson
        probe from :attr:`rng` per solve where one is needed. :attr:`last_nfe` is set to
        the forward solve's evaluations; ``training_dynamics.nfe`` goes on counting
        through the adjoint's backward solve.

        Arguments:
            batch: ``(b, 2)`` data samples.

        Returns:
            ``(loss, terms)``: ``loss`` ``()`` is ``nll`` plus the weighted regularisers;
            ``terms`` holds ``nll`` = ``-mean log p_T(x)`` (nats) and, when a weight is
            on, ``loss`` first and ``kinetic_energy`` = ``mean int_0^1 ||dx/ds||^2 ds``
            and ``jacobian_frobenius`` = ``mean int_0^1 ||e^T d(dx/ds)/dx||^2 ds``
            (Finlay et al. 2020, eqs. (4)-(5), in normalised time ``s = t / T``).
        """
        c = self.config
        w_kinetic, w_frobenius = self.regularizer_weights()
        regularize = w_kinetic > 0 or w_frobenius > 0
        dyn = self.training_dynamics
        dyn.regularize = regularize
        probe = None
        if self.trace == "hutchinson" or regularize:
            probe = draw_probe(self.probe_kind(), batch.shape, self.rng).to(batch)
        dyn.set_probe(probe)
        zero = batch.new_zeros(batch.shape[0])
        state = (batch, zero, zero, zero) if regularize else (batch, zero)
        times = torch.tensor([1.0, 0.0], dtype=batch.dtype, device=batch.device)
        dyn.reset_nfe()
        out = solve(
            self.normalised, state, times, c.solver, c.rtol, c.atol, c.solver_steps, c.adjoint
        )
        self.last_nfe = dyn.nfe
        nll = -(self.base_log_prob(out[0][-1]) + out[1][-1]).mean()
        if not regularize:
            return nll, {"nll": nll}
        # integrated from s = 1 down to 0: each integral is minus its end value
        kinetic, frobenius = -out[2][-1].mean(), -out[3][-1].mean()
        loss = nll + w_kinetic * kinetic + w_frobenius * frobenius
        return loss, {
            "loss": loss,
            "nll": nll,
            "kinetic_energy": kinetic,
            "jacobian_frobenius": frobenius,
        }

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on :meth:`objective`: the negative log-likelihood of a batch, plus
        the regularisers when their weights are on.

        Arguments:
            batch: ``(b, 2)`` data samples.

        Returns:
            The terms of :meth:`objective` as floats (``loss`` first), and ``nfe``: the
            evaluations of the dynamics by this step's forward solve (a count); with the
            adjoint also ``nfe_backward``, the evaluations of the adjoint's backward
            solve (without it, backpropagation goes through the forward solve's graph and
            no second solve runs, so the term is left out); ``integration_time``: ``T``
            after the step, where it is learned; ``step_seconds``: the wall seconds of the
            step (solve, backward pass, update); on CUDA ``peak_memory_mb``, the peak of
            allocated memory during the step (MiB).

        Raises:
            ValueError: ``batch`` is None.
            NonFiniteLossError: no parameter, no step counter and no :attr:`rng` changed.
        """
        if batch is None:
            raise ValueError(f"{self.name}: maximum likelihood trains on data batches; got None")
        self.apply_lr_schedule()
        cuda = self._device().type == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats(self._device())
        start = time.perf_counter()
        try:
            with self.rng_kept_on_failure():
                loss, terms = self.objective(batch)
                nfe = self.last_nfe
                values = self.optimize(loss, terms)
        finally:
            self.training_dynamics.set_probe(None)
        values["nfe"] = float(nfe)
        values["step_seconds"] = time.perf_counter() - start
        if cuda:
            values["peak_memory_mb"] = torch.cuda.max_memory_allocated(self._device()) / 2**20
        if self.config.adjoint:
            values["nfe_backward"] = float(self.training_dynamics.nfe - nfe)
        if self.learns_time():
            values["integration_time"] = float(self.end_time().detach())
        self.steps_taken += 1
        return values
