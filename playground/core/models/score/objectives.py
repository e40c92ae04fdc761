"""Score-matching objectives: implicit (Hyvarinen), sliced (Song et al.), denoising (Vincent)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = [
    "PROJECTIONS",
    "implicit_score_matching",
    "sliced_score_matching",
    "denoising_target",
    "denoising_score_matching",
]

ScoreFn = Callable[[Tensor], Tensor]

#: laws of the slicing directions ``v`` of :func:`sliced_score_matching`
PROJECTIONS = ("gaussian", "rademacher")


def implicit_score_matching(score_fn: ScoreFn, x: Tensor) -> dict[str, Tensor]:
    """Hyvarinen's objective ``E[tr(grad_x s(x)) + 0.5 |s(x)|^2]`` with the exact trace.

    The trace is a sum of ``d`` diagonal Jacobian entries, each by one backward pass
    (cheap on the plane, ``d = 2``); the graph is kept so the loss can be differentiated
    with respect to the parameters.

    Arguments:
        score_fn: ``(n, d) -> (n, d)``, differentiable in its input.
        x: ``(n, d)`` data.

    Returns:
        ``loss``, ``trace`` (the mean of ``tr(grad_x s)``) and ``norm`` (the mean of
        ``0.5 |s|^2``), scalars in units of ``1 / data^2``; ``loss = trace + norm``.

    References:
        Hyvarinen, "Estimation of non-normalized statistical models by score matching",
        JMLR 2005, theorem 1, eq. (4).
    """
    x = x.detach().requires_grad_(True)
    s = score_fn(x)
    trace = torch.zeros(x.shape[0], dtype=s.dtype, device=s.device)
    for i in range(x.shape[1]):
        (g,) = torch.autograd.grad(s[:, i].sum(), x, create_graph=True)
        trace = trace + g[:, i]
    norm = 0.5 * s.square().sum(-1)
    return {"loss": (trace + norm).mean(), "trace": trace.mean(), "norm": norm.mean()}


def _projections(shape: tuple[int, ...], kind: str, rng: torch.Generator, like: Tensor):
    if kind == "gaussian":
        v = torch.randn(shape, generator=rng, device=rng.device, dtype=like.dtype)
    elif kind == "rademacher":
        u = torch.rand(shape, generator=rng, device=rng.device, dtype=like.dtype)
        v = torch.where(u < 0.5, -1.0, 1.0).to(like.dtype)
    else:
        raise ValueError(f"projection must be one of {PROJECTIONS}, got {kind!r}")
    return v.to(like.device)


def sliced_score_matching(
    score_fn: ScoreFn,
    x: Tensor,
    rng: torch.Generator,
    projection: str = "gaussian",
    projections: int = 1,
) -> dict[str, Tensor]:
    """Sliced score matching, the plain form ``E_x E_v[v^T (grad_x s) v + 0.5 (v^T s)^2]``.

    Not the variance-reduced SSM-VR (which replaces ``0.5 (v^T s)^2`` by ``0.5 |s|^2``
    and holds only for ``E[v v^T] = I`` with Gaussian ``v``): this form is unbiased for
    any ``v`` with ``E[v v^T] = I``, Gaussian and Rademacher alike, so its expectation
    over ``v`` equals :func:`implicit_score_matching`'s loss.

    Arguments:
        score_fn: ``(n, d) -> (n, d)``, differentiable in its input.
        x: ``(n, d)`` data.
        rng: draws the ``projections`` directions per point.
        projection: ``gaussian`` (``N(0, I)``) or ``rademacher`` (``+-1`` entries).
        projections: directions ``v`` per data point, ``>= 1``.

    Returns:
        ``loss``, ``jacobian`` (mean ``v^T (grad_x s) v``) and ``norm`` (mean
        ``0.5 (v^T s)^2``), scalars; ``loss = jacobian + norm``.

    Raises:
        ValueError: an unknown ``projection`` or ``projections < 1``.

    References:
        Song, Garg, Shi and Ermon, "Sliced Score Matching: A Scalable Approach to Density
        and Score Estimation", UAI 2019, eq. (7) (the objective) and eq. (8) (SSM-VR).
    """
    if projections < 1:
        raise ValueError(f"projections must be >= 1, got {projections}")
    n, d = x.shape
    v = _projections((projections * n, d), projection, rng, x)
    xr = x.detach().repeat(projections, 1).requires_grad_(True)
    s = score_fn(xr)
    vs = (v * s).sum(-1)
    (g,) = torch.autograd.grad(vs.sum(), xr, create_graph=True)
    jac = (g * v).sum(-1)
    norm = 0.5 * vs.square()
    return {"loss": (jac + norm).mean(), "jacobian": jac.mean(), "norm": norm.mean()}


def denoising_target(x: Tensor, x_noisy: Tensor, sigma: Tensor | float) -> Tensor:
    """``grad_{x~} log N(x~; x, sigma^2 I) = -(x~ - x) / sigma^2``, shaped like ``x``.

    Arguments:
        x: ``(n, d)`` clean data; x_noisy: ``(n, d)``; sigma: a float or ``(n, 1)``.

    References:
        Vincent, "A Connection Between Score Matching and Denoising Autoencoders", Neural
        Computation 2011, eq. (11).
    """
    return -(x_noisy - x) / sigma**2


def denoising_score_matching(
    score_fn: ScoreFn, x: Tensor, sigma: float, rng: torch.Generator
) -> dict[str, Tensor]:
    """Denoising score matching at one noise level:
    ``E ||s(x~) - denoising_target(x, x~, sigma)||^2 / 2`` with ``x~ = x + sigma eps``.

    Arguments:
        score_fn: ``(n, d) -> (n, d)``; x: ``(n, d)`` data; sigma: ``> 0``, data units;
        rng: draws ``eps ~ N(0, I)`` ``(n, d)``.

    Returns:
        ``loss`` (scalar, ``1 / data^2``; its minimum is not 0 but the variance of the
        target given ``x~``).

    Raises:
        ValueError: ``sigma <= 0``.

    References:
        Vincent 2011, eq. (11) (the DSM objective ``J_DSM``).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    eps = torch.randn(x.shape, generator=rng, device=rng.device, dtype=x.dtype)
    x_noisy = x + sigma * eps.to(x.device)
    target = denoising_target(x, x_noisy, sigma)
    return {"loss": 0.5 * (score_fn(x_noisy) - target).square().sum(-1).mean()}
