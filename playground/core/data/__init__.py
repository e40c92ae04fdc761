"""2D densities by name: the FFJORD toy sets, GAN benchmark mixtures and energy targets."""

from __future__ import annotations

from playground.core.data.base import Density2D, NoDensityError, NoSamplerError, box_grid
from playground.core.data.energy import U1, U2, U3, U4
from playground.core.data.mixtures import EightGaussians, Grid25, Ring8
from playground.core.data.toy import (
    Checkerboard,
    Circles,
    Cos,
    Line,
    Moons,
    Pinwheel,
    Rings,
    Swissroll,
    TwoSpirals,
)

__all__ = [
    "DATASETS",
    "Density2D",
    "NoDensityError",
    "NoSamplerError",
    "UnknownDatasetError",
    "box_grid",
    "make_dataset",
]

#: every 2D density by its command-line name, in display order: the FFJORD toy sets,
#: then the GAN benchmark mixtures, then the energy targets.
DATASETS: dict[str, type[Density2D]] = {
    cls.name: cls
    for cls in (
        Swissroll,
        Circles,
        Rings,
        Moons,
        EightGaussians,
        Pinwheel,
        TwoSpirals,
        Checkerboard,
        Line,
        Cos,
        Ring8,
        Grid25,
        U1,
        U2,
        U3,
        U4,
    )
}


class UnknownDatasetError(ValueError):
    """No 2D density has this name; the message lists the valid names."""


def make_dataset(name: str) -> Density2D:
    """The 2D density called ``name``.

    Arguments:
        name: a key of :data:`DATASETS` (``moons``, ``8gaussians``, ``U1``, ...).

    Returns:
        A new instance of that density.

    Raises:
        UnknownDatasetError: ``name`` is not a key of :data:`DATASETS`.
    """
    try:
        return DATASETS[name]()
    except KeyError:
        valid = ", ".join(DATASETS)
        raise UnknownDatasetError(f"unknown dataset {name!r}; valid names: {valid}") from None
