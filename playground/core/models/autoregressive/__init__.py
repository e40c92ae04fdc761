"""Autoregressive models of discrete data: MADE, PixelCNN, Gated PixelCNN, WaveNet."""

from .base import AutoregressiveModel

__all__ = ["AutoregressiveModel"]
