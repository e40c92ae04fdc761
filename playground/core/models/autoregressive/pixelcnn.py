"""PixelCNN: masked convolutions (masks A and B) and a softmax over the data's levels per
pixel; and :class:`PixelModel`, what it shares with Gated PixelCNN (class labels, the
conditionals of the class mixture, sampling row by row)."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ...hyperparameters import HyperparameterError, hp, with_defaults
from ...sampling import budget
from ..base import TrainingConfig, lr_decay_hp
from .base import AutoregressiveModel
from .layers import PixelCNNNetwork

__all__ = ["PixelModel", "PixelCNN", "class_count", "odd_kernel"]


def class_count(data: Any) -> int:
    """Labels of an image set: ``len(data.class_names)``, 0 for a set without labels."""
    names = data.class_names
    return len(names) if names else 0


def odd_kernel(name: str, value: int) -> int:
    """``value``, checked odd (a masked kernel has a centre).

    Raises:
        HyperparameterError: ``value`` is even.
    """
    if value % 2 == 0:
        raise HyperparameterError(f"{name} must be odd (a masked kernel has a centre), not {value}")
    return int(value)


class PixelModel(AutoregressiveModel):
    """An autoregressive model of ``(n, 1, h, w)`` images whose network maps an image to
    logits ``(n, levels, h, w)``, pixel ``(r, c)`` seeing the pixels before it in raster
    order only (a PixelCNN).

    With :attr:`n_classes` labels the network models ``p(x | y)``: training takes ``(x, y)``
    batches (:attr:`needs_labels`), :meth:`sample` draws uniform labels from its rng (or
    ``config.sample_label``), and :meth:`conditional_logits` (hence ``discrete_nll`` and
    held-out bits/dim) is that of the mixture ``p(x) = (1/K) sum_y p(x | y)``, exactly:
    ``p(x_i | x_<i) = sum_y p(y | x_<i) p(x_i | x_<i, y)``.

    Network inputs are ``2 x - 1`` (the levels spread over ``[-1, 1]``).
    """

    data_kinds: ClassVar[tuple[str, ...]] = ("image",)
    #: labels the network is conditioned on (0: an unconditional model)
    n_classes: int = 0

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.levels = self.levels_of(data)
        self.event_shape = tuple(int(s) for s in data.shape)
        if self.event_shape[0] != 1:
            raise ValueError(f"{self.name} models grey images, not {self.event_shape[0]} channels")

    @abc.abstractmethod
    def network_logits(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Logits ``(n, levels, h', w)`` of images ``x (n, 1, h', w)`` (``h' <= h``: the
        top rows of an image), given labels ``(n,)`` (conditional models)."""

    @property
    def needs_labels(self) -> bool:
        """A class-conditional model trains on ``(x, y)`` batches."""
        return self.n_classes > 0

    # ------------------------------------------------------------ likelihood
    def logits_given(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """Logits ``(n, D, levels)`` of ``p(x_i | x_<i, y)`` (raster order) of images
        ``x (n, 1, h, w)`` and labels ``(n,)`` (ignored by an unconditional model)."""
        out = self.network_logits(2.0 * x - 1.0, labels if self.n_classes else None)
        return out.flatten(2).transpose(1, 2)

    def conditional_logits(self, x: Tensor) -> Tensor:
        """Log-probabilities ``(n, D, levels)`` of each pixel of ``x (n, 1, h, w)`` given
        those before it in raster order; a conditional model's are the class mixture's,
        ``log sum_y p(y | x_<i) p(x_i | x_<i, y)`` with a uniform ``p(y)`` (``K`` network
        calls)."""
        if not self.n_classes:
            return self.logits_given(x)
        n, k = x.shape[0], self.n_classes
        labels = torch.arange(k, device=x.device).repeat_interleave(n)
        logp = F.log_softmax(self.logits_given(x.repeat(k, 1, 1, 1), labels), -1)
        logp = logp.reshape(k, n, self.dims, self.levels)
        seen = logp.gather(-1, self.to_levels(x)[None, ..., None].expand(k, -1, -1, 1))[..., 0]
        past = seen.cumsum(-1) - seen  # log p(x_<i | y), (K, n, D)
        posterior = F.log_softmax(past, dim=0)  # log p(y | x_<i)
        return torch.logsumexp(posterior[..., None] + logp, dim=0)

    def log_prob_given(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """``log p(x | y)`` ``(n,)`` in nats of images ``x (n, 1, h, w)`` and labels
        ``(n,)``; ``log p(x)`` for an unconditional model."""
        k = self.to_levels(x)
        logp = F.log_softmax(self.logits_given(self.from_levels(k), labels), dim=-1)
        return logp.gather(-1, k[..., None]).squeeze(-1).sum(dim=1)

    # ------------------------------------------------------------ sampling
    def labels_to_sample(self, n: int, rng: torch.Generator) -> Tensor | None:
        """The labels :meth:`sample` draws: ``config.sample_label`` for all, or uniform
        labels from ``rng`` when it is -1; ``None`` for an unconditional model.

        Raises:
            HyperparameterError: ``sample_label`` is not a label of the dataset.
        """
        if not self.n_classes:
            return None
        c = int(self.config.sample_label)
        if c >= self.n_classes:
            raise HyperparameterError(
                f"sample_label {c} is not one of the {self.n_classes} labels "
                f"(0..{self.n_classes - 1}; -1: uniform)"
            )
        device = self.steps_taken.device
        if c < 0:
            return torch.randint(self.n_classes, (n,), generator=rng, device=rng.device).to(device)
        return torch.full((n,), c, dtype=torch.long, device=device)

    @torch.no_grad()
    def sample_given(self, n: int, labels: Tensor | None, rng: torch.Generator) -> Tensor:
        """``n`` images ``(n, 1, h, w)`` of ``p(x | y)``, pixel by pixel in raster order, every
        draw from ``rng``. The same draws as the base class's loop, at about half its cost:
        pixel ``(r, c)`` depends on no row below ``r``, so the network runs on rows
        ``0..r`` only."""
        _, h, w = self.event_shape
        k = torch.zeros(n, h * w, dtype=torch.long, device=self.steps_taken.device)
        spend = budget.current()
        for r in range(h):
            for c in range(w):
                x = self.from_levels(k).reshape(n, 1, h, w)[:, :, : r + 1]
                logits = self.network_logits(2.0 * x - 1.0, labels)[:, :, r, c]
                probs = F.softmax(logits.float(), dim=-1)
                k[:, r * w + c] = torch.multinomial(probs, 1, generator=rng).squeeze(1)
                # a picture no longer wanted (or an evaluation a tab interrupts) stops here:
                # each pixel, since a row of 2,000 samples takes seconds on a loaded CPU
                spend.progress("PixelCNN sampling, pixel", r * w + c + 1, h * w)
        return self.from_levels(k)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` samples ``(n, 1, h, w)``: labels from :meth:`labels_to_sample`, then
        :meth:`sample_given`; every random number from ``rng``."""
        return self.sample_given(n, self.labels_to_sample(n, rng), rng)

    @torch.no_grad()
    def sample_labelled(self, y: Tensor, rng: torch.Generator) -> Tensor:
        """One sample ``(n, 1, h, w)`` of each label of ``y (n,)`` (a conditional model):
        :meth:`sample_given`."""
        return self.sample_given(len(y), y, rng)

    # ------------------------------------------------------------ training
    def train_step(self, batch: Tensor | tuple[Tensor, Tensor] | None) -> dict[str, float]:
        """One Adam step on ``-log p(x | y)`` averaged over a batch ``(b, 1, h, w)`` (or
        ``(x, y)``: a conditional model's labelled batch).

        Returns:
            ``loss`` and ``nll`` (nats per image) and ``bits_per_dim``.

        Raises:
            ValueError: no batch, or a conditional model given no labels.
            NonFiniteLossError: a term or gradient was not finite; nothing was updated.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        labels = None
        if isinstance(batch, tuple):
            batch, labels = batch
            labels = labels.to(batch.device)
        if self.n_classes and labels is None:
            raise ValueError(f"a conditional {self.name} trains on (images, labels) batches")
        self.apply_lr_schedule()
        nll = -self.log_prob_given(batch, labels).mean()
        bpd = nll / (self.dims * math.log(2))
        values = self.optimize(nll, {"nll": nll, "bits_per_dim": bpd})
        self.steps_taken += 1
        return values


class PixelCNN(PixelModel):
    """PixelCNN: a 7x7 mask-A convolution (a pixel never sees itself), residual blocks of
    3x3 mask-B convolutions, and a softmax over the ``levels`` of each pixel (a Bernoulli
    on binarised images). Stacked 3x3 masks leave a blind spot: pixels up and to the right
    of a pixel that it never sees, however deep the network (the Receptive field view).

    Arguments:
        config: a :class:`PixelCNN.Config`.
        data: an image set (its shape and ``levels``).

    References:
        van den Oord, Kalchbrenner and Kavukcuoglu, "Pixel Recurrent Neural Networks", ICML
        2016, eqs. (1)-(2), section 3.4 and figure 5; van den Oord et al., "Conditional
        Image Generation with PixelCNN Decoders", NeurIPS 2016, figure 1 (the blind spot).
    """

    name: ClassVar[str] = "pixelcnn"
    description: ClassVar[str] = (
        "PixelCNN: masked convolutions (A then B), a softmax per pixel; has a blind spot"
    )

    @dataclass
    class Config(with_defaults(TrainingConfig, lr=3e-3, batch_size=64)):
        """PixelCNN hyperparameters."""

        # 64 x 5: about 25 ms per step of 64 digits on one core
        channels: int = hp(64, low=4, high=512, log=True, help="hidden channels")
        blocks: int = hp(5, low=0, high=20, help="residual blocks of 3x3 mask-B convolutions")
        # 7: the paper's first layer
        first_kernel: int = hp(7, low=1, high=15, help="the mask-A kernel (odd)")
        # 0.3: 8 x 8 digits overfit within a thousand steps without it (1.84 -> 1.82 test
        # bits/dim; 0.5 is worse: benchmarks/pixelcnn_digits.md)
        dropout: float = hp(0.3, low=0.0, high=0.9, help="dropout in the residual blocks")
        lr_decay_steps: int = lr_decay_hp(3000)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.net = PixelCNNNetwork(
            1,
            self.levels,
            channels=config.channels,
            blocks=config.blocks,
            first_kernel=odd_kernel("first_kernel", config.first_kernel),
            dropout=config.dropout,
        )

    def network_logits(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """``PixelCNNNetwork`` logits ``(n, levels, h', w)`` of ``x (n, 1, h', w)``."""
        return self.net(x)
