"""The paths picture of flow matching: the learned sample paths (the ODE from base draws)
beside the conditional paths the model was trained on, how straight each is, and what 1,
2, 4, ... Euler steps of the learned field produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torchdiffeq import odeint

from ..hyperparameters import to_dict
from ..models.continuous.ode import FIXED_STEP_SOLVERS
from ..sampling import budget
from .base import SnapshotContext
from .ode_flow import base_span, union_box

__all__ = [
    "FlowPaths",
    "flow_paths",
    "straightness",
    "euler_samples",
    "ode_path_exact",
    "picture",
    "offered",
    "PATH_STEPS",
    "PATH_PARTICLES",
    "QUICK_PATH_PARTICLES",
    "EULER_STEPS",
]

#: the paths are stored at PATH_STEPS + 1 equally spaced times (the straightness is their
#: mean over these times)
PATH_STEPS = 32
#: pairs moved along each kind of path (a preview while training plays: the quick number)
PATH_PARTICLES, QUICK_PATH_PARTICLES = 400, 150
#: the Euler step counts the view's slider offers (255 field evaluations in all)
EULER_STEPS = (1, 2, 4, 8, 16, 32, 64, 128)
#: tolerance of the adaptive solve of the learned paths (the Euler samples' reference)
REFERENCE_TOLERANCE = 1e-5


@dataclass(frozen=True)
class FlowPaths:
    """Learned and conditional paths of a flow-matching model, and Euler samples.

    Attributes:
        times: ``(k,)`` float32, ``k = PATH_STEPS + 1`` equally spaced times in ``[0, 1]``.
        learned: ``(k, n, 2)`` float32: base draws moved by the learned ODE, solved
            accurately (:func:`ode_path_exact`, whatever the model's own sampler: a
            one-step Euler sampler would draw straight lines of any field); index 0 the
            base draws, the last the ODE's samples.
        conditional: ``(k, n, 2)`` float32: the conditional paths of ``n`` (source,
            target) pairs coupled as in training (``conditional_paths``).
        straightness: mean squared deviation of ``learned`` from its chords (see
            :func:`straightness`), squared data units; 0 for straight paths.
        conditional_straightness: the same for ``conditional``.
        euler_steps: ``(e,)`` int64 step counts, increasing (:data:`EULER_STEPS`).
        euler: ``(e, n, 2)`` float32: the same base draws as ``learned`` moved from
            ``s = 0`` to 1 by that many Euler steps of ``velocity``.
        euler_error: ``(e,)`` float64 mean distance (data units) of each row of ``euler``
            from ``learned[-1]``, the ODE's accurate end.
        sampler: the model's own sampler (``dopri5``, or ``euler, 16 steps``), for the
            caption.
        box: ``(xmin, xmax, ymin, ymax)``: the data box joined with the base's span.
        data: ``(m, 2)`` float32 data points to overlay, or ``None``.
    """

    times: np.ndarray
    learned: np.ndarray
    conditional: np.ndarray
    straightness: float
    conditional_straightness: float
    euler_steps: np.ndarray
    euler: np.ndarray
    euler_error: np.ndarray
    sampler: str
    box: tuple[float, float, float, float]
    data: np.ndarray | None


def straightness(path: np.ndarray | torch.Tensor, times: np.ndarray | torch.Tensor) -> float:
    """How far paths bend from their chords: the mean over times and paths of
    ``||x(s) - ((1 - s) x(0) + s x(1))||^2``.

    Arguments:
        path: ``(k, n, d)`` points at ``times``; ``path[0]`` at ``s = 0``, ``path[-1]``
            at ``s = 1``.
        times: ``(k,)`` times in ``[0, 1]``, ``times[0] = 0`` and ``times[-1] = 1``.

    Returns:
        Squared data units; 0 exactly when every path is a straight line run at
        constant speed (then one Euler step is exact).

    Raises:
        ValueError: ``times`` does not match the path's first axis.

    References:
        Liu, Gong and Liu, "Flow Straight and Fast: Learning to Generate and Transfer Data
        with Rectified Flow", ICLR 2023, section 2 (straightness: zero exactly for
        straight paths, which rectified flow's reflow drives towards).
    """
    x = np.asarray(path, dtype=np.float64)
    s = np.asarray(times, dtype=np.float64)
    if x.ndim != 3 or s.shape != (x.shape[0],):
        raise ValueError(f"path (k, n, d) and times (k,) must match: {x.shape}, {s.shape}")
    chord = (1.0 - s)[:, None, None] * x[0] + s[:, None, None] * x[-1]
    return float(np.square(x - chord).sum(axis=2).mean())


@torch.no_grad()
def euler_samples(model: Any, z: torch.Tensor, steps: tuple[int, ...]) -> torch.Tensor:
    """``z`` at ``s = 0`` moved to ``s = 1`` by ``n`` Euler steps of ``model.velocity``
    for each ``n`` in ``steps``: ``x <- x + v(x, i / n) / n``, ``i = 0..n-1``.

    Arguments:
        model: a model with the capability ``ode``.
        z: ``(n, 2)`` base draws.
        steps: step counts.

    Returns:
        ``(len(steps), n, 2)``.
    """
    spend = budget.current()
    out = []
    for j, n in enumerate(steps):
        spend.progress("Paths: Euler samples, step count", j, len(steps))
        x = z
        for i in range(n):
            x = x + model.velocity(x, i / n) / n
        out.append(x)
    return torch.stack(out)


@torch.no_grad()
def ode_path_exact(
    model: Any, z: torch.Tensor, steps: int, tol: float = REFERENCE_TOLERANCE
) -> torch.Tensor:
    """``z`` at ``s = 0`` moved by ``model.velocity`` to ``steps + 1`` equally spaced
    times up to ``s = 1`` with adaptive Dormand-Prince 5(4) at relative and absolute
    tolerance ``tol``, whatever the model's own sampler: ``(steps + 1, n, 2)``, index 0
    is ``z`` (its last row is what Euler samples converge to).

    References:
        Dormand and Prince 1980; the solver is torchdiffeq's ``dopri5``.
    """
    times = torch.linspace(0.0, 1.0, steps + 1, dtype=z.dtype, device=z.device)
    return odeint(lambda s, x: model.velocity(x, float(s)), z, times, rtol=tol, atol=tol)


@torch.no_grad()
def flow_paths(
    model: Any,
    data_box: tuple[float, float, float, float],
    device: torch.device,
    seed: int,
    data: np.ndarray | None = None,
    particles: int = PATH_PARTICLES,
) -> FlowPaths:
    """Learned and conditional paths of a flow-matching model, their straightness, and
    Euler samples at :data:`EULER_STEPS`.

    Arguments:
        model: a model with the capabilities ``paths`` and ``ode``.
        data_box: the dataset's plotting box.
        device: the model's device.
        seed: base draws from ``seed``, the conditional pairs from ``seed + 1`` (fixed,
            so successive pictures differ by training only).
        data: ``(m, 2)`` data points to overlay, or ``None``.
        particles: paths of each kind.

    Returns:
        A :class:`FlowPaths`.
    """
    g = torch.Generator(device=device).manual_seed(seed)
    z = model.base_sample(particles, g)
    learned = ode_path_exact(model, z, PATH_STEPS).float().cpu()
    pairs = torch.Generator(device=device).manual_seed(seed + 1)
    conditional = model.conditional_paths(particles, pairs, PATH_STEPS).float().cpu()
    euler = euler_samples(model, z, EULER_STEPS).float().cpu()
    error = (euler - learned[-1]).norm(dim=2).mean(dim=1).double().numpy()
    times = np.linspace(0.0, 1.0, PATH_STEPS + 1).astype(np.float32)
    span = base_span(model, seed + 2, device)
    return FlowPaths(
        times=times,
        learned=np.ascontiguousarray(learned.numpy()),
        conditional=np.ascontiguousarray(conditional.numpy()),
        straightness=straightness(learned, times),
        conditional_straightness=straightness(conditional, times),
        euler_steps=np.asarray(EULER_STEPS, dtype=np.int64),
        euler=np.ascontiguousarray(euler.numpy()),
        euler_error=error,
        sampler=_sampler_name(to_dict(model.config)),
        box=union_box(tuple(float(v) for v in data_box), span),
        data=data,
    )


def _sampler_name(hyperparameters: dict) -> str:
    """``dopri5`` or ``euler, 16 steps``: the model's sampler from its hyperparameters."""
    solver = str(hyperparameters.get("solver", ""))
    if solver in FIXED_STEP_SOLVERS and "solver_steps" in hyperparameters:
        return f"{solver}, {hyperparameters['solver_steps']} steps"
    return solver


def picture(ctx: SnapshotContext) -> FlowPaths:
    """:data:`PATH_PARTICLES` paths of each kind (a preview while training plays:
    :data:`QUICK_PATH_PARTICLES`) from the fixed draws of ``seed + 12``."""
    n = budget.current().particles(PATH_PARTICLES, QUICK_PATH_PARTICLES)
    return flow_paths(
        ctx.model,
        ctx.data.box,
        ctx.device,
        ctx.seed + 12,
        ctx.overlay_points(PATH_PARTICLES),
        particles=n,
    )


def offered(ctx: SnapshotContext) -> bool:
    """A model with conditional paths that also has the field (capability ``ode``)."""
    return "ode" in ctx.model.capabilities
