"""Normalizing flows: RealNVP, MAF, IAF, planar and Glow over a standard normal base."""

from .autoregressive import IAFLayer, MAFLayer
from .base import Flow, FlowConfig, FlowLayer
from .coupling import AffineCoupling
from .glow import ActNorm, InvertibleLinear
from .made import MADE
from .models import IAF, MAF, Glow, Planar, RealNVP
from .planar import PlanarLayer

__all__ = [
    "Flow",
    "FlowConfig",
    "FlowLayer",
    "AffineCoupling",
    "MAFLayer",
    "IAFLayer",
    "MADE",
    "PlanarLayer",
    "ActNorm",
    "InvertibleLinear",
    "RealNVP",
    "MAF",
    "IAF",
    "Planar",
    "Glow",
]
