"""The code usage picture of a VQ-VAE (capability ``codebook``): how often each code of
the codebook is chosen over the test set, with its perplexity, beside how often the prior
draws it; and the code maps of a few test images beside code maps drawn from the prior,
with their decodings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..hyperparameters import to_dict
from .base import SnapshotContext

__all__ = ["CodeUsage", "code_usage", "picture", "usage_perplexity", "MAPS", "PRIOR_MAPS"]

#: test images and prior samples whose code maps are drawn
MAPS = 4
#: code maps drawn from the prior for its usage shares (the first MAPS are shown)
PRIOR_MAPS = 256
#: test points whose codes are counted at most
TEST_POINTS = 1000
#: the prior's samples come from the session's seed plus this
PRIOR_SEED_OFFSET = 23


def usage_perplexity(counts: np.ndarray) -> float:
    """``exp(H(p))`` of the usage shares ``p = counts / sum(counts)``, in codes: 1 when one
    code takes every position, ``K`` when all ``K`` are used equally; 0 for no counts.

    References:
        van den Oord, Vinyals and Kavukcuoglu, "Neural Discrete Representation Learning",
        NeurIPS 2017 (the codebook perplexity their implementations log).
    """
    total = float(counts.sum())
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


@dataclass(frozen=True)
class CodeUsage:
    """A VQ-VAE's codebook at one step.

    Attributes:
        counts: ``(K,)`` int64: how often each code is the nearest one, over every
            position of the test points' code maps.
        perplexity: :func:`usage_perplexity` of ``counts``, codes.
        prior_share: ``(K,)`` float64: each code's share of the positions of
            :data:`PRIOR_MAPS` code maps drawn from the prior (sums to 1).
        prior_perplexity: :func:`usage_perplexity` of those draws, codes.
        prior: the model's prior (``uniform``, ``pixelcnn``).
        test_maps, sample_maps: ``(MAPS, h, w)`` int64 code maps of test images and of
            prior samples; ``None`` on the plane (one code per point: no map to draw).
        test_images, sample_images: ``(MAPS, H, W)`` float32 in ``[0, 1]``: the test
            images and the decodings of the sampled maps; ``None`` on the plane.
    """

    counts: np.ndarray
    perplexity: float
    prior_share: np.ndarray
    prior_perplexity: float
    prior: str
    test_maps: np.ndarray | None
    sample_maps: np.ndarray | None
    test_images: np.ndarray | None
    sample_images: np.ndarray | None

    @property
    def codebook_size(self) -> int:
        """``K``."""
        return int(len(self.counts))

    @property
    def codes_used(self) -> int:
        """Codes chosen at least once over the test set."""
        return int((self.counts > 0).sum())


def _numpy(x: torch.Tensor, dtype) -> np.ndarray:
    return np.ascontiguousarray(x.detach().cpu().numpy().astype(dtype))


@torch.no_grad()
def code_usage(
    model, test: torch.Tensor, rng: torch.Generator, is_image: bool, prior: str = ""
) -> CodeUsage:
    """The :class:`CodeUsage` of a model with the capability ``codebook``.

    Arguments:
        model: its ``code_usage``, ``code_indices``, ``sample_codes`` and ``decode_codes``
            are called.
        test: ``(n, ...)`` held-out points on the model's device (images ``(n, 1, H, W)``).
        rng: the source of the prior's code maps.
        is_image: whether to draw code maps and images.
        prior: the prior's name, for the caption.
    """
    counts = model.code_usage(test)
    sampled = model.sample_codes(PRIOR_MAPS, rng)
    prior_counts = torch.bincount(sampled.flatten().cpu(), minlength=len(counts))
    maps = images = None
    if is_image:
        shown = sampled[:MAPS]
        x = test[:MAPS]
        maps = (_numpy(model.code_indices(x), np.int64), _numpy(shown, np.int64))
        images = (
            _numpy(x[:, 0].clamp(0, 1), np.float32),
            _numpy(model.decode_codes(shown)[:, 0].clamp(0, 1), np.float32),
        )
    counts_np = _numpy(counts, np.int64)
    prior_np = _numpy(prior_counts, np.float64)
    return CodeUsage(
        counts=counts_np,
        perplexity=usage_perplexity(counts_np),
        prior_share=prior_np / max(prior_np.sum(), 1.0),
        prior_perplexity=usage_perplexity(prior_np),
        prior=prior,
        test_maps=None if maps is None else maps[0],
        sample_maps=None if maps is None else maps[1],
        test_images=None if images is None else images[0],
        sample_images=None if images is None else images[1],
    )


def picture(ctx: SnapshotContext) -> CodeUsage:
    """The session's :class:`CodeUsage`: its first :data:`TEST_POINTS` held-out points,
    prior maps drawn from ``seed + 23`` (the same draws while the weights stay)."""
    test, _ = ctx.test_set()
    rng = torch.Generator(device=ctx.device).manual_seed(ctx.seed + PRIOR_SEED_OFFSET)
    prior = str(to_dict(ctx.model.config).get("prior", ""))
    return code_usage(ctx.model, test[:TEST_POINTS].to(ctx.device), rng, ctx.is_image, prior)
