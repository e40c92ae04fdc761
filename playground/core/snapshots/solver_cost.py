"""The solver cost picture: what the ODE solver of a continuous normalizing flow costs per
training step, from the session's history: function evaluations (NFE) of the forward and
the backward pass against the step (FFJORD's NFE grows as training goes on), and the
seconds (and, where measured, the peak memory) of a step against its NFE, with the
adjoint method's setting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..hyperparameters import to_dict
from .base import SnapshotContext
from .curves import CURVE_POINTS

__all__ = [
    "SolverCost",
    "solver_cost",
    "picture",
    "offered",
    "NFE_TERM",
    "NFE_BACKWARD_TERM",
    "SECONDS_TERM",
    "MEMORY_TERM",
    "ADJOINT_TERM",
]

#: the history names read: forward and backward NFE of a step (the models' train_step
#: terms), the step's wall time in seconds, its peak memory in MiB, and whether it used
#: the adjoint method (1) or backpropagation through the solver (0)
NFE_TERM, NFE_BACKWARD_TERM = "nfe", "nfe_backward"
SECONDS_TERM, MEMORY_TERM, ADJOINT_TERM = "step_seconds", "peak_memory_mb", "adjoint"
#: what the picture says when no peak memory was recorded, per device type
MEMORY_NOT_MEASURED = {
    "cpu": "peak memory not measured on the CPU (torch's CPU allocator keeps no peak)",
}
MEMORY_NOT_RECORDED = "peak memory not recorded by this model"


@dataclass(frozen=True)
class SolverCost:
    """The solver's cost per training step.

    Attributes:
        steps, nfe: ``(m,)`` int64 steps and float64 forward-pass NFE of each (long runs
            averaged over bins of consecutive steps, at most ``CURVE_POINTS``).
        backward_steps, nfe_backward: ``(m2,)`` the same for the backward pass (the
            adjoint's backward solve, or the evaluations backpropagation revisits);
            empty when the model records none.
        cost_steps: ``(p,)`` int64 steps with both an NFE and a wall time recorded.
        cost_nfe: ``(p,)`` float64 forward plus backward NFE at ``cost_steps``.
        seconds: ``(p,)`` float64 wall time of those steps, seconds.
        memory_mb: ``(p,)`` float64 peak memory of those steps, MiB, or ``None`` when
            not recorded (``memory_note`` says why).
        adjoint_flags: ``(p,)`` bool, whether each of those steps used the adjoint
            method (the history's ``adjoint`` term; else, for a model with an ``adjoint``
            hyperparameter, whether the step recorded a backward NFE, which only the
            adjoint's backward solve has), or ``None`` when neither says.
        adjoint: the model's ``adjoint`` hyperparameter now, or ``None`` if it has none.
        solver: the model's ``solver`` hyperparameter now (``dopri5``, ``rk4``, ...).
        memory_note: why ``memory_mb`` is ``None``; empty otherwise.
    """

    steps: np.ndarray
    nfe: np.ndarray
    backward_steps: np.ndarray
    nfe_backward: np.ndarray
    cost_steps: np.ndarray
    cost_nfe: np.ndarray
    seconds: np.ndarray
    memory_mb: np.ndarray | None
    adjoint_flags: np.ndarray | None
    adjoint: bool | None
    solver: str
    memory_note: str


_EMPTY_STEPS = np.zeros(0, dtype=np.int64)
_EMPTY = np.zeros(0, dtype=np.float64)


def _at(arrays: dict, name: str, steps: np.ndarray) -> np.ndarray | None:
    """``name``'s values at ``steps`` (each of which it has), or ``None`` if it lacks one."""
    if name not in arrays:
        return None
    s, v = arrays[name]
    found = np.isin(steps, s)
    if not found.all():
        return None
    return v[np.searchsorted(s, steps)]


def solver_cost(
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    hyperparameters: dict,
    device_type: str = "cpu",
) -> SolverCost:
    """Sort a history's solver terms into a :class:`SolverCost`.

    Arguments:
        arrays: name to ``(steps (m,), values (m,))`` as
            :meth:`~playground.core.training.history.History.as_arrays` returns them.
        hyperparameters: the model's hyperparameters by name (its ``solver`` and
            ``adjoint``, where it has them).
        device_type: ``cpu`` or ``cuda``: says why a missing peak memory is missing.

    Returns:
        The picture; empty arrays where the history has no NFE yet.

    References:
        Grathwohl et al., "FFJORD", ICLR 2019, section 6 (NFE grows during training);
        Finlay et al., "How to train your neural ODE", ICML 2020, figure 1;
        Chen et al. 2018, section 2 (the adjoint: memory constant in the solver's steps).
    """
    steps, nfe = arrays.get(NFE_TERM, (_EMPTY_STEPS, _EMPTY))
    back_steps, back = arrays.get(NFE_BACKWARD_TERM, (_EMPTY_STEPS, _EMPTY))
    cost_steps, cost_nfe, seconds = _EMPTY_STEPS, _EMPTY, _EMPTY
    memory = flags = None
    if SECONDS_TERM in arrays and len(steps):
        cost_steps = np.intersect1d(steps, arrays[SECONDS_TERM][0])
        cost_nfe = nfe[np.searchsorted(steps, cost_steps)]
        backward = _at(arrays, NFE_BACKWARD_TERM, cost_steps)
        if backward is not None:
            cost_nfe = cost_nfe + backward
        seconds = _at(arrays, SECONDS_TERM, cost_steps)
        memory = _at(arrays, MEMORY_TERM, cost_steps)
        adjoint_values = _at(arrays, ADJOINT_TERM, cost_steps)
        if adjoint_values is not None:
            flags = adjoint_values > 0.5
        elif "adjoint" in hyperparameters:  # cnf and ffjord record nfe_backward with it only
            flags = np.isin(cost_steps, back_steps)
    note = ""
    if memory is None:
        note = MEMORY_NOT_MEASURED.get(device_type, MEMORY_NOT_RECORDED)
    adjoint = hyperparameters.get("adjoint")
    return SolverCost(
        steps=np.asarray(steps, dtype=np.int64),
        nfe=np.asarray(nfe, dtype=np.float64),
        backward_steps=np.asarray(back_steps, dtype=np.int64),
        nfe_backward=np.asarray(back, dtype=np.float64),
        cost_steps=np.asarray(cost_steps, dtype=np.int64),
        cost_nfe=np.asarray(cost_nfe, dtype=np.float64),
        seconds=np.asarray(seconds, dtype=np.float64),
        memory_mb=memory,
        adjoint_flags=flags,
        adjoint=None if adjoint is None else bool(adjoint),
        solver=str(hyperparameters.get("solver", "")),
        memory_note=note,
    )


def picture(ctx: SnapshotContext) -> SolverCost:
    """The session's history (thinned to ``CURVE_POINTS`` per curve) and its model's
    hyperparameters as a :class:`SolverCost`."""
    return solver_cost(
        ctx.history.as_arrays(max_points=CURVE_POINTS),
        to_dict(ctx.model.config),
        ctx.device.type,
    )


def offered(ctx: SnapshotContext) -> bool:
    """Flows trained by solving their ODE (CNF, FFJORD): a model with the capability
    ``ode`` but not ``paths`` (flow matching trains without a solver, by regression on
    its conditional paths, so its training has no NFE to show)."""
    return "paths" not in ctx.model.capabilities
