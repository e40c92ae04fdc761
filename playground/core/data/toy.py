"""The FFJORD toy densities (Grathwohl et al. 2019, lib/toy_data.py), with exact densities."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import Tensor

from playground.core.data.base import Density2D
from playground.core.data.quadrature import (
    as_points64,
    box_gaussian_curve_log_prob,
    curve_rule,
    equal_arc_edges,
    gaussian_mixture_log_prob,
    ring_mixture_log_prob,
)

__all__ = [
    "Swissroll",
    "Circles",
    "Rings",
    "Moons",
    "Pinwheel",
    "TwoSpirals",
    "Checkerboard",
    "Line",
    "Cos",
]

# Every recipe follows FFJORD's lib/toy_data.py, except that a parameter FFJORD spaces
# on a fixed grid (sklearn's linspace angles, class counts split evenly) is drawn at
# random here, so that the samples are i.i.d. from the density that log_prob returns.
#
# References:
#     Grathwohl et al., "FFJORD: Free-form continuous dynamics for scalable reversible
#     generative models", ICLR 2019; github.com/rtqichen/ffjord, lib/toy_data.py.


def _uniform(n: int, rng: torch.Generator) -> Tensor:
    return torch.rand(n, generator=rng, dtype=torch.float64)


def _normal(n: int, rng: torch.Generator) -> Tensor:
    return torch.randn(n, 2, generator=rng, dtype=torch.float64)


def _coin(n: int, rng: torch.Generator) -> Tensor:
    return torch.randint(0, 2, (n,), generator=rng)


class Swissroll(Density2D):
    """sklearn's ``make_swiss_roll(noise=1.0)``, coordinates (x, z), divided by 5.

    ``t ~ U(1.5 pi, 4.5 pi)``, ``x = (t cos t, t sin t) / 5 + N(0, 0.2^2 I)``. The density
    is the integral over ``t`` by composite Gauss-Legendre quadrature, 8 nodes on each of
    128 pieces of equal arc length (0.7 noise std per piece): log p is exact to 1e-8
    inside the box and to 1e-4 far outside it.
    """

    name = "swissroll"
    has_log_prob = True
    description = "FFJORD swiss roll: a noisy spiral arc (exact density by quadrature)"
    sigma = 0.2
    #: quadrature pieces of equal arc length, 8 Gauss-Legendre nodes each
    panels = 128

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        t = 1.5 * math.pi * (1 + 2 * _uniform(n, rng))
        arc = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
        return ((arc + _normal(n, rng)) / 5).float()

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)`` in nats: ``(n, 2) -> (n,)`` (else ValueError), dtype of ``x``."""
        return gaussian_mixture_log_prob(x, *_swissroll_rule(self.panels), self.sigma)


class Circles(Density2D):
    """sklearn's ``make_circles(factor=0.5, noise=0.08)``, times 3.

    Circle of radius 3 or 1.5 with probability 1/2, angle ``U(0, 2 pi)``, noise
    ``N(0, 0.24^2 I)``. The angular integral is closed form (Rice density, Bessel I0).
    """

    name = "circles"
    has_log_prob = True
    description = "FFJORD circles: two concentric noisy circles (exact density, Rice)"
    radii = (3.0, 1.5)
    sigma = 0.24

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        k = torch.randint(0, len(self.radii), (n,), generator=rng)
        r = torch.tensor(self.radii, dtype=torch.float64)[k]
        a = 2 * math.pi * _uniform(n, rng)
        circle = r[:, None] * torch.stack([torch.cos(a), torch.sin(a)], dim=1)
        return (circle + self.sigma * _normal(n, rng)).float()

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)`` in nats: ``(n, 2) -> (n,)`` (else ValueError), dtype of ``x``."""
        k = len(self.radii)
        return ring_mixture_log_prob(
            x, torch.tensor(self.radii), torch.full((k,), -math.log(k)), self.sigma
        )


class Rings(Circles):
    """FFJORD's rings: radii 1, 0.75, 0.5, 0.25 times 3, then ``N(0, 0.08^2 I)`` noise.

    FFJORD splits the batch into four groups at evenly spaced angles; here the ring is
    drawn with probability 1/4 and the angle from ``U(0, 2 pi)``. Exact density (Rice).
    """

    name = "rings"
    description = "FFJORD rings: four concentric noisy circles (exact density, Rice)"
    radii = (3.0, 2.25, 1.5, 0.75)
    sigma = 0.08


class Moons(Density2D):
    """sklearn's ``make_moons(noise=0.1)``, then ``2 x + (-1, -0.2)``.

    ``t ~ U(0, pi)`` (sklearn spaces it on a grid), moon chosen with probability 1/2:
    outer ``(cos t, sin t)``, inner ``(1 - cos t, 0.5 - sin t)``; after the affine map the
    noise is ``N(0, 0.2^2 I)``. The density integrates over ``t`` by composite
    Gauss-Legendre quadrature (64 pieces of 8 nodes per moon): exact to 1e-6 in log p.
    """

    name = "moons"
    has_log_prob = True
    description = "FFJORD two moons: two interleaved noisy half circles (exact, quadrature)"
    sigma = 0.2
    #: quadrature pieces per moon, 8 Gauss-Legendre nodes each
    panels = 64

    @staticmethod
    def _arc(t: Tensor, inner: Tensor) -> Tensor:
        c, s = torch.cos(t), torch.sin(t)
        moon = torch.where(inner[:, None], torch.stack([1 - c, 0.5 - s], 1), torch.stack([c, s], 1))
        return 2 * moon + torch.tensor([-1.0, -0.2], dtype=torch.float64)

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        inner = _coin(n, rng).bool()
        t = math.pi * _uniform(n, rng)
        return (self._arc(t, inner) + self.sigma * _normal(n, rng)).float()

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)`` in nats: ``(n, 2) -> (n,)`` (else ValueError), dtype of ``x``."""
        return gaussian_mixture_log_prob(x, *_moons_rule(self.panels), self.sigma)


