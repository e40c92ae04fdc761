"""Latent variable models: VAE (beta, annealing, free bits, capacity, priors, posterior
flows), IWAE, the two-level hierarchical VAE, VQ-VAE and the Gumbel-softmax VAE."""

from .base import LatentModel
from .gumbel import GumbelVAE
from .hvae import HVAE
from .iwae import IWAE
from .vae import VAE
from .vqvae import VQVAE

__all__ = ["LatentModel", "VAE", "IWAE", "HVAE", "VQVAE", "GumbelVAE"]
