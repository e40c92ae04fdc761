"""Datasets by name: 2D densities (FFJORD toy sets, GAN mixtures, energy targets, the
posterior-collapse Gaussians) and small image sets (digits, shapes, a user's folder)."""

from __future__ import annotations

from typing import Any

from playground.core import specs
from playground.core.data.base import Density2D, NoDensityError, NoSamplerError, box_grid
from playground.core.data.dirac import Dirac
from playground.core.data.energy import U1, U2, U3, U4
from playground.core.data.folder import EmptyFolderError, Folder
from playground.core.data.four_points import FourPoints
from playground.core.data.gaussian import Gaussian2DAxis, Gaussian2DRotated
from playground.core.data.images import Digits, ImageDataset, Shapes
from playground.core.data.mixtures import EightGaussians, Grid25, Ring8
from playground.core.data.points import Points
from playground.core.data.sequences import SequenceDataset, Waveforms
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
from playground.core.data.weighted import GMM82

__all__ = [
    "DATASETS",
    "IMAGE_DATASETS",
    "SEQUENCE_DATASETS",
    "ALL_DATASETS",
    "Density2D",
    "ImageDataset",
    "EmptyFolderError",
    "parse_dataset_spec",
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
        GMM82,
        U1,
        U2,
        U3,
        U4,
        Gaussian2DAxis,
        Gaussian2DRotated,
    )
}

#: every image set by its command-line name; ``folder`` needs ``path=...``.
IMAGE_DATASETS: dict[str, type[ImageDataset]] = {
    cls.name: cls for cls in (Digits, Shapes, FourPoints, Folder)
}

#: every sequence set by its command-line name (``kind = "sequence"``, ``(n, 1, T)``).
SEQUENCE_DATASETS: dict[str, type[SequenceDataset]] = {cls.name: cls for cls in (Waveforms,)}

#: 2D densities, then image sets, then sequence sets, then the Dirac-GAN's point mass.
ALL_DATASETS: dict[str, type] = {
    **DATASETS,
    **IMAGE_DATASETS,
    **SEQUENCE_DATASETS,
    Dirac.name: Dirac,
    Points.name: Points,  # a user's CSV: points:path=FILE.csv
}


class UnknownDatasetError(ValueError):
    """No dataset has this name, or the spec's options are wrong; the message says which."""


def parse_dataset_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split a dataset spec ``NAME[:KEY=VALUE[,KEY=VALUE...]]`` into name and options.

    Examples: ``moons``, ``digits:binarize=true``, ``shapes:size=20``,
    ``folder:path=~/faces,size=16``. For ``folder`` a bare value is the path
    (``folder:~/faces``). Option values are parsed to the type the dataset declares.

    Raises:
        UnknownDatasetError: unknown name, an option the dataset does not have, or a
            value that does not parse.
    """
    options_of = {name: getattr(cls, "options", {}) for name, cls in ALL_DATASETS.items()}
    return specs.parse_dataset_spec(spec, options_of, UnknownDatasetError)


def make_dataset(spec: str, points: Any = None) -> Density2D | ImageDataset:
    """The dataset a spec names (see :func:`parse_dataset_spec`).

    Arguments:
        spec: ``moons``, ``8gaussians``, ``U1``, ``digits``, ``shapes:size=20``, ...
        points: ``(n, 2)`` points drawn or imported in the app, with ``spec="points"``:
            their empirical distribution (:class:`Points`).

    Returns:
        A new :class:`Density2D` or :class:`ImageDataset`.

    Raises:
        UnknownDatasetError: an unknown name or option.
        EmptyFolderError: a folder with no readable image.
        ValueError: an option value out of range (the message says which), or
            ``points`` with another spec than ``points``.
    """
    if points is not None:
        if spec != Points.name:
            raise ValueError(f"points are given with the dataset {Points.name!r}, not {spec!r}")
        return Points(points=points)
    name, options = parse_dataset_spec(spec)
    return ALL_DATASETS[name](**options)
