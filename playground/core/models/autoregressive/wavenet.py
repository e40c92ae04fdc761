"""WaveNet: dilated causal convolutions with gated residual blocks and skip connections,
a softmax over the mu-law levels of each time step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data.sequences import dequantize, quantize
from ...hyperparameters import hp, with_defaults
from ...sampling import budget
from ..base import TrainingConfig, lr_decay_hp
from .base import AutoregressiveModel

__all__ = ["WaveNet", "WaveNetNetwork", "GatedResidualBlock", "receptive_field"]

#: the sampler reports its progress (and may be cancelled) every this many time steps
PROGRESS_EVERY = 16


def receptive_field(kernel_size: int, dilations: list[int]) -> int:
    """The past time steps one output sees: ``1 + (k - 1) sum_l d_l``.

    The input is shifted one step right (the prediction of ``x_t`` starts from
    ``x_{t-1}``), then each causal convolution of kernel ``k`` and dilation ``d`` reaches
    ``(k - 1) d`` steps further back; so ``p(x_t | ...)`` depends on exactly
    ``x_{t-R}, ..., x_{t-1}`` with ``R`` this number.

    References:
        van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016, section
        2.1 and figure 3.
    """
    return 1 + (kernel_size - 1) * sum(dilations)


class GatedResidualBlock(nn.Module):
    """One WaveNet layer: a dilated causal convolution, the gated activation
    ``z = tanh(W_f * h) * sigmoid(W_g * h)``, a 1x1 convolution back onto the residual
    stream (none in the last layer, whose stream nothing reads) and a 1x1 convolution to
    the skip connections.

    Arguments:
        channels: residual channels ``C``.
        skip_channels: skip channels ``S``.
        kernel_size: ``k``, taps of the causal convolution.
        dilation: ``d``, the gap between taps.
        last: the last layer (no residual output).

    Shapes: ``forward(h (n, C, T)) -> (h' (n, C, T), skip (n, S, T))``; :meth:`step` the
    same for one time step from a window ``(n, C, (k - 1) d + 1)`` of the inputs.

    References:
        van den Oord et al. 2016, eq. (2) of section 2.3 and figure 4.
    """

    def __init__(
        self, channels: int, skip_channels: int, kernel_size: int, dilation: int, last: bool
    ):
        super().__init__()
        self.dilation = dilation
        self.span = (kernel_size - 1) * dilation  # left padding: steps reached back
        self.conv = nn.Conv1d(channels, 2 * channels, kernel_size, dilation=dilation)
        self.residual = None if last else nn.Conv1d(channels, channels, 1)
        self.skip = nn.Conv1d(channels, skip_channels, 1)

    def _out(self, h: Tensor, conv: Tensor) -> tuple[Tensor, Tensor]:
        f, g = conv.chunk(2, dim=1)
        z = torch.tanh(f) * torch.sigmoid(g)
        out = h if self.residual is None else h + self.residual(z)
        return out, self.skip(z)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``(h + residual (n, C, T), skip (n, S, T))`` of ``h (n, C, T)``."""
        return self._out(h, self.conv(F.pad(h, (self.span, 0))))

    def step(self, window: Tensor) -> tuple[Tensor, Tensor]:
        """The layer at the last step of ``window (n, C, span + 1)``: ``((n, C, 1),
        (n, S, 1))``, the same numbers :meth:`forward` gives there."""
        return self._out(window[:, :, -1:], self.conv(window))


class WaveNetNetwork(nn.Module):
    """Levels ``(n, T)`` to logits ``(n, levels, T)``, output ``t`` seeing the inputs
    ``t - R .. t - 1`` (``R`` = :attr:`receptive_field`).

    Each level is embedded (a one-hot times a matrix, as the paper's input), the sequence
    is shifted one step right (zeros at ``t = 0``), then ``stacks`` repeats of ``layers``
    :class:`GatedResidualBlock` with dilations ``1, 2, ..., 2^(layers-1)``; the skips are
    summed and read out by ``ReLU, 1x1, ReLU, 1x1``.

    Arguments:
        levels: values per time step.
        channels, skip_channels: residual and skip channels.
        layers: dilated layers per stack.
        stacks: repeats of the dilation stack.
        kernel_size: taps per causal convolution.

    References:
        van den Oord et al. 2016, sections 2.1-2.4 and figure 4.
    """

    def __init__(
        self,
        levels: int,
        channels: int = 32,
        skip_channels: int = 64,
        layers: int = 6,
        stacks: int = 2,
        kernel_size: int = 2,
    ):
        super().__init__()
        self.dilations = [2**i for _ in range(stacks) for i in range(layers)]
        self.kernel_size = kernel_size
        self.embed = nn.Embedding(levels, channels)
        n = len(self.dilations)
        self.blocks = nn.ModuleList(
            GatedResidualBlock(channels, skip_channels, kernel_size, d, i == n - 1)
            for i, d in enumerate(self.dilations)
        )
        self.head = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(skip_channels, skip_channels, 1),
            nn.ReLU(),
            nn.Conv1d(skip_channels, levels, 1),
        )

    @property
    def receptive_field(self) -> int:
        """Past time steps each output sees (:func:`receptive_field`)."""
        return receptive_field(self.kernel_size, self.dilations)

    def forward(self, k: Tensor) -> Tensor:
        """Logits ``(n, levels, T)`` of levels ``k (n, T)`` int64."""
        h = F.pad(self.embed(k).transpose(1, 2), (1, -1))  # shift right: t sees x_{t-1}
        skips = 0
        for block in self.blocks:
            h, s = block(h)
            skips = skips + s
        return self.head(skips)

    @torch.no_grad()
    def generate(self, n: int, length: int, rng: torch.Generator) -> Tensor:
        """Levels ``(n, length)`` int64 drawn one time step at a time, each layer keeping
        a window of its last ``(k - 1) d + 1`` inputs, so a step costs one column per
        layer (Paine et al. 2016) instead of a pass over the whole sequence. Exact: each
        step's conditional is the one :meth:`forward` computes there (to float rounding),
        drawn with the same calls on ``rng`` as sampling through :meth:`forward`."""
        device = self.embed.weight.device
        channels = self.embed.embedding_dim
        windows = [torch.zeros(n, channels, b.span + 1, device=device) for b in self.blocks]
        k = torch.zeros(n, length, dtype=torch.long, device=device)
        h_in = torch.zeros(n, channels, 1, device=device)  # the shifted input at t = 0
        spend = budget.current()
        for t in range(length):
            h, skips = h_in, 0
            for i, block in enumerate(self.blocks):
                windows[i] = torch.cat([windows[i][:, :, 1:], h], dim=2)
                h, s = block.step(windows[i])
                skips = skips + s
            probs = F.softmax(self.head(skips)[:, :, 0].float(), dim=-1)
            k[:, t] = torch.multinomial(probs, 1, generator=rng).squeeze(1)
            h_in = self.embed(k[:, t])[:, :, None]
            if (t + 1) % PROGRESS_EVERY == 0:
                spend.progress("WaveNet sampling, time step", t + 1, length)
        return k


