"""Priors ``p(z)`` of the VAE: standard normal, Gaussian mixture, VampPrior, RealNVP flow."""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..flows.coupling import AffineCoupling, alternating_mask
from .distributions import gaussian_log_prob, normal_noise, standard_normal_log_prob

__all__ = [
    "PRIORS",
    "Encode",
    "Prior",
    "StandardNormalPrior",
    "MixturePrior",
    "VampPrior",
    "FlowPrior",
    "make_prior",
]

#: the priors a VAE can use, by their hyperparameter value
PRIORS = ("standard", "mixture", "vamp", "flow")

#: the Gaussian encoder: ``x (k, *event_shape) -> (mu, logvar)``, each ``(k, d)``
Encode = Callable[[Tensor], tuple[Tensor, Tensor]]


def _indices(probs: Tensor, n: int, rng: torch.Generator) -> Tensor:
    """``n`` draws of a categorical ``probs (K,)`` from ``rng``, on ``probs``'s device."""
    idx = torch.multinomial(probs.detach().to(rng.device), n, True, generator=rng)
    return idx.to(probs.device)


class Prior(nn.Module, metaclass=abc.ABCMeta):
    """A density ``p(z)`` on ``R^d`` with a sampler.

    Both methods take the model's Gaussian encoder as ``encoder``; only the VampPrior,
    whose components are the encoder's posteriors, reads it (the others ignore it), so a
    model calls every prior the same way.

    Attributes:
        dim: ``d``.
        closed_form_kl: ``KL(q(z | x) || p(z))`` of a diagonal Gaussian ``q`` has a closed
            form (the standard normal only); otherwise models estimate it by sampling.
    """

    closed_form_kl: ClassVar[bool] = False

    def __init__(self, dim: int):
        super().__init__()
        self.dim = int(dim)

    @abc.abstractmethod
    def log_prob(self, z: Tensor, encoder: Encode | None = None) -> Tensor:
        """``log p(z)``: ``(n, d) -> (n,)`` nats."""

    @abc.abstractmethod
    def sample(self, n: int, rng: torch.Generator, encoder: Encode | None = None) -> Tensor:
        """``z ~ p(z)``: ``(n, d)``, drawn from ``rng`` only, on the prior's device."""


class StandardNormalPrior(Prior):
    """``p(z) = N(0, I)``."""

    closed_form_kl: ClassVar[bool] = True

    def __init__(self, dim: int):
        super().__init__(dim)
        # no parameters: a buffer tells ``sample`` the device and dtype
        self.register_buffer("origin", torch.zeros(dim))

    def log_prob(self, z: Tensor, encoder: Encode | None = None) -> Tensor:
        return standard_normal_log_prob(z)

    def sample(self, n: int, rng: torch.Generator, encoder: Encode | None = None) -> Tensor:
        return normal_noise((n, self.dim), rng, self.origin)


class MixturePrior(Prior):
    """A learnable mixture of ``K`` diagonal Gaussians ``sum_k pi_k N(z; m_k, diag(s_k^2))``.

    The means start as ``N(0, I)`` draws (torch's global random number generator,
    which the Session seeds), the variances at 1 and the weights ``pi = softmax(logits)`` uniform.

    Arguments:
        dim: ``d``.
        components: ``K``.

    References:
        Dilokthanakul et al., "Deep Unsupervised Clustering with Gaussian Mixture
        Variational Autoencoders", arXiv:1611.02648, 2016; Tomczak and Welling 2018,
        section 3 (a mixture prior learned with the VAE).
    """

    def __init__(self, dim: int, components: int):
        super().__init__(dim)
        self.means = nn.Parameter(torch.randn(components, dim))
        self.logvars = nn.Parameter(torch.zeros(components, dim))
        self.logits = nn.Parameter(torch.zeros(components))

    def log_prob(self, z: Tensor, encoder: Encode | None = None) -> Tensor:
        per_component = gaussian_log_prob(z[:, None, :], self.means, self.logvars)  # (n, K)
        return torch.logsumexp(per_component + torch.log_softmax(self.logits, 0), dim=1)

    def sample(self, n: int, rng: torch.Generator, encoder: Encode | None = None) -> Tensor:
        k = _indices(torch.softmax(self.logits, 0), n, rng)
        eps = normal_noise((n, self.dim), rng, self.means)
        return self.means[k] + torch.exp(0.5 * self.logvars[k]) * eps