class Pinwheel(Density2D):
    """FFJORD's pinwheel: five arms, radial std 0.3, tangential std 0.1, rate 0.25.

    ``f = (1, 0) + N(0, diag(0.3^2, 0.1^2))``, arm ``k ~ U{0..4}`` (FFJORD splits the batch
    evenly), ``theta = 2 pi k / 5 + 0.25 exp(f_0)``, ``x = 2 R(-theta) f``.

    No exact density: the map ``f -> R(-theta(f_0)) f`` has Jacobian determinant
    ``1 + 0.25 exp(f_0) f_1``, which changes sign (it is -0.108 at ``f = (2, -0.6)``), so
    the map folds the plane and is not one-to-one: the change of variables does not apply.
    The fold holds only about 1e-9 of the mass of ``f``, but an exact density would have to
    sum over every preimage of ``x`` (roots of a circle map), which has no closed form;
    ``log_prob`` raises :class:`NoDensityError` rather than return an approximation.
    """

    name = "pinwheel"
    description = "FFJORD pinwheel: five curved arms (no exact density: map not one-to-one)"

    @staticmethod
    def pinwheel_map(f: Tensor, k: Tensor) -> Tensor:
        """The map ``(f, arm) -> x`` before the final factor 2: ``(n, 2), (n,) -> (n, 2)``."""
        theta = 2 * math.pi * k / 5 + 0.25 * torch.exp(f[:, 0])
        c, s = torch.cos(theta), torch.sin(theta)
        rotation = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
        return torch.einsum("ti,tij->tj", f, rotation)

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        k = torch.randint(0, 5, (n,), generator=rng).to(torch.float64)
        f = _normal(n, rng) * torch.tensor([0.3, 0.1], dtype=torch.float64)
        f[:, 0] += 1.0
        return (2 * self.pinwheel_map(f, k)).float()


