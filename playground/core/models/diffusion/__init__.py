"""Diffusion models: DDPM and its noise schedules."""

from .ddpm import DDPM
from .schedules import NoiseSchedule, cosine_betas, linear_betas

__all__ = ["DDPM", "NoiseSchedule", "linear_betas", "cosine_betas"]
