"""DCGAN: the GAN with a transposed-convolution generator and a strided-convolution critic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor, nn

from ...hyperparameters import HyperparameterError, hp, with_defaults
from .dcgan_networks import CRITIC_NORMS, ConvCritic, ConvGenerator
from .models import VanillaGAN

__all__ = ["DCGAN", "DCGANConfig", "PENALTY_FIELDS"]

#: the GAN's per-sample critic penalties (R1, R2): batch norm in the critic mixes the samples
#: of a batch, so each sample's gradient would depend on the others
PENALTY_FIELDS = ("r1", "r2")


@dataclass
class DCGANConfig(with_defaults(VanillaGAN.Config, latent_dim=32, batch_size=64)):
    """DCGAN hyperparameters: the GAN's (loss, pack, label smoothing, feature matching,
    minimax_steps, ...) with the paper's Adam(2e-4, betas (0.5, 0.999)) (1e-3 on digits:
    :meth:`DCGAN.defaults_for`), batches of 64, a 32-dimensional latent and the
    convolutions' base width. ``hidden`` and ``depth`` (the MLP GAN's widths) are not
    read, so they are :func:`~playground.core.hyperparameters.unused_fields`.

    Raises:
        HyperparameterError: ``critic_norm = batch`` with a per-sample gradient penalty
            (:data:`PENALTY_FIELDS` above 0), or the GAN's own refusals.
    """

    #: the MLP GAN's widths: DCGAN's are ``channels`` (not shown, settable or saved)
    unused_fields: ClassVar[tuple[str, ...]] = ("hidden", "depth")

    # 32: ~30 ms a digits step on one CPU thread, and all ten digits within 500 steps
    channels: int = hp(32, low=4, high=256, log=True, help="base width C of both networks")
    critic_norm: str = hp(
        "batch",
        choices=CRITIC_NORMS,
        help="critic's hidden-layer normalisation (layer or none with a gradient penalty)",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        on = [f"{n}={getattr(self, n)}" for n in PENALTY_FIELDS if getattr(self, n, 0) > 0]
        if on and self.critic_norm == "batch":
            raise HyperparameterError(
                f"{', '.join(on)} penalises each sample's critic gradient, but batch norm "
                "makes every sample's output depend on the whole batch; set critic_norm to "
                "layer or none"
            )


class DCGAN(VanillaGAN):
    """A GAN whose generator and critic are convolutional (Radford et al. 2016).

    Generator (:class:`~.dcgan_networks.ConvGenerator`): ``z`` -> linear -> ``(C 2^k, s0,
    s0)`` -> stride-2 transposed convolutions with batch norm and ReLU up to the image size
    -> a sigmoid, so samples ``(n, c, h, w)`` lie in ``[0, 1]``. Critic
    (:class:`~.dcgan_networks.ConvCritic`): strided convolutions with LeakyReLU(0.2) and
    batch norm on every layer but the first, then a linear head. Digits (8 x 8) start from
    4 x 4 maps, shapes (16 x 16) from 4 x 4, shapes at 20 from 5 x 5; any square side
    works (a side that cannot halve to 4 or more, as four-points' 2 x 2 or an odd folder
    size, keeps its full resolution: a 3 x 3 convolution and no transposed one).

    Losses and switches are the GAN's (:class:`~.models.VanillaGAN` and :class:`~.base.GAN`):
    ``loss``, ``minimax_steps``, ``pack`` (packed samples are stacked as input channels),
    ``label_smoothing``, ``feature_matching`` (on the critic's last feature map),
    ``historical_averaging``, ``lr_decay_steps`` and whatever the base class adds.

    Batch norm and gradient penalties: a per-sample penalty (``r1``, ``r2``) is wrong with
    batch norm, so the config *refuses* ``critic_norm = batch`` with one; choose
    ``layer`` (per-sample normalisation, as WGAN-GP advises) or ``none``. Wasserstein
    losses are not offered (no Lipschitz constraint here; use ``wgan-gp``).

    The critic sees real and generated batches in separate passes, so its batch norm
    normalises each with its own statistics, as in the paper's code. Only square image
    sets: :meth:`fits` refuses the plane and sequences.

    Raises:
        ValueError: ``data`` is not an image set, or ``batch_size < pack``.

    References:
        Radford, Metz and Chintala, "Unsupervised Representation Learning with Deep
        Convolutional Generative Adversarial Networks", ICLR 2016, section 3 (architecture
        guidelines) and section 4 (Adam 2e-4, beta1 0.5).
    """

    name: ClassVar[str] = "dcgan"
    description: ClassVar[str] = "DCGAN: convolutional generator and critic with batch norm"
    data_kinds: ClassVar[tuple[str, ...]] = ("image",)
    Config: ClassVar[type] = DCGANConfig

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """Image sets with exact samples and square images, of any side."""
        if not (data.can_sample and getattr(data, "is_image", False)):
            return False
        shape = getattr(data, "shape", None)
        return not isinstance(shape, tuple) or shape[1] == shape[2]

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Digits: rates of 1e-3 (measured, seeds 0 and 1: every class at 2e-4 and 1e-3
        alike, but FID 25 against 36 after 2,000 steps at seed 0 and 35 against 40 after
        1,500 at seed 1). Other sets keep the paper's 2e-4; the MLP GAN's image defaults
        (a 16-dimensional latent, wide MLPs) do not apply."""
        if getattr(data, "name", "") == "digits":
            return {"lr_generator": 1e-3, "lr_critic": 1e-3}
        return {}

    def __init__(self, config: Any, data: Any):
        if not getattr(data, "is_image", False):
            raise ValueError(
                f"dcgan needs an image set (digits, shapes, folder), not {data.kind} data "
                f"{getattr(data, 'name', '')!r}: its networks are convolutions over pixels"
            )
        super().__init__(config, data)

    def build_generator(self, config: Any) -> nn.Module:
        """:class:`~.dcgan_networks.ConvGenerator`: ``(n, latent_dim) -> (n, c, h, w)``
        logits; :meth:`to_data` applies the sigmoid."""
        c, h, _ = self.event_shape
        return ConvGenerator(config.latent_dim, h, config.channels, c)

    def build_critic(self, config: Any) -> nn.Module:
        """:class:`~.dcgan_networks.ConvCritic` ``(b, pack c, h, w) -> (b,)``."""
        c, h, _ = self.event_shape
        return ConvCritic(config.pack * c, h, config.channels, config.critic_norm)

    def pack_samples(self, x: Tensor) -> Tensor:
        """``(b, c, h, w) -> (b // m, m c, h, w)``: consecutive groups of ``m = pack``
        images stacked as channels, tail dropped."""
        m = self.config.pack
        x = x.reshape(x.shape[0], *self.event_shape)
        b = (x.shape[0] // m) * m
        return x[:b].reshape(b // m, m * x.shape[1], *x.shape[2:])

    def critic(self, x: Tensor) -> Tensor:
        """The raw critic value at single images ``(n, c, h, w) -> (n,)``; with ``pack =
        m`` each image is repeated ``m`` times along the channels."""
        x = x.reshape(x.shape[0], *self.event_shape)
        return self.critic_net(x.repeat(1, self.config.pack, 1, 1))
