"""FactorVAE: the ELBO minus gamma times the total correlation of q(z), estimated by a
discriminator between q(z) and the product of its marginals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...hyperparameters import HyperparameterError, hp
from .base import LatentModel
from .decoders import DecoderLikelihood
from .distributions import normal_noise
from .networks import Encoder, mlp
from .priors import make_prior
from .vae import VAE, LatentConfig

__all__ = ["FactorVAE", "permute_dims", "tc_estimate", "discriminator_loss", "tc_discriminator"]


def permute_dims(z: Tensor, rng: torch.Generator) -> Tensor:
    """Samples of the product of marginals ``prod_j q(z_j)`` from samples of ``q(z)``:
    each column of ``z (n, d)`` shuffled across the batch by its own permutation drawn
    from ``rng`` (Kim and Mnih 2018, Algorithm 1). Each column keeps its values (its
    marginal); the pairing between columns (their dependence) is broken.

    Returns:
        ``(n, d)``, on ``z``'s device.
    """
    n, d = z.shape
    keys = torch.rand(n, d, generator=rng, device=rng.device).to(z.device)
    return torch.gather(z, 0, torch.argsort(keys, dim=0))


def tc_discriminator(latent_dim: int, hidden: int, depth: int) -> nn.Sequential:
    """``D: (n, latent_dim) -> (n, 1)``, the logit that ``z`` came from ``q(z)`` rather than
    from the product of its marginals (LeakyReLU 0.2, as in the paper's appendix)."""
    return mlp(latent_dim, 1, hidden, depth, lambda: nn.LeakyReLU(0.2))


def tc_estimate(discriminator: nn.Module, z: Tensor) -> Tensor:
    """``TC(z) ~ E_q[log D(z) / (1 - D(z))]``: the batch mean of the logit of ``D``, nats.

    At the optimal ``D``, ``D / (1 - D) = q(z) / prod_j q(z_j)``, whose expectation under
    ``q(z)`` is ``KL(q(z) || prod_j q(z_j))``, the total correlation (the density-ratio
    trick; Kim and Mnih 2018, eq. 3 and section 3).

    Arguments:
        discriminator: logits ``(n, 1)`` of ``z`` being from ``q(z)``.
        z: ``(n, d)`` samples of ``q(z)``.

    Returns:
        A scalar, nats (differentiable in ``z`` and ``D``).
    """
    return discriminator(z).squeeze(-1).mean()


def discriminator_loss(discriminator: nn.Module, z: Tensor, z_permuted: Tensor) -> Tensor:
    """The discriminator's cross-entropy: ``-1/2 (E_q log D(z) + E log(1 - D(z_perm)))``,
    a scalar in nats; ``z`` and ``z_permuted`` ``(n, d)`` (Kim and Mnih 2018, Algorithm 2)."""
    real, fake = discriminator(z).squeeze(-1), discriminator(z_permuted).squeeze(-1)
    return 0.5 * (F.softplus(-real).mean() + F.softplus(fake).mean())


class FactorVAE(VAE):
    """FactorVAE: a VAE whose loss adds ``gamma`` times the total correlation of ``q(z)``.

    ``L = -E_q[log p(x | z)] + KL(q(z | x) || p(z)) + gamma * TC(z)`` with the standard
    normal prior and ``TC(z) = KL(q(z) || prod_j q(z_j))`` estimated by a discriminator
    ``D`` (:func:`tc_estimate`). Each step takes two batches (``batches_per_step = 2``):
    the VAE steps on the first; ``D`` then steps on the first batch's ``z`` (detached,
    from ``q(z)``) against the second's, permuted per dimension (:func:`permute_dims`,
    from ``prod_j q(z_j)``). ``D`` has its own Adam (``lr_discriminator``, betas 0.5 and
    0.9 as in the paper); the VAE's encoder, decoder, bounds and views are the VAE's.

    Raises:
        HyperparameterError: ``latent_dim < 2`` (one dimension has no total correlation).

    References:
        Kim and Mnih, "Disentangling by Factorising", ICML 2018, eq. (2) (the objective),
        section 3 and Algorithm 2 (the discriminator and the permutation).
    """

    name: ClassVar[str] = "factor-vae"
    description: ClassVar[str] = (
        "FactorVAE: ELBO minus gamma times a discriminator's estimate of the total correlation"
    )

    @dataclass
    class Config(LatentConfig):
        """FactorVAE hyperparameters: the TC weight and the discriminator."""

        # 6.4: the paper's choice for dSprites (its figure 3); benchmarks/disentanglement.md
        # measures it on shapes
        gamma: float = hp(
            6.4, low=0.0, high=1000.0, live=True, help="gamma: weight of the total correlation"
        )
        # 256 x 3 LeakyReLU: a tenth of the paper's 1000 x 6, ample for 10 latents
        discriminator_hidden: int = hp(
            256, low=8, high=2048, log=True, help="width of the discriminator D(z)"
        )
        discriminator_depth: int = hp(3, low=1, high=6, help="hidden layers of D(z)")
        # 1e-4: the paper's rate for D
        lr_discriminator: float = hp(
            1e-4, low=1e-6, high=1.0, log=True, live=True, help="Adam learning rate of D(z)"
        )

        def __post_init__(self) -> None:
            if self.latent_dim < 2:
                raise HyperparameterError(
                    f"factor-vae needs latent_dim >= 2 (one dimension has no total "
                    f"correlation), not {self.latent_dim}"
                )

    def __init__(self, config: Any, data: Any):
        LatentModel.__init__(self, config, data)
        d = config.latent_dim
        self.encoder = Encoder(self.event_shape, 2 * d, config.hidden, config.depth)
        self.decoder = DecoderLikelihood(
            d, self.event_shape, config.hidden, config.depth, config.decoder, self.levels
        )
        self.prior = make_prior("standard", d, 1, 1, config.hidden, data)
        self.posterior_flow = nn.ModuleList()
        self.discriminator = tc_discriminator(
            d, config.discriminator_hidden, config.discriminator_depth
        )

    @property
    def batches_per_step(self) -> int:
        """Two: one batch for the VAE, one for the permuted samples of ``D``."""
        return 2

    def configure_optimizers(self) -> None:
        """``model`` (encoder and decoder) and ``discriminator``, each its own Adam."""
        own = [p for n, p in self.named_parameters() if not n.startswith("discriminator.")]
        self.optimizers = {
            "model": torch.optim.Adam(own, lr=self.config.lr),
            "discriminator": torch.optim.Adam(
                self.discriminator.parameters(),
                lr=self.config.lr_discriminator,
                betas=(0.5, 0.9),
            ),
        }

    def base_lr(self, optimizer: str) -> float:
        """``lr_discriminator`` for ``D``, ``lr`` for the VAE."""
        if optimizer == "discriminator":
            return float(self.config.lr_discriminator)
        return float(self.config.lr)

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step of the VAE, then one of ``D`` (Algorithm 2), on ``(2b, ...)`` rows.

        Every term is checked before either network changes; the VAE's gradient reaches
        ``D``'s parameters too, and ``D``'s own step clears it first.

        Returns:
            ``loss`` (the VAE's: ``-elbo + gamma * tc_estimate``), ``elbo``,
            ``reconstruction``, ``kl``, ``tc_estimate`` (nats per data point, batch
            means) and ``discriminator_loss`` (nats).

        Raises:
            ValueError: no batch, or fewer than 4 rows.
            NonFiniteLossError: a term was not finite (nothing changed), or a gradient
                (of ``D``'s: after the VAE's step, which stays taken).
        """
        if batch is None or batch.shape[0] < 4:
            got = None if batch is None else tuple(batch.shape)
            raise ValueError(f"{self.name} trains on two batches of at least 2 rows; got {got}")
        self.begin_step(batch)
        half = batch.shape[0] // 2
        x, x_other = batch[:half], batch[half : 2 * half]
        parts = self._elbo_parts(x, self.rng, path_only=True)
        rec, kl = parts["reconstruction"].mean(), parts["kl"].mean()
        tc = tc_estimate(self.discriminator, parts["z"])
        loss = -rec + kl + self.config.gamma * tc
        with torch.no_grad():
            mu, logvar = self.posterior_params(x_other)
            z_other = mu + torch.exp(0.5 * logvar) * normal_noise(tuple(mu.shape), self.rng, mu)
        d_loss = discriminator_loss(
            self.discriminator, parts["z"].detach(), permute_dims(z_other, self.rng)
        )
        terms = {"elbo": rec - kl, "reconstruction": rec, "kl": kl, "tc_estimate": tc}
        self.check_finite({**terms, "loss": loss, "discriminator_loss": d_loss})
        values = self.optimize(loss, terms)
        d_values = self.optimize(d_loss, {"discriminator_loss": d_loss}, "discriminator")
        values["discriminator_loss"] = d_values["discriminator_loss"]
        self.steps_taken += 1
        return values
