"""Neural ODE machinery shared by CNF, FFJORD and flow matching.

A time-dependent vector field ``f(t, x)``, the divergence ``tr(df/dx)`` (exact in 2D, or
Hutchinson's estimate), the augmented dynamics of the instantaneous change of variables
with FFJORD's regularisers, and one :func:`solve` over torchdiffeq's solvers, with or
without the adjoint method. Everything counts its function evaluations (NFE).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torchdiffeq import odeint, odeint_adjoint

from ...sampling.divergence import exact_divergence, hutchinson_divergence

__all__ = [
    "SOLVERS",
    "FIXED_STEP_SOLVERS",
    "ACTIVATIONS",
    "PROBES",
    "TimeMLP",
    "exact_divergence",
    "hutchinson_divergence",
    "draw_probe",
    "AugmentedDynamics",
    "CountedField",
    "solve",
]

#: torchdiffeq's solvers offered as a hyperparameter: adaptive Dormand-Prince 5(4), and
#: three fixed-step ones (their step count is a separate hyperparameter)
SOLVERS = ("dopri5", "rk4", "midpoint", "euler")
FIXED_STEP_SOLVERS = frozenset({"rk4", "midpoint", "euler"})
#: smooth activations: the divergence and the regularisers differentiate the field twice
ACTIVATIONS = {"tanh": nn.Tanh, "softplus": nn.Softplus, "silu": nn.SiLU}
#: Hutchinson probe distributions: both have E[e e^T] = I
PROBES = ("rademacher", "gaussian")


class TimeMLP(nn.Module):
    """The vector field ``f(t, x)``: an MLP on ``[x, t]`` (time as one more input).

    Arguments:
        dim: ``d``, the dimension of ``x``.
        hidden: width of each hidden layer.
        depth: number of hidden layers (>= 1).
        activation: a key of :data:`ACTIVATIONS`.

    Raises:
        ValueError: an unknown activation or ``depth < 1``.

    References:
        Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018 (a network
        that takes ``t`` as an input); Grathwohl et al., "FFJORD", ICLR 2019, appendix
        (the 2D experiments' MLPs with time concatenated to each layer's input).
    """

    def __init__(self, dim: int, hidden: int, depth: int, activation: str = "tanh"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, not {activation!r}")
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        act = ACTIVATIONS[activation]
        layers: list[nn.Module] = [nn.Linear(dim + 1, hidden), act()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), act()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, t: Tensor | float, x: Tensor) -> Tensor:
        """``f(t, x)``: ``t`` a scalar (or ``(n,)``), ``x`` ``(n, d)`` -> ``(n, d)``."""
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        tt = t.reshape(-1, 1).expand(x.shape[0], 1) if t.numel() > 1 else t.expand(x.shape[0], 1)
        return self.net(torch.cat([x, tt], dim=1))


def draw_probe(kind: str, shape: Sequence[int], rng: torch.Generator) -> Tensor:
    """A Hutchinson probe of ``shape``: ``rademacher`` (+-1) or ``gaussian`` (N(0, I)), on
    ``rng``'s device, every number from ``rng``.

    Raises:
        ValueError: an unknown kind.
    """
    if kind == "rademacher":
        return torch.randint(0, 2, tuple(shape), generator=rng, device=rng.device).float() * 2 - 1
    if kind == "gaussian":
        return torch.randn(tuple(shape), generator=rng, device=rng.device)
    raise ValueError(f"probe must be one of {PROBES}, not {kind!r}")


class AugmentedDynamics(nn.Module):
    """The dynamics of ``(x, c, kinetic, frobenius)`` for the change of variables.

    ``dx/dt = f(t, x)``, ``dc/dt = tr(df/dx)`` (exact, or Hutchinson's with the probe set
    by :meth:`set_probe`), and, when ``regularize``, ``d kinetic/dt = ||f||^2`` and
    ``d frobenius/dt = ||e^T df/dx||^2`` (an unbiased estimate of ``||df/dx||_F^2``).
    Integrating from ``t1`` down to ``t0`` with ``c(t1) = 0`` gives
    ``log p_{t1}(x(t1)) = log p_{t0}(x(t0)) + c(t0)``.

    Arguments:
        field: the vector field ``f(t, x)`` (:class:`TimeMLP` or any module with that call).
        trace: ``exact`` or ``hutchinson``.
        regularize: also integrate the two regularisers (they need a probe).

    Attributes:
        nfe: function evaluations since the last :meth:`reset_nfe` (the solver's calls,
            including the adjoint's backward solve when that calls this module).

    References:
        Chen et al. 2018, theorem 1; Grathwohl et al. 2019, algorithm 1; Finlay et al.,
        "How to train your neural ODE", ICML 2020, equations (4)-(5) (kinetic energy and
        Jacobian Frobenius norm).
    """

    def __init__(self, field: nn.Module, trace: str = "exact", regularize: bool = False):
        super().__init__()
        if trace not in ("exact", "hutchinson"):
            raise ValueError(f"trace must be 'exact' or 'hutchinson', not {trace!r}")
        self.field = field
        self.trace = trace
        self.regularize = regularize
        self.probe: Tensor | None = None
        self.nfe = 0

    def set_probe(self, e: Tensor | None) -> None:
        """The probe ``(n, d)`` held fixed over one solve (FFJORD's choice), or ``None``."""
        self.probe = e

    def reset_nfe(self) -> None:
        """Start counting function evaluations from 0."""
        self.nfe = 0

    def forward(self, t: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """The time derivative of ``state = (x, c[, kinetic, frobenius])`` at ``t``."""
        self.nfe += 1
        x = state[0]
        training = torch.is_grad_enabled()
        with torch.enable_grad():
            if not x.requires_grad:  # a solver's first state, or no training
                x = x.detach().requires_grad_(True)
            fx = self.field(t, x)
            needs_probe = self.trace == "hutchinson" or self.regularize
            if needs_probe and self.probe is None:
                raise RuntimeError("set_probe() before solving with Hutchinson or regularisers")
            ej = None
            if needs_probe:  # before the exact trace, which frees the graph when not training
                (ej,) = torch.autograd.grad(
                    fx, x, self.probe, create_graph=training, retain_graph=True
                )
            if self.trace == "exact":
                div = exact_divergence(fx, x, create_graph=training)
            else:
                div = (ej * self.probe).sum(dim=1)
        out: tuple[Tensor, ...] = (fx, div)
        if self.regularize:
            out = out + (fx.square().sum(dim=1), ej.square().sum(dim=1))
        if not training:
            out = tuple(o.detach() for o in out)
        return out


class CountedField(nn.Module):
    """``f(t, x)`` alone, for moving points without their density, counting evaluations.

    Attributes:
        nfe: function evaluations since the last :meth:`reset_nfe`.
    """

    def __init__(self, field: nn.Module):
        super().__init__()
        self.field = field
        self.nfe = 0

    def reset_nfe(self) -> None:
        """Start counting function evaluations from 0."""
        self.nfe = 0

    def forward(self, t: Tensor, x: Tensor) -> Tensor:
        """``f(t, x)``: ``(n, d) -> (n, d)``."""
        self.nfe += 1
        return self.field(t, x)


def solve(
    func: nn.Module,
    y0: Tensor | tuple[Tensor, ...],
    times: Tensor,
    method: str = "dopri5",
    rtol: float = 1e-5,
    atol: float = 1e-5,
    steps: int = 20,
    adjoint: bool = False,
):
    """Integrate ``dy/dt = func(t, y)`` from ``y(times[0]) = y0``; the state at every time.

    Arguments:
        func: a module ``func(t, y)`` (a tuple state gives a tuple derivative).
        y0: a tensor or a tuple of tensors.
        times: ``(k,)`` increasing or decreasing times, ``k >= 2``.
        method: a key of :data:`SOLVERS`.
        rtol, atol: tolerances of the adaptive solver.
        steps: fixed-step solvers take ``steps`` equal steps over ``|times[-1] - times[0]|``.
        adjoint: solve the adjoint ODE backwards for the gradients (memory constant in
            the number of steps) instead of backpropagating through the solver.

    Returns:
        Like ``y0`` with a leading ``(k,)`` time axis.

    Raises:
        ValueError: an unknown method, ``steps < 1`` or fewer than two times.

    References:
        Chen et al. 2018, algorithm 1 (the adjoint); Dormand and Prince 1980 (dopri5);
        the solvers are torchdiffeq's.
    """
    if method not in SOLVERS:
        raise ValueError(f"method must be one of {SOLVERS}, not {method!r}")
    if times.numel() < 2:
        raise ValueError("solve needs at least two times")
    options = None
    if method in FIXED_STEP_SOLVERS:
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        span = float((times[-1] - times[0]).abs())
        options = {"step_size": span / steps}
    if adjoint:
        return odeint_adjoint(
            func,
            y0,
            times,
            method=method,
            rtol=rtol,
            atol=atol,
            options=options,
            adjoint_params=tuple(func.parameters()),
        )
    return odeint(func, y0, times, method=method, rtol=rtol, atol=atol, options=options)
