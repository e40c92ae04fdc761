"""Building blocks of the VAE family: the decoder's likelihood, the schedules of the KL
weight and capacity, free bits, posterior flows and image defaults."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ..flows.autoregressive import IAFLayer
from ..flows.base import FlowLayer, soft_clamp
from ..flows.planar import PlanarLayer
from .distributions import (
    bernoulli_log_likelihood,
    gaussian_log_likelihood,
    normal_noise,
)
from .networks import Decoder

__all__ = [
    "DECODERS",
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

#: the decoders ``p(x | z)``: learned diagonal variance, fixed ``decoder_std``, Bernoulli
DECODERS = ("gaussian", "gaussian-fixed", "bernoulli")
#: flows on the reparameterised Gaussian sample of the encoder
POSTERIOR_FLOWS = ("none", "planar", "iaf")
#: encoder log-variances are soft-clamped to ±10 (std within e^±5): a bad step cannot
#: overflow ``exp`` and stop the session
MAX_LOGVAR = 10.0
#: a learned decoder log-std is soft-clamped to ±5, so a pixel that is always 0 (digits'
#: borders) cannot drive the likelihood to infinity
MAX_DECODER_LOG_STD = 5.0
#: :meth:`DecoderLikelihood.data_init` clamps pixel means to [1e-3, 1 - 1e-3] before the
#: logit, and standard deviations from below (a pixel that is always 0 has none)
MIN_PIXEL_MEAN = 1e-3
MIN_INITIAL_STD = 0.05
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


class DecoderLikelihood(nn.Module):
    """``p(x | z)``: a :class:`~.networks.Decoder` and its likelihood.

    ``gaussian``: mean and a learned per-element log-std (soft-clamped to ``±5``);
    ``gaussian-fixed``: mean, std given at each call (the live ``decoder_std``);
    ``bernoulli``: logits (images only). For images the Gaussian means pass through a
    sigmoid, so decoded images lie in ``[0, 1]``; on the plane they are unbounded.

    :meth:`data_init` zeroes the output layer's weights and sets its bias to the data's
    elementwise marginal, so the decoder starts at ``p(x | z) = prod_i p(x_i)``, ignoring
    ``z``: the latent is then used only for what the decoder cannot model alone (a
    learned variance that had to grow from 1 first would let the latent take the data's
    spread early, and the ELBO, flat along such a use, would keep it).

    Arguments:
        n_in: latent width.
        event_shape: one data point's shape, ``(2,)`` or ``(1, h, w)``.
        hidden, depth: as :class:`~.networks.Decoder`.
        kind: one of :data:`DECODERS`.

    Raises:
        ValueError: an unknown ``kind``, or ``bernoulli`` for points of the plane.
    """

    def __init__(self, n_in: int, event_shape: tuple[int, ...], hidden: int, depth: int, kind: str):
        super().__init__()
        if kind not in DECODERS:
            raise ValueError(f"unknown decoder {kind!r}; use one of {', '.join(DECODERS)}")
        self.event_shape, self.kind = tuple(event_shape), kind
        if kind == "bernoulli" and not self.is_image:
            raise ValueError(
                "a bernoulli decoder models pixels in [0, 1]; points of the plane need "
                "decoder=gaussian or decoder=gaussian-fixed"
            )
        channels = 2 if kind == "gaussian" else 1
        self.net = Decoder(n_in, self.event_shape, hidden, depth, channels)

    @property
    def is_image(self) -> bool:
        return len(self.event_shape) == 3

    def params(self, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(loc, log_std)`` at ``z (n, d)``: ``loc`` ``(n, *event_shape)`` is the mean
        (Gaussian) or the logits (Bernoulli); ``log_std`` is ``None`` unless learned."""
        out = self.net(z)
        parts = out.split(1, dim=1) if self.is_image else out.unbind(1)
        if self.kind == "bernoulli":
            return parts[0], None
        mean = torch.sigmoid(parts[0]) if self.is_image else parts[0]
        if self.kind == "gaussian":
            return mean, soft_clamp(parts[1], MAX_DECODER_LOG_STD)
        return mean, None

    def log_prob(self, x: Tensor, z: Tensor, decoder_std: float) -> Tensor:
        """``log p(x | z)``: ``x (n, *event_shape)``, ``z (n, d)`` -> ``(n,)`` nats (for
        the Bernoulli decoder on grey pixels, the cross-entropy: see
        :func:`~.distributions.bernoulli_log_likelihood`)."""
        x = x.reshape(x.shape[0], *self.event_shape)
        loc, log_std = self.params(z)
        event_dims = len(self.event_shape)
        if self.kind == "bernoulli":
            return bernoulli_log_likelihood(x, loc, event_dims)
        scale = log_std if log_std is not None else math.log(decoder_std)
        return gaussian_log_likelihood(x, loc, scale, event_dims)

    def mean(self, z: Tensor) -> Tensor:
        """``E[x | z]``: ``(n, *event_shape)`` (pixel probabilities for Bernoulli)."""
        loc, _ = self.params(z)
        return torch.sigmoid(loc) if self.kind == "bernoulli" else loc

    @torch.no_grad()
    def data_init(self, x: Tensor) -> None:
        """Zero the output layer's weights and set its bias from a batch
        ``(b, *event_shape)``: the mean (a logit for pixels) and, for the learned variance,
        the log-std of each element (of each channel for the conv decoder, whose bias is
        per channel). Models call it once, before their first step.

        References:
            Salimans and Kingma, "Weight Normalization", NeurIPS 2016, section 3
            (data-dependent initialisation).
        """
        x = x.reshape(x.shape[0], *self.event_shape).float()
        mean = x.mean(0)
        if self.is_image:
            mean = torch.logit(mean.clamp(MIN_PIXEL_MEAN, 1.0 - MIN_PIXEL_MEAN))
        rows = [mean]
        if self.kind == "gaussian":
            log_std = torch.log(x.std(0).clamp(min=MIN_INITIAL_STD))
            bound = MAX_DECODER_LOG_STD * (1.0 - 1e-3)
            rows.append(MAX_DECODER_LOG_STD * torch.atanh(log_std.clamp(-bound, bound) / bound))
        last = self.net.net[-1]
        last.weight.zero_()
        if isinstance(last, nn.ConvTranspose2d):
            last.bias.copy_(torch.stack([r.mean() for r in rows]).to(last.bias))
        else:
            last.bias.copy_(torch.cat([r.reshape(-1) for r in rows]).to(last.bias))

    def sample(self, z: Tensor, rng: torch.Generator, decoder_std: float) -> Tensor:
        """``x ~ p(x | z)`` for the Gaussian decoders: ``(n, *event_shape)``; the Bernoulli
        decoder returns its mean (the pixel probabilities)."""
        loc, log_std = self.params(z)
        if self.kind == "bernoulli":
            return torch.sigmoid(loc)
        std = torch.exp(log_std) if log_std is not None else decoder_std
        return loc + std * normal_noise(tuple(loc.shape), rng, loc)
