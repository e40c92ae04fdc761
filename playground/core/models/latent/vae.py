"""The VAE and the IWAE: a Gaussian encoder, a choice of decoder, prior and posterior flow."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ..base import TrainingConfig, cosine_lr_factor, lr_decay_hp
from ..flows.autoregressive import IAFLayer
from ..flows.base import FlowLayer, soft_clamp
from ..flows.planar import PlanarLayer
from .base import LatentModel
from .distributions import (
    bernoulli_log_likelihood,
    gaussian_kl_per_dim,
    gaussian_log_likelihood,
    gaussian_log_prob,
    normal_noise,
)
from .networks import Decoder, Encoder
from .priors import PRIORS, make_prior

__all__ = [
    "VAE",
    "IWAE",
    "LatentConfig",
    "PriorConfig",
    "DecoderLikelihood",
    "DECODERS",
    "POSTERIOR_FLOWS",
    "kl_weight",
    "scheduled_lr",
    "apply_lr_schedule",
    "capacity_at",
    "free_bits_kl",
    "posterior_flow_layers",
    "image_defaults",
    "evaluation_generator",
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
#: the seed of the posterior noise when no generator is given (views and metrics): their
#: estimates are then deterministic and never draw from the training generator
EVALUATION_SEED = 0


def evaluation_generator(generator: torch.Generator | None, like: Tensor) -> torch.Generator:
    """``generator``, or a fresh one seeded :data:`EVALUATION_SEED` on ``like``'s device."""
    if generator is not None:
        return generator
    return torch.Generator(device=like.device).manual_seed(EVALUATION_SEED)


def scheduled_lr(lr: float, decay_steps: int, step: int) -> float:
    """``lr`` after a cosine decay to 2% of it over ``decay_steps`` (constant when 0), by
    :func:`~playground.core.models.base.cosine_lr_factor`.

    The decay lets Adam's noise-driven walk in flat directions die out: late in training
    a collapsed unit's posterior mean stops wandering with ``x``.
    """
    return float(lr) * cosine_lr_factor(step, decay_steps)


def apply_lr_schedule(model: Any) -> None:
    """Set every optimiser of ``model`` to :func:`scheduled_lr` at its ``steps_taken``."""
    cfg = model.config
    lr = scheduled_lr(cfg.lr, cfg.lr_decay_steps, int(model.steps_taken))
    for opt in model.optimizers.values():
        for group in opt.param_groups:
            group["lr"] = lr


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

    def sample(self, z: Tensor, generator: torch.Generator, decoder_std: float) -> Tensor:
        """``x ~ p(x | z)`` for the Gaussian decoders: ``(n, *event_shape)``; the Bernoulli
        decoder returns its mean (the pixel probabilities)."""
        loc, log_std = self.params(z)
        if self.kind == "bernoulli":
            return torch.sigmoid(loc)
        std = torch.exp(log_std) if log_std is not None else decoder_std
        return loc + std * normal_noise(tuple(loc.shape), generator, loc)


