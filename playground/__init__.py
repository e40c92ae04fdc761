"""DGM Playground: deep generative models trained live on 2D densities and small images."""

__version__ = "0.1.0"
