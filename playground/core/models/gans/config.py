"""The hyperparameters every GAN shares: one optimiser and learning rate per network."""

from __future__ import annotations

from dataclasses import dataclass

from ...hyperparameters import hp
from ..base import lr_decay_hp
from .networks import OPTIMIZERS

__all__ = ["GANConfig"]


@dataclass
class GANConfig:
    """Hyperparameters shared by every GAN; each network has its own optimiser and rate.

    Subclass configs override defaults (each model's paper settings) and add their own.
    """

    batch_size: int = hp(256, low=1, high=8192, log=True, live=True, help="samples per step")
    # 2: the generator-manifold view draws the image of a 2D latent grid
    latent_dim: int = hp(2, low=1, high=64, help="dimension of the latent z ~ N(0, I)")
    hidden: int = hp(128, low=4, high=1024, log=True, help="width of both networks")
    depth: int = hp(3, low=1, high=8, help="hidden layers of both networks")
    lr_generator: float = hp(
        2e-4, low=1e-7, high=1.0, log=True, live=True, help="generator learning rate"
    )
    lr_critic: float = hp(
        2e-4, low=1e-7, high=1.0, log=True, live=True, help="critic learning rate"
    )
    optimizer_generator: str = hp(
        "adam", choices=OPTIMIZERS, live=True, help="generator optimiser (a change restarts it)"
    )
    optimizer_critic: str = hp(
        "adam", choices=OPTIMIZERS, live=True, help="critic optimiser (a change restarts it)"
    )
    # (0.5, 0.999): DCGAN's betas, the usual GAN choice (a lower beta1 reacts faster)
    beta1: float = hp(0.5, low=0.0, high=0.999, live=True, help="Adam beta1 of both networks")
    beta2: float = hp(0.999, low=0.0, high=0.9999, live=True, help="Adam beta2 of both networks")
    n_critic: int = hp(1, low=1, high=20, live=True, help="critic steps per iteration")
    n_generator: int = hp(1, low=1, high=20, live=True, help="generator steps per iteration")
    pack: int = hp(1, low=1, high=8, help="PacGAN: the critic judges this many samples at once")
    feature_matching: bool = hp(
        False, live=True, help="generator matches mean critic features (Salimans et al. 2016)"
    )
    label_smoothing: float = hp(
        0.0, low=0.0, high=0.5, live=True, help="one-sided: real targets 1 - s (classifier losses)"
    )
    historical_averaging: float = hp(
        0.0, low=0.0, high=100.0, live=True, help="weight of ||θ - mean of past θ||² on both nets"
    )
    # Mescheder et al. 2018: the penalties and noise that make GAN training converge
    r1: float = hp(
        0.0, low=0.0, high=1000.0, live=True, help="R1: γ/2 E ||∇D(x)||² on real data (0: off)"
    )
    r2: float = hp(
        0.0, low=0.0, high=1000.0, live=True, help="R2: γ/2 E ||∇D(x)||² on fakes (0: off)"
    )
    instance_noise: float = hp(
        0.0, low=0.0, high=10.0, live=True, help="std of noise on the critic's inputs (0: off)"
    )
    # 0 keeps the paper's constant rates; a decay lets the samples settle onto sharp modes
    lr_decay_steps: int = lr_decay_hp(
        0, "cosine decay of both rates to 2% over this many iterations (0: constant)"
    )
