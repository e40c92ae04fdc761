"""What every picture shares: the :class:`Snapshot` that carries the pictures of one step,
the :class:`Picture` entry of the registry, the :class:`SnapshotContext` a picture is built
from, and the image helpers (:func:`finite_image`, :func:`target_image`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..data.base import Density2D, box_grid

__all__ = [
    "Snapshot",
    "Picture",
    "SnapshotContext",
    "finite_image",
    "target_image",
    "ZERO_DENSITY_DROP",
    "OVERLAY_POINTS",
]

#: data points drawn over a picture (enough to read a density, light enough for 10 Hz)
OVERLAY_POINTS = 500


class Snapshot:
    """What the views draw at one step: the pictures (numpy arrays, never tensors) and the
    set of views it was made for. Immutable.

    A part is read as an attribute (``snapshot.density``): the picture, or ``None`` when
    it was not asked for or the model has none (a GAN's manifold for a latent of more than
    two dimensions is ``None`` although it was asked for: :attr:`views` says so).

    Arguments:
        step: the session's step count.
        box: plotting box ``(xmin, xmax, ymin, ymax)``.
        terms: the latest loss terms.
        views: the picture names this snapshot was made for; default: those given in
            ``parts``, ``None`` values included.
        previews: picture name to what was cut to make it a preview (``250 of 1,000
            particles; 15 of 150 Langevin steps per level``, see
            :mod:`~playground.core.sampling.budget`), for the pictures that are previews.
        **parts: picture name (a :data:`~.registry.PICTURES` key) to picture.

    Raises:
        AttributeError: on setting an attribute (snapshots cross threads unchanged).
    """

    __slots__ = ("step", "box", "terms", "views", "previews", "parts")

    def __init__(
        self,
        step: int,
        box: tuple[float, float, float, float],
        terms: Mapping[str, float] | None = None,
        views: Iterable[str] | None = None,
        previews: Mapping[str, str] | None = None,
        **parts: Any,
    ):
        set_ = object.__setattr__
        set_(self, "step", int(step))
        set_(self, "box", tuple(box))
        set_(self, "terms", MappingProxyType(dict(terms or {})))
        set_(self, "views", frozenset(parts if views is None else views))
        set_(self, "previews", MappingProxyType(dict(previews or {})))
        set_(self, "parts", MappingProxyType(dict(parts)))

    def __getattr__(self, name: str) -> Any:
        # only called for names that are not slots: the parts
        if name.startswith("__"):
            raise AttributeError(name)
        return self.parts.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Snapshot is immutable; use with_parts")

    def made_for(self, name: str) -> bool:
        """Whether the picture ``name`` was asked for (it may still be ``None``)."""
        return name in self.views

    def with_parts(self, **parts: Any) -> Snapshot:
        """A copy with ``parts`` added (or replaced, and then no longer previews), made for
        their views too."""
        previews = {k: v for k, v in self.previews.items() if k not in parts}
        return Snapshot(
            self.step,
            self.box,
            self.terms,
            self.views | set(parts),
            previews,
            **{**self.parts, **parts},
        )

    def __reduce__(self):
        return (
            partial(Snapshot, **dict(self.parts)),
            (self.step, self.box, dict(self.terms), tuple(self.views), dict(self.previews)),
        )

    def __repr__(self) -> str:
        return f"Snapshot(step={self.step}, views={sorted(self.views)})"


@dataclass(frozen=True)
class SnapshotContext:
    """What a picture is built from: a session's model (on the app's snapshot thread, a
    frozen copy of its weights), its data and the state the pictures keep. Built by
    :meth:`Session.snapshot_context <playground.core.training.session.Session>`.

    Attributes:
        model: the :class:`~playground.core.models.base.GenerativeModel`, in eval mode.
        data: the session's dataset (a 2D density or an image set).
        device: the model's device.
        seed: the session's seed; each picture draws its fixed noise from ``seed + k``.
        overlay: ``(m, 2)`` (or ``(m, c, h, w)``) fixed data samples drawn over pictures,
            or ``None`` for a target without a sampler.
        target_cache: a dict the session keeps, so what depends only on the data (the
            target's grid, its score field, noised densities) is computed once.
        chains, chain_settings, chain_cache, chain_options: the Langevin chains view's
            persistent state (:class:`~playground.core.sampling.chains.LangevinChains`),
            its controls, its cache and the sources offered.
        test_set: returns the held-out ``(points, labels or None)``, computed once.
        history: the session's :class:`~playground.core.training.history.History`.
        resolution: grid points per side of the density picture.
    """

    model: Any
    data: Any
    device: torch.device
    seed: int
    overlay: Tensor | None
    target_cache: dict
    chains: Any = None
    chain_settings: Any = None
    chain_cache: dict = field(default_factory=dict)
    chain_options: Mapping[str, Any] = field(default_factory=dict)
    test_set: Callable[[], tuple[Tensor, Tensor | None]] | None = None
    history: Any = None
    resolution: int = 128

    @property
    def is_image(self) -> bool:
        """Whether the data is an image set."""
        return bool(self.data.is_image)

    def overlay_points(self, n: int) -> np.ndarray | None:
        """The first ``n`` overlay samples as float32 numpy, or ``None``."""
        return None if self.overlay is None else self.overlay[:n].numpy()


@dataclass(frozen=True)
class Picture:
    """One entry of the picture registry (:data:`~.registry.PICTURES`).

    Attributes:
        name: the picture's name: a :class:`Snapshot` part and the app view that draws it.
        build: ``build(context) -> picture`` (a frozen dataclass of numpy arrays, or
            ``None`` when this model has nothing to draw there).
        needs: model capabilities of which it needs one (empty: any model).
        data: ``"plane"`` (2D densities), ``"image"`` (image sets), ``"sequence"``
            (sequence sets) or ``None`` (any).
        offered: a further test ``offered(context) -> bool`` (known modes, a chain source).
        rate: the most snapshots per second while it is on show (``None``: the app's cap),
            for pictures that are costly to paint and change slowly.
        live: it moves while training is paused (the chains), so it is snapshot on the
            clock.
        reads_model: False for pictures of the training record (curves), which are built on
            the training thread from the live session, not from the frozen copy.
    """

    name: str
    build: Callable[[SnapshotContext], Any]
    needs: tuple[str, ...] = ()
    data: str | None = None
    offered: Callable[[SnapshotContext], bool] | None = None
    rate: float | None = None
    live: bool = False
    reads_model: bool = True

    def is_offered(self, context: SnapshotContext, capabilities: Iterable[str]) -> bool:
        """Whether the session of ``context`` (its model has ``capabilities``) shows it."""
        if self.needs and not set(self.needs) & set(capabilities):
            return False
        if self.data is not None and self.data != context.data.kind:
            return False
        return self.offered is None or bool(self.offered(context))


#: nats below the finite minimum at which a zero density is drawn
ZERO_DENSITY_DROP = 20.0


def finite_image(values: torch.Tensor, res: int) -> np.ndarray:
    """``values`` (``res * res`` log-densities, row-major over the grid) as a ``(res, res)``
    float32 image with ``-inf`` (zero density) replaced by the finite minimum less
    :data:`ZERO_DENSITY_DROP` (so images have no NaN or inf, and contours find a support's
    edge)."""
    img = values.detach().float().cpu().reshape(res, res).numpy()
    finite = np.isfinite(img)
    if not finite.all():
        # zero density (off a uniform target's support) sits well below the finite minimum,
        # so contours still find the support's edge
        floor = img[finite].min() - ZERO_DENSITY_DROP if finite.any() else 0.0
        img = np.where(finite, img, floor)
    return np.ascontiguousarray(img, dtype=np.float32)


@torch.no_grad()
def target_image(
    data: Density2D, resolution: int, target_cache: dict | None = None
) -> np.ndarray | None:
    """The target's exact log-density on the ``resolution``-squared box grid (a
    :func:`finite_image`), or ``None`` where it has none; computed once per
    ``target_cache`` (a dict the caller keeps) and resolution."""
    if not data.has_log_prob:
        return None
    key = ("target", resolution)
    if target_cache is not None and key in target_cache:
        return target_cache[key]
    pts, _, _ = box_grid(data.box, resolution)
    target = finite_image(data.log_prob(pts), resolution)
    if target_cache is not None:
        target_cache[key] = target
    return target
