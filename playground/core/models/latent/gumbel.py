"""The Gumbel-softmax VAE: categorical latents trained through a temperature relaxation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ...hyperparameters import hp
from ..base import TrainingConfig
from .discrete import DiscreteLatentModel
from .networks import Decoder, Encoder, uses_conv

__all__ = [
    "GumbelVAE",
    "GumbelVAEConfig",
    "gumbel_noise",
    "gumbel_softmax_sample",
    "gumbel_max_sample",
    "temperature_schedule",
]

#: rows of ``x`` times samples per decoder call of :meth:`GumbelVAE.iwae_bound`
_IWAE_CHUNK = 65_536


def gumbel_noise(shape: torch.Size | tuple[int, ...], rng: torch.Generator) -> Tensor:
    """``g = -log(-log u)``, ``u ~ U(0, 1)``: standard Gumbel noise of ``shape``, on
    ``rng``'s device, drawn from ``rng`` only."""
    u = torch.rand(shape, generator=rng, device=rng.device)
    # u = 0 would give -inf; the smallest positive float gives g = -4.5 instead
    return -torch.log(-torch.log(u.clamp_min(torch.finfo(u.dtype).tiny)))


def gumbel_softmax_sample(logits: Tensor, tau: float, rng: torch.Generator) -> Tensor:
    """A relaxed one-hot sample ``y = softmax((logits + g) / tau)``, ``g ~ Gumbel(0, 1)``.

    As ``tau -> 0`` the samples become one-hot, distributed as :func:`gumbel_max_sample`;
    as ``tau -> inf`` they become uniform vectors.

    Arguments:
        logits: ``(*, categories)`` unnormalised log-probabilities.
        tau: the temperature, > 0.
        rng: the source of the noise.

    Returns:
        ``(*, categories)`` points of the simplex, differentiable in ``logits``.

    References:
        Jang, Gu & Poole, "Categorical Reparameterization with Gumbel-Softmax", ICLR 2017,
        equation (2); Maddison, Mnih & Teh, "The Concrete Distribution", ICLR 2017.
    """
    g = gumbel_noise(logits.shape, rng).to(logits.device, logits.dtype)
    return torch.softmax((logits + g) / tau, dim=-1)


def gumbel_max_sample(logits: Tensor, rng: torch.Generator) -> Tensor:
    """An exact sample of ``Cat(softmax(logits))`` as a one-hot: ``onehot(argmax(logits + g))``.

    Arguments:
        logits: ``(*, categories)`` unnormalised log-probabilities.
        rng: the source of the noise.

    Returns:
        ``(*, categories)`` one-hot vectors, dtype of ``logits`` (no gradient).

    References:
        Jang et al. 2017, equation (1) (the Gumbel-max trick, Gumbel 1954).
    """
    g = gumbel_noise(logits.shape, rng).to(logits.device, logits.dtype)
    k = (logits.detach() + g).argmax(-1)
    return F.one_hot(k, logits.shape[-1]).to(logits.dtype)


def temperature_schedule(step: int, tau0: float, tau_min: float, anneal_rate: float) -> float:
    """``tau = max(tau_min, tau0 * exp(-anneal_rate * step))`` (Jang et al. 2017, section 4)."""
    return max(tau_min, tau0 * math.exp(-anneal_rate * step))


@dataclass
class GumbelVAEConfig(TrainingConfig):
    """Gumbel-softmax VAE hyperparameters; :meth:`GumbelVAE.defaults_for` sizes them per
    dataset."""

    hidden: int = hp(128, low=8, high=1024, log=True, help="width of the encoder and decoder MLPs")
    depth: int = hp(2, low=1, high=6, help="hidden layers of the encoder and decoder MLPs")
    # 2 variables of 16 on the plane: 256 distinct codes, enough to trace moons
    latents: int = hp(2, low=1, high=200, help="N: categorical latent variables")
    categories: int = hp(16, low=2, high=256, log=True, help="K: classes of each variable")
    # 1 -> 0.5: Jang et al.'s range; below 0.5 the gradients' variance grows sharply
    tau0: float = hp(1.0, low=0.01, high=10.0, log=True, live=True, help="initial temperature")
    tau_min: float = hp(0.5, low=0.01, high=10.0, log=True, live=True, help="final temperature")
    # 1e-3: reaches 0.5 after ~700 steps, within a live demo (the paper: 1e-5 to 1e-4)
    anneal_rate: float = hp(
        1e-3, low=0.0, high=1.0, live=True, help="r in tau = max(tau_min, tau0 exp(-r step))"
    )
    straight_through: bool = hp(
        False, live=True, help="decode the hard one-hot, with the relaxed sample's gradient"
    )
    # 0.2: the noise of moons and swissroll, as the VQ-VAE
    sigma: float = hp(
        0.2, low=1e-3, high=10.0, log=True, help="2D only: std of the Gaussian decoder p(x | z)"
    )


