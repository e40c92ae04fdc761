"""The decoder ``p(x | z)`` of the VAE family and its likelihoods: Gaussian (learned or
fixed variance), Bernoulli, and the two exact over an image set's levels (categorical,
discretised logistic)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ...hyperparameters import HyperparameterError
from ..flows.base import soft_clamp
from .distributions import (
    bernoulli_log_likelihood,
    categorical_log_likelihood,
    discretized_logistic_log_likelihood,
    discretized_logistic_log_probs,
    gaussian_log_likelihood,
    level_mean,
    normal_noise,
)
from .networks import Decoder

__all__ = [
    "DECODERS",
    "DISCRETE_DECODERS",
    "MAX_DECODER_LOG_STD",
    "MIN_PIXEL_MEAN",
    "MIN_INITIAL_STD",
    "DecoderLikelihood",
]

#: the decoders ``p(x | z)``: learned diagonal variance, fixed ``decoder_std``, Bernoulli,
#: and the two over an image set's levels: a softmax per pixel, a discretised logistic
DECODERS = ("gaussian", "gaussian-fixed", "bernoulli", "categorical", "discretized_logistic")
#: the decoders whose ``log p(x | z)`` is a probability of the data's levels
DISCRETE_DECODERS = ("categorical", "discretized_logistic")
#: a learned decoder log-std is soft-clamped to ±5, so a pixel that is always 0 (digits'
#: borders) cannot drive the likelihood to infinity
MAX_DECODER_LOG_STD = 5.0
#: :meth:`DecoderLikelihood.data_init` clamps pixel means to [1e-3, 1 - 1e-3] before the
#: logit, and standard deviations from below (a pixel that is always 0 has none)
MIN_PIXEL_MEAN = 1e-3
MIN_INITIAL_STD = 0.05


class DecoderLikelihood(nn.Module):
    """``p(x | z)``: a :class:`~.networks.Decoder` and its likelihood.

    ``gaussian``: mean and a learned per-element log-std (soft-clamped to ``±5``);
    ``gaussian-fixed``: mean, std given at each call (the live ``decoder_std``);
    ``bernoulli``: logits (images only). For images the Gaussian means pass through a
    sigmoid, so decoded images lie in ``[0, 1]``; on the plane they are unbounded. Two
    decoders model an image set's ``L`` levels exactly (:data:`DISCRETE_DECODERS`), so the
    ELBO and the IWAE bound are bounds on a discrete NLL: ``categorical``, ``L`` logits
    per pixel (:func:`~.distributions.categorical_log_likelihood`), and
    ``discretized_logistic``, a mean and a log-scale (soft-clamped to ``±5``) per pixel
    (:func:`~.distributions.discretized_logistic_log_likelihood`); their :meth:`mean` is
    the expected pixel value ``sum_k P(k) k / (L - 1)``.

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
        levels: the image set's levels ``L`` (``None``: no grid); the discrete decoders
            need it.

    Raises:
        ValueError: an unknown ``kind``, or ``bernoulli`` for points of the plane.
        HyperparameterError: a discrete decoder for data without levels (the plane, an
            image folder).
    """

    def __init__(
        self,
        n_in: int,
        event_shape: tuple[int, ...],
        hidden: int,
        depth: int,
        kind: str,
        levels: int | None = None,
    ):
        super().__init__()
        if kind not in DECODERS:
            raise ValueError(f"unknown decoder {kind!r}; use one of {', '.join(DECODERS)}")
        self.event_shape, self.kind = tuple(event_shape), kind
        self.levels = int(levels) if levels else None
        if kind == "bernoulli" and not self.is_image:
            raise ValueError(
                "a bernoulli decoder models pixels in [0, 1]; points of the plane need "
                "decoder=gaussian or decoder=gaussian-fixed"
            )
        if kind in DISCRETE_DECODERS and (not self.is_image or self.levels is None):
            raise HyperparameterError(
                f"decoder={kind} models the levels of an image set's pixels (digits, shapes: "
                "17 levels); this data has none: use decoder=gaussian or bernoulli"
            )
        channels = {"gaussian": 2, "discretized_logistic": 2, "categorical": self.levels}
        self.net = Decoder(n_in, self.event_shape, hidden, depth, channels.get(kind) or 1)

    @property
    def is_image(self) -> bool:
        return len(self.event_shape) == 3

    def is_discrete_on(self, levels: int | None) -> bool:
        """Whether :meth:`log_prob` is a log-probability of data on ``levels`` levels: the
        discrete decoders, and the Bernoulli decoder on binarised data (``levels == 2``);
        not a Gaussian density, nor a Bernoulli cross-entropy of grey pixels."""
        return self.kind in DISCRETE_DECODERS or (self.kind == "bernoulli" and levels == 2)

    def params(self, z: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(loc, log_std)`` at ``z (n, d)``: ``loc`` ``(n, *event_shape)`` is the mean
        (Gaussian, discretised logistic) or the logits (Bernoulli; categorical: ``(n, L,
        h, w)``); ``log_std`` is the learned log-std (the logistic's log-scale), else
        ``None``."""
        out = self.net(z)
        if self.kind == "categorical":
            return out, None
        parts = out.split(1, dim=1) if self.is_image else out.unbind(1)
        if self.kind == "bernoulli":
            return parts[0], None
        if self.kind == "discretized_logistic":
            return parts[0], soft_clamp(parts[1], MAX_DECODER_LOG_STD)
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
        if self.kind == "categorical":
            return categorical_log_likelihood(x, loc, self.levels, event_dims)
        if self.kind == "discretized_logistic":
            return discretized_logistic_log_likelihood(x, loc, log_std, self.levels, event_dims)
        scale = log_std if log_std is not None else math.log(decoder_std)
        return gaussian_log_likelihood(x, loc, scale, event_dims)

    def mean(self, z: Tensor) -> Tensor:
        """``E[x | z]``: ``(n, *event_shape)`` (pixel probabilities for Bernoulli)."""
        loc, log_std = self.params(z)
        if self.kind == "bernoulli":
            return torch.sigmoid(loc)
        if self.kind == "categorical":
            return level_mean(loc, self.levels).unsqueeze(1)
        if self.kind == "discretized_logistic":
            log_probs = discretized_logistic_log_probs(loc, log_std, self.levels)
            return level_mean(log_probs, self.levels)
        return loc

    @torch.no_grad()
    def _initial_rows(self, x: Tensor) -> list[Tensor]:
        """The output bias of the marginal decoder, one ``event_shape`` tensor per output
        channel (see :meth:`data_init`)."""
        if self.kind == "categorical":
            k = torch.arange(self.levels, device=x.device).view(-1, *([1] * x.dim()))
            share = (torch.round(x * (self.levels - 1)) == k).float().mean(1)
            return list(torch.log(share.clamp_min(MIN_PIXEL_MEAN)))
        mean = x.mean(0)
        if self.is_image and self.kind != "discretized_logistic":
            mean = torch.logit(mean.clamp(MIN_PIXEL_MEAN, 1.0 - MIN_PIXEL_MEAN))
        rows = [mean]
        if self.kind in ("gaussian", "discretized_logistic"):
            std = x.std(0).clamp(min=MIN_INITIAL_STD)
            if self.kind == "discretized_logistic":  # a logistic of scale s has std s pi / sqrt 3
                std = std * math.sqrt(3.0) / math.pi
            bound = MAX_DECODER_LOG_STD * (1.0 - 1e-3)
            log_std = torch.log(std).clamp(-bound, bound)
            rows.append(MAX_DECODER_LOG_STD * torch.atanh(log_std / bound))
        return rows

    @torch.no_grad()
    def data_init(self, x: Tensor) -> None:
        """Zero the output layer's weights and set its bias from a batch
        ``(b, *event_shape)``: the mean (a logit for Bernoulli pixels) and, for a learned
        variance or logistic scale, the log-std of each element; for the categorical
        decoder the log-share of each level at each pixel (of each channel for the conv
        decoder, whose bias is per channel). Models call it once, before their first step.

        References:
            Salimans and Kingma, "Weight Normalization", NeurIPS 2016, section 3
            (data-dependent initialisation).
        """
        rows = self._initial_rows(x.reshape(x.shape[0], *self.event_shape).float())
        last = self.net.net[-1]
        last.weight.zero_()
        if isinstance(last, nn.ConvTranspose2d):
            last.bias.copy_(torch.stack([r.mean() for r in rows]).to(last.bias))
        else:
            last.bias.copy_(torch.cat([r.reshape(-1) for r in rows]).to(last.bias))

    def sample(self, z: Tensor, rng: torch.Generator, decoder_std: float) -> Tensor:
        """``x ~ p(x | z)`` for the Gaussian decoders: ``(n, *event_shape)``; the image
        decoders (Bernoulli, categorical, discretised logistic) return their mean."""
        loc, log_std = self.params(z)
        if self.kind in ("bernoulli", *DISCRETE_DECODERS):
            return self.mean(z)
        std = torch.exp(log_std) if log_std is not None else decoder_std
        return loc + std * normal_noise(tuple(loc.shape), rng, loc)
