"""Generative adversarial networks: a shared base, the losses, and the registered models."""

from .base import GAN, Critic, GANConfig
from .fgan import FGAN
from .infogan import InfoGAN
from .models import SNGAN, WGAN, WGANGP, VanillaGAN

__all__ = ["GAN", "GANConfig", "Critic", "VanillaGAN", "WGAN", "WGANGP", "SNGAN", "FGAN", "InfoGAN"]