class GumbelVAE(DiscreteLatentModel):
    """A VAE with ``N = latents`` categorical variables of ``K = categories`` classes each.

    The encoder gives logits ``(n, N, K)`` of ``q(z | x) = prod_i Cat(z_i; softmax(l_i))``;
    the prior is uniform, ``p(z_i = k) = 1 / K``. Training decodes a relaxed sample
    ``y = softmax((l + g) / tau)`` (the concatenated ``(n, N K)`` relaxed one-hots, or
    their hard one-hots with ``straight_through``) and maximises

    ``E[log p(x | y)] - sum_i KL(q(z_i | x) || U(K))``,
    ``KL = sum_k q_ik log q_ik + log K`` (closed form),

    with the temperature ``tau = max(tau_min, tau0 exp(-anneal_rate step))``. The decoder
    is Bernoulli (logits) for images and ``N(mu, sigma^2 I)`` with fixed ``sigma`` on the
    plane. The relaxed objective is not itself a bound on ``log p(x)``; evaluation
    (:meth:`elbo_terms`, :meth:`iwae_bound`) samples exact one-hots with the Gumbel-max
    trick, which makes both proper bounds.

    The latent seen by the views is the flattened one-hot ``z`` ``(n, N K)``:
    :meth:`sample_prior` draws uniform one-hots, :meth:`posterior_mean` gives the category
    probabilities, :meth:`decode` takes any such vector.

    References:
        Jang, Gu & Poole, "Categorical Reparameterization with Gumbel-Softmax", ICLR 2017,
        equations (1)-(2) and the temperature schedule of section 4; Maddison, Mnih & Teh,
        "The Concrete Distribution", ICLR 2017.
    """

    name: ClassVar[str] = "gumbel-vae"
    description: ClassVar[str] = (
        "Gumbel-softmax VAE: categorical latents, relaxed one-hot samples, annealed temperature"
    )
    Config: ClassVar[type] = GumbelVAEConfig

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Images: 10 variables of 10 classes for digits, 16 of 8 for shapes (conv), wider
        networks and batches of 64; the plane keeps the class defaults."""
        if not getattr(data, "is_image", False):
            return {}
        out: dict[str, Any] = {"hidden": 256, "batch_size": 64}
        if uses_conv(tuple(data.shape)):
            return {**out, "latents": 16, "categories": 8}
        return {**out, "latents": 10, "categories": 10}

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        width = config.latents * config.categories
        self.encoder = Encoder(self.event_shape, width, config.hidden, config.depth)
        self.decoder = Decoder(width, self.event_shape, config.hidden, config.depth)

    @property
    def latent_dim(self) -> int:
        """``latents * categories``: the flattened one-hot."""
        return self.config.latents * self.config.categories

    def temperature(self) -> float:
        """The temperature at the current step (:func:`temperature_schedule`)."""
        cfg = self.config
        return temperature_schedule(int(self.steps_taken), cfg.tau0, cfg.tau_min, cfg.anneal_rate)

    # ----------------------------------------------------------------- encoder
    def logits(self, x: Tensor) -> Tensor:
        """The posterior's normalised logits ``log q(z_i = k | x)``: ``(n, latents,
        categories)``."""
        out = self.encoder(x).view(x.shape[0], self.config.latents, self.config.categories)
        return torch.log_softmax(out, dim=-1)

    def posterior_mean(self, x: Tensor) -> Tensor:
        """The category probabilities ``q(z_i = k | x)`` flattened, ``(n, latents *
        categories)``."""
        return self.logits(x).exp().flatten(1)

    def posterior_mode(self, x: Tensor) -> Tensor:
        """The most probable one-hot of each variable, flattened: ``(n, latents * categories)``."""
        k = self.logits(x).argmax(-1)
        return F.one_hot(k, self.config.categories).to(x.dtype).flatten(1)

    def reconstruct(self, x: Tensor) -> Tensor:
        """``decode(posterior_mode(x))``: the decoder was trained on (nearly) one-hot inputs,
        which the mode is and the probabilities are not. ``(n, *event_shape)``."""
        return self.decode(self.posterior_mode(x))

    def kl(self, logits: Tensor) -> Tensor:
        """``sum_i KL(q(z_i | x) || U(K))`` in closed form from normalised logits ``(n, N,
        K)``: ``(n,)`` nats, between 0 and ``N log K``."""
        q = logits.exp()
        return (q * logits).sum((1, 2)) + self.config.latents * math.log(self.config.categories)

    # ----------------------------------------------------------------- decoder
    # ------------------------------------------------------------------- prior
    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        """Uniform one-hots ``(n, latents * categories)`` from ``rng``."""
        cfg = self.config
        k = torch.randint(cfg.categories, (n, cfg.latents), generator=rng, device=rng.device)
        device = next(self.parameters()).device
        return F.one_hot(k.to(device), cfg.categories).float().flatten(1)

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Decoder means at uniform one-hots for images ``(n, 1, h, w)``; on the plane a
        draw of ``N(mu(z), sigma^2 I)``, ``(n, 2)``."""
        mean = self.decode(self.sample_prior(n, rng))
        if self.is_image:
            return mean
        noise = torch.randn(mean.shape, generator=rng, device=rng.device)
        return mean + self.config.sigma * noise.to(mean.device)

    # ---------------------------------------------------------------- bounds
    def _terms(self, x: Tensor, z: Tensor, logits: Tensor) -> dict[str, Tensor]:
        reconstruction = self.log_likelihood(x, z)
        kl = self.kl(logits)
        return {"reconstruction": reconstruction, "kl": kl, "elbo": reconstruction - kl}

    def elbo_terms(self, x: Tensor, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """One-sample ELBO terms ``(n,)`` nats with an exact one-hot ``z ~ q(z | x)``
        (Gumbel-max): ``reconstruction = log p(x | z)``, the closed-form ``kl`` and
        ``elbo``. ``rng`` defaults to the model's."""
        logits = self.logits(x)
        z = gumbel_max_sample(logits, self.rng if rng is None else rng).flatten(1)
        return self._terms(x, z, logits)

    def iwae_bound(self, x: Tensor, k: int, rng: torch.Generator | None = None) -> Tensor:
        """``log (1/k) sum_j p(x | z_j) p(z_j) / q(z_j | x)`` with exact one-hot samples
        ``z_j ~ q(z | x)`` (Gumbel-max): ``(n,)`` nats (Burda et al. 2016, eq. 8).

        Raises:
            ValueError: ``k < 1``.
        """
        if k < 1:
            raise ValueError(f"iwae_bound needs k >= 1 samples, not {k}")
        g = self.rng if rng is None else rng
        n, cfg = x.shape[0], self.config
        logits = self.logits(x)
        log_prior = -cfg.latents * math.log(cfg.categories)
        chunk = max(1, _IWAE_CHUNK // max(n, 1))
        weights = []
        for start in range(0, k, chunk):
            m = min(chunk, k - start)
            rep = logits.unsqueeze(1).expand(n, m, *logits.shape[1:])
            z = gumbel_max_sample(rep, g)
            log_q = (z * rep).sum((2, 3))
            xs = x.unsqueeze(1).expand(n, m, *x.shape[1:]).reshape(n * m, *x.shape[1:])
            log_px = self.log_likelihood(xs, z.reshape(n * m, -1)).view(n, m)
            weights.append(log_px + log_prior - log_q)
        return torch.logsumexp(torch.cat(weights, 1), 1) - math.log(k)

    # -------------------------------------------------------------- training
    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the negative relaxed ELBO, at the scheduled temperature.

        Arguments:
            batch: ``(b, *event_shape)`` data.

        Returns:
            ``loss`` (= ``-elbo``), ``elbo``, ``reconstruction``, ``kl`` (batch means,
            nats, with the relaxed sample) and ``temperature``.

        Raises:
            ValueError: ``batch`` is ``None``.
            NonFiniteLossError: no parameter and no step counter changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        tau = self.temperature()
        logits = self.logits(batch)
        y = gumbel_softmax_sample(logits, tau, self.rng)
        if self.config.straight_through:
            hard = F.one_hot(y.argmax(-1), self.config.categories).to(y.dtype)
            y = hard + (y - y.detach())
        terms = {k: v.mean() for k, v in self._terms(batch, y.flatten(1), logits).items()}
        terms["temperature"] = torch.tensor(tau)
        values = self.optimize(-terms["elbo"], terms)
        self.steps_taken += 1
        return values
