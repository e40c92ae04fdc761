"""Energy-based models: an MLP energy trained by contrastive divergence."""

from .ebm import EBM, EnergyNet

__all__ = ["EBM", "EnergyNet"]
