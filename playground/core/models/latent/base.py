"""The protocol of latent variable models (capability ``latent``): what views and metrics read.

Every latent model of the zoo (VAE and its variants, IWAE, the hierarchical VAE, VQ-VAE,
the Gumbel-softmax VAE) subclasses :class:`LatentModel`. Views and metrics never look
inside a model: they call only the methods below, so a new latent model shows up in the
traversal, reconstruction and latent-space views by implementing them.

Shapes: ``x`` is ``(n, 2)`` on the plane or ``(n, 1, h, w)`` for images (floats in
``[0, 1]``); ``z`` is ``(n, latent_dim)``; log-densities are ``(n,)`` in nats, summed
over the dimensions of one data point.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..base import GenerativeModel

__all__ = [
    "LatentModel",
    "NoLatentDensityError",
    "event_shape_of",
    "DISCRETE_NLL_K",
    "DISCRETE_NLL_ROWS",
]

#: importance samples of :meth:`LatentModel.discrete_nll` (Burda et al. 2016's test NLL)
DISCRETE_NLL_K = 100
#: images per call of the bound in :meth:`LatentModel.discrete_nll` (each decoded K times)
DISCRETE_NLL_ROWS = 100


class NoLatentDensityError(TypeError):
    """The model's latent has no density of that kind: a discrete latent (VQ-VAE,
    Gumbel-softmax) has no posterior or prior density on a continuous space, and a
    non-Gaussian posterior has no per-dimension Gaussian KL."""


def event_shape_of(data: Any) -> tuple[int, ...]:
    """The shape of one data point: ``(2,)`` for a 2D density, ``(1, h, w)`` for images."""
    if getattr(data, "is_image", False):
        return tuple(int(s) for s in data.shape)
    return (int(getattr(data, "dim", 2)),)


class LatentModel(GenerativeModel):
    """A model with an encoder ``q(z | x)``, a decoder ``p(x | z)`` and a prior ``p(z)``.

    Subclasses implement the abstract methods; the defaults of the others are right for a
    Gaussian encoder with a prior that has a density.

    Attributes:
        latent_dim: the dimension of ``z`` as views and metrics see it (for a VQ-VAE,
            positions times code_dim: the quantised vectors flattened; for the
            Gumbel-softmax VAE, latents times categories: the one-hots flattened).
        event_shape: one data point's shape, from :func:`event_shape_of`.

    ``discrete_latent`` (declared on :class:`~..base.GenerativeModel`) is True where ``z``
    takes discrete values (VQ-VAE, Gumbel-softmax): the latent-space heatmaps and the
    Gaussian per-dimension KL do not apply.
    """

    family: ClassVar[str] = "latent"
    #: the encoder is a sampler ``z = f(x, eps)`` with no density (AVB): :meth:`encode`
    #: draws one sample, and the latent-space view calls its points samples, not means
    implicit_posterior: ClassVar[bool] = False
    #: ``density``: :meth:`log_prob` is the IWAE estimate (the 2D density view draws it)
    capabilities: ClassVar[frozenset[str]] = frozenset({"density", "samples", "latent"})

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.event_shape = event_shape_of(data)
        self.data_dim = math.prod(self.event_shape)
        #: the image set's levels per pixel (digits: 17; binarised: 2), ``None`` without
        self.levels: int | None = getattr(data, "levels", None) if self.is_image else None

    @property
    def is_image(self) -> bool:
        """Whether data points are images ``(1, h, w)``."""
        return len(self.event_shape) == 3

    @property
    @abc.abstractmethod
    def latent_dim(self) -> int:
        """The dimension of ``z`` (see the class docstring)."""

    # ----------------------------------------------------------------- encoder
    @abc.abstractmethod
    def posterior_mean(self, x: Tensor) -> Tensor:
        """A point code of each ``x``: ``E_q[z | x]`` (VQ-VAE: the quantised code, Gumbel:
        the category probabilities), ``(n, latent_dim)``; the latent scatter plots it."""

    def encode(self, x: Tensor) -> Tensor:
        """The latent code of each ``x``: :meth:`posterior_mean`, ``(n, latent_dim)``."""
        return self.posterior_mean(x)

    def posterior_sample(
        self, x: Tensor, rng: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``z ~ q(z | x)`` and ``log q(z | x)``: ``((n, latent_dim), (n,))`` nats.

        Raises:
            NoLatentDensityError: a discrete latent (VQ-VAE, Gumbel-softmax).
        """
        raise NoLatentDensityError(f"{self.name} has a discrete latent")

    def posterior_log_prob(self, z: Tensor, x: Tensor) -> Tensor:
        """``log q(z_i | x_i)`` row by row: ``z (n, latent_dim)``, ``x (n, ...)`` -> ``(n,)``.

        The ELBO surgery (``mutual_info``) and the aggregate-posterior heatmap evaluate it on
        every pair of codes and data points, by repeating rows.

        Raises:
            NoLatentDensityError: a discrete latent (VQ-VAE, Gumbel-softmax).
        """
        raise NoLatentDensityError(f"{self.name} has a discrete latent")

    def posterior_log_prob_matrix(self, z: Tensor, x: Tensor) -> Tensor:
        """``log q(z_i | x_j)`` for every pair: ``z (m, latent_dim)``, ``x (n, ...)`` ->
        ``(m, n)`` nats. The default repeats rows through :meth:`posterior_log_prob`;
        models override it to encode each ``x_j`` once.

        Raises:
            NoLatentDensityError: a discrete latent (VQ-VAE, Gumbel-softmax).
        """
        m, n = z.shape[0], x.shape[0]
        zz = z[:, None, :].expand(m, n, z.shape[1]).reshape(m * n, -1)
        xx = x[None].expand(m, *x.shape).reshape(m * n, *x.shape[1:])
        return self.posterior_log_prob(zz, xx).reshape(m, n)

    def posterior_kl_per_dim(self, x: Tensor) -> Tensor:
        """``KL(q(z_i | x) || N(0, 1))`` per dimension, in nats, ``(n, latent_dim)``.

        Used to order latent dimensions (the traversal's rows) and for free bits. The
        default raises; Gaussian encoders implement it in closed form.

        Raises:
            NoLatentDensityError: the posterior is not a diagonal Gaussian.
        """
        raise NoLatentDensityError(f"{self.name} has no Gaussian posterior")

    # ----------------------------------------------------------------- decoder
    @abc.abstractmethod
    def decode(self, z: Tensor) -> Tensor:
        """The decoder's mean ``E[x | z]``, shaped like data: ``(n, *event_shape)`` (for a
        Bernoulli decoder the pixel probabilities)."""

    def reconstruct(self, x: Tensor) -> Tensor:
        """``decode(posterior_mean(x))``: ``(n, *event_shape)``."""
        return self.decode(self.posterior_mean(x))

    # ------------------------------------------------------------------- prior
    @abc.abstractmethod
    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        """``z ~ p(z)``: ``(n, latent_dim)``, drawn from ``rng`` only."""

    def prior_log_prob(self, z: Tensor) -> Tensor:
        """``log p(z)`` in nats, ``(n,)``; the latent view draws it as a heatmap.

        Raises:
            NoLatentDensityError: the prior has no density (a discrete latent).
        """
        raise NoLatentDensityError(f"{self.name} has a discrete prior")

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Samples of the model: the decoder's mean at ``z ~ p(z)`` for images (what
        papers show), a draw of ``p(x | z)`` on the plane: ``(n, *event_shape)``."""
        return self.decode(self.sample_prior(n, rng))

    # ---------------------------------------------------------------- bounds
    @abc.abstractmethod
    def elbo_terms(self, x: Tensor, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """One-sample ELBO terms of each ``x``, each ``(n,)`` in nats:

        ``reconstruction`` = ``E_q[log p(x | z)]``, ``kl`` = ``KL(q(z | x) || p(z))`` (or
        its one-sample estimate where it has no closed form) and ``elbo`` =
        ``reconstruction - kl``. Models may add their own (``kl_1``, ``kl_2`` for the
        hierarchical VAE; ``codebook`` and ``commitment`` for VQ-VAE).
        """

    @abc.abstractmethod
    def iwae_bound(self, x: Tensor, k: int, rng: torch.Generator | None = None) -> Tensor:
        """The importance-weighted bound ``log (1/k) sum_j p(x, z_j) / q(z_j | x)``,
        ``z_j ~ q(z | x)``: ``(n,)`` nats. It equals the one-sample ELBO for ``k = 1``,
        does not fall as ``k`` grows, and tends to ``log p(x)`` (Burda et al. 2016, eq. 8).
        """

    def log_prob(self, x: Tensor, k: int = 100) -> Tensor:
        """``log p(x)`` estimated by :meth:`iwae_bound` with ``k`` samples, ``(n,)`` nats."""
        return self.iwae_bound(x, k)

    @property
    def discrete_likelihood(self) -> bool:
        """Whether ``log p(x | z)`` is a log-probability of the data's discrete levels (a
        categorical or discretised-logistic decoder, or a Bernoulli decoder on binarised
        data), so the bounds bound a discrete NLL; False by default (a Gaussian density,
        or a Bernoulli cross-entropy of grey pixels, bounds no probability)."""
        return False

    def discrete_nll(self, x: Tensor, rng: torch.Generator | None = None) -> Tensor | None:
        """``-`` the IWAE bound with ``K = 100`` importance samples drawn from ``rng``:
        ``(n,)`` nats, an upper bound on ``-log P(x)`` of images ``x (n, 1, h, w)`` on the
        data's levels (Burda et al. 2016, eq. 8); ``None`` where
        :attr:`discrete_likelihood` is False. Evaluated :data:`DISCRETE_NLL_ROWS` images
        at a time."""
        if not self.discrete_likelihood:
            return None
        bounds = [
            self.iwae_bound(chunk, DISCRETE_NLL_K, rng) for chunk in x.split(DISCRETE_NLL_ROWS)
        ]
        return -torch.cat(bounds)
