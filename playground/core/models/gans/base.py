"""The GAN protocol: a generator, a critic, alternating updates, and the shared tricks."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..base import FINAL_LR_FRACTION, GenerativeModel
from .config import GANConfig
from .losses import CLASSIFIER_LOSSES, CRITIC_LOSSES, GENERATOR_LOSSES, feature_matching_loss
from .networks import OPTIMIZERS, Critic, make_optimizer, mlp
from .regularizers import add_instance_noise, critic_penalties

__all__ = ["GANConfig", "GAN", "Critic", "mlp", "OPTIMIZERS", "make_optimizer", "FINAL_LR_FRACTION"]


class GAN(GenerativeModel):
    """A GAN: generator ``G: z -> x`` against a critic ``D``, trained by alternating steps.

    One :meth:`train_step` is ``n_critic`` critic steps on consecutive chunks of the batch,
    then ``n_generator`` generator steps. The loss pair is chosen by :attr:`loss_name` from
    :mod:`.losses`. With ``pack = m`` (PacGAN) the critic judges ``m`` samples
    concatenated into one ``2m`` vector; a batch whose size is not a multiple of ``m`` drops
    its last ``b mod m`` rows.

    Extension points for subclasses (WGAN, WGAN-GP, SNGAN, f-GAN, InfoGAN):

    - :attr:`loss_name` (the ``loss`` config field, else the class attribute ``loss``);
    - :meth:`critic_loss` / :meth:`generator_loss`: map critic outputs to losses;
    - :meth:`critic_regularizer`: extra named terms added to the critic loss;
    - :meth:`build_critic` / :meth:`build_generator`: the networks;
    - :meth:`after_critic_step`: a projection after each critic update (weight clipping);
    - :meth:`extra_generator_terms`: extra named terms added to the generator loss.

    On an image set (``data.is_image``) both networks are MLPs on the flattened image:
    the generator ends in a sigmoid and returns ``(n, 1, h, w)`` in ``[0, 1]``, and the
    critic flattens its input. Everything else is the same as on the plane.

    Arguments:
        config: a :class:`GANConfig` subclass instance.
        data: the target ``Density2D`` or ``ImageDataset`` (only its samples are used).

    Raises:
        ValueError: ``batch_size < pack``.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, algorithm 1;
        Lin et al., "PacGAN", NeurIPS 2018; Salimans et al., "Improved Techniques for
        Training GANs", NeurIPS 2016 (feature matching, one-sided label smoothing,
        historical averaging).
    """

    family: ClassVar[str] = "gan"
    capabilities: ClassVar[frozenset[str]] = frozenset({"samples", "critic"})
    Config: ClassVar[type] = GANConfig
    parts: ClassVar[tuple[str, ...]] = ("critic", "generator")
    #: the loss pair when the config has no ``loss`` field
    loss: ClassVar[str] = "non-saturating"
    dim: ClassVar[int] = 2

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """Adversarial training needs exact samples."""
        return bool(data.can_sample)

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Image sets get a 16-dimensional latent, wider networks, batches of 64, and rates
        of 1e-3 where the model keeps the shared 2e-4 (a paper's own rates, WGAN's and
        WGAN-GP's, stay). With 2e-4 the digits GAN kept collapsing onto one or two classes
        for 3,000 steps; with 1e-3 it covered all ten by step 2,000 (seed 0)."""
        if not getattr(data, "is_image", False):
            return {}
        out: dict[str, Any] = {"latent_dim": 16, "hidden": 256, "depth": 2, "batch_size": 64}
        shared = {f.name: f.default for f in dataclasses.fields(GANConfig)}
        for f in dataclasses.fields(cls.Config):
            if f.name in ("lr_generator", "lr_critic") and f.default == shared[f.name]:
                out[f.name] = 1e-3
        return out

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self._check_batch(config)
        #: the shape of one sample: ``(2,)`` on the plane, ``(1, h, w)`` for images
        self.event_shape: tuple[int, ...] = (
            tuple(data.shape) if getattr(data, "is_image", False) else (self.dim,)
        )
        self.dim = math.prod(self.event_shape)
        self.generator_net = self.build_generator(config)
        self.critic_net = self.build_critic(config)
        self._kinds: dict[str, str] = {}
        self._history_means: dict[str, list[Tensor]] = {}
        self._history_counts: dict[str, int] = {}

    # ------------------------------------------------------------- networks
    def build_generator(self, config: Any) -> nn.Module:
        """The generator body ``(n, latent_dim) -> (n, dim)`` (see :meth:`to_data`)."""
        return mlp(config.latent_dim, self.dim, config.hidden, config.depth, nn.ReLU)

    def build_critic(self, config: Any) -> Critic:
        """The critic ``(b, dim * pack) -> (b,)`` with ``features`` (``dim`` = 2 or h w)."""
        return Critic(self.dim * config.pack, config.hidden, config.depth)

    @property
    def is_image(self) -> bool:
        """Whether samples are images ``(n, 1, h, w)``."""
        return len(self.event_shape) == 3

    def to_data(self, out: Tensor) -> Tensor:
        """The generator body's output ``(n, dim)`` as samples: unchanged on the plane,
        ``sigmoid`` and reshaped to ``(n, 1, h, w)`` for images."""
        if self.is_image:
            return torch.sigmoid(out).view(out.shape[0], *self.event_shape)
        return out

    @staticmethod
    def flat(x: Tensor) -> Tensor:
        """``(n, ...) -> (n, dim)``: what the critic reads."""
        return x.reshape(x.shape[0], -1)

    @property
    def loss_name(self) -> str:
        """The loss pair of :mod:`.losses` in use."""
        return getattr(self.config, "loss", self.loss)

    @property
    def batches_per_step(self) -> int:
        """The Session samples ``batch_size * n_critic`` points: one chunk per critic step."""
        return int(self.config.n_critic)

    # ------------------------------------------------------------ optimisers
    def _nets(self) -> dict[str, nn.Module]:
        return {"critic": self.critic_net, "generator": self.generator_net}

    def base_lr(self, optimizer: str) -> float:
        """``lr_critic`` or ``lr_generator``: each network has its own rate."""
        return float(getattr(self.config, f"lr_{optimizer}"))

    def _make(self, key: str, config: Any):
        kind = getattr(config, f"optimizer_{key}")
        lr = self.scheduled_lr(key)
        self._kinds[key] = kind
        return make_optimizer(
            kind, self._nets()[key].parameters(), lr, (config.beta1, config.beta2)
        )

    def configure_optimizers(self) -> None:
        """One optimiser per network, keys ``critic`` and ``generator``."""
        self.optimizers = {key: self._make(key, self.config) for key in self._nets()}
        self._history_means = {
            k: [p.detach().clone() for p in net.parameters()] for k, net in self._nets().items()
        }
        self._history_counts = {k: 1 for k in self._nets()}

    def apply_live(self, config: Any) -> None:
        """New rates and betas apply at once; a changed optimiser type restarts only that one."""
        self._check_batch(config)
        self.config = config
        for key, opt in list(self.optimizers.items()):
            if getattr(config, f"optimizer_{key}") != self._kinds.get(key):
                self.optimizers[key] = self._make(key, config)
                continue
            for group in opt.param_groups:
                group["lr"] = self.scheduled_lr(key)
                if "betas" in group:
                    group["betas"] = (config.beta1, config.beta2)

    @staticmethod
    def _check_batch(config: Any) -> None:
        if config.batch_size < config.pack:
            raise ValueError(
                f"batch_size {config.batch_size} is smaller than pack {config.pack}: "
                "the critic needs at least one packed sample"
            )

    # ------------------------------------------------------------- sampling
    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def sample_latent(self, n: int, rng: torch.Generator | None = None) -> Tensor:
        """``z ~ N(0, I)``: ``(n, latent_dim)``, drawn from ``rng`` (default: the training
        :attr:`rng`)."""
        g = self.rng if rng is None else rng
        z = torch.randn(n, self.config.latent_dim, generator=g, device=g.device)
        return z.to(self._device())

    def generate(self, z: Tensor) -> Tensor:
        """``G(z)``: ``(n, latent_dim) -> (n, 2)`` or ``(n, 1, h, w)``."""
        return self.to_data(self.generator_net(z))

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` samples ``(n, 2)`` (or ``(n, 1, h, w)``) of the generator, latents from ``rng``."""
        return self.generate(self.sample_latent(n, rng))

    # ---------------------------------------------------------------- critic
    def pack_samples(self, x: Tensor) -> Tensor:
        """``(b, ...) -> (b // m, m dim)``: consecutive groups of ``m = pack`` flattened
        samples, tail dropped."""
        m = self.config.pack
        x = self.flat(x)
        b = (x.shape[0] // m) * m
        return x[:b].reshape(b // m, m * x.shape[1])

    def critic(self, x: Tensor) -> Tensor:
        """The raw critic value (a logit for classifier losses) at single points ``(n, 2) -> (n,)``.

        With ``pack = m`` the point is repeated ``m`` times: the critic's value on a pack of
        ``m`` copies of ``x``.
        """
        return self.critic_net(self.flat(x).repeat(1, self.config.pack))

    @property
    def has_probability(self) -> bool:
        """Whether the critic is a classifier, so :meth:`discriminator_probability` applies."""
        return self.loss_name in CLASSIFIER_LOSSES

    def discriminator_probability(self, x: Tensor) -> Tensor:
        """``D(x) = sigmoid(critic(x))`` ``(n,)``, for classifier losses.

        Raises:
            ValueError: the critic is not a classifier (least squares, hinge, Wasserstein).
        """
        if not self.has_probability:
            raise ValueError(f"{self.loss_name} critic values are not probabilities")
        return torch.sigmoid(self.critic(x))

    # ---------------------------------------------------------------- losses
    def critic_loss(self, d_real: Tensor, d_fake: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(loss, loss_real, loss_fake)`` from critic outputs on packed real and fake."""
        fn = CRITIC_LOSSES[self.loss_name]
        return fn(d_real, d_fake, self.config.label_smoothing)

    def generator_loss(self, d_fake: Tensor) -> Tensor:
        """The generator's loss from critic outputs on packed fakes."""
        return GENERATOR_LOSSES[self.loss_name](d_fake)

    def critic_regularizer(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """Named terms added to the critic loss, given packed ``real`` and ``fake``; none here."""
        return {}

    def extra_generator_terms(self, z: Tensor, fake: Tensor) -> dict[str, Tensor]:
        """Named terms added to the generator loss, given ``z`` and ``G(z)``; none here."""
        return {}

    def noisy(self, x: Tensor) -> Tensor:
        """A critic input ``(b, ...)`` with instance noise of std ``instance_noise`` (from
        :attr:`rng`; ``x`` itself when 0), real and generated alike (Mescheder et al. 2018,
        section 3.2). R1 and R2 (``r1``, ``r2``) join the critic's loss in :meth:`critic_step`."""
        return add_instance_noise(x, self.config.instance_noise, self.rng)

    def after_critic_step(self) -> None:
        """Called after each critic update (WGAN clips the weights here)."""

    def historical_average(self, key: str) -> Tensor:
        """``||θ - θ̄||²`` for network ``key`` (θ̄: the mean of its past parameter values)."""
        means = self._history_means[key]
        params = list(self._nets()[key].parameters())
        return sum((p - m).square().sum() for p, m in zip(params, means, strict=True))

    def _update_history(self, key: str) -> None:
        self._history_counts[key] += 1
        c = self._history_counts[key]
        with torch.no_grad():
            for p, m in zip(self._nets()[key].parameters(), self._history_means[key], strict=True):
                m.add_((p - m) / c)

    # -------------------------------------------------------------- training
    def critic_step(self, batch: Tensor) -> dict[str, float]:
        """One critic update on a real batch ``(b, 2)``.

        Returns:
            ``loss_d`` (the total minimised), ``loss_d_real``, ``loss_d_fake`` and the
            regulariser's terms (``gradient_penalty``, ``r1_penalty``, ``r2_penalty``,
            ``historical_average_d``, ...).

        Raises:
            NonFiniteLossError: before any parameter changes.
        """
        real = self.pack_samples(batch.to(self._device()))
        with torch.no_grad():
            fake = self.pack_samples(self.generate(self.sample_latent(batch.shape[0])))
        real, fake = self.noisy(real), self.noisy(fake)
        loss, loss_real, loss_fake = self.critic_loss(self.critic_net(real), self.critic_net(fake))
        terms = {"loss_d_real": loss_real, "loss_d_fake": loss_fake}
        penalties = critic_penalties(self.critic_net, real, fake, self.config)
        for name, value in {**self.critic_regularizer(real, fake), **penalties}.items():
            loss = loss + value
            terms[name] = value
        if self.config.historical_averaging > 0:
            h = self.config.historical_averaging * self.historical_average("critic")
            loss = loss + h
            terms["historical_average_d"] = h
        values = self.optimize(loss, {"loss_d": loss, **terms}, optimizer="critic")
        values.pop("loss", None)
        self.after_critic_step()
        self._update_history("critic")
        return values

    def _generator_objective(self, fake: Tensor, batch: Tensor | None) -> Tensor:
        if self.config.feature_matching and batch is not None:
            real = self.noisy(self.pack_samples(batch.to(self._device())))
            with torch.no_grad():
                f_real = self.critic_net.features(real)
            f_fake = self.critic_net.features(self.noisy(self.pack_samples(fake)))
            return feature_matching_loss(f_real, f_fake)
        return self.generator_loss(self.critic_net(self.noisy(self.pack_samples(fake))))

    def generator_step(self, batch: Tensor | None = None) -> dict[str, float]:
        """One generator update; ``batch`` ``(b, 2)`` (real data) is read by feature matching.

        Returns:
            ``loss_g`` (the value minimised), ``grad_norm_g`` (the norm of its gradient in
            the generator's parameters) and the extra terms.

        Raises:
            NonFiniteLossError: before any parameter changes.
        """
        n = self.config.batch_size if batch is None else batch.shape[0]
        z = self.sample_latent(max(n, self.config.pack))
        self.critic_net.requires_grad_(False)
        try:
            fake = self.generate(z)
            loss = self._generator_objective(fake, batch)
            terms: dict[str, Tensor] = {"loss_g": loss}
            for name, value in self.extra_generator_terms(z, fake).items():
                loss = loss + value
                terms[name] = value
            if self.config.historical_averaging > 0:
                h = self.config.historical_averaging * self.historical_average("generator")
                loss = loss + h
                terms["historical_average_g"] = h
            values = self.optimize(loss, terms, optimizer="generator")
        finally:
            self.critic_net.requires_grad_(True)
        values.pop("loss", None)
        grads = [
            p.grad.square().sum() for p in self.generator_net.parameters() if p.grad is not None
        ]
        values["grad_norm_g"] = float(torch.stack(grads).sum().sqrt()) if grads else 0.0
        self._update_history("generator")
        return values

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """``n_critic`` critic steps on consecutive chunks of ``batch``, then ``n_generator``
        generator steps; returns the last value of each term (always ``loss_d``, ``loss_g``).
        """
        self.apply_lr_schedule()
        chunks = torch.chunk(batch, self.config.n_critic)
        terms: dict[str, float] = {}
        for chunk in chunks:
            terms.update(self.critic_step(chunk))
        for i in range(self.config.n_generator):
            terms.update(self.generator_step(chunks[i % len(chunks)]))
        self.steps_taken += 1
        return terms

    def train_part(self, part: str, batch: Tensor | None) -> dict[str, float]:
        """One :meth:`critic_step` (``part = "critic"``) or :meth:`generator_step`
        (``"generator"``) alone, at the scheduled rates; the step counter does not move.

        Raises:
            ValueError: another ``part``.
        """
        if part not in self.parts:
            return super().train_part(part, batch)
        self.apply_lr_schedule()
        return self.critic_step(batch) if part == "critic" else self.generator_step(batch)

    def generator_update_direction(self, z: Tensor, batch: Tensor | None = None) -> Tensor:
        """``-∂L_G/∂x`` at ``x = G(z)``: where the generator loss pushes each sample ``(n, 2)``.

        Computed with ``torch.autograd.grad`` on detached samples: parameter gradients and
        optimiser state are untouched. Without packing or feature matching each row is
        the gradient of that sample's own loss term; otherwise of the batch loss times ``n``.
        """
        with torch.no_grad():
            x = self.generate(z)
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            if self.config.feature_matching and batch is not None:
                loss = self._generator_objective(x, batch)
            else:
                loss = self.generator_loss(self.critic(x))
            (grad,) = torch.autograd.grad(loss * x.shape[0], x)
        return -grad
