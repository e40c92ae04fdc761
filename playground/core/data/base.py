"""The 2D density protocol shared by toy sets, mixtures and energy targets."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor

__all__ = ["Density2D", "NoDensityError", "NoSamplerError", "box_grid"]


class NoDensityError(RuntimeError):
    """The distribution has no exact density (for example its support is a curve)."""


class NoSamplerError(RuntimeError):
    """The distribution cannot be sampled exactly (an unnormalised energy target)."""


class Density2D:
    """A distribution on the plane: a sampler, and an exact density where one exists.

    Subclasses set the class attributes and override :meth:`_sample`, and where they
    have one, :meth:`unnormalized_log_prob` (with ``log_normalizer``) or :meth:`log_prob`.

    Attributes:
        name: the dataset name on the command line (``moons``, ``U1``, ...).
        box: the plotting box ``(xmin, xmax, ymin, ymax)``.
        can_sample: ``sample`` draws exact samples.
        has_log_prob: ``log_prob`` is the exact normalised density (in nats).
        is_energy: an unnormalised target for reverse-KL fitting (Rezende & Mohamed 2015).
        modes: ``(k, 2)`` mode means for mixtures with known modes, else ``None``.
        mode_std: the per-mode standard deviation of those mixtures.
        description: one line for ``list`` and the app.
    """

    name: ClassVar[str] = ""
    box: ClassVar[tuple[float, float, float, float]] = (-4.0, 4.0, -4.0, 4.0)
    can_sample: ClassVar[bool] = True
    has_log_prob: ClassVar[bool] = False
    is_energy: ClassVar[bool] = False
    modes: ClassVar[Tensor | None] = None
    mode_std: ClassVar[float | None] = None
    description: ClassVar[str] = ""
    dim: ClassVar[int] = 2
    is_image: ClassVar[bool] = False
    #: the kind of data (a model's ``data_kinds``): ``plane`` here, ``image``, ``sequence``
    kind: ClassVar[str] = "plane"

    #: log Z of ``unnormalized_log_prob`` in nats, where the density has one.
    log_normalizer: float = 0.0

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Draw ``n`` exact samples, shape ``(n, 2)``, float32, on the CPU.

        Arguments:
            n: number of samples.
            rng: the only source of randomness (no global state is touched).

        Raises:
            NoSamplerError: the distribution is an energy target with no exact sampler.
        """
        if not self.can_sample:
            raise NoSamplerError(
                f"{self.name} is an energy target: it has no exact sampler; "
                "fit it by reverse KL (objective=reverse_kl)"
            )
        return self._sample(n, rng)

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Samples ``(n, 2)`` and their mixture component ``(n,)`` int64 (mixtures only).

        Raises:
            NoDensityError: the distribution has no labelled components.
        """
        raise NoDensityError(f"{self.name} has no labelled components")

    def _sample(self, n: int, rng: torch.Generator) -> Tensor:
        raise NoSamplerError(f"{self.name} has no sampler")

    def unnormalized_log_prob(self, x: Tensor) -> Tensor:
        """``log p~(x)`` with ``p = p~ / Z``: shape ``(n, 2) -> (n,)``, nats.

        Raises:
            NoDensityError: no density exists (support of zero area).
        """
        return self.log_prob(x) + self.log_normalizer

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact normalised log-density ``log p(x)``: shape ``(n, 2) -> (n,)``, nats.

        Raises:
            NoDensityError: no closed form or quadrature exists for this distribution.
        """
        raise NoDensityError(
            f"{self.name} has no exact density (its support is a curve or its map is "
            "not one-to-one); use it with samplers and GANs"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def box_grid(
    box: tuple[float, float, float, float], resolution: int
) -> tuple[Tensor, Tensor, Tensor]:
    """A regular grid over a box, row-major (y rows, x columns).

    Arguments:
        box: ``(xmin, xmax, ymin, ymax)``.
        resolution: points per side.

    Returns:
        ``(points, xs, ys)``: points ``(resolution**2, 2)`` float32 with x varying
        fastest, and the axis coordinates ``(resolution,)`` each.
    """
    xmin, xmax, ymin, ymax = box
    xs = torch.linspace(xmin, xmax, resolution)
    ys = torch.linspace(ymin, ymax, resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1), xs, ys


def cell_area(box: tuple[float, float, float, float], resolution: int) -> float:
    """Area of one cell of :func:`box_grid` (for Riemann sums of densities)."""
    xmin, xmax, ymin, ymax = box
    return (xmax - xmin) / (resolution - 1) * (ymax - ymin) / (resolution - 1)


LOG_2PI = math.log(2 * math.pi)
