"""RealNVP for images: a multi-scale stack of checkerboard and channel-wise affine couplings
over dequantized pixels, trained on the dequantization bound of the discrete likelihood."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...data.discrete import to_levels
from ...hyperparameters import HyperparameterError, hp, with_defaults
from ..base import GenerativeModel, TrainingConfig, lr_decay_hp
from .base import FlowLayer
from .dequantization import DEQUANTIZATIONS, dequantization_bound, make_dequantizer
from .image_coupling import (
    ImageActNorm,
    ImageAffineCoupling,
    LogitTransform,
    Squeeze,
    channel_mask,
    checkerboard_mask,
)

__all__ = ["ImageFlowNetwork", "RealNVPImage"]

#: the logit pre-transform's margin (RealNVP's 0.05 for CIFAR-10)
LOGIT_ALPHA = 0.05
#: the pixel grid of an image set without one (a folder of 8-bit images)
DEFAULT_LEVELS = 256


class ImageFlowNetwork(nn.Module):
    """``p_Y``: a density on images ``y`` in ``[0, 1]^D`` by a bijection onto ``N(0, I)``.

    The logit pre-transform, then per scale ``couplings`` checkerboard couplings, a squeeze
    (``c x h x w -> 4c x h/2 x w/2``) and ``couplings`` channel-wise couplings; the last
    scale (or the first whose side is odd) has ``couplings + 1`` checkerboard couplings and
    no squeeze. Every coupling is preceded by a per-channel actnorm. Nothing is factored
    out: the images are small (64 to 400 pixels), so every dimension stays to the end.

    Arguments:
        shape: ``(c, h, w)`` of one image.
        scales: the scales asked for (fewer where a side cannot be halved).
        couplings: couplings of each mask type per scale (RealNVP: 3).
        hidden: channels of the conditioners' residual networks.
        blocks: residual blocks of each conditioner.

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
        section 3.6 (the multi-scale architecture) and eq. (3).
    """

    def __init__(
        self, shape: tuple[int, int, int], scales: int, couplings: int, hidden: int, blocks: int
    ):
        super().__init__()
        c, h, w = shape
        layers: list[FlowLayer] = [LogitTransform(LOGIT_ALPHA)]
        for scale in range(scales):
            last = scale == scales - 1 or h % 2 == 1 or w % 2 == 1
            for k in range(couplings + int(last)):
                mask = checkerboard_mask(h, w, k)
                layers += [ImageActNorm(c), ImageAffineCoupling(mask, c, hidden, blocks)]
            if last:
                break
            layers.append(Squeeze())
            c, h, w = 4 * c, h // 2, w // 2
            for k in range(couplings):
                mask = channel_mask(c, k)
                layers += [ImageActNorm(c), ImageAffineCoupling(mask, c, hidden, blocks)]
        self.layers = nn.ModuleList(layers)
        self.base_shape = (c, h, w)

    def forward(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Images to the base: ``(n, *shape) -> ((n, *base_shape), (n,))`` with
        ``log|det dz/dy|`` in nats."""
        log_det = y.new_zeros(y.shape[0])
        for layer in self.layers:
            y, ld = layer(y)
            log_det = log_det + ld
        return y, log_det

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """The base to images: ``(n, *base_shape) -> ((n, *shape), (n,))`` with
        ``log|det dy/dz|`` in nats."""
        log_det = z.new_zeros(z.shape[0])
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z)
            log_det = log_det + ld
        return z, log_det

    def log_prob(self, y: Tensor) -> Tensor:
        """``log p_Y(y)`` ``(n,)`` in nats of images ``y`` ``(n, *shape)``:
        ``log N(f(y); 0, I) + log|det df/dy|``."""
        z, log_det = self(y)
        return (
            -0.5 * z.square().flatten(1).sum(1)
            - 0.5 * z[0].numel() * math.log(2 * math.pi)
            + log_det
        )

    @torch.no_grad()
    def data_init(self, y: Tensor) -> None:
        """Initialise each actnorm from a batch ``(n, *shape)`` as it reaches it."""
        for layer in self.layers:
            layer.data_init(y)
            y = layer(y)[0]