class WaveNet(AutoregressiveModel):
    """WaveNet on mu-law sequences: ``p(x) = prod_t p(x_t | x_{t-R}, ..., x_{t-1})``, each
    conditional a softmax over the data's ``levels`` (256), from a stack of dilated
    causal convolutions (:class:`WaveNetNetwork`).

    Its receptive field :attr:`receptive_field` is ``R = 1 + (k - 1) * stacks * (2^layers -
    1)`` past steps: 127 with the defaults (``k = 2``, two stacks of dilations 1 to 32).
    Trained by maximum likelihood (the base class: ``nll`` in nats per sequence and
    ``bits_per_dim``, bits per time step; uniform coding of 256 levels costs 8).
    :meth:`sample` runs the incremental sampler of :meth:`WaveNetNetwork.generate`.

    Arguments:
        config: a :class:`WaveNet.Config`.
        data: a sequence set (its ``levels`` and its length ``T``).

    References:
        van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016; Paine et
        al., "Fast Wavenet Generation Algorithm", 2016 (the sampler's queues).
    """

    name: ClassVar[str] = "wavenet"
    data_kinds: ClassVar[tuple[str, ...]] = ("sequence",)
    iterative_sampler: ClassVar[bool] = True
    description: ClassVar[str] = (
        "WaveNet: dilated causal convolutions, gated residual blocks, softmax over mu-law levels"
    )

    @dataclass
    class Config(
        # 16 sequences of 256 steps (4,096 predictions) per batch at lr 3e-3, decayed over
        # 2,000 steps: 2.6 bits per step on the waveforms' test set in 4 CPU minutes
        # (batch 32 for 1,000 steps, the same time: 2.9; benchmarks/wavenet_nll.md)
        with_defaults(TrainingConfig, lr=3e-3, batch_size=16)
    ):
        """WaveNet hyperparameters: the dilation stack and its widths."""

        channels: int = hp(32, low=2, high=512, log=True, help="residual channels")
        skip_channels: int = hp(64, low=2, high=1024, log=True, help="skip channels")
        # 6 layers: dilations 1 to 32; two stacks reach 127 steps back, two periods of
        # the slowest waveform component (64 steps)
        layers: int = hp(6, low=1, high=12, help="layers per stack: dilations 1, 2, ..., 2^(L-1)")
        stacks: int = hp(2, low=1, high=8, help="repeats of the dilation stack")
        kernel_size: int = hp(2, low=2, high=8, help="taps per dilated causal convolution")
        lr_decay_steps: int = lr_decay_hp(2000)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.levels = self.levels_of(data)
        self.event_shape = (1, int(data.shape[-1]))
        self.net = WaveNetNetwork(
            self.levels,
            config.channels,
            config.skip_channels,
            config.layers,
            config.stacks,
            config.kernel_size,
        )

    @property
    def receptive_field(self) -> int:
        """``R``: the past time steps each conditional sees (``x_{t-R} .. x_{t-1}``)."""
        return self.net.receptive_field

    def to_levels(self, x: Tensor) -> Tensor:
        """Levels ``(n, T)`` int64 of companded values ``x (n, 1, T)`` in ``[-1, 1]``."""
        return quantize(x.reshape(x.shape[0], -1), self.levels)

    def from_levels(self, k: Tensor) -> Tensor:
        """Companded values ``(n, 1, T)`` in ``[-1, 1]`` of levels ``k (n, T)``."""
        return dequantize(k, self.levels).reshape(k.shape[0], *self.event_shape)

    def conditional_logits(self, x: Tensor) -> Tensor:
        """Logits ``(n, T, levels)`` of each ``x_t`` given ``x_{t-R} .. x_{t-1}``, from
        sequences ``x (n, 1, T)``."""
        return self.net(self.to_levels(x)).transpose(1, 2)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` sequences ``(n, 1, T)``, one time step at a time (exact; see
        :meth:`WaveNetNetwork.generate`), every draw from ``rng``."""
        return self.from_levels(self.net.generate(n, self.event_shape[-1], rng))
