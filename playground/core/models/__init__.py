"""The model zoo: every registered model by name."""

from __future__ import annotations

from .autoregressive.gated_pixelcnn import GatedPixelCNN
from .autoregressive.made import MADEModel
from .autoregressive.pixelcnn import PixelCNN
from .autoregressive.wavenet import WaveNet
from .base import GenerativeModel
from .continuous.cnf import CNF
from .continuous.ffjord import FFJORD
from .continuous.flow_matching import FlowMatching
from .diffusion import DDPM
from .energy import EBM
from .flows import IAF, MAF, Glow, Planar, RealNVP
from .flows.image_flow import RealNVPImage
from .gans import FGAN, SNGAN, WGAN, WGANGP, InfoGAN, VanillaGAN
from .gans.dcgan import DCGAN
from .gans.dirac import DiracGAN
from .latent import HVAE, IWAE, VAE, VQVAE, GumbelVAE
from .latent.avb import AVB
from .latent.factor_vae import FactorVAE
from .score import NCSN, ScoreModel

__all__ = ["MODELS", "UnknownModelError", "get_model_class"]

#: model name -> class; ``python -m playground list`` shows them
MODELS: dict[str, type[GenerativeModel]] = {
    cls.name: cls
    for cls in (
        *(RealNVP, MAF, IAF, Planar, Glow),
        RealNVPImage,
        *(VanillaGAN, WGAN, WGANGP, SNGAN, FGAN, InfoGAN),
        DCGAN,
        DiracGAN,
        *(VAE, IWAE, HVAE, VQVAE, GumbelVAE),
        AVB,
        FactorVAE,
        EBM,
        ScoreModel,
        NCSN,
        DDPM,
        CNF,
        FFJORD,
        FlowMatching,
        MADEModel,
        PixelCNN,
        GatedPixelCNN,
        WaveNet,
    )
}


class UnknownModelError(ValueError):
    """A model name that is not in :data:`MODELS`."""


def get_model_class(name: str) -> type[GenerativeModel]:
    """The model class registered as ``name``.

    Raises:
        UnknownModelError: the name is unknown; the message lists the valid names.
    """
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; valid: {', '.join(sorted(MODELS))}"
        ) from None
