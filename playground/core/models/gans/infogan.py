"""InfoGAN: a GAN whose latent codes are recoverable from its samples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...hyperparameters import hp
from .base import GAN, GANConfig, mlp

__all__ = ["InfoGAN"]

#: ``H(U(-1, 1))``, the entropy of one continuous code in nats
_UNIFORM_ENTROPY = math.log(2.0)
#: ``-½ log 2π``: the Gaussian log-density at its mean, with the std fixed to 1
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class InfoGAN(GAN):
    """A non-saturating GAN that maximises a lower bound on ``I(c; G(z, c))``.

    The latent is ``[z, onehot(c), c']``: noise ``z ~ N(0, I)`` of ``latent_dim`` dims, a
    categorical code ``c ~ Cat(k)`` with ``k = categories`` and ``continuous_codes``
    codes ``c' ~ U(-1, 1)``. An auxiliary head ``Q`` on the critic's last hidden layer
    (the shared body) predicts the logits of ``c`` and the means of ``c'`` (a Gaussian
    with std fixed to 1, as in the paper's code). The variational bound

    ``L_I = E[log Q(c | x)] + H(c) + Σ_j (E[log N(c'_j; μ_j(x), 1)] + H(c'_j))``,
    ``x = G(z, c, c')``, ``H(c) = log k``, ``H(c'_j) = log 2``

    is reported in nats as ``mutual_information`` (with ``mi_categorical`` and
    ``mi_continuous``); it is at most ``log k + continuous_codes * (log 2 - ½ log 2π)``.
    The generator and ``Q``'s head minimise ``loss_g - λ L_I^w`` (λ = ``info_weight``,
    ``info_loss = -λ L_I^w``), where ``L_I^w`` weights the continuous part by ``w =
    continuous_weight``: the paper uses a smaller λ for continuous codes, whose bound
    involves differential entropy. The critic, body included, minimises
    ``loss_d - λ L_I^w`` on a fresh latent batch (``info_loss_d``), so the shared body
    learns features ``Q`` can decode, as in the paper's min-max problem where ``Q``
    shares ``D``'s parameters.
    A critic step never changes ``Q``'s head; a generator step never changes the critic.

    :meth:`generate` accepts the full latent of :meth:`sample_latent` or the noise ``z``
    alone; the noise alone uses category 0 and continuous codes 0, so the generator
    manifold view draws the image of the 2D noise grid for that fixed code.

    The paper has no rule for ``categories``; unless set, it follows the dataset (see
    :meth:`defaults_for`): the number of modes of a mixture (8 for ``8gaussians``) or of
    classes of an image set (10 for ``digits``, as the paper's MNIST code), so each
    category can take one mode or one class.

    References:
        Chen et al., "InfoGAN: Interpretable Representation Learning by Information
        Maximizing Generative Adversarial Nets", NeurIPS 2016, equations (4)-(6) and
        section 6; github.com/openai/InfoGAN (``Uniform(1, fix_std=True)``).
    """

    name: ClassVar[str] = "infogan"
    description: ClassVar[str] = (
        "InfoGAN: categorical and continuous latent codes decoded by a Q head (MI bound)"
    )
    loss: ClassVar[str] = "non-saturating"
    capabilities: ClassVar[frozenset[str]] = frozenset({"samples", "critic", "codes"})

    @dataclass
    class Config(GANConfig):
        """InfoGAN hyperparameters (Adam 2e-4, betas (0.5, 0.999), λ = 1 as in the paper)."""

        # 8: the modes of 8gaussians and ring8; the Session sets it from the dataset
        categories: int = hp(8, low=2, high=64, help="values k of the categorical code c")
        continuous_codes: int = hp(1, low=0, high=8, help="continuous codes c' ~ U(-1, 1)")
        # 1: "sufficient for discrete latent codes" (section 6)
        info_weight: float = hp(
            1.0, low=0.0, high=100.0, live=True, help="λ: weight of the mutual-information bound"
        )
        # 0.1: "a smaller λ is typically used" for continuous codes (section 6); at 1 the
        # generator spends a code's sign on choosing between two modes (purity 0.51 vs 0.87
        # with 0.1, 8gaussians, 3000 steps)
        continuous_weight: float = hp(
            0.1,
            low=0.0,
            high=10.0,
            live=True,
            help="weight of the continuous codes' part of the bound, relative to λ",
        )

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """The GAN's image defaults, and ``categories`` = the number of modes of a mixture
        or of classes of a labelled image set (10 for digits)."""
        out = super().defaults_for(data)
        if getattr(data, "modes", None) is not None:
            out["categories"] = int(len(data.modes))
        elif getattr(data, "class_names", None):
            out["categories"] = len(data.class_names)
        return out

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        # one hidden layer on the shared body, like the Q heads of the paper's appendix
        self.q_head = mlp(
            config.hidden,
            config.categories + config.continuous_codes,
            config.hidden,
            1,
            lambda: nn.LeakyReLU(0.2),
        )
        self._info_terms: dict[str, float] = {}

    def build_generator(self, config: Any) -> nn.Module:
        """The generator ``(n, latent_dim + categories + continuous_codes) -> (n, 2)``."""
        n_in = config.latent_dim + config.categories + config.continuous_codes
        return mlp(n_in, self.dim, config.hidden, config.depth, nn.ReLU)

    def _nets(self) -> dict[str, nn.Module]:
        # Q's head trains with the generator on the same -λ L_I^w; not registered twice
        return {
            "critic": self.critic_net,
            "generator": nn.ModuleList([self.generator_net, self.q_head]),
        }

    # ------------------------------------------------------------- latents
    def sample_latent(self, n: int, rng: torch.Generator | None = None) -> Tensor:
        """The full latent ``[z, onehot(c), c']`` ``(n, latent_dim + k + continuous_codes)``.

        Arguments:
            n: rows.
            rng: the random number generator (default: the training :attr:`rng`).
        """
        g = self.rng if rng is None else rng
        cfg = self.config
        z = torch.randn(n, cfg.latent_dim, generator=g, device=g.device)
        c = torch.randint(cfg.categories, (n,), generator=g, device=g.device)
        c_cont = 2 * torch.rand(n, cfg.continuous_codes, generator=g, device=g.device) - 1
        return self.join_latent(z, c, c_cont).to(self._device())

    def join_latent(self, z: Tensor, c: Tensor, c_cont: Tensor) -> Tensor:
        """``[z, onehot(c), c']``: ``(n, latent_dim)``, ``(n,)`` int, ``(n, continuous_codes)``."""
        onehot = F.one_hot(c.long(), self.config.categories).to(z.dtype)
        return torch.cat([z, onehot, c_cont.to(z.dtype)], dim=1)

    def split_latent(self, latent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The inverse of :meth:`join_latent`: ``(z, c, c')`` with ``c`` ``(n,)`` int64."""
        d, k = self.config.latent_dim, self.config.categories
        return latent[:, :d], latent[:, d : d + k].argmax(1), latent[:, d + k :]

    def generate(self, z: Tensor) -> Tensor:
        """``G`` on a full latent ``(n, latent_dim + k + c)`` or on noise alone ``(n, latent_dim)``.

        Noise alone takes category 0 and continuous codes 0 (the manifold view's grid).

        Returns:
            ``(n, 2)`` samples.
        """
        if z.shape[1] == self.config.latent_dim:
            n = z.shape[0]
            c = torch.zeros(n, dtype=torch.long, device=z.device)
            c_cont = z.new_zeros(n, self.config.continuous_codes)
            z = self.join_latent(z, c, c_cont)
        return self.to_data(self.generator_net(z))

    def generate_with_codes(self, z: Tensor, c: Tensor, c_cont: Tensor) -> Tensor:
        """``G(z, c, c')``.

        Arguments:
            z: ``(n, latent_dim)`` noise.
            c: ``(n,)`` integer categories in ``[0, k)``.
            c_cont: ``(n, continuous_codes)`` continuous codes (``U(-1, 1)`` in training).

        Returns:
            ``(n, 2)`` samples.
        """
        return self.to_data(self.generator_net(self.join_latent(z, c, c_cont)))

    def sample_with_codes(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
        """``n`` samples with the codes that made them.

        Returns:
            ``(x, c, c')``: ``(n, 2)`` samples, ``(n,)`` int64 categories,
            ``(n, continuous_codes)`` continuous codes.
        """
        latent = self.sample_latent(n, rng)
        _, c, c_cont = self.split_latent(latent)
        return self.generate(latent), c, c_cont

    # ------------------------------------------------------------ Q network
    def q_outputs(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``Q``'s raw outputs at single points ``(n, 2)`` (repeated ``pack`` times, as ``critic``).

        Returns:
            ``(logits, means)``: ``(n, k)`` logits of ``c`` and ``(n, continuous_codes)``
            means of ``c'``.
        """
        out = self.q_head(self.critic_net.features(self.flat(x).repeat(1, self.config.pack)))
        k = self.config.categories
        return out[:, :k], out[:, k:]

    def infer_codes(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``Q(c | x)`` and ``E_Q[c' | x]`` at points ``(n, 2)``.

        Returns:
            ``(probs, means)``: ``(n, k)`` category probabilities, ``(n, continuous_codes)``.
        """
        logits, means = self.q_outputs(x)
        return logits.softmax(-1), means

    def mutual_information(self, latent: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """The variational lower bound ``L_I`` on ``I(c; x)`` and ``I(c'; x)``, in nats.

        Arguments:
            latent: ``(n, latent_dim + k + continuous_codes)`` latents of :meth:`sample_latent`.
            x: ``(n, 2)`` their samples ``G(latent)``.

        Returns:
            ``(total, categorical, continuous)`` scalars: ``categorical =
            E log Q(c | x) + log k`` (``≤ log k``), ``continuous = Σ_j E log N(c'_j; μ_j, 1)
            + log 2`` (``≤ continuous_codes (log 2 - ½ log 2π)``), ``total`` their sum.

        References:
            Chen et al. 2016, lemma 5.1 and equation (5).
        """
        _, c, c_cont = self.split_latent(latent)
        logits, means = self.q_outputs(x)
        categorical = math.log(self.config.categories) - F.cross_entropy(logits, c)
        log_q = -0.5 * (c_cont - means).square() - _HALF_LOG_2PI + _UNIFORM_ENTROPY
        continuous = log_q.mean(0).sum()
        return categorical + continuous, categorical, continuous

    # -------------------------------------------------------------- training
    def critic_regularizer(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """``info_loss_d = -λ L_I^w`` on a fresh latent batch, through the body (Q's head frozen).

        Arguments:
            real: ``(b, 2 pack)`` packed data; only its size is read.
            fake: ``(b, 2 pack)`` packed fakes (unused: their codes are not kept).
        """
        latent = self.sample_latent(real.shape[0] * self.config.pack)
        with torch.no_grad():
            x = self.generate(latent)
        self.q_head.requires_grad_(False)
        try:
            _, categorical, continuous = self.mutual_information(latent, x)
        finally:
            self.q_head.requires_grad_(True)
        return {"info_loss_d": -self._weighted(categorical, continuous)}

    def _weighted(self, categorical: Tensor, continuous: Tensor) -> Tensor:
        """``λ L_I^w = λ (L_cat + w L_cont)``, with ``w = continuous_weight``."""
        cfg = self.config
        return cfg.info_weight * (categorical + cfg.continuous_weight * continuous)

    def extra_generator_terms(self, z: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """``info_loss = -λ L_I^w`` for the generator and Q's head (the critic is frozen)."""
        mi, categorical, continuous = self.mutual_information(z, fake)
        self._info_terms = {
            "mutual_information": float(mi.detach()),
            "mi_categorical": float(categorical.detach()),
            "mi_continuous": float(continuous.detach()),
        }
        return {"info_loss": -self._weighted(categorical, continuous)}

    def generator_step(self, batch: Tensor | None = None) -> dict[str, float]:
        """A generator and Q-head update on ``loss_g - λ L_I^w``.

        Returns:
            The base terms, ``info_loss`` and ``mutual_information`` (the bound ``L_I``
            in nats, before the update), ``mi_categorical``, ``mi_continuous``.
        """
        values = super().generator_step(batch)
        values.update(self._info_terms)
        return values
