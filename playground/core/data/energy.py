"""The energy targets U1..U4 of Rezende & Mohamed (2015, Table 1), normalised by quadrature."""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import torch
from torch import Tensor

from playground.core.data.base import Density2D
from playground.core.data.quadrature import CHUNK, as_points64

__all__ = ["EnergyTarget", "U1", "U2", "U3", "U4", "WALL", "WALL_STD"]

#: ``|z_1|`` beyond which U2-U4 get a quadratic wall (the figures of the paper show [-4, 4]^2).
WALL = 4.0
#: the wall is ``0.5 ((|z_1| - WALL)_+ / WALL_STD)^2``.
WALL_STD = 0.2

# the normaliser is a Riemann sum on this grid (cells of 0.02, a node at |z1| = 4 where the
# wall starts): the integrands are smooth on scales >= 0.2 and negligible (< e^-16 of the
# peak) on its border; a grid 4 times finer over [-8, 8]^2 agrees to 1e-10 in log Z
_Z_HALF_WIDTH = 6.0
_Z_POINTS = 601


def _w1(z1: Tensor) -> Tensor:
    return torch.sin(2 * math.pi * z1 / 4)


def _w2(z1: Tensor) -> Tensor:
    return 3 * torch.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)


def _w3(z1: Tensor) -> Tensor:
    return 3 * torch.sigmoid((z1 - 1) / 0.3)


def _neg_log_sum_exp(a: Tensor, b: Tensor) -> Tensor:
    """``-ln(e^a + e^b)``, stable."""
    return -torch.logaddexp(a, b)