class RealNVPImage(GenerativeModel):
    """RealNVP on small images, with uniform or variational dequantization.

    The pixels' integers ``k`` (``to_levels``) are dequantized to ``y = (k + u) / L`` with
    ``u ~ q(u | k)``; :class:`ImageFlowNetwork` is ``p_Y``; training minimises the mean of
    :func:`~.dequantization.dequantization_bound`, an upper bound on ``-log P(k)``.
    Samples are ``y ~ p_Y`` quantized back: ``k = floor(L y)``.

    References:
        Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017;
        Ho et al., "Flow++", ICML 2019, section 3.1.
    """

    name: ClassVar[str] = "realnvp-image"
    family: ClassVar[str] = "flow"
    description: ClassVar[str] = (
        "RealNVP on images: checkerboard and channel couplings, uniform or variational "
        "dequantization"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"density", "samples"})
    data_kinds: ClassVar[tuple[str, ...]] = ("image",)

    @dataclass
    class Config(
        # lr 1e-3, batch 64, 2000 steps of decay: the recipe of benchmarks/dequantization.md
        # (17-level digits, 2-4 CPU minutes a run)
        with_defaults(TrainingConfig, lr=1e-3, batch_size=64)
    ):
        """RealNVP-image hyperparameters: the flow, then the dequantizer."""

        lr_decay_steps: int = lr_decay_hp(2000)
        dequantization: str = hp(
            "uniform",
            choices=DEQUANTIZATIONS,
            help="uniform noise (Theis 2016) or a learned q(u|x), a conditional flow (Flow++)",
        )
        scales: int = hp(2, low=1, high=4, help="scales: couplings, squeeze, channel couplings")
        couplings: int = hp(3, low=1, high=8, help="couplings of each mask type per scale")
        hidden: int = hp(32, low=4, high=256, log=True, help="channels of the coupling networks")
        blocks: int = hp(1, low=0, high=8, help="residual blocks of each coupling network")
        dequant_couplings: int = hp(
            4, low=1, high=8, help="variational: conditional couplings of q(u|x)"
        )
        dequant_hidden: int = hp(
            16, low=4, high=256, log=True, help="variational: channels of q(u|x)'s networks"
        )

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """An image set it can sample from (any size: scales stop at an odd side)."""
        return bool(getattr(data, "is_image", False) and data.can_sample)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        if not getattr(data, "is_image", False):
            raise ValueError(f"{self.name} models images; {getattr(data, 'name', data)} is not")
        if config.dequantization not in DEQUANTIZATIONS:
            raise HyperparameterError(
                f"dequantization must be one of {DEQUANTIZATIONS}, not {config.dequantization!r}"
            )
        self.event_shape: tuple[int, int, int] = tuple(data.shape)
        self.levels = int(data.levels or DEFAULT_LEVELS)
        self.flow = ImageFlowNetwork(
            self.event_shape, config.scales, config.couplings, config.hidden, config.blocks
        )
        self.dequantizer = make_dequantizer(
            config.dequantization,
            self.event_shape,
            config.dequant_hidden,
            1,  # one residual block per network: q(u|x) only shapes noise within a cell
            config.dequant_couplings,
        )

    @property
    def dims(self) -> int:
        """``D``: pixels of one image."""
        return math.prod(self.event_shape)

    # ------------------------------------------------------------ density
    def forward(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """Dequantized images ``y`` ``(n, c, h, w)`` in ``[0, 1]`` to the base: ``(z, log_det)``."""
        return self.flow(y)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Base points ``(n, *base_shape)`` to images in ``[0, 1]``: ``(y, log_det)``."""
        return self.flow.inverse(z)

    def log_prob(self, y: Tensor) -> Tensor:
        """``log p_Y(y)`` ``(n,)`` in nats: the flow's density of continuous images ``y``
        ``(n, c, h, w)`` in ``[0, 1]`` (dequantized pixels; for the pixels themselves, a
        discrete distribution, see :meth:`discrete_nll`)."""
        return self.flow.log_prob(y)

    def dequantize(self, x: Tensor, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """``y = (k + u) / L`` with ``u ~ q(u | k)`` for images ``x`` ``(n, c, h, w)`` on the
        data's level grid: ``(y (n, c, h, w), log q(u | k) (n,))``, nats."""
        x = x.reshape(x.shape[0], *self.event_shape)
        k = to_levels(x, self.levels).to(x.dtype)
        u, log_q = self.dequantizer(k / (self.levels - 1), rng)
        return (k + u) / self.levels, log_q

    def bound(self, x: Tensor, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """One draw of the dequantization bound (see :func:`dequantization_bound`) of
        images ``x`` ``(n, c, h, w)``: ``(bound (n,), log_q (n,))``, nats."""
        y, log_q = self.dequantize(x, rng)
        return dequantization_bound(self.flow.log_prob(y), log_q, self.dims, self.levels), log_q

    def discrete_nll(self, x: Tensor, rng: torch.Generator | None = None) -> Tensor:
        """An upper bound on ``-log P(k)`` ``(n,)`` in nats of images ``x`` ``(n, c, h, w)``:
        the dequantization bound at one draw of ``u`` per image (unbiased for the bound's
        expectation; held-out ``bits_per_dim`` averages it over the test set).

        Arguments:
            x: images on the data's level grid.
            rng: the noise's generator (a fresh one when ``None``).
        """
        if rng is None:
            rng = torch.Generator(device=self.steps_taken.device)
        return self.bound(x, rng)[0]

    # ------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` images ``(n, c, h, w)`` on the data's level grid: ``y ~ p_Y`` (one inverse
        pass of the flow) quantized to ``k = floor(L y)``, returned as ``k / (L - 1)``."""
        z = torch.randn(n, *self.flow.base_shape, generator=rng, device=rng.device)
        y = self.flow.inverse(z.to(self.steps_taken.device))[0]
        k = (y * self.levels).floor().clamp(0, self.levels - 1)
        return k / (self.levels - 1)

    # ------------------------------------------------------------ training
    def losses(self, batch: Tensor) -> dict[str, Tensor]:
        """The batch means, nats per image: ``nll`` (the bound, also ``loss``),
        ``bits_per_dim`` (the bound in bits per pixel) and, for variational dequantization,
        ``log_q`` (``E log q(u | k)``, minus ``q``'s entropy)."""
        bound, log_q = self.bound(batch, self.rng)
        nll = bound.mean()
        terms = {"loss": nll, "nll": nll, "bits_per_dim": nll / (self.dims * math.log(2))}
        if self.config.dequantization == "variational":
            terms["log_q"] = log_q.mean()
        return terms

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the mean dequantization bound of ``batch`` ``(b, c, h, w)``.

        Returns:
            ``loss``, ``nll``, ``bits_per_dim`` and (variational) ``log_q``; see :meth:`losses`.

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term or a gradient was not finite; no parameter, step
                counter or rng state changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            if int(self.steps_taken) == 0:
                with torch.no_grad():
                    self.flow.data_init(self.dequantize(batch, self.rng)[0])
            terms = self.losses(batch)
            loss = terms.pop("loss")
            values = self.optimize(
                loss, {k: v if k == "nll" else v.detach() for k, v in terms.items()}
            )
        self.steps_taken += 1
        return values
