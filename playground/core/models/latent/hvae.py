"""The two-level hierarchical VAE: ``x -> z1 -> z2`` up, ``z2 -> z1 -> x`` down."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ..flows.base import soft_clamp
from .base import LatentModel
from .distributions import (
    gaussian_kl_per_dim,
    gaussian_log_prob,
    normal_noise,
    standard_normal_log_prob,
)
from .networks import Encoder, mlp
from .vae import (
    IWAE_CHUNK,
    MAX_LOGVAR,
    DecoderLikelihood,
    LatentConfig,
    anneal_hp,
    beta_hp,
    evaluation_rng,
    image_defaults,
    kl_weight,
)

__all__ = ["HVAE"]


class _GaussianLayer(nn.Module):
    """``h (n, n_in) -> (mu, logvar)``, each ``(n, n_out)``: an MLP with SiLU."""

    def __init__(self, n_in: int, n_out: int, hidden: int, depth: int):
        super().__init__()
        self.net = mlp(n_in, 2 * n_out, hidden, depth, nn.SiLU)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.net(h).chunk(2, dim=-1)
        return mu, soft_clamp(logvar, MAX_LOGVAR)


class HVAE(LatentModel):
    """A hierarchical VAE with two stochastic layers.

    Inference ``q(z1 | x) q(z2 | z1)``, generation ``p(z2) p(z1 | z2) p(x | z1)`` with
    ``p(z2) = N(0, I)`` and diagonal Gaussians elsewhere (``p(x | z1)``: the VAE's
    decoders). The hierarchical ELBO, from one sample ``z1 ~ q(z1 | x)``,
    ``z2 ~ q(z2 | z1)``:

    ``elbo = E[log p(x | z1)] - kl_1 - kl_2``, ``kl_1 = E[log q(z1 | x) - log p(z1 | z2)]``
    (sampled), ``kl_2 = E_q(z1|x)[KL(q(z2 | z1) || p(z2))]`` (closed-form given ``z1``).
    The loss is ``-reconstruction + beta_t * (kl_1 + kl_2)``.

    The views' latent is the top layer ``z2`` (its prior is ``N(0, I)``):
    :meth:`decode` maps ``z2`` to the decoder's mean at ``z1`` = the mean of
    ``p(z1 | z2)``; the posterior of ``z2`` given ``x`` has no closed form, so
    :meth:`posterior_mean`, :meth:`posterior_sample`, :meth:`posterior_log_prob` and
    :meth:`posterior_kl_per_dim` use the plug-in Gaussian ``q(z2 | z1 = mean of
    q(z1 | x))``. :meth:`iwae_bound` samples ``(z1, z2)`` jointly and is a bound on
    ``log p(x)`` of the full model.

    Arguments:
        config: an :class:`HVAE.Config`.
        data: the dataset (its shape).

    Raises:
        ValueError: a Bernoulli decoder on the plane.

    References:
        Burda et al., "Importance Weighted Autoencoders", ICLR 2016 (the bound of a
        model with two stochastic layers); Sønderby et al., "Ladder Variational
        Autoencoders", NeurIPS 2016, section 2 (the bottom-up hierarchical VAE).
    """

    name: ClassVar[str] = "hvae"
    description: ClassVar[str] = "hierarchical VAE: two stochastic layers, z2 -> z1 -> x"

    @dataclass
    class Config(LatentConfig):
        """HVAE hyperparameters; ``latent_dim`` is the top layer ``z2``."""

        # 4: room below a 2D top layer; images get more from ``defaults_for``
        latent_dim_1: int = hp(4, low=1, high=128, help="dimension of the bottom latent z1")
        beta: float = beta_hp()
        kl_anneal_steps: int = anneal_hp()

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """The VAE's image defaults; ``z1`` of 8 dimensions for digits, 16 for larger images."""
        out = image_defaults(data)
        if out:
            out["latent_dim_1"] = 8 if out["latent_dim"] <= 2 else 16
        return out

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        d1, d2, hidden, depth = config.latent_dim_1, config.latent_dim, config.hidden, config.depth
        self.encoder = Encoder(self.event_shape, 2 * d1, hidden, depth)  # q(z1 | x)
        self.encoder_2 = _GaussianLayer(d1, d2, hidden, depth)  # q(z2 | z1)
        self.decoder_2 = _GaussianLayer(d2, d1, hidden, depth)  # p(z1 | z2)
        self.decoder = DecoderLikelihood(
            d1, self.event_shape, hidden, depth, config.decoder, self.levels
        )

    @property
    def discrete_likelihood(self) -> bool:
        """See :meth:`~.decoders.DecoderLikelihood.is_discrete_on`."""
        return self.decoder.is_discrete_on(self.levels)

    @property
    def latent_dim(self) -> int:
        return int(self.config.latent_dim)

    def q_z1(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``q(z1 | x)``: ``(mu, logvar)``, each ``(n, latent_dim_1)``."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, soft_clamp(logvar, MAX_LOGVAR)

    # ----------------------------------------------------------------- encoder
    def posterior_params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The plug-in ``q(z2 | z1 = mean of q(z1 | x))``: ``(mu, logvar)``, ``(n, latent_dim)``."""
        return self.encoder_2(self.q_z1(x)[0])

    def posterior_mean(self, x: Tensor) -> Tensor:
        return self.posterior_params(x)[0]

    def posterior_sample(
        self, x: Tensor, rng: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """``z2`` from the plug-in posterior and its log-density: ``((n, d2), (n,))`` nats."""
        mu, logvar = self.posterior_params(x)
        eps = normal_noise(tuple(mu.shape), evaluation_rng(rng, mu), mu)
        z = mu + torch.exp(0.5 * logvar) * eps
        return z, gaussian_log_prob(z, mu, logvar)

    def posterior_log_prob(self, z: Tensor, x: Tensor) -> Tensor:
        """The plug-in posterior's ``log q(z2_i | x_i)``: ``(n, d2)``, ``(n, ...)`` -> ``(n,)``."""
        return gaussian_log_prob(z, *self.posterior_params(x))

    def posterior_log_prob_matrix(self, z: Tensor, x: Tensor) -> Tensor:
        """The plug-in posterior's ``log q(z2_i | x_j)`` for every pair: ``(m, n)`` nats."""
        mu, logvar = self.posterior_params(x)
        return gaussian_log_prob(z[:, None, :], mu, logvar)

    def posterior_kl_per_dim(self, x: Tensor) -> Tensor:
        """The plug-in posterior's ``KL(q(z2_i | x) || N(0, 1))``, ``(n, latent_dim)`` nats."""
        return gaussian_kl_per_dim(*self.posterior_params(x))

    # ------------------------------------------------------ decoder and prior
    def decode(self, z: Tensor) -> Tensor:
        """The decoder's mean at ``z1`` = the mean of ``p(z1 | z2)``: ``(n, *event_shape)``."""
        return self.decoder.mean(self.decoder_2(z)[0])

    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        p = next(self.parameters())
        return normal_noise((n, self.latent_dim), rng, p)

    def prior_log_prob(self, z: Tensor) -> Tensor:
        return standard_normal_log_prob(z)

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Ancestral samples: ``z2 ~ N(0, I)``, ``z1 ~ p(z1 | z2)``, then ``x ~ p(x | z1)``
        on the plane or the decoder's mean for images: ``(n, *event_shape)``."""
        z2 = self.sample_prior(n, rng)
        mu, logvar = self.decoder_2(z2)
        z1 = mu + torch.exp(0.5 * logvar) * normal_noise(tuple(mu.shape), rng, mu)
        if self.is_image:
            return self.decoder.mean(z1)
        return self.decoder.sample(z1, rng, self.config.decoder_std)

    # ------------------------------------------------------------------ bounds
    def _joint(
        self,
        x: Tensor,
        mu1: Tensor,
        logvar1: Tensor,
        eps1: Tensor,
        eps2: Tensor,
        path_only: bool = False,
    ) -> dict[str, Tensor]:
        """The log-densities of one joint sample per row: ``eps1 (m, d1)``, ``eps2 (m, d2)``,
        ``x``, ``mu1`` and ``logvar1`` with ``m`` rows; each output ``(m,)`` nats, and the
        closed-form ``kl_2`` given ``z1``. ``path_only``: the same values, but ``log q1``
        differentiates only through ``z1`` (the VAE's "sticking the landing" gradient)."""
        z1 = mu1 + torch.exp(0.5 * logvar1) * eps1
        mu2, logvar2 = self.encoder_2(z1)
        z2 = mu2 + torch.exp(0.5 * logvar2) * eps2
        prior_mu1, prior_logvar1 = self.decoder_2(z2)
        q1 = (mu1.detach(), logvar1.detach()) if path_only else (mu1, logvar1)
        return {
            "log_px": self.decoder.log_prob(x, z1, self.config.decoder_std),
            "log_q1": gaussian_log_prob(z1, *q1),
            "log_q2": gaussian_log_prob(z2, mu2, logvar2),
            "log_p1": gaussian_log_prob(z1, prior_mu1, prior_logvar1),
            "log_p2": standard_normal_log_prob(z2),
            "kl_2": gaussian_kl_per_dim(mu2, logvar2).sum(-1),
        }

    def elbo_terms(self, x: Tensor, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """One-sample ``reconstruction``, ``kl_1``, ``kl_2``, ``kl`` = ``kl_1 + kl_2`` and
        ``elbo``, each ``(n,)`` nats (``rng``: the noise; ``None``: seeded 0)."""
        return self._elbo(x, evaluation_rng(rng, x))

    def _elbo(self, x: Tensor, g: torch.Generator, path_only: bool = False) -> dict[str, Tensor]:
        mu1, logvar1 = self.q_z1(x)
        eps1 = normal_noise(tuple(mu1.shape), g, mu1)
        eps2 = normal_noise((x.shape[0], self.latent_dim), g, mu1)
        j = self._joint(x, mu1, logvar1, eps1, eps2, path_only)
        kl_1 = j["log_q1"] - j["log_p1"]
        kl = kl_1 + j["kl_2"]
        return {
            "reconstruction": j["log_px"],
            "kl_1": kl_1,
            "kl_2": j["kl_2"],
            "kl": kl,
            "elbo": j["log_px"] - kl,
        }

    def iwae_bound(self, x: Tensor, k: int, rng: torch.Generator | None = None) -> Tensor:
        """``log (1/k) sum_j p(x, z1_j, z2_j) / q(z1_j, z2_j | x)`` over joint samples,
        ``(n,)`` nats (Burda et al. 2016, eq. 8); the noise is drawn as in
        :meth:`elbo_terms`, ``k`` rows at a time."""
        mu1, logvar1 = self.q_z1(x)
        g = evaluation_rng(rng, mu1)
        eps1 = normal_noise((k, *mu1.shape), g, mu1)
        eps2 = normal_noise((k, x.shape[0], self.latent_dim), g, mu1)
        rows = max(1, IWAE_CHUNK // k)
        out = []
        for s in range(0, x.shape[0], rows):
            sl = slice(s, s + rows)
            xs = x[sl]
            m = xs.shape[0]
            j = self._joint(
                xs.repeat(k, *([1] * (xs.dim() - 1))),
                mu1[sl].repeat(k, 1),
                logvar1[sl].repeat(k, 1),
                eps1[:, sl].reshape(k * m, -1),
                eps2[:, sl].reshape(k * m, -1),
            )
            log_w = j["log_px"] + j["log_p1"] + j["log_p2"] - j["log_q1"] - j["log_q2"]
            out.append(torch.logsumexp(log_w.view(k, m), dim=0) - math.log(k))
        return torch.cat(out)

    # ---------------------------------------------------------------- training
    def current_beta(self) -> float:
        """``beta_t`` at the current step (see :func:`~.vae.kl_weight`)."""
        return kl_weight(self.config.beta, self.config.kl_anneal_steps, int(self.steps_taken))

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on ``-reconstruction + beta_t * (kl_1 + kl_2)`` of a batch; the
        sampled ``kl_1``'s gradient drops the score term of ``log q(z1 | x)`` (Roeder et
        al. 2017, as :meth:`VAE.train_step <.vae.VAE.train_step>`).

        Returns:
            ``loss``, ``elbo``, ``reconstruction``, ``kl_1``, ``kl_2``, ``kl`` (batch
            means, nats per data point) and ``beta`` (``beta_t``).

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term was not finite; nothing changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        self.apply_lr_schedule()
        if int(self.steps_taken) == 0 and bool(torch.isfinite(batch).all()):
            self.decoder.data_init(batch)
        parts = self._elbo(batch, self.rng, path_only=True)
        terms = {k: v.mean() for k, v in parts.items()}
        beta = self.current_beta()
        loss = -terms["reconstruction"] + beta * terms["kl"]
        values = self.optimize(loss, {**terms, "beta": torch.tensor(beta)})
        self.steps_taken += 1
        return values
