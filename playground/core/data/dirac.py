"""The Dirac distribution: all data at one point of the line, the Dirac-GAN's target.

A dataset of its own kind, ``point`` (beside ``plane``, ``image`` and ``sequence``): the
models of the plane and of images do not list it in their ``data_kinds``, so they refuse
it with the Session's "cannot train on" message; only the Dirac-GAN trains on it.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

__all__ = ["Dirac"]


class Dirac:
    """``p_D = delta_{x*}``: every sample is the point ``x* = 0`` of the real line.

    Attributes:
        name, description: the command-line name and one line for ``list``.
        kind: ``point``.
        point: ``x*``, the data point.
        dim: 1; samples are ``(n, 1)``.
        box: the plotting box of the Dirac-GAN's parameter plane ``(theta, psi)``.

    References:
        Mescheder, Geiger and Nowozin, "Which Training Methods for GANs do actually
        Converge?", ICML 2018, section 2.2 (the Dirac-GAN).
    """

    name: ClassVar[str] = "dirac"
    description: ClassVar[str] = "a point mass at 0 on the line (the Dirac-GAN's data)"
    kind: ClassVar[str] = "point"
    point: ClassVar[float] = 0.0
    dim: ClassVar[int] = 1
    is_image: ClassVar[bool] = False
    can_sample: ClassVar[bool] = True
    has_log_prob: ClassVar[bool] = False
    is_energy: ClassVar[bool] = False
    modes: ClassVar[Tensor | None] = None
    mode_std: ClassVar[float | None] = None
    box: ClassVar[tuple[float, float, float, float]] = (-2.0, 2.0, -2.0, 2.0)
    options: ClassVar[dict[str, type]] = {}
    #: no grid of discrete levels: held-out evaluation reports no bits per dimension
    levels: ClassVar[int | None] = None
    has_labels: ClassVar[bool] = False

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` copies of the point, ``(n, 1)`` float32 (``rng`` is not drawn from)."""
        return torch.full((n, 1), self.point)

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Samples ``(n, 1)`` and labels ``(n,)`` of ``-1`` (no classes)."""
        return self.sample(n, rng), torch.full((n,), -1, dtype=torch.long)

    def __repr__(self) -> str:
        return "Dirac(name='dirac')"