class EnergyTarget(Density2D, metaclass=abc.ABCMeta):
    """An unnormalised target ``p(z) = exp(-U(z)) / Z`` for fitting a flow by reverse KL.

    ``energy`` is ``U`` (nats), ``unnormalized_log_prob`` is ``-U``, and ``log_prob`` is
    ``-U - log Z`` with ``log Z`` computed once per class by a float64 Riemann sum on a
    601 x 601 grid over ``[-6, 6]^2`` (exact to about 1e-10, far below the 1e-4 needed to
    report the exact reverse KL of a fitted flow). All three are differentiable in ``x``.
    There is no exact sampler: ``sample`` raises :class:`NoSamplerError`.

    References:
        Rezende & Mohamed, "Variational inference with normalizing flows", ICML 2015,
        Table 1.
    """

    can_sample = False
    has_log_prob = True
    is_energy = True
    box = (-4.0, 4.0, -4.0, 4.0)
    _log_z: ClassVar[dict[str, float]] = {}

    @abc.abstractmethod
    def _energy(self, z1: Tensor, z2: Tensor) -> Tensor:
        """``U`` at the points ``(z1, z2)``, float64 ``(n,)`` each."""

    def energy(self, x: Tensor) -> Tensor:
        """The energy ``U(x)``: ``(n, 2) -> (n,)`` in nats, in the dtype of ``x``, differentiable.

        Raises:
            ValueError: ``x`` is not of shape ``(n, 2)``.
        """
        z = as_points64(x)
        return self._energy(z[:, 0], z[:, 1]).to(x.dtype)

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        """``-U(x)``: ``(n, 2) -> (n,)`` in nats, in the dtype of ``x``."""
        return -self.energy(x)

    @property
    def log_normalizer(self) -> float:  # type: ignore[override]
        """``log Z = log int exp(-U)`` in nats, computed on first use and cached per class."""
        if self.name not in EnergyTarget._log_z:
            axis = torch.linspace(-_Z_HALF_WIDTH, _Z_HALF_WIDTH, _Z_POINTS, dtype=torch.float64)
            cell = math.log((axis[1] - axis[0]).item() ** 2)
            rows = []
            for i in range(0, _Z_POINTS, CHUNK // 8):
                z2, z1 = torch.meshgrid(axis[i : i + CHUNK // 8], axis, indexing="ij")
                rows.append(torch.logsumexp(-self._energy(z1.reshape(-1), z2.reshape(-1)), 0))
            EnergyTarget._log_z[self.name] = torch.logsumexp(torch.stack(rows), 0).item() + cell
        return EnergyTarget._log_z[self.name]

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact normalised ``log p(x) = -U(x) - log Z``: ``(n, 2) -> (n,)`` in nats."""
        return (-self.energy(x.to(torch.float64)) - self.log_normalizer).to(x.dtype)


def _wall(z1: Tensor) -> Tensor:
    return 0.5 * ((z1.abs() - WALL).clamp(min=0) / WALL_STD) ** 2


class U1(EnergyTarget):
    """A ring of radius 2 with two lobes at ``z1 = +-2``; normalisable as it is (no wall).

    ``U1 = 0.5 ((|z| - 2) / 0.4)^2 - ln(e^{-0.5 ((z1 - 2) / 0.6)^2} + e^{-0.5 ((z1 + 2) / 0.6)^2})``
    (with ``|z|`` the Euclidean norm).
    """

    name = "U1"
    description = "Rezende-Mohamed U1: ring with two lobes (energy target, no sampler)"

    def _energy(self, z1: Tensor, z2: Tensor) -> Tensor:
        ring = 0.5 * ((torch.sqrt(z1**2 + z2**2) - 2) / 0.4) ** 2
        return ring + _neg_log_sum_exp(-0.5 * ((z1 - 2) / 0.6) ** 2, -0.5 * ((z1 + 2) / 0.6) ** 2)


class U2(EnergyTarget):
    """``U2 = 0.5 ((z2 - w1(z1)) / 0.4)^2`` plus the wall, ``w1 = sin(2 pi z1 / 4)``.

    Without the wall the mass is constant along ``z1`` and the density does not normalise
    on the plane; as in the paper's figures on ``[-4, 4]^2``, U2-U4 add
    ``0.5 ((|z1| - 4)_+ / 0.2)^2``, zero inside ``|z1| <= 4``.
    """

    name = "U2"
    description = "Rezende-Mohamed U2: a sine wave (energy target, walls at |z1| = 4)"

    def _energy(self, z1: Tensor, z2: Tensor) -> Tensor:
        return 0.5 * ((z2 - _w1(z1)) / 0.4) ** 2 + _wall(z1)


class U3(EnergyTarget):
    """``U3 = -ln(e^{-0.5 ((z2 - w1) / 0.35)^2} + e^{-0.5 ((z2 - w1 + w2) / 0.35)^2})`` + wall.

    ``w2 = 3 exp(-0.5 ((z1 - 1) / 0.6)^2)``; the wall is the one of :class:`U2`.
    """

    name = "U3"
    description = "Rezende-Mohamed U3: a sine wave that splits (energy target, walls at |z1| = 4)"

    def _energy(self, z1: Tensor, z2: Tensor) -> Tensor:
        d = z2 - _w1(z1)
        split = _neg_log_sum_exp(-0.5 * (d / 0.35) ** 2, -0.5 * ((d + _w2(z1)) / 0.35) ** 2)
        return split + _wall(z1)


class U4(EnergyTarget):
    """``U4 = -ln(e^{-0.5 ((z2 - w1) / 0.4)^2} + e^{-0.5 ((z2 - w1 + w3) / 0.35)^2})`` + wall.

    ``w3 = 3 sigmoid((z1 - 1) / 0.3)``; the wall is the one of :class:`U2`.
    """

    name = "U4"
    description = "Rezende-Mohamed U4: two sine waves (energy target, walls at |z1| = 4)"

    def _energy(self, z1: Tensor, z2: Tensor) -> Tensor:
        d = z2 - _w1(z1)
        split = _neg_log_sum_exp(-0.5 * (d / 0.4) ** 2, -0.5 * ((d + _w3(z1)) / 0.35) ** 2)
        return split + _wall(z1)
