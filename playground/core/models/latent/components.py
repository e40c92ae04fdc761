"""Building blocks of the VAE family: the schedules of the KL weight and capacity, free
bits, posterior flows and image defaults (the decoder's likelihood, re-exported here, lives
in :mod:`.decoders`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..flows.autoregressive import IAFLayer
from ..flows.base import FlowLayer
from ..flows.planar import PlanarLayer
from .decoders import (
    DECODERS,
    DISCRETE_DECODERS,
    MAX_DECODER_LOG_STD,
    MIN_INITIAL_STD,
    MIN_PIXEL_MEAN,
    DecoderLikelihood,
)

__all__ = [
    "DECODERS",
    "DISCRETE_DECODERS",
    "POSTERIOR_FLOWS",
    "MAX_LOGVAR",
    "MAX_DECODER_LOG_STD",
    "MIN_PIXEL_MEAN",
    "MIN_INITIAL_STD",
    "IWAE_CHUNK",
    "EVALUATION_SEED",
    "evaluation_rng",
    "kl_weight",
    "capacity_at",
    "free_bits_kl",
    "posterior_flow_layers",
    "image_defaults",
    "DecoderLikelihood",
]

#: flows on the reparameterised Gaussian sample of the encoder
POSTERIOR_FLOWS = ("none", "planar", "iaf")
#: encoder log-variances are soft-clamped to ±10 (std within e^±5): a bad step cannot
#: overflow ``exp`` and stop the session
MAX_LOGVAR = 10.0
#: samples ``z`` per decoder call in :meth:`VAE.iwae_bound` (bounds memory for the
#: density view's 16,384 grid points x k = 100)
IWAE_CHUNK = 8192
#: the seed of the posterior noise when no ``rng`` is given (views and metrics): their
#: estimates are then deterministic and never draw from the model's training ``rng``
EVALUATION_SEED = 0


def evaluation_rng(rng: torch.Generator | None, like: Tensor) -> torch.Generator:
    """``rng``, or a fresh one seeded :data:`EVALUATION_SEED` on ``like``'s device."""
    if rng is not None:
        return rng
    return torch.Generator(device=like.device).manual_seed(EVALUATION_SEED)


def kl_weight(beta: float, anneal_steps: int, step: int) -> float:
    """The KL weight at ``step``: ``beta_t = beta * min(1, step / anneal_steps)``, or
    ``beta`` when ``anneal_steps`` is 0 (no annealing).

    References:
        Bowman et al., "Generating Sentences from a Continuous Space", CoNLL 2016 (KL
        cost annealing); Higgins et al., "beta-VAE", ICLR 2017, eq. (4).
    """
    if anneal_steps <= 0:
        return float(beta)
    return float(beta) * min(1.0, step / anneal_steps)


def capacity_at(capacity: float, capacity_steps: int, step: int) -> float:
    """The target KL ``C_t`` in nats: linear from 0 to ``capacity`` over ``capacity_steps``
    (``capacity`` from the start when ``capacity_steps`` is 0).

    References:
        Burgess et al., "Understanding disentangling in beta-VAE", arXiv:1804.03599, 2018,
        section 5 (the capacity schedule).
    """
    if capacity_steps <= 0:
        return float(capacity)
    return float(capacity) * min(1.0, step / capacity_steps)


def free_bits_kl(kl_per_dim: Tensor, free_bits: float) -> Tensor:
    """``sum_j max(lambda, mean over the batch of KL_j)``: the free-bits KL term.

    Arguments:
        kl_per_dim: ``(n, d)`` per-dimension KL of each data point, nats (``d = 1``: one
            group holding every latent).
        free_bits: ``lambda``, nats per dimension (group); below it a dimension's KL has
            no gradient, so the encoder may use it for free.

    Returns:
        A scalar in nats.

    References:
        Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow",
        NeurIPS 2016, appendix C (the free-bits objective).
    """
    return kl_per_dim.mean(0).clamp(min=free_bits).sum()


def posterior_flow_layers(kind: str, dim: int, layers: int, hidden: int) -> list[FlowLayer]:
    """Flow layers for the posterior, in the data-to-base order of the flows package.

    Arguments:
        kind: one of :data:`POSTERIOR_FLOWS`.
        dim: the latent dimension ``d``.
        layers: number of layers.
        hidden: width of each IAF layer's MADE (one hidden layer).

    Raises:
        ValueError: an unknown ``kind``, or ``iaf`` with ``d < 2`` (a MADE needs two inputs).
    """
    if kind == "none":
        return []
    if kind == "planar":
        return [PlanarLayer(dim) for _ in range(layers)]
    if kind == "iaf":
        if dim < 2:
            raise ValueError("the iaf posterior flow needs latent_dim >= 2; use planar")
        order = torch.arange(1, dim + 1)
        # reversing the degrees every other layer: each coordinate conditions the others
        return [
            IAFLayer(dim, hidden, 1, order=order if k % 2 == 0 else order.flip(0))
            for k in range(layers)
        ]
    raise ValueError(f"unknown posterior_flow {kind!r}; use one of {', '.join(POSTERIOR_FLOWS)}")


def image_defaults(data: Any) -> dict[str, Any]:
    """Dataset-dependent defaults of the latent models: nothing on the plane (the
    dataclass defaults are for it); on images a Bernoulli decoder, a 2D latent for
    digits-sized images (the latent view then shows class clusters), 10 dimensions for
    larger images (shapes, with the conv networks)."""
    if not getattr(data, "is_image", False):
        return {}
    _, h, w = data.shape
    if h * w <= 64:
        # 128 x 2 MLPs at 3e-3: ~3 ms per step on one core; the test set's codes separate
        # the classes (5-NN accuracy 0.81 at 1,000 steps, 0.87 at 1,500; 0.75 at 1e-3)
        return {
            "decoder": "bernoulli",
            "latent_dim": 2,
            "hidden": 128,
            "batch_size": 128,
            "lr": 3e-3,
        }
    return {"decoder": "bernoulli", "latent_dim": 10, "hidden": 128, "batch_size": 64}
