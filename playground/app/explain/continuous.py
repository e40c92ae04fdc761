"""The objectives of the continuous normalizing flows (``cnf``, ``ffjord``) as the explain
panel shows them: maximum likelihood by the instantaneous change of variables, the trace
(exact or Hutchinson's), FFJORD's regularisers, and the solver's cost.

Every ``term`` below is a name ``LikelihoodFlow.train_step`` returns with that config."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["cnf_objective", "ffjord_objective", "INSTANTANEOUS", "HUTCHINSON"]

#: Chen et al. 2018, theorem 1
INSTANTANEOUS = (
    r"\frac{\partial \log p(z(t))}{\partial t} = -\mathrm{tr}\left("
    r"\frac{\partial f}{\partial z(t)}\right)"
)
#: Grathwohl et al. 2019, eq. (7)
HUTCHINSON = (
    r"\mathrm{tr}\left(\frac{\partial f}{\partial z}\right) = "
    r"\mathbb{E}_{e}\left[e^{\top} \frac{\partial f}{\partial z}\, e\right]"
)
_CHANGE = Line(INSTANTANEOUS, note="the instantaneous change of variables along dz/dt = f(t, z)")
_LOG_PROB = Line(
    r"\log p_T(x) = \log p_0(z(0)) - \int_0^T \mathrm{tr}\left("
    r"\frac{\partial f}{\partial z(t)}\right) dt",
    note="one ODE solve from x at t = T back to the base N(0, I) at t = 0",
)
_NLL = Line(
    r"\mathrm{NLL} = -\mathbb{E}_{x \sim p_{\mathrm{data}}}\,\log p_T(x)",
    "nll",
    "minimised on data batches (maximum likelihood)",
)
_NFE = Line(
    r"\mathrm{NFE}",
    "nfe",
    "evaluations of f by this step's forward solve (an adaptive solver's grow as f sharpens)",
    "",
)
_NFE_BACKWARD = Line(
    r"\mathrm{NFE}_{\mathrm{backward}}",
    "nfe_backward",
    "evaluations by the adjoint's backward solve (memory constant in the steps)",
    "",
)
_TIME = Line(r"T", "integration_time", "the learned end time (softplus of a raw parameter)", "")
_REGULARISED = Line(
    r"\mathcal{L} = \mathrm{NLL} + \lambda_K \int_0^1 \|\dot x\|^2 ds"
    r" + \lambda_J \int_0^1 \|\nabla_x \dot x\|_F^2\, ds",
    "loss",
    "minimised: straighter, smoother paths need fewer solver steps",
    "",
)
_KINETIC = Line(r"\int_0^1 \|\dot x(s)\|^2 ds", "kinetic_energy", "kinetic energy (s = t / T)", "")
_FROBENIUS = Line(
    r"\int_0^1 \|e^{\top} \nabla_x \dot x(s)\|^2 ds",
    "jacobian_frobenius",
    "the Jacobian's Frobenius norm, estimated with the trace's probe e",
    "",
)
_CNF_SOURCE = (
    "Chen, Rubanova, Bettencourt & Duvenaud, Neural Ordinary Differential Equations, "
    "NeurIPS 2018, theorem 1 and algorithm 1 (the adjoint)."
)
_FFJORD_SOURCE = (
    "Grathwohl, Chen, Bettencourt, Sutskever & Duvenaud, FFJORD, ICLR 2019, eqs. (4)-(7); "
    "Finlay, Jacobsen, Nurbekyan & Oberman, How to train your neural ODE, ICML 2020, "
    "eqs. (4)-(5); Chen et al., NeurIPS 2018, theorem 1."
)


def _solver_lines(config: Any) -> tuple[Line, ...]:
    return (_NFE, *((_NFE_BACKWARD,) if getattr(config, "adjoint", False) else ()))


def cnf_objective(config: Any = None) -> Objective:
    """``cnf``: maximum likelihood with the exact trace (the adjoint's NFE when it is on)."""
    return Objective(
        "Maximum likelihood, instantaneous change of variables",
        (_NLL, _CHANGE, _LOG_PROB, *_solver_lines(config)),
        "The flow is an ODE: its log-density changes at the rate of minus the field's "
        "divergence, computed exactly here (one autograd pass per dimension). Any smooth "
        "field is invertible, so no layer needs a special structure.",
        _CNF_SOURCE,
    )


def ffjord_objective(config: Any = None) -> Objective:
    """``ffjord``: maximum likelihood with Hutchinson's trace, the regularisers when their
    weights are on, the learned ``T`` when it is learned, and the solver's NFE."""
    regularised = (
        getattr(config, "kinetic_energy", 0.0) > 0 or getattr(config, "jacobian_frobenius", 0.0) > 0
    )
    lines = (
        *((_REGULARISED, _NLL, _KINETIC, _FROBENIUS) if regularised else (_NLL,)),
        _LOG_PROB,
        Line(HUTCHINSON, note="Hutchinson's estimator: one Rademacher or Gaussian e per solve"),
        *((_TIME,) if getattr(config, "learn_integration_time", True) else ()),
        *_solver_lines(config),
    )
    return Objective(
        "Maximum likelihood, Hutchinson's trace (FFJORD)",
        lines,
        "The trace is replaced by an unbiased estimate from one vector-Jacobian product, "
        "so the cost per evaluation does not grow with the dimension; the density pictures "
        "still use the exact trace. Watch NFE grow as the field sharpens, and fall with "
        "the kinetic or Jacobian regulariser.",
        _FFJORD_SOURCE,
    )
