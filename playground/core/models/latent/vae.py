"""The VAE and the IWAE: a Gaussian encoder, a choice of decoder, prior and posterior flow."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp, with_defaults
from ..base import TrainingConfig, lr_decay_hp
from ..flows.base import soft_clamp
from .base import LatentModel
from .components import (
    DECODERS,
    IWAE_CHUNK,
    MAX_LOGVAR,
    POSTERIOR_FLOWS,
    DecoderLikelihood,
    capacity_at,
    evaluation_rng,
    free_bits_kl,
    image_defaults,
    kl_weight,
    posterior_flow_layers,
)
from .distributions import (
    gaussian_kl_per_dim,
    gaussian_log_prob,
    normal_noise,
)
from .networks import Encoder
from .priors import PRIORS, make_prior
from .tcvae import TCVAEConfig, tcvae_penalty

__all__ = [
    "VAE",
    "LatentConfig",
    "PriorConfig",
    "DecoderLikelihood",
    "DECODERS",
    "POSTERIOR_FLOWS",
    "kl_weight",
    "capacity_at",
    "free_bits_kl",
    "posterior_flow_layers",
    "image_defaults",
    "evaluation_rng",
]


@dataclass
class LatentConfig(
    # batch 1024 on the plane: the axis-aligned Gaussian's ELBO is flat along a small use
    # of z, and Adam's noise walks it; at 512, 2 of 10 seeds end 3000 steps with an
    # "active" unit (Cov 0.012-0.013), at 1024 none does (at most 0.003;
    # posterior_collapse.py)
    with_defaults(TrainingConfig, batch_size=1024)
):
    """Hyperparameters every continuous-latent model shares: networks and decoder."""

    # 2: the latent view plots z itself; images get theirs from ``defaults_for``
    latent_dim: int = hp(2, low=1, high=64, help="dimension of the latent z")
    # 64 x 2: about 4 ms per step at batch 1024 on the plane, on one core
    hidden: int = hp(64, low=4, high=1024, log=True, help="width of the encoder and decoder")
    depth: int = hp(2, low=1, high=6, help="hidden layers of the encoder and decoder")
    decoder: str = hp(
        "gaussian",
        choices=DECODERS,
        help="p(x|z): gaussian (learned variance), gaussian-fixed (decoder_std), bernoulli; "
        "on an image set's levels: categorical (softmax per pixel), discretized_logistic",
    )
    # the decay lets Adam's noise-driven walk in flat directions die out: late in training
    # a collapsed unit's posterior mean stops wandering with x
    lr_decay_steps: int = lr_decay_hp(3000)
    # 0.1: on the plane, noise a tenth of the data's scale keeps samples close to the data
    decoder_std: float = hp(
        0.1, low=1e-3, high=10.0, log=True, live=True, help="std of the gaussian-fixed decoder"
    )


@dataclass
class PriorConfig(LatentConfig):
    """The choices of prior and posterior flow shared by the VAE and the IWAE."""

    prior: str = hp("standard", choices=PRIORS, help="p(z): standard, mixture, vamp or flow")
    # 10: the classes of digits
    prior_components: int = hp(
        10, low=1, high=500, log=True, help="components K of the mixture and the VampPrior"
    )
    prior_flow_layers: int = hp(4, low=1, high=16, help="coupling layers of the flow prior")
    posterior_flow: str = hp(
        "none",
        choices=POSTERIOR_FLOWS,
        help="flow on the encoder's sample (not amortised): none, planar or iaf",
    )
    flow_layers: int = hp(4, low=1, high=32, help="layers of the posterior flow")


def beta_hp() -> float:
    """The ``beta`` field (live) of the VAE and the hierarchical VAE."""
    return hp(1.0, low=0.0, high=100.0, live=True, help="beta: weight of the KL term")


def anneal_hp() -> int:
    """The ``kl_anneal_steps`` field (live) of the VAE and the hierarchical VAE."""
    return hp(
        0,
        low=0,
        high=1_000_000,
        live=True,
        help="raise beta linearly from 0 over this many steps (0: off)",
    )


class VAE(LatentModel):
    """A variational autoencoder trained on the ELBO, with the course's KL variations.

    Encoder ``q0(z0 | x) = N(mu(x), diag(exp(logvar(x))))``, reparameterised as
    ``z0 = mu + exp(logvar / 2) * eps``; with a posterior flow ``z = f_K o ... o f_1(z0)``
    and ``log q(z | x) = log q0(z0 | x) - sum_k log|det df_k/dz_{k-1}|``. The flow layers
    are global parameters, the same for every ``x`` (not amortised, unlike the IAF paper's
    context-conditioned layers): they reshape every posterior the same way.

    ``elbo = E_q[log p(x | z)] - KL(q(z | x) || p(z))``: the KL is closed-form for the
    standard prior without flow, otherwise the one-sample estimate ``log q(z | x) - log
    p(z)``. The training loss is, per data point (batch mean):

    - ``-reconstruction + beta_t * KL`` with ``beta_t = beta * min(1, t / kl_anneal_steps)``;
    - with ``free_bits = lambda > 0`` the KL is ``sum_j max(lambda, E_batch KL_j)`` per
      dimension where the KL is closed-form, otherwise ``max(lambda * d, E_batch KL)``
      (all latents as one group, the estimate having no per-dimension split);
    - with ``capacity = C > 0``, ``-reconstruction + gamma * |KL - C_t|`` instead, ``C_t``
      linear from 0 to ``C`` over ``capacity_steps``.

    On the plane :meth:`sample` draws ``x ~ p(x | z)`` (decoder noise included), so the
    samples view compares like with like; for images it returns the decoder's means.
    :meth:`log_prob` is the IWAE estimate with ``k = 100``. With a posterior flow,
    :meth:`posterior_mean` is the flow's image of ``mu(x)`` (not ``E_q[z | x]``) and
    :meth:`posterior_kl_per_dim` that of the Gaussian ``q0``; the VampPrior's components
    are the Gaussian ``q0(z | u_k)`` at its pseudo-inputs (before the flow).

    :meth:`train_step` starts the decoder at the data's marginal
    (:meth:`DecoderLikelihood.data_init`), the collapsed state, and decays ``lr`` by
    a cosine over ``lr_decay_steps``.

    Arguments:
        config: a :class:`VAE.Config`.
        data: the dataset (its shape; the VampPrior's initial pseudo-inputs).

    Raises:
        ValueError: a Bernoulli decoder on the plane, or an IAF posterior with
            ``latent_dim < 2``.

    References:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014, eq. (10);
        Rezende and Mohamed, "Variational Inference with Normalizing Flows", ICML 2015,
        section 4 (the flow-based free energy); Roeder, Wu and Duvenaud, "Sticking the
        Landing: Simple, Lower-Variance Gradient Estimators for Variational Inference",
        NeurIPS 2017 (the path-derivative gradient); Burda et al., "Importance Weighted
        Autoencoders", ICLR 2016, eq. (8).
    """

    name: ClassVar[str] = "vae"
    description: ClassVar[str] = (
        "VAE: ELBO with beta, KL annealing, free bits or capacity; choice of prior and flow"
    )

    @dataclass
    class Config(TCVAEConfig, PriorConfig):
        """VAE hyperparameters: the ELBO's KL weight and its schedules (and beta-TCVAE's)."""

        beta: float = beta_hp()
        kl_anneal_steps: int = anneal_hp()
        free_bits: float = hp(
            0.0, low=0.0, high=10.0, live=True, help="lambda: nats per latent dimension free of KL"
        )
        capacity: float = hp(
            0.0,
            low=0.0,
            high=100.0,
            live=True,
            help="C: target KL in nats of gamma |KL - C_t| (0: off, use beta)",
        )
        # 1000 and a slow ramp: Burgess et al.'s dSprites settings (25 nats over 100k steps)
        capacity_steps: int = hp(
            10_000, low=0, high=1_000_000, live=True, help="steps of C_t's ramp from 0 to C"
        )
        gamma: float = hp(1000.0, low=0.0, high=10_000.0, live=True, help="weight of |KL - C_t|")

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """See :func:`image_defaults`."""
        return image_defaults(data)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        d = config.latent_dim
        self.encoder = Encoder(self.event_shape, 2 * d, config.hidden, config.depth)
        self.decoder = DecoderLikelihood(
            d, self.event_shape, config.hidden, config.depth, config.decoder, self.levels
        )
        self.prior = make_prior(
            config.prior, d, config.prior_components, config.prior_flow_layers, config.hidden, data
        )
        self.posterior_flow = nn.ModuleList(
            posterior_flow_layers(config.posterior_flow, d, config.flow_layers, config.hidden)
        )

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    @property
    def discrete_likelihood(self) -> bool:
        """See :meth:`DecoderLikelihood.is_discrete_on`."""
        return self.decoder.is_discrete_on(self.levels)

    @property
    def closed_form_kl(self) -> bool:
        """Whether :meth:`elbo_terms` uses the closed-form KL (standard prior, no flow)."""
        return self.prior.closed_form_kl and len(self.posterior_flow) == 0

    # ----------------------------------------------------------------- encoder
    def posterior_params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The Gaussian ``q0(z0 | x)``: ``(mu, logvar)``, each ``(n, latent_dim)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, soft_clamp(logvar, MAX_LOGVAR)

    def _flow_to_z(self, z0: Tensor) -> tuple[Tensor, Tensor]:
        """``z0 -> z`` through the flow: ``(..., d)`` and ``log|det dz/dz0|`` ``(...,)``."""
        lead = z0.shape[:-1]
        z = z0.reshape(-1, z0.shape[-1])
        log_det = z.new_zeros(z.shape[0])
        for layer in reversed(self.posterior_flow):
            z, ld = layer.inverse(z)
            log_det = log_det + ld
        return z.reshape(*lead, -1), log_det.reshape(lead)

    def _flow_to_z0(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """``z -> z0``: ``(n, d)`` and ``log|det dz0/dz|`` ``(n,)``."""
        log_det = z.new_zeros(z.shape[0])
        for layer in self.posterior_flow:
            z, ld = layer(z)
            log_det = log_det + ld
        return z, log_det

    def _reparameterise(
        self, mu: Tensor, logvar: Tensor, eps: Tensor, path_only: bool = False
    ) -> tuple[Tensor, Tensor]:
        """``z`` and ``log q(z | x)`` from noise ``eps (..., n, d)`` (broadcast over ``mu``).

        ``path_only``: the same values, but ``log q`` differentiates only through ``z``
        (the score term of ``mu`` and ``logvar`` is dropped; see :meth:`train_step`).
        """
        z0 = mu + torch.exp(0.5 * logvar) * eps
        if path_only:
            log_q = gaussian_log_prob(z0, mu.detach(), logvar.detach())
        else:
            log_q = gaussian_log_prob(z0, mu, logvar)
        if len(self.posterior_flow) == 0:
            return z0, log_q
        z, log_det = self._flow_to_z(z0)
        return z, log_q - log_det

    def posterior_mean(self, x: Tensor) -> Tensor:
        """``mu(x)`` ``(n, latent_dim)``; with a posterior flow, its image under the flow."""
        mu, _ = self.posterior_params(x)
        return self._flow_to_z(mu)[0] if len(self.posterior_flow) else mu

    def posterior_sample(
        self, x: Tensor, rng: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``z ~ q(z | x)`` and ``log q(z | x)``: ``((n, latent_dim), (n,))`` nats.

        ``rng``: the noise's source (``None``: a fresh one seeded 0)."""
        mu, logvar = self.posterior_params(x)
        eps = normal_noise(tuple(mu.shape), evaluation_rng(rng, mu), mu)
        return self._reparameterise(mu, logvar, eps)

    def posterior_log_prob(self, z: Tensor, x: Tensor) -> Tensor:
        """``log q(z_i | x_i)``: ``z (n, latent_dim)``, ``x (n, ...)`` -> ``(n,)`` nats
        (with a flow, ``z`` is taken back to ``z0``: planar layers by root finding)."""
        mu, logvar = self.posterior_params(x)
        z0, log_det = self._flow_to_z0(z)
        return gaussian_log_prob(z0, mu, logvar) + log_det

    def posterior_log_prob_matrix(self, z: Tensor, x: Tensor) -> Tensor:
        """``log q(z_i | x_j)`` for every pair: ``z (m, latent_dim)``, ``x (n, ...)`` ->
        ``(m, n)`` nats; each ``x_j`` is encoded once and each ``z_i`` taken back through
        the flow once (the flow does not depend on ``x``)."""
        mu, logvar = self.posterior_params(x)
        z0, log_det = self._flow_to_z0(z)
        return gaussian_log_prob(z0[:, None, :], mu, logvar) + log_det[:, None]

    def posterior_kl_per_dim(self, x: Tensor) -> Tensor:
        """``KL(q0(z_i | x) || N(0, 1))`` per dimension, nats, ``(n, latent_dim)``."""
        return gaussian_kl_per_dim(*self.posterior_params(x))

    # ------------------------------------------------------ decoder and prior
    def decode(self, z: Tensor) -> Tensor:
        return self.decoder.mean(z)

    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        return self.prior.sample(n, rng, self.posterior_params)

    def prior_log_prob(self, z: Tensor) -> Tensor:
        return self.prior.log_prob(z, self.posterior_params)

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``x ~ p(x | z)``, ``z ~ p(z)`` on the plane; decoder means for images:
        ``(n, *event_shape)``."""
        z = self.sample_prior(n, rng)
        if self.is_image:
            return self.decode(z)
        return self.decoder.sample(z, rng, self.config.decoder_std)

    # ------------------------------------------------------------------ bounds
    def _elbo_parts(
        self, x: Tensor, rng: torch.Generator, path_only: bool = False
    ) -> dict[str, Tensor]:
        """:meth:`elbo_terms` and ``kl_per_dim`` ``(n, d)`` where the KL is closed-form
        (``path_only``: see :meth:`_reparameterise`)."""
        mu, logvar = self.posterior_params(x)
        eps = normal_noise(tuple(mu.shape), rng, mu)
        z, log_q = self._reparameterise(mu, logvar, eps, path_only)
        rec = self.decoder.log_prob(x, z, self.config.decoder_std)
        out = {"reconstruction": rec, "z": z, "mu": mu, "logvar": logvar}
        if self.closed_form_kl:
            out["kl_per_dim"] = gaussian_kl_per_dim(mu, logvar)
            out["kl"] = out["kl_per_dim"].sum(-1)
        else:
            out["kl"] = log_q - self.prior_log_prob(z)
        out["elbo"] = rec - out["kl"]
        return out

    def elbo_terms(self, x: Tensor, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """One-sample ``reconstruction``, ``kl`` and ``elbo`` of each ``x``, ``(n,)`` nats
        (``rng``: the posterior noise; ``None``: a fresh one seeded 0)."""
        parts = self._elbo_parts(x, evaluation_rng(rng, x))
        return {k: parts[k] for k in ("reconstruction", "kl", "elbo")}

    def log_weights(
        self, x: Tensor, k: int, rng: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``log p(x | z_j)``, ``log p(z_j)`` and ``log q(z_j | x)`` for ``z_j ~ q(z | x)``.

        The noise of all ``k`` samples is drawn first, as ``(k, n, d)`` (so ``k = 1``
        uses the numbers of :meth:`elbo_terms`), then decoded in chunks.

        Returns:
            Three ``(k, n)`` tensors, nats.
        """
        mu, logvar = self.posterior_params(x)
        g = evaluation_rng(rng, mu)
        eps = normal_noise((k, *mu.shape), g, mu)
        rows = max(1, IWAE_CHUNK // k)
        parts: list[tuple[Tensor, Tensor, Tensor]] = []
        for s in range(0, x.shape[0], rows):
            xs, sl = x[s : s + rows], slice(s, s + rows)
            z, log_q = self._reparameterise(mu[sl], logvar[sl], eps[:, sl])
            flat = z.reshape(-1, z.shape[-1])
            repeated = xs.repeat(k, *([1] * (xs.dim() - 1)))
            log_px = self.decoder.log_prob(repeated, flat, self.config.decoder_std)
            log_pz = self.prior_log_prob(flat)
            parts.append((log_px.view(k, -1), log_pz.view(k, -1), log_q))
        return tuple(torch.cat(p, dim=1) for p in zip(*parts, strict=True))  # type: ignore[return-value]

    def iwae_bound(self, x: Tensor, k: int, rng: torch.Generator | None = None) -> Tensor:
        """``log (1/k) sum_j p(x, z_j) / q(z_j | x)``, ``(n,)`` nats (Burda et al. 2016,
        eq. 8); ``rng``: the posterior noise (``None``: a fresh one seeded 0)."""
        log_px, log_pz, log_q = self.log_weights(x, k, rng)
        return torch.logsumexp(log_px + log_pz - log_q, dim=0) - math.log(k)

    # ---------------------------------------------------------------- training
    def current_beta(self) -> float:
        """``beta_t`` at the current step (see :func:`kl_weight`)."""
        return kl_weight(self.config.beta, self.config.kl_anneal_steps, int(self.steps_taken))

    def current_capacity(self) -> float:
        """``C_t`` at the current step (see :func:`capacity_at`)."""
        cfg = self.config
        return capacity_at(cfg.capacity, cfg.capacity_steps, int(self.steps_taken))

    def begin_step(self, batch: Tensor) -> None:
        """Before a step: the learning rate of the schedule and, at step 0 on a finite
        batch, :meth:`DecoderLikelihood.data_init` (a non-finite batch changes nothing)."""
        self.apply_lr_schedule()
        if int(self.steps_taken) == 0 and bool(torch.isfinite(batch).all()):
            self.decoder.data_init(batch)

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the (weighted) negative ELBO of a batch ``(b, *event_shape)``.

        Where the KL is the one-sample estimate, its gradient drops the score term of
        ``log q`` (Roeder et al. 2017, "sticking the landing"): unbiased, and with no
        variance where ``q`` matches ``p``. Without it the noise of ``grad log p(z)`` keeps
        Adam from leaving the collapsed start of :meth:`DecoderLikelihood.data_init` for
        hundreds of steps (the closed-form KL leaves it within ~100).

        Returns:
            ``loss``; ``elbo``, ``reconstruction`` and ``kl`` (batch means, nats per data
            point); ``beta`` (``beta_t``, unused under the capacity objective); with
            ``capacity > 0`` also ``capacity`` (``C_t``, nats).

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term was not finite; no parameter and no step counter
                changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        self.begin_step(batch)
        cfg = self.config
        parts = self._elbo_parts(batch, self.rng, path_only=True)
        rec, kl = parts["reconstruction"].mean(), parts["kl"].mean()
        kl_term = kl
        if cfg.free_bits > 0:
            per_dim = parts.get("kl_per_dim")
            if per_dim is None:
                kl_term = free_bits_kl(parts["kl"][:, None], cfg.free_bits * self.latent_dim)
            else:
                kl_term = free_bits_kl(per_dim, cfg.free_bits)
        beta = self.current_beta()
        terms = {"elbo": rec - kl, "reconstruction": rec, "kl": kl, "beta": torch.tensor(beta)}
        if cfg.capacity > 0:
            c_t = self.current_capacity()
            loss = -rec + cfg.gamma * (kl_term - c_t).abs()
            terms["capacity"] = torch.tensor(c_t)
        elif cfg.kl_split == "beta-tcvae":  # Chen et al. 2018: see tcvae.py
            penalty, tc_terms = tcvae_penalty(parts, cfg)
            loss = -rec + penalty
            terms.update(tc_terms)
        else:
            loss = -rec + beta * kl_term
        values = self.optimize(loss, terms)
        self.steps_taken += 1
        return values
