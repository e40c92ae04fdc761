"""Quadrature rules and kernel sums for densities of noisy points on a curve."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from playground.core.data.base import LOG_2PI

__all__ = [
    "panel_rule",
    "equal_arc_edges",
    "curve_rule",
    "gaussian_mixture_log_prob",
    "box_gaussian_curve_log_prob",
    "ring_mixture_log_prob",
    "as_points64",
]

#: points per chunk: a ``(chunk, nodes)`` float64 block stays a few MiB.
CHUNK = 2048


def as_points64(x: Tensor) -> Tensor:
    """``x`` of shape ``(n, 2)`` (any float dtype) as float64 on the CPU, still differentiable.

    Raises:
        ValueError: ``x`` is not of shape ``(n, 2)``.
    """
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(f"expected points of shape (n, 2), got {tuple(x.shape)}")
    return x.to(device="cpu", dtype=torch.float64)


def panel_rule(edges: np.ndarray, order: int = 8) -> tuple[Tensor, Tensor]:
    """Composite Gauss-Legendre rule on consecutive panels ``[edges[i], edges[i+1]]``.

    Arguments:
        edges: ``(panels + 1,)`` increasing panel boundaries.
        order: nodes per panel (exact for polynomials of degree ``2 * order - 1``).

    Returns:
        ``(nodes, weights)``, each ``(panels * order,)`` float64.
    """
    g, w = np.polynomial.legendre.leggauss(order)
    a, b = np.asarray(edges[:-1]), np.asarray(edges[1:])
    half = (b - a)[:, None] / 2
    nodes = (a + b)[:, None] / 2 + half * g[None, :]
    return torch.from_numpy(nodes.ravel()), torch.from_numpy((half * w[None, :]).ravel())


def equal_arc_edges(
    speed: Callable[[np.ndarray], np.ndarray], t0: float, t1: float, panels: int
) -> np.ndarray:
    """Panel edges on ``[t0, t1]`` that cut a curve into pieces of equal arc length.

    Arguments:
        speed: ``|m'(t)|`` of the curve ``m``, vectorised over a numpy array.
        t0, t1: the parameter range.
        panels: the number of pieces.

    Returns:
        ``(panels + 1,)`` edges, ``edges[0] = t0`` and ``edges[-1] = t1``.
    """
    t = np.linspace(t0, t1, 64 * panels + 1)
    v = speed(t)
    s = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2 * np.diff(t))])
    edges = np.interp(np.linspace(0.0, s[-1], panels + 1), s, t)
    edges[0], edges[-1] = t0, t1
    return edges


def curve_rule(
    curve: Callable[[Tensor], Tensor],
    log_density: Callable[[Tensor], Tensor],
    edges: np.ndarray,
    order: int = 8,
) -> tuple[Tensor, Tensor]:
    """Points and log-weights that discretise ``t ~ rho`` pushed through a curve.

    Arguments:
        curve: ``m(t)``, ``(k,) -> (k, 2)`` float64.
        log_density: ``log rho(t)`` of the curve parameter, ``(k,) -> (k,)``.
        edges: panel edges from :func:`equal_arc_edges`.
        order: Gauss-Legendre nodes per panel.

    Returns:
        ``(means, log_weights)``: ``(k, 2)`` and ``(k,)`` float64, to be used as a mixture.
    """
    t, w = panel_rule(edges, order)
    return curve(t), torch.log(w) + log_density(t)


def gaussian_mixture_log_prob(
    x: Tensor, means: Tensor, log_weights: Tensor, sigma: float
) -> Tensor:
    """``log sum_k w_k N(x; means_k, sigma^2 I)`` in nats, computed in float64.

    Arguments:
        x: ``(n, 2)`` points, any float dtype.
        means: ``(k, 2)`` component means.
        log_weights: ``(k,)`` log-weights (they sum to one for a normalised density).
        sigma: the isotropic standard deviation of every component.

    Returns:
        ``(n,)`` log-densities in the dtype of ``x``.
    """
    z = as_points64(x) / sigma
    mu = means.to(torch.float64) / sigma
    # the constant of each component, folded in once
    bias = log_weights.to(torch.float64) - 0.5 * (mu * mu).sum(1) - LOG_2PI - 2 * math.log(sigma)
    out = []
    for zc in z.split(CHUNK):
        logits = torch.addmm(bias, zc, mu.T)
        out.append(torch.logsumexp(logits, dim=1) - 0.5 * (zc * zc).sum(1))
    return torch.cat(out).to(x.dtype)


def _log_box_gauss(y: Tensor, width: float, sigma: float) -> Tensor:
    """``log`` of the density of ``U(0, width) + N(0, sigma^2)`` at ``y``, stable in both tails."""
    # the density is symmetric about width / 2: fold onto the lower tail, where
    # log_ndtr keeps its relative accuracy
    y = width / 2 - (y - width / 2).abs()
    la = torch.special.log_ndtr(y / sigma)
    lb = torch.special.log_ndtr((y - width) / sigma)
    return la + torch.log1p(-torch.exp(lb - la)) - math.log(width)


def ring_mixture_log_prob(x: Tensor, radii: Tensor, log_weights: Tensor, sigma: float) -> Tensor:
    """``log sum_k w_k int N(x; r_k (cos a, sin a), sigma^2 I) da / (2 pi)``, in closed form.

    The angular integral of an isotropic Gaussian around a circle is the Rice density
    ``exp(-(rho^2 + r^2) / (2 sigma^2)) I0(rho r / sigma^2) / (2 pi sigma^2)`` with
    ``rho = |x|``; the exponentially scaled Bessel function ``i0e`` keeps it finite.

    Arguments:
        x: ``(n, 2)`` points, any float dtype.
        radii: ``(k,)`` circle radii.
        log_weights: ``(k,)`` log-weights of the circles.
        sigma: standard deviation of the isotropic Gaussian noise.

    Returns:
        ``(n,)`` log-densities in nats, in the dtype of ``x``.
    """
    rho = as_points64(x).norm(dim=1, keepdim=True)
    r = radii.to(torch.float64)[None, :]
    log_rice = (
        -((rho - r) ** 2) / (2 * sigma**2)
        + torch.log(torch.special.i0e(rho * r / sigma**2))
        - LOG_2PI
        - 2 * math.log(sigma)
    )
    return torch.logsumexp(log_rice + log_weights.to(torch.float64), dim=1).to(x.dtype)


def box_gaussian_curve_log_prob(
    x: Tensor, corners: Tensor, log_weights: Tensor, width: float, sigma: float
) -> Tensor:
    """``log sum_k w_k p(x - corners_k)``, a sum of noisy uniform squares.

    ``p`` is the density of ``U([0, width]^2) + N(0, sigma^2 I)``; it factorises over the
    two coordinates, each factor a difference of two normal CDFs.
    When a coordinate takes few distinct values (a regular grid), its factor is tabulated
    once per value (unless ``x`` requires a gradient), so a grid costs little more than a
    Gaussian mixture; scattered points cost 4 normal log-CDFs per point and node.

    Arguments:
        x: ``(n, 2)`` points, any float dtype.
        corners: ``(k, 2)`` lower-left corners of the uniform squares.
        log_weights: ``(k,)`` log-weights.
        width: side of the uniform square.
        sigma: standard deviation of the Gaussian noise.

    Returns:
        ``(n,)`` log-densities in nats, in the dtype of ``x``.
    """
    z = as_points64(x)
    c = corners.to(torch.float64)
    lw = log_weights.to(torch.float64)
    # a regular grid has few distinct coordinate values: tabulate the kernel once for them
    tables = []
    for j in range(2):
        values, inverse = torch.unique(z[:, j].detach(), return_inverse=True)
        if values.shape[0] <= CHUNK and not z.requires_grad:
            tables.append((_log_box_gauss(values[:, None] - c[None, :, j], width, sigma), inverse))
        else:
            tables.append(None)
    out = []
    for i in range(0, max(z.shape[0], 1), CHUNK):
        parts = [
            _log_box_gauss(z[i : i + CHUNK, j, None] - c[:, j], width, sigma)
            if table is None
            else table[0].index_select(0, table[1][i : i + CHUNK])
            for j, table in enumerate(tables)
        ]
        out.append(torch.logsumexp(parts[0] + parts[1] + lw, dim=1))
    return torch.cat(out).to(x.dtype)