@dataclass
class LatentConfig(TrainingConfig):
    """Hyperparameters every continuous-latent model shares: networks and decoder."""

    # 1024 on the plane: the axis-aligned Gaussian's ELBO is flat along a small use of z,
    # and Adam's noise walks it; at 512, 2 of 10 seeds end 3000 steps with an "active"
    # unit (Cov 0.012-0.013), at 1024 none does (at most 0.003; posterior_collapse.py)
    batch_size: int = hp(1024, low=1, high=8192, log=True, live=True, help="samples per step")
    # 2: the latent view plots z itself; images get theirs from ``defaults_for``
    latent_dim: int = hp(2, low=1, high=64, help="dimension of the latent z")
    # 64 x 2: about 4 ms per step at batch 1024 on the plane, on one core
    hidden: int = hp(64, low=4, high=1024, log=True, help="width of the encoder and decoder")
    depth: int = hp(2, low=1, high=6, help="hidden layers of the encoder and decoder")
    decoder: str = hp(
        "gaussian",
        choices=DECODERS,
        help="p(x|z): gaussian (learned variance), gaussian-fixed (decoder_std), bernoulli",
    )
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
    class Config(PriorConfig):
        """VAE hyperparameters: the ELBO's KL weight and its schedules."""

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
            d, self.event_shape, config.hidden, config.depth, config.decoder
        )
        self.prior = make_prior(
            config.prior, d, config.prior_components, config.prior_flow_layers, config.hidden, data
        )
        self.posterior_flow = nn.ModuleList(
            posterior_flow_layers(config.posterior_flow, d, config.flow_layers, config.hidden)
        )
        self.generator = torch.Generator()
        # saved with the weights, so the KL schedules resume after a preset reload
        self.register_buffer("steps_taken", torch.zeros((), dtype=torch.long))

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

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
        self, x: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``z ~ q(z | x)`` and ``log q(z | x)``: ``((n, latent_dim), (n,))`` nats.

        ``generator``: the noise's source (``None``: a fresh one seeded 0)."""
        mu, logvar = self.posterior_params(x)
        eps = normal_noise(tuple(mu.shape), evaluation_generator(generator, mu), mu)
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

    def sample_prior(self, n: int, generator: torch.Generator) -> Tensor:
        return self.prior.sample(n, generator, self.posterior_params)

    def prior_log_prob(self, z: Tensor) -> Tensor:
        return self.prior.log_prob(z, self.posterior_params)

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        """``x ~ p(x | z)``, ``z ~ p(z)`` on the plane; decoder means for images:
        ``(n, *event_shape)``."""
        z = self.sample_prior(n, generator)
        if self.is_image:
            return self.decode(z)
        return self.decoder.sample(z, generator, self.config.decoder_std)

    # ------------------------------------------------------------------ bounds
    def _elbo_parts(
        self, x: Tensor, generator: torch.Generator, path_only: bool = False
    ) -> dict[str, Tensor]:
        """:meth:`elbo_terms` and ``kl_per_dim`` ``(n, d)`` where the KL is closed-form
        (``path_only``: see :meth:`_reparameterise`)."""
        mu, logvar = self.posterior_params(x)
        eps = normal_noise(tuple(mu.shape), generator, mu)
        z, log_q = self._reparameterise(mu, logvar, eps, path_only)
        rec = self.decoder.log_prob(x, z, self.config.decoder_std)
        out = {"reconstruction": rec}
        if self.closed_form_kl:
            out["kl_per_dim"] = gaussian_kl_per_dim(mu, logvar)
            out["kl"] = out["kl_per_dim"].sum(-1)
        else:
            out["kl"] = log_q - self.prior_log_prob(z)
        out["elbo"] = rec - out["kl"]
        return out

    def elbo_terms(self, x: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """One-sample ``reconstruction``, ``kl`` and ``elbo`` of each ``x``, ``(n,)`` nats
        (``generator``: the posterior noise; ``None``: a fresh one seeded 0)."""
        parts = self._elbo_parts(x, evaluation_generator(generator, x))
        return {k: parts[k] for k in ("reconstruction", "kl", "elbo")}

    def log_weights(
        self, x: Tensor, k: int, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``log p(x | z_j)``, ``log p(z_j)`` and ``log q(z_j | x)`` for ``z_j ~ q(z | x)``.

        The noise of all ``k`` samples is drawn first, as ``(k, n, d)`` (so ``k = 1``
        uses the numbers of :meth:`elbo_terms`), then decoded in chunks.

        Returns:
            Three ``(k, n)`` tensors, nats.
        """
        mu, logvar = self.posterior_params(x)
        g = evaluation_generator(generator, mu)
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

    def iwae_bound(self, x: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
        """``log (1/k) sum_j p(x, z_j) / q(z_j | x)``, ``(n,)`` nats (Burda et al. 2016,
        eq. 8); ``generator``: the posterior noise (``None``: a fresh one seeded 0)."""
        log_px, log_pz, log_q = self.log_weights(x, k, generator)
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
        apply_lr_schedule(self)
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
        parts = self._elbo_parts(batch, self.generator, path_only=True)
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
        else:
            loss = -rec + beta * kl_term
        values = self.optimize(loss, terms)
        self.steps_taken += 1
        return values


class IWAE(VAE):
    """The importance-weighted autoencoder: a VAE trained on the ``k``-sample bound.

    ``L_k = E[log (1/k) sum_j p(x, z_j) / q(z_j | x)]``, ``z_j ~ q(z | x)``: ``L_1`` is
    the ELBO, ``L_k`` does not fall as ``k`` grows and tends to ``log p(x)``. The prior
    and the posterior flow are the VAE's; there is no KL weight (the bound has no
    separate KL term).

    References:
        Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016,
        equation (8) and theorem 1.
    """

    name: ClassVar[str] = "iwae"
    description: ClassVar[str] = "IWAE: a VAE trained on the k-sample importance-weighted bound"

    @dataclass
    class Config(PriorConfig):
        """IWAE hyperparameters: the number of importance samples."""

        # 256: each data point is decoded k times, so a step costs like the VAE's at 1024
        batch_size: int = hp(256, low=1, high=8192, log=True, live=True, help="samples per step")
        # 10: most of the gain of the paper's k = 50 at a fifth of the cost
        k: int = hp(10, low=1, high=1000, log=True, live=True, help="importance samples per x")

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on ``-L_k`` of a batch ``(b, *event_shape)``.

        Returns:
            ``loss`` = ``-iwae_bound``; ``iwae_bound``; ``elbo``, ``reconstruction`` and
            ``kl`` (the one-sample estimates averaged over the ``k`` samples; nats per
            data point, batch means).

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term was not finite; nothing changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        self.begin_step(batch)
        k = self.config.k
        log_px, log_pz, log_q = self.log_weights(batch, k, self.generator)
        bound = (torch.logsumexp(log_px + log_pz - log_q, dim=0) - math.log(k)).mean()
        rec, kl = log_px.mean(), (log_q - log_pz).mean()
        terms = {"iwae_bound": bound, "elbo": rec - kl, "reconstruction": rec, "kl": kl}
        values = self.optimize(-bound, terms)
        self.steps_taken += 1
        return values
