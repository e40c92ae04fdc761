"""IWAE: the VAE trained on the importance-weighted bound."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from ...hyperparameters import hp, with_defaults
from .vae import VAE, PriorConfig

__all__ = ["IWAE"]


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
    class Config(
        # batch 256: each data point is decoded k times, so a step costs like the VAE's at 1024
        with_defaults(PriorConfig, batch_size=256)
    ):
        """IWAE hyperparameters: the number of importance samples."""

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
        log_px, log_pz, log_q = self.log_weights(batch, k, self.rng)
        bound = (torch.logsumexp(log_px + log_pz - log_q, dim=0) - math.log(k)).mean()
        rec, kl = log_px.mean(), (log_q - log_pz).mean()
        terms = {"iwae_bound": bound, "elbo": rec - kl, "reconstruction": rec, "kl": kl}
        values = self.optimize(-bound, terms)
        self.steps_taken += 1
        return values
