"""Adversarial variational Bayes: an implicit encoder z = f(x, eps) whose KL an adversary
T(x, z) estimates by the density-ratio trick."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import HyperparameterError, hp
from .base import LatentModel, NoLatentDensityError
from .components import DecoderLikelihood, evaluation_rng, image_defaults
from .density_ratio import RatioNet, logistic_ratio_loss
from .distributions import normal_noise
from .networks import Encoder, mlp
from .priors import StandardNormalPrior
from .vae import LatentConfig

__all__ = ["AVB", "ImplicitEncoder", "MEAN_SAMPLES", "PRIOR_NLL_K"]

#: encoder samples averaged by :meth:`AVB.posterior_mean` (its Monte Carlo ``E_q[z | x]``)
MEAN_SAMPLES = 64
#: prior samples of :meth:`AVB.discrete_nll`'s importance-sampling bound
PRIOR_NLL_K = 1000


class ImplicitEncoder(nn.Module):
    """``z = f(x, eps)``, ``eps ~ N(0, I)`` an input: ``q(z | x)`` has no closed-form density.

    ``x`` passes through an :class:`~.networks.Encoder` to ``hidden`` features (an MLP, or
    convolutions for larger images); the features and ``eps`` then pass through an MLP of
    ``depth`` hidden layers to ``z``, so the noise is transformed nonlinearly, with ``x``.

    Arguments:
        event_shape: one data point's shape.
        latent_dim, noise_dim: the widths of ``z`` and ``eps``.
        hidden, depth: as :class:`~.networks.Encoder`.

    References:
        Mescheder, Nowozin and Geiger, "Adversarial Variational Bayes", ICML 2017,
        section 3.1 and figure 1 (the black-box encoder).
    """

    def __init__(
        self, event_shape: tuple[int, ...], latent_dim: int, noise_dim: int, hidden: int, depth: int
    ):
        super().__init__()
        self.noise_dim = noise_dim
        self.features = Encoder(event_shape, hidden, hidden, depth)
        self.head = mlp(hidden + noise_dim, latent_dim, hidden, depth, nn.SiLU)

    def forward(self, x: Tensor, eps: Tensor) -> Tensor:
        """``x (n, *event_shape)``, ``eps (n, noise_dim)`` -> ``z (n, latent_dim)``."""
        return self.head(torch.cat([self.features(x), eps], dim=1))


class AVB(LatentModel):
    """Adversarial variational Bayes: an implicit encoder trained through an adversary.

    The encoder ``z = f_phi(x, eps)`` (:class:`ImplicitEncoder`) may put any distribution
    on ``z``; the ELBO's ``KL(q(z | x) || p(z)) = E_q[log q(z | x) - log p(z)]`` cannot be
    evaluated, so an adversary ``T_psi(x, z)`` is trained by the density-ratio trick
    (:func:`~.density_ratio.logistic_ratio_loss`: pairs ``(x, z ~ q(z | x))`` against
    ``(x, z ~ p(z))``), whose optimum is ``T*(x, z) = log q(z | x) - log p(z)`` (eq. 3-4).
    Each step (algorithm 1) makes one adversary step on a batch, then one step of the
    encoder and decoder on the same batch, minimising ``E_q[T(x, z) - log p(x | z)]``
    with ``z = f(x, eps)`` (the gradient reaches ``phi`` through ``z``; at ``T*`` the
    term of ``T``'s dependence on ``phi`` has zero mean, proposition 2).

    The prior is ``N(0, I)``; the decoder is any of :data:`~.decoders.DECODERS`
    (Bernoulli for binary images). Where a density of ``q`` is asked for
    (:meth:`posterior_sample`, :meth:`posterior_log_prob`: the ELBO surgery, the
    aggregate-posterior heatmap) it is the adversary's estimate ``T(x, z) + log p(z)``,
    exact only at the adversary's optimum; so are ``kl`` in :meth:`elbo_terms` and the
    weights of :meth:`iwae_bound` (an estimate, not a bound). :meth:`log_prob` (and
    :meth:`discrete_nll`, held-out ``bits_per_dim``) instead bounds ``log p(x)`` without
    the adversary, by importance sampling from the prior.
    :meth:`encode` draws one ``z ~ q(z | x)``; :meth:`posterior_mean` averages
    :data:`MEAN_SAMPLES` of them.

    Arguments:
        config: an :class:`AVB.Config`.
        data: an image set.

    Raises:
        HyperparameterError: a decoder the data cannot take (see
            :class:`~.decoders.DecoderLikelihood`).

    References:
        Mescheder, Nowozin and Geiger, "Adversarial Variational Bayes: Unifying Variational
        Autoencoders and Generative Adversarial Networks", ICML 2017, eq. (3)-(7),
        algorithm 1, section 6.1 (the four-points toy).
    """

    name: ClassVar[str] = "avb"
    description: ClassVar[str] = (
        "AVB: implicit encoder f(x, eps) whose KL an adversary T(x, z) estimates"
    )
    #: ``density``: :meth:`log_prob` by importance sampling from the prior
    capabilities: ClassVar[frozenset[str]] = frozenset({"density", "samples", "latent"})
    data_kinds: ClassVar[tuple[str, ...]] = ("image",)
    implicit_posterior: ClassVar[bool] = True

    @dataclass
    class Config(LatentConfig):
        """AVB hyperparameters: the encoder's noise and the adversary's training."""

        # 8 > latent_dim: room for the encoder to shape non-Gaussian posteriors
        noise_dim: int = hp(8, low=1, high=256, help="dimension of the encoder's input noise eps")
        # 5 steps at 3e-3: on four-points (2,000 steps, seed 0) the adversary then tracks
        # the encoder (KL estimate 1.48 nats, at least log 4 = 1.39 for four separate
        # posteriors; NLL 1.43 nats); one step at 1e-3 let the encoder exploit T (KL
        # estimate 0.29 nats, an ELBO above log p(x); NLL 1.92 nats)
        adversary_lr: float = hp(
            3e-3, low=1e-6, high=1.0, log=True, live=True, help="Adam learning rate of T(x, z)"
        )
        adversary_steps: int = hp(
            5, low=1, high=20, live=True, help="adversary steps per encoder-decoder step"
        )

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """See :func:`~.components.image_defaults`."""
        return image_defaults(data)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        if not self.is_image:
            raise HyperparameterError(
                f"avb models image sets; {getattr(data, 'name', data)} is not"
            )
        d = config.latent_dim
        self.encoder = ImplicitEncoder(
            self.event_shape, d, config.noise_dim, config.hidden, config.depth
        )
        self.decoder = DecoderLikelihood(
            d, self.event_shape, config.hidden, config.depth, config.decoder, self.levels
        )
        self.adversary = RatioNet(self.data_dim + d, config.hidden, config.depth)
        self.prior = StandardNormalPrior(d)

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    @property
    def discrete_likelihood(self) -> bool:
        """See :meth:`DecoderLikelihood.is_discrete_on`."""
        return self.decoder.is_discrete_on(self.levels)

    # ----------------------------------------------------------------- encoder
    def sample_posterior(self, x: Tensor, rng: torch.Generator) -> Tensor:
        """``z = f(x, eps)``, ``eps ~ N(0, I)`` from ``rng``: ``(n, latent_dim)``."""
        eps = normal_noise((x.shape[0], self.config.noise_dim), rng, x)
        return self.encoder(x, eps)

    def encode(self, x: Tensor, rng: torch.Generator | None = None) -> Tensor:
        """One ``z ~ q(z | x)`` per row, ``(n, latent_dim)`` (``rng`` ``None``: a fresh one
        seeded 0, so views are deterministic)."""
        return self.sample_posterior(x, evaluation_rng(rng, x))

    def posterior_mean(self, x: Tensor) -> Tensor:
        """``E_q[z | x]`` by the mean of :data:`MEAN_SAMPLES` encoder samples (noise seeded
        0), ``(n, latent_dim)``."""
        g = evaluation_rng(None, x)
        z = self.sample_posterior(x.repeat_interleave(MEAN_SAMPLES, 0), g)
        return z.view(x.shape[0], MEAN_SAMPLES, -1).mean(1)

    def estimated_log_q(self, z: Tensor, x: Tensor) -> Tensor:
        """The adversary's ``log q(z_i | x_i) ~ T(x_i, z_i) + log p(z_i)``: ``(n,)`` nats."""
        return self.adversary(x, z) + self.prior_log_prob(z)

    def posterior_sample(
        self, x: Tensor, rng: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``z ~ q(z | x)`` and the adversary's estimate of ``log q(z | x)``:
        ``((n, latent_dim), (n,))`` nats."""
        z = self.encode(x, rng)
        return z, self.estimated_log_q(z, x)

    def posterior_log_prob(self, z: Tensor, x: Tensor) -> Tensor:
        """The adversary's estimate of ``log q(z_i | x_i)``, ``(n,)`` nats."""
        return self.estimated_log_q(z, x)

    def posterior_log_prob_matrix(self, z: Tensor, x: Tensor) -> Tensor:
        """The adversary's ``log q(z_i | x_j)`` for every pair, ``(m, n)`` nats; each
        distinct ``x_j`` is evaluated once (the four-points test set repeats four images)."""
        unique, inverse = torch.unique(x.reshape(x.shape[0], -1), dim=0, return_inverse=True)
        images = unique.reshape(-1, *x.shape[1:])
        return super().posterior_log_prob_matrix(z, images)[:, inverse]

    def posterior_kl_per_dim(self, x: Tensor) -> Tensor:
        """Raises :class:`NoLatentDensityError`: an implicit posterior has no per-dimension
        Gaussian KL."""
        raise NoLatentDensityError(f"{self.name}'s implicit encoder has no Gaussian posterior")

    # ------------------------------------------------------ decoder and prior
    def decode(self, z: Tensor) -> Tensor:
        return self.decoder.mean(z)

    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        return self.prior.sample(n, rng)

    def prior_log_prob(self, z: Tensor) -> Tensor:
        return self.prior.log_prob(z)

    # ------------------------------------------------------------------ bounds
    def elbo_terms(self, x: Tensor, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """One-sample ``reconstruction`` ``log p(x | z)``, ``kl`` (the adversary's estimate
        ``T(x, z)``) and ``elbo``, each ``(n,)`` nats, ``z ~ q(z | x)``."""
        z = self.encode(x, rng)
        rec = self.decoder.log_prob(x, z, self.config.decoder_std)
        kl = self.adversary(x, z)
        return {"reconstruction": rec, "kl": kl, "elbo": rec - kl}

    def iwae_bound(self, x: Tensor, k: int, rng: torch.Generator | None = None) -> Tensor:
        """``log (1/k) sum_j p(x | z_j) exp(-T(x, z_j))``, ``z_j ~ q(z | x)``: the IWAE
        bound with the adversary's ``log q``, ``(n,)`` nats; ``k = 1`` is the ELBO of
        :meth:`elbo_terms`. An estimate: it bounds ``log p(x)`` only at ``T*``."""
        g = evaluation_rng(rng, x)
        xs = x.repeat(k, *([1] * (x.dim() - 1)))
        z = self.sample_posterior(xs, g)
        log_w = self.decoder.log_prob(xs, z, self.config.decoder_std) - self.adversary(xs, z)
        return torch.logsumexp(log_w.view(k, -1), 0) - math.log(k)

    def log_prob(
        self, x: Tensor, k: int = PRIOR_NLL_K, rng: torch.Generator | None = None
    ) -> Tensor:
        """``log (1/k) sum_j p(x | z_j)``, ``z_j ~ p(z)``: ``(n,)`` nats, importance
        sampling from the prior. It needs no density of ``q`` (nor the adversary), is a
        lower bound on ``log p(x)`` in expectation and tends to it as ``k`` grows; tight
        for a low-dimensional latent (four-points: a 2D latent). ``rng``: the prior
        samples (``None``: a fresh one seeded 0).

        References:
            Burda et al., "Importance Weighted Autoencoders", ICLR 2016, eq. (8), with the
            prior as proposal.
        """
        g = evaluation_rng(rng, x)
        out = []
        for xs in x.split(max(1, 100_000 // k)):
            z = self.sample_prior(k, g)
            rep_x = xs.repeat_interleave(k, 0)
            log_px = self.decoder.log_prob(rep_x, z.repeat(xs.shape[0], 1), self.config.decoder_std)
            out.append(torch.logsumexp(log_px.view(xs.shape[0], k), 1) - math.log(k))
        return torch.cat(out)

    def discrete_nll(self, x: Tensor, rng: torch.Generator | None = None) -> Tensor | None:
        """``-`` :meth:`log_prob` with :data:`PRIOR_NLL_K` prior samples: ``(n,)`` nats, an
        upper bound (in expectation) on ``-log P(x)``; ``None`` where
        :attr:`discrete_likelihood` is False."""
        if not self.discrete_likelihood:
            return None
        return -self.log_prob(x, PRIOR_NLL_K, rng)

    # ---------------------------------------------------------------- training
    def configure_optimizers(self) -> None:
        """``model`` (encoder and decoder) and ``adversary`` (``T``), each Adam."""
        model_params = [*self.encoder.parameters(), *self.decoder.parameters()]
        self.optimizers = {
            "model": torch.optim.Adam(model_params, lr=self.config.lr),
            "adversary": torch.optim.Adam(self.adversary.parameters(), lr=self.config.adversary_lr),
        }

    def base_lr(self, optimizer: str) -> float:
        """``lr`` for the encoder and decoder, ``adversary_lr`` for ``T``."""
        cfg = self.config
        return float(cfg.adversary_lr if optimizer == "adversary" else cfg.lr)

    def adversary_step(self, x: Tensor) -> dict[str, float]:
        """One step of ``T`` on :func:`~.density_ratio.logistic_ratio_loss` of ``(x, z ~
        q(z | x))`` against ``(x, z ~ p(z))``; returns ``adversary_loss`` (nats)."""
        with torch.no_grad():
            z_q = self.sample_posterior(x, self.rng)
        z_p = self.sample_prior(x.shape[0], self.rng)
        loss = logistic_ratio_loss(self.adversary(x, z_q), self.adversary(x, z_p))
        return self.optimize(loss, {"adversary_loss": loss}, "adversary")

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """``adversary_steps`` adversary steps, then one Adam step of the encoder and
        decoder on ``E_q[T(x, z) - log p(x | z)]`` (batch mean), on the same batch ``(b,
        *event_shape)``. At step 0 the decoder starts at the data's marginal
        (:meth:`DecoderLikelihood.data_init`); rates follow the cosine over
        ``lr_decay_steps``.

        Returns:
            ``loss``, ``reconstruction`` (``E_q log p(x | z)``), ``kl_estimate``
            (``E_q T(x, z)``), ``elbo`` (their difference) and ``adversary_loss``, nats
            per data point.

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term was not finite (the adversary may have taken its
                step when the encoder's term is the bad one).
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        self.apply_lr_schedule()
        if int(self.steps_taken) == 0 and bool(torch.isfinite(batch).all()):
            self.decoder.data_init(batch)
        adversary_loss = 0.0
        for _ in range(int(self.config.adversary_steps)):
            adversary_loss = self.adversary_step(batch)["adversary_loss"]
        self.adversary.requires_grad_(False)
        try:
            z = self.sample_posterior(batch, self.rng)
            rec = self.decoder.log_prob(batch, z, self.config.decoder_std).mean()
            kl = self.adversary(batch, z).mean()
            loss = kl - rec
            terms = {"reconstruction": rec, "kl_estimate": kl, "elbo": rec - kl}
            out = self.optimize(loss, terms, "model")
        finally:
            self.adversary.requires_grad_(True)
        self.steps_taken += 1
        return {**out, "adversary_loss": adversary_loss}
