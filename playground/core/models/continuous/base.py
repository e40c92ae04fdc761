"""The continuous-time protocol: a flow ``dx/dt = f(t, x)`` from a base at ``t = 0`` to the
data at ``t = T``, with its density by the instantaneous change of variables.

CNF, FFJORD and flow matching share everything here and differ in how they train ``f``.
Time in the public methods is normalised: ``s = t / T`` in ``[0, 1]``, ``s = 0`` the base
(noise or the source set), ``s = 1`` the data, so one time slider serves every model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from ...hyperparameters import hp, with_defaults
from ..base import GenerativeModel, TrainingConfig, lr_decay_hp
from .ode import ACTIVATIONS, SOLVERS, AugmentedDynamics, CountedField, TimeMLP, solve

__all__ = ["ContinuousConfig", "ContinuousFlow", "TRAJECTORY_STEPS", "EVAL_TOLERANCE"]

#: the time points the trajectory view shows between the base and the data
TRAJECTORY_STEPS = 16
#: tolerances of the adaptive solve of an exact log-density (evaluation, pictures)
EVAL_TOLERANCE = 1e-5


@dataclass
class ContinuousConfig(with_defaults(TrainingConfig, lr=1e-3, batch_size=512)):
    """Hyperparameters every continuous-time flow shares: its field and its solver."""

    hidden: int = hp(64, low=8, high=512, log=True, help="width of the field's MLP")
    depth: int = hp(3, low=1, high=6, help="hidden layers of the field's MLP")
    activation: str = hp(
        "tanh", choices=tuple(ACTIVATIONS), help="smooth activation (the trace differentiates it)"
    )
    solver: str = hp(
        "dopri5", choices=SOLVERS, live=True, help="ODE solver (torchdiffeq): adaptive or fixed"
    )
    solver_steps: int = hp(
        20, low=1, high=1000, log=True, live=True, help="steps of a fixed-step solver over [0, T]"
    )
    rtol: float = hp(1e-5, low=1e-9, high=1e-1, log=True, live=True, help="dopri5 rel. tolerance")
    atol: float = hp(1e-5, low=1e-9, high=1e-1, log=True, live=True, help="dopri5 abs. tolerance")
    lr_decay_steps: int = lr_decay_hp(0)


class ContinuousFlow(GenerativeModel):
    """A flow ``dx/dt = f(t, x)`` on ``[0, T]``: base ``N(0, I)`` at 0, the model at ``T``.

    ``log p_T(x) = log p_0(x(0)) - int_0^T tr(df/dx(t, x(t))) dt`` along the path ending at
    ``x`` (Chen et al. 2018, theorem 1), solved backwards with the exact trace in 2D.

    A subclass implements :meth:`train_step` and may override :meth:`end_time` (a learned
    ``T``), :meth:`base_sample` / :meth:`base_log_prob` (a source other than ``N(0, I)``).

    Capabilities: ``density``, ``samples``, ``trajectory`` (the particles at
    :data:`TRAJECTORY_STEPS` + 1 times) and ``ode`` (the field and the flow at any time).

    Attributes:
        field: the MLP ``f(t, x)`` (:class:`~.ode.TimeMLP`).
        dynamics: the augmented dynamics of the change of variables, exact trace.
        moving: the field alone (moving points), counting its evaluations.
        last_nfe: function evaluations of the last solve (sampling, density or path).

    References:
        Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018;
        Grathwohl et al., "FFJORD", ICLR 2019, equation (4).
    """

    family: ClassVar[str] = "continuous"
    capabilities: ClassVar[frozenset[str]] = frozenset({"density", "samples", "trajectory", "ode"})
    Config: ClassVar[type] = ContinuousConfig

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """Maximum likelihood and flow matching need samples of a 2D set."""
        return bool(data.can_sample) and not getattr(data, "is_image", False)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.dim = 2
        self.field = TimeMLP(self.dim, config.hidden, config.depth, config.activation)
        # wrappers sharing the field's weights, kept out of the module tree: the state dict
        # (and a preset's safetensors, which refuses shared tensors) holds each weight once
        self.__dict__["dynamics"] = AugmentedDynamics(self.field, trace="exact")
        self.__dict__["moving"] = CountedField(self.field)
        self.last_nfe = 0

    def configure_optimizers(self) -> None:
        """One Adam over every parameter."""
        self.optimizers = {
            "model": torch.optim.Adam(self.parameters(), lr=self.scheduled_lr("model"))
        }

    # ------------------------------------------------------------------ time
    def end_time(self) -> Tensor:
        """``T`` as a ``()`` tensor (1 here; a learned one in a subclass)."""
        return torch.ones((), device=self._device())

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _times(self, s0: float, s1: float, k: int) -> Tensor:
        t_end = self.end_time().detach()
        return torch.linspace(s0, s1, k, device=self._device()) * t_end

    def _solve(self, func: Any, y0: Any, times: Tensor, *, tol: float | None = None):
        c = self.config
        rtol = c.rtol if tol is None else tol
        atol = c.atol if tol is None else tol
        func.reset_nfe()
        out = solve(func, y0, times, c.solver, rtol, atol, self._fixed_steps(times))
        self.last_nfe = func.nfe
        return out

    def _fixed_steps(self, times: Tensor) -> int:
        """The fixed-step count over ``times``' span: ``solver_steps`` per ``[0, T]``."""
        frac = float((times[-1] - times[0]).abs() / self.end_time().detach().clamp_min(1e-12))
        return max(1, math.ceil(self.config.solver_steps * frac))

    # ----------------------------------------------------------------- base
    def base_sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, 2)`` draws of the base at ``s = 0``: ``N(0, I)``, every number from ``rng``."""
        return torch.randn(n, self.dim, generator=rng, device=rng.device).to(self._device())

    def base_log_prob(self, z: Tensor) -> Tensor:
        """``log p_0(z)`` ``(n,)`` nats: the standard normal."""
        return -0.5 * z.square().sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi)

    # ------------------------------------------------------------- protocol
    def velocity(self, x: Tensor, s: float) -> Tensor:
        """``dx/ds = T f(sT, x)`` ``(n, 2)`` at normalised time ``s`` in ``[0, 1]``."""
        t_end = self.end_time().detach()
        return t_end * self.field(s * t_end, x)

    @torch.no_grad()
    def ode_path(self, x: Tensor, s0: float, s1: float, steps: int) -> Tensor:
        """The points ``x`` at time ``s0`` moved to ``steps + 1`` equally spaced times up
        to ``s1`` (either direction): ``(steps + 1, n, 2)``, index 0 is ``x``."""
        return self._solve(self.moving, x, self._times(s0, s1, steps + 1))

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, 2)`` samples: base draws from ``rng`` moved from ``s = 0`` to 1."""
        return self.ode_path(self.base_sample(n, rng), 0.0, 1.0, 1)[-1]

    def log_prob_at(self, x: Tensor, s: float) -> Tensor:
        """``log p_s(x)`` ``(n,)`` nats: the density of the flow at normalised time ``s``,
        by solving the augmented ODE from ``s`` back to 0 with the exact trace
        (adaptive, tolerance :data:`EVAL_TOLERANCE` unless a fixed-step solver is chosen).

        Differentiable in ``x`` when ``x`` requires grad and gradients are enabled (the
        chains view runs Langevin on its gradient); otherwise no graph is kept (the
        pictures, the metrics), and the result does not require grad.
        """
        if s <= 0.0:
            return self.base_log_prob(x)
        with torch.set_grad_enabled(torch.is_grad_enabled() and x.requires_grad):
            c0 = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
            times = self._times(s, 0.0, 2)
            xs, cs = self._solve(self.dynamics, (x, c0), times, tol=EVAL_TOLERANCE)
            return self.base_log_prob(xs[-1]) + cs[-1]

    def log_prob(self, x: Tensor) -> Tensor:
        """``log p_T(x)`` ``(n,)`` nats: :meth:`log_prob_at` at ``s = 1``."""
        return self.log_prob_at(x, 1.0)

    def trajectory(self, points: Tensor, direction: str = "inverse") -> Tensor:
        """The particles at :data:`TRAJECTORY_STEPS` + 1 times.

        Arguments:
            points: ``(n, 2)``: base points for ``inverse`` (base to data), data points
                for ``forward``.
            direction: ``inverse`` or ``forward``.

        Returns:
            ``(TRAJECTORY_STEPS + 1, n, 2)``; index 0 is ``points``.

        Raises:
            ValueError: another direction.
        """
        if direction == "inverse":
            return self.ode_path(points, 0.0, 1.0, TRAJECTORY_STEPS)
        if direction == "forward":
            return self.ode_path(points, 1.0, 0.0, TRAJECTORY_STEPS)
        raise ValueError(f"direction must be 'forward' or 'inverse', not {direction!r}")

    def layer_names(self) -> list[str]:
        """One name per step of :meth:`trajectory` in the base-to-data order: ``s = 0.06``."""
        return [f"s = {(k + 1) / TRAJECTORY_STEPS:.2f}" for k in range(TRAJECTORY_STEPS)]