class TwoSpirals(Density2D):
    """FFJORD's two spirals.

    ``n = 3 pi sqrt(u)`` (density ``2 n / (3 pi)^2`` on ``[0, 3 pi]``), the point
    ``d = (-n cos n, n sin n) + U([0, 0.5]^2)`` or ``-d`` with probability 1/2, divided by 3,
    plus ``N(0, 0.1^2 I)``. Given ``n``, each coordinate is a uniform of width 1/6 plus a
    Gaussian, whose density is a difference of normal CDFs (the mirrored branch is the
    uniform square below-left of ``-c(n)``); the integral over ``n`` uses composite
    Gauss-Legendre quadrature on 64 pieces of equal arc length per branch. log p is
    exact to 1e-7 where ``log p > -20`` (all the mass) and to 1e-4 down to ``-50``.
    """

    name = "2spirals"
    has_log_prob = True
    description = "FFJORD two spirals: two interleaved noisy spirals (exact, quadrature)"
    width = 1 / 6
    sigma = 0.1
    #: quadrature pieces of equal arc length per spiral, 8 Gauss-Legendre nodes each
    panels = 64

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        t = torch.sqrt(_uniform(n, rng)) * 3 * math.pi
        d = torch.stack([-torch.cos(t) * t, torch.sin(t) * t], 1)
        d = d + 0.5 * torch.rand(n, 2, generator=rng, dtype=torch.float64)
        sign = 1 - 2 * _coin(n, rng).to(torch.float64)
        return (sign[:, None] * d / 3 + self.sigma * _normal(n, rng)).float()

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)`` in nats: ``(n, 2) -> (n,)`` (else ValueError), dtype of ``x``."""
        return box_gaussian_curve_log_prob(x, *_spirals_rule(self.panels), self.width, self.sigma)


class Checkerboard(Density2D):
    """FFJORD's checkerboard: uniform on 8 of the 16 squares of side 2 in ``[-4, 4]^2``.

    ``log p = -log 32`` on the support (a square whose index sum is even) and ``-inf``
    off it; the edges of the squares are a null set and count as the support.
    """

    name = "checkerboard"
    has_log_prob = True
    description = "FFJORD checkerboard: uniform on 8 squares (exact density, -inf off them)"

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        x1 = _uniform(n, rng) * 4 - 2
        x2 = _uniform(n, rng) - 2 * _coin(n, rng).to(torch.float64)
        x2 = x2 + torch.remainder(torch.floor(x1), 2)
        return (2 * torch.stack([x1, x2], 1)).float()

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)``: ``(n, 2) -> (n,)`` nats, ``-inf`` off the squares, dtype of ``x``."""
        u = as_points64(x) / 2
        inside = (u.abs() <= 2).all(1)
        cell = torch.floor(u.clamp(-2, 2 - 1e-12))
        even = torch.remainder(cell.sum(1), 2) == 0
        out = torch.full((u.shape[0],), -math.inf, dtype=torch.float64)
        out[inside & even] = -math.log(32)
        return out.to(x.dtype)


@functools.cache
def _swissroll_rule(panels: int) -> tuple[Tensor, Tensor]:
    t0, t1 = 1.5 * math.pi, 4.5 * math.pi
    return curve_rule(
        lambda t: torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / 5,
        lambda t: torch.full_like(t, -math.log(t1 - t0)),
        equal_arc_edges(lambda t: np.sqrt(1 + t * t) / 5, t0, t1, panels),
    )


@functools.cache
def _moons_rule(panels: int) -> tuple[Tensor, Tensor]:
    edges = np.linspace(0.0, math.pi, panels + 1)
    rules = [
        curve_rule(
            lambda t, inner=inner: Moons._arc(t, torch.full(t.shape, inner)),
            lambda t: torch.full_like(t, -math.log(2 * math.pi)),
            edges,
        )
        for inner in (False, True)
    ]
    return torch.cat([rules[0][0], rules[1][0]]), torch.cat([rules[0][1], rules[1][1]])


@functools.cache
def _spirals_rule(panels: int) -> tuple[Tensor, Tensor]:
    top = 3 * math.pi
    corners, log_w = curve_rule(
        lambda t: torch.stack([-torch.cos(t) * t, torch.sin(t) * t], 1) / 3,
        lambda t: torch.log(2 * t / top**2),
        equal_arc_edges(lambda t: np.sqrt(1 + t * t) / 3, 0.0, top, panels),
    )
    # the mirrored branch -(c + a) = (-c - width) + (width - a): a square below-left of -c
    mirrored = -corners - TwoSpirals.width
    return torch.cat([corners, mirrored]), torch.cat([log_w, log_w]) - math.log(2)


class Line(Density2D):
    """FFJORD's line: ``x ~ U(-2.5, 2.5)``, ``y = x``.

    No density: the support is a segment, of zero area; ``log_prob`` raises
    :class:`NoDensityError`.
    """

    name = "line"
    description = "FFJORD line: uniform on the diagonal segment (no density: a curve)"

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        x = _uniform(n, rng) * 5 - 2.5
        return torch.stack([x, x], 1).float()


class Cos(Density2D):
    """FFJORD's ``cos`` (which uses a sine): ``x ~ U(-2.5, 2.5)``, ``y = 2.5 sin x``.

    No density: the support is a curve, of zero area; ``log_prob`` raises
    :class:`NoDensityError`.
    """

    name = "cos"
    description = "FFJORD cos: uniform along a sine wave (no density: a curve)"

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        x = _uniform(n, rng) * 5 - 2.5
        return torch.stack([x, 2.5 * torch.sin(x)], 1).float()
