"""The five registered flows, each with its hyperparameter dataclass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from ...hyperparameters import hp, with_defaults
from .autoregressive import IAFLayer, MAFLayer
from .base import Flow, FlowConfig, FlowLayer
from .coupling import AffineCoupling, alternating_mask
from .glow import ActNorm, InvertibleLinear
from .planar import PlanarLayer

__all__ = ["RealNVP", "MAF", "IAF", "Planar", "Glow"]


def _layers_hp(default: int, high: int = 64) -> int:
    return hp(default, low=1, high=high, help="number of flow layers")


def _hidden_hp(default: int) -> int:
    return hp(default, low=4, high=1024, log=True, help="width of the conditioner networks")


def _depth_hp(default: int) -> int:
    return hp(default, low=1, high=6, help="hidden layers of the conditioner networks")


class RealNVP(Flow):
    """RealNVP: affine couplings with alternating masks.

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    name: ClassVar[str] = "realnvp"
    description: ClassVar[str] = "RealNVP: affine coupling layers with alternating masks"

    @dataclass
    class Config(FlowConfig):
        """RealNVP hyperparameters."""

        # 8 couplings: each coordinate is transformed 4 times, enough for moons
        n_layers: int = _layers_hp(8)
        # 64 x 2: a few ms per step on two cores
        hidden: int = _hidden_hp(64)
        depth: int = _depth_hp(2)

    def build_layers(self, config: Config) -> list[FlowLayer]:
        return [
            AffineCoupling(alternating_mask(self.dim, k), config.hidden, config.depth)
            for k in range(config.n_layers)
        ]


def _order(k: int, dim: int) -> torch.Tensor:
    # reversing the degrees every other layer: each coordinate conditions the other in turn
    order = torch.arange(1, dim + 1)
    return order if k % 2 == 0 else order.flip(0)


class MAF(Flow):
    """Masked autoregressive flow: one-pass density, ``D``-pass sampling.

    References:
        Papamakarios, Pavlakou and Murray, "Masked Autoregressive Flow for Density
        Estimation", NeurIPS 2017.
    """

    name: ClassVar[str] = "maf"
    description: ClassVar[str] = "MAF: MADE-conditioned affine layers, fast density, slow sampling"

    @dataclass
    class Config(FlowConfig):
        """MAF hyperparameters."""

        # 12 layers: the best of the five on 8gaussians (nll_gap 0.045 at 3000 steps against
        # 0.10 with 8) for 1.5x the time per step
        n_layers: int = _layers_hp(12)
        hidden: int = _hidden_hp(64)
        depth: int = _depth_hp(2)

    def build_layers(self, config: Config) -> list[FlowLayer]:
        return [
            MAFLayer(self.dim, config.hidden, config.depth, _order(k, self.dim))
            for k in range(config.n_layers)
        ]


class IAF(Flow):
    """Inverse autoregressive flow: one-pass sampling, ``D``-pass density.

    Fits energy targets by reverse KL by default; set ``objective=forward_kl`` to fit a
    data set by maximum likelihood (each density evaluation then costs ``D`` passes).

    References:
        Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow",
        NeurIPS 2016.
    """

    name: ClassVar[str] = "iaf"
    description: ClassVar[str] = "IAF: MADE-conditioned affine layers, fast sampling, slow density"

    @dataclass
    class Config(
        # sampling is IAF's fast direction, which reverse KL uses at every step
        with_defaults(FlowConfig, objective="reverse_kl")
    ):
        """IAF hyperparameters."""

        n_layers: int = _layers_hp(8)
        hidden: int = _hidden_hp(64)
        depth: int = _depth_hp(2)

    def build_layers(self, config: Config) -> list[FlowLayer]:
        return [
            IAFLayer(self.dim, config.hidden, config.depth, _order(k, self.dim))
            for k in range(config.n_layers)
        ]


class Planar(Flow):
    """Planar flow: a stack of single-hidden-unit residual maps, fitted by reverse KL.

    The density direction is inverted numerically, layer by layer (see
    :class:`~.planar.PlanarLayer`), so ``log_prob`` and forward KL work too, more slowly.

    References:
        Rezende and Mohamed, "Variational Inference with Normalizing Flows", ICML 2015.
    """

    name: ClassVar[str] = "planar"
    description: ClassVar[str] = "Planar flow: tanh ridge layers, the classic reverse-KL flow"

    @dataclass
    class Config(
        # lr: one ridge per layer and few parameters: a large rate is stable and needed to
        # pull the base onto a far-away ring within a thousand steps; reverse KL: the
        # paper's energy targets, planar flows are fitted to an unnormalised density
        with_defaults(FlowConfig, lr=1e-2, objective="reverse_kl")
    ):
        """Planar flow hyperparameters."""

        # each layer bends the plane along one line; the paper uses K = 2..32
        n_layers: int = _layers_hp(16, high=128)

    def build_layers(self, config: Config) -> list[FlowLayer]:
        return [PlanarLayer(self.dim) for _ in range(config.n_layers)]


class Glow(Flow):
    """Glow: blocks of ActNorm, an invertible linear map and an affine coupling.

    The trajectory shows every sub-layer: ``3 * n_blocks`` steps.

    References:
        Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions",
        NeurIPS 2018.
    """

    name: ClassVar[str] = "glow"
    description: ClassVar[str] = "Glow: ActNorm, invertible linear map and affine coupling"

    @dataclass
    class Config(FlowConfig):
        """Glow hyperparameters."""

        # learned rotations let each coupling split the plane along the best direction
        n_blocks: int = hp(6, low=1, high=32, help="ActNorm + linear + coupling blocks")
        hidden: int = _hidden_hp(64)
        depth: int = _depth_hp(2)

    def build_layers(self, config: Config) -> list[FlowLayer]:
        layers: list[FlowLayer] = []
        for k in range(config.n_blocks):
            mask = alternating_mask(self.dim, k)
            coupling = AffineCoupling(mask, config.hidden, config.depth)
            layers += [ActNorm(self.dim), InvertibleLinear(self.dim), coupling]
        return layers
