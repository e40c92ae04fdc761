"""The divergence ``tr(df/dx)`` of a vector field: exactly, or by Hutchinson's estimator.

Shared by the probability-flow ODE (:mod:`.probability_flow`) and the continuous
normalizing flows (``playground.core.models.continuous``)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["exact_divergence", "hutchinson_divergence"]


def exact_divergence(fx: Tensor, x: Tensor, create_graph: bool) -> Tensor:
    """``tr(df/dx)`` exactly, one autograd call per dimension.

    Arguments:
        fx: ``(n, d)`` the field at ``x``, computed from ``x`` with autograd on.
        x: ``(n, d)`` with ``requires_grad``.
        create_graph: keep the graph (training differentiates through it).

    Returns:
        ``(n,)``: the divergence at each point (cost ``d`` backward passes: fine in 2D).

    References:
        Chen et al. 2018, theorem 1 (the instantaneous change of variables).
    """
    div = torch.zeros(x.shape[0], dtype=fx.dtype, device=fx.device)
    for i in range(x.shape[1]):
        keep = create_graph or i < x.shape[1] - 1
        (g,) = torch.autograd.grad(fx[:, i].sum(), x, create_graph=create_graph, retain_graph=keep)
        div = div + g[:, i]
    return div


def hutchinson_divergence(fx: Tensor, x: Tensor, e: Tensor, create_graph: bool) -> Tensor:
    """Hutchinson's unbiased estimate ``e^T (df/dx) e`` of ``tr(df/dx)``, one vector-Jacobian
    product.

    Arguments:
        fx: ``(n, d)`` the field at ``x``.
        x: ``(n, d)`` with ``requires_grad``.
        e: ``(n, d)`` a probe with ``E[e e^T] = I`` (:func:`draw_probe`).
        create_graph: keep the graph.

    Returns:
        ``(n,)`` estimates; their mean over probes is the trace.

    References:
        Hutchinson, "A stochastic estimator of the trace of the influence matrix", 1989;
        Grathwohl et al., "FFJORD", ICLR 2019, equation (7).
    """
    (ej,) = torch.autograd.grad(fx, x, e, create_graph=create_graph)
    return (ej * e).sum(dim=1)