class VampPrior(Prior):
    """``p(z) = (1/K) sum_k q(z | u_k)``: the model's own encoder at ``K`` pseudo-inputs.

    The pseudo-inputs ``u_k`` live in data space and are learned with the model; they
    start at training points (drawn with an rng seeded from torch's global random
    number generator, so the Session's seed fixes them) plus a little noise. The components are
    the Gaussian encoder's posteriors ``N(mu(u_k), diag(exp(logvar(u_k))))``, so
    :meth:`log_prob` and :meth:`sample` need the ``encoder``.

    Arguments:
        dim: ``d``.
        components: ``K``.
        data: the training set (``sample(n, rng)``), for the initial pseudo-inputs.

    Raises:
        ValueError (log_prob, sample): no ``encoder`` was given.

    References:
        Tomczak and Welling, "VAE with a VampPrior", AISTATS 2018, equation (9).
    """

    def __init__(self, dim: int, components: int, data: Any):
        super().__init__(dim)
        g = torch.Generator().manual_seed(int(torch.randint(2**31 - 1, (1,))))
        u = data.sample(components, g).float()
        self.pseudo_inputs = nn.Parameter(u + 0.01 * torch.randn(u.shape, generator=g))

    @staticmethod
    def _need(encoder: Encode | None) -> Encode:
        if encoder is None:
            raise ValueError(
                "the VampPrior is the encoder's posterior at its pseudo-inputs; "
                "pass the model's encoder"
            )
        return encoder

    def log_prob(self, z: Tensor, encoder: Encode | None = None) -> Tensor:
        mu, logvar = self._need(encoder)(self.pseudo_inputs)  # (K, d)
        per_component = gaussian_log_prob(z[:, None, :], mu, logvar)  # (n, K)
        return torch.logsumexp(per_component, dim=1) - math.log(mu.shape[0])

    def sample(self, n: int, rng: torch.Generator, encoder: Encode | None = None) -> Tensor:
        mu, logvar = self._need(encoder)(self.pseudo_inputs)
        k = _indices(torch.ones(mu.shape[0], device=mu.device), n, rng)
        eps = normal_noise((n, self.dim), rng, mu)
        return mu[k] + torch.exp(0.5 * logvar[k]) * eps


class FlowPrior(Prior):
    """A RealNVP prior: ``p(z) = N(f(z); 0, I) |det df/dz|`` with affine couplings ``f``.

    Every coupling starts as the identity (its conditioner's last layer is zero), so the
    prior starts as ``N(0, I)``.

    Arguments:
        dim: ``d``.
        layers: couplings, with alternating masks.
        hidden, depth: width and hidden layers of each conditioner.

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017;
        Chen et al., "Variational Lossy Autoencoder", ICLR 2017 (a flow prior for a VAE).
    """

    def __init__(self, dim: int, layers: int, hidden: int, depth: int = 2):
        super().__init__(dim)
        self.layers = nn.ModuleList(
            AffineCoupling(alternating_mask(dim, k), hidden, depth) for k in range(layers)
        )

    def log_prob(self, z: Tensor, encoder: Encode | None = None) -> Tensor:
        log_det = z.new_zeros(z.shape[0])
        for layer in self.layers:
            z, ld = layer(z)
            log_det = log_det + ld
        return standard_normal_log_prob(z) + log_det

    def sample(self, n: int, rng: torch.Generator, encoder: Encode | None = None) -> Tensor:
        z = normal_noise((n, self.dim), rng, self.layers[0].mask)
        for layer in reversed(self.layers):
            z = layer.inverse(z)[0]
        return z


def make_prior(
    kind: str, dim: int, components: int, flow_layers: int, hidden: int, data: Any
) -> Prior:
    """The prior named ``kind`` (one of :data:`PRIORS`).

    Arguments:
        kind: ``standard``, ``mixture``, ``vamp`` or ``flow``.
        dim: the latent dimension ``d``.
        components: ``K`` of the mixture and of the VampPrior.
        flow_layers: couplings of the flow prior.
        hidden: conditioner width of the flow prior.
        data: the training set (the VampPrior's initial pseudo-inputs).

    Raises:
        ValueError: an unknown ``kind``.
    """
    if kind == "standard":
        return StandardNormalPrior(dim)
    if kind == "mixture":
        return MixturePrior(dim, components)
    if kind == "vamp":
        return VampPrior(dim, components, data)
    if kind == "flow":
        return FlowPrior(dim, flow_layers, hidden)
    raise ValueError(f"unknown prior {kind!r}; use one of {', '.join(PRIORS)}")
