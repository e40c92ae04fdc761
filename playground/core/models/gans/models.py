"""The registered GANs: the original (four losses), WGAN, WGAN-GP and SNGAN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ...hyperparameters import HyperparameterError, hp, with_defaults
from .base import GAN, Critic, GANConfig
from .losses import LOSSES, gradient_penalty, minimax_generator_loss

__all__ = ["VanillaGAN", "WGAN", "WGANGP", "SNGAN"]

#: the losses a classic GAN (and SNGAN) may use; Wasserstein needs a Lipschitz critic
_CLASSIC = tuple(name for name in LOSSES if name != "wasserstein")


class VanillaGAN(GAN):
    """The GAN of Goodfellow et al. with a choice of loss pair.

    ``minimax``: ``min_G E log(1 - D(G(z)))`` (saturates: its gradient vanishes while D
    rejects the fakes, visible in ``grad_norm_g``); ``non-saturating``: ``min_G -E log
    D(G(z))``; ``least-squares`` (LSGAN, a=0, b=1, c=1); ``hinge``.

    ``minimax_steps = N`` trains the generator on the minimax loss for the first ``N``
    iterations and on ``non-saturating`` after (the critic's loss is the same binary
    cross-entropy for both). The minimax gradient, ``-sigmoid(logit)``, is weak on the
    samples the critic rejects, so the generator keeps its hold on every mode but
    sharpens slowly; the non-saturating loss then pulls the stray samples in
    (``benchmarks/demo_seeds.md``, grid25).

    Raises:
        HyperparameterError: ``minimax_steps > 0`` with a loss other than
            ``non-saturating`` (the switch is between the two classifier losses).

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, equation (1) and
        section 3; Mao et al., "Least Squares GANs", ICCV 2017, equation (2); Lim and Ye,
        "Geometric GAN", 2017.
    """

    name: ClassVar[str] = "gan"
    description: ClassVar[str] = "GAN: minimax, non-saturating, least-squares or hinge loss"

    @dataclass
    class Config(GANConfig):
        """GAN hyperparameters (DCGAN's Adam 2e-4, betas (0.5, 0.999))."""

        loss: str = hp("non-saturating", choices=_CLASSIC, live=True, help="the loss pair")
        minimax_steps: int = hp(
            0,
            low=0,
            high=1_000_000,
            live=True,
            help="first iterations on the minimax generator loss, then non-saturating",
        )

        def __post_init__(self) -> None:
            if self.minimax_steps > 0 and self.loss != "non-saturating":
                raise HyperparameterError(
                    f"minimax_steps={self.minimax_steps} switches the generator from the "
                    f"minimax to the non-saturating loss; it needs loss=non-saturating, "
                    f"not {self.loss!r}"
                )

    def generator_loss(self, d_fake: Tensor) -> Tensor:
        """The minimax loss for the first ``minimax_steps`` iterations, then ``loss``'s."""
        if int(self.steps_taken) < self.config.minimax_steps:
            return minimax_generator_loss(d_fake)
        return super().generator_loss(d_fake)


class WGAN(GAN):
    """Wasserstein GAN with weight clipping.

    The critic maximises ``E D(x) - E D(G(z))`` (reported as ``wasserstein``) over
    functions kept roughly Lipschitz by clipping every parameter to ``[-clip, clip]``
    after each update; RMSProp, ``lr = 5e-5``, ``n_critic = 5``, ``c = 0.01`` as in the paper.

    References:
        Arjovsky, Chintala and Bottou, "Wasserstein GAN", ICML 2017, equation (3) and
        algorithm 1.
    """

    name: ClassVar[str] = "wgan"
    description: ClassVar[str] = "WGAN: Wasserstein critic, Lipschitz by weight clipping"
    loss: ClassVar[str] = "wasserstein"

    @dataclass
    class Config(
        with_defaults(
            GANConfig,
            lr_generator=5e-5,
            lr_critic=5e-5,
            optimizer_generator="rmsprop",
            optimizer_critic="rmsprop",
            n_critic=5,
        )
    ):
        """WGAN hyperparameters: the paper's algorithm 1 defaults."""

        clip: float = hp(
            0.01, low=1e-4, high=10.0, log=True, live=True, help="clip critic parameters to ±clip"
        )

    def critic_step(self, batch: Tensor) -> dict[str, float]:
        """A critic step; also reports ``wasserstein = E D(x) - E D(G(z))``."""
        terms = super().critic_step(batch)
        terms["wasserstein"] = -(terms["loss_d_real"] + terms["loss_d_fake"])
        return terms

    def after_critic_step(self) -> None:
        """Clip every critic parameter to ``[-clip, clip]``."""
        c = self.config.clip
        with torch.no_grad():
            for p in self.critic_net.parameters():
                p.clamp_(-c, c)


class WGANGP(GAN):
    """WGAN with a gradient penalty ``λ E (||∇D(x̂)|| - 1)²`` on random interpolates.

    ``x̂ = ε x + (1 - ε) G(z)`` with ``ε ~ U(0, 1)`` per (packed) sample; the penalty is
    reported as ``gradient_penalty`` (weighted by λ), the critic's estimate of the
    Wasserstein distance as ``wasserstein``.

    References:
        Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017,
        equation (3) and algorithm 1 (λ = 10, n_critic = 5, Adam 1e-4, betas (0, 0.9)).
    """

    name: ClassVar[str] = "wgan-gp"
    description: ClassVar[str] = "WGAN-GP: Wasserstein critic with a gradient penalty"
    loss: ClassVar[str] = "wasserstein"

    @dataclass
    class Config(
        with_defaults(
            GANConfig, lr_generator=1e-4, lr_critic=1e-4, beta1=0.0, beta2=0.9, n_critic=5
        )
    ):
        """WGAN-GP hyperparameters: the paper's algorithm 1 defaults."""

        gp_lambda: float = hp(
            10.0, low=0.0, high=1000.0, live=True, help="weight λ of the gradient penalty"
        )

    def critic_regularizer(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """``gradient_penalty``: λ times the penalty on interpolates of packed samples."""
        g = self.rng
        eps = torch.rand(real.shape[0], 1, generator=g, device=g.device).to(real)
        gp = gradient_penalty(self.critic_net, real, fake, eps)
        return {"gradient_penalty": self.config.gp_lambda * gp}

    def critic_step(self, batch: Tensor) -> dict[str, float]:
        """A critic step; also reports ``wasserstein = E D(x) - E D(G(z))``."""
        terms = super().critic_step(batch)
        terms["wasserstein"] = -(terms["loss_d_real"] + terms["loss_d_fake"])
        return terms


class SNGAN(GAN):
    """Spectral normalisation of every critic layer, hinge loss by default.

    Each critic weight ``W`` is divided by its largest singular value (one power
    iteration per forward pass), so every layer is 1-Lipschitz.

    References:
        Miyato et al., "Spectral Normalization for Generative Adversarial Networks",
        ICLR 2018, equation (8) and algorithm 1; hinge loss equations (16)-(17).
    """

    name: ClassVar[str] = "sngan"
    description: ClassVar[str] = "SNGAN: spectrally normalised critic, hinge loss"

    @dataclass
    class Config(GANConfig):
        """SNGAN hyperparameters (Adam 2e-4, betas (0.5, 0.999), one critic step)."""

        loss: str = hp("hinge", choices=_CLASSIC, live=True, help="the loss pair")

    def build_critic(self, config: Any) -> Critic:
        """The MLP critic with ``spectral_norm`` on every linear layer."""
        critic = super().build_critic(config)
        for module in list(critic.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.Linear):
                    setattr(module, name, spectral_norm(child))
        return critic
