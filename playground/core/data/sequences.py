"""Sequence data: procedural waveforms, mu-law companded and quantised as in WaveNet.

A sequence set is the third kind of data (``kind = "sequence"``, beside ``plane`` and
``image``): examples are float32 tensors ``(n, 1, T)``, one channel of ``T`` time steps.
The stored values are the **companded amplitudes** ``y = f(s)`` in ``[-1, 1]`` of the raw
signal ``s``, quantised to the grid ``y_k = 2 k / (L - 1) - 1``, ``k = 0..L-1`` (``L =
levels``, 256 as in the paper): plotted as they are, they read as waveforms centred on 0;
:func:`quantize` gives the integers ``k`` the discrete models and ``bits_per_dim`` work
on, and :func:`mu_law_decode` the raw amplitude back (what the spectrogram is taken of).
Nothing is downloaded: the waveforms are drawn from a seed.
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import torch
from torch import Tensor

__all__ = [
    "SequenceDataset",
    "Waveforms",
    "MU_LAW_LEVELS",
    "mu_law_encode",
    "mu_law_decode",
    "quantize",
    "dequantize",
    "draw_waveforms",
]

#: the paper's quantisation: 256 levels, mu = 255
MU_LAW_LEVELS = 256
#: components (sinusoids) per waveform: 1 to this many
MAX_COMPONENTS = 3
#: frequencies in cycles per time step, log-uniform between these (periods of 8 to 64
#: steps: 125 Hz to 1 kHz at the default 8 kHz sample rate), so a receptive field of a
#: hundred-odd steps holds two periods of the slowest
FREQUENCY_RANGE = (1.0 / 64.0, 1.0 / 8.0)
#: the peak amplitude of a waveform, log-uniform between these: quiet waveforms are where
#: mu-law companding spends its levels
GAIN_RANGE = (0.1, 0.9)


def mu_law_encode(x: Tensor, mu: float = MU_LAW_LEVELS - 1) -> Tensor:
    """Mu-law companding ``f(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu)``.

    Arguments:
        x: ``(*)`` amplitudes in ``[-1, 1]``.
        mu: the compression (255 for 256 levels).

    Returns:
        ``(*)`` companded values in ``[-1, 1]``.

    References:
        van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016, eq. (2);
        ITU-T Recommendation G.711.
    """
    return torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)


def mu_law_decode(y: Tensor, mu: float = MU_LAW_LEVELS - 1) -> Tensor:
    """The inverse of :func:`mu_law_encode`: ``sign(y) ((1 + mu)^|y| - 1) / mu``,
    ``(*) -> (*)`` amplitudes in ``[-1, 1]``."""
    return torch.sign(y) * torch.expm1(y.abs() * math.log1p(mu)) / mu


def quantize(y: Tensor, levels: int) -> Tensor:
    """The level ``k = round((y + 1) (L - 1) / 2)`` of companded values ``y (*)`` in
    ``[-1, 1]`` (clamped), ``(*)`` int64 in ``0..L-1``.

    Raises:
        ValueError: ``levels < 2``.
    """
    if levels < 2:
        raise ValueError(f"levels must be at least 2, not {levels}")
    return ((y + 1.0) * (0.5 * (levels - 1))).round().clamp(0, levels - 1).long()


def dequantize(k: Tensor, levels: int) -> Tensor:
    """The companded value ``2 k / (L - 1) - 1`` of levels ``k (*)``, ``(*)`` float32 in
    ``[-1, 1]``; the inverse of :func:`quantize` on its grid.

    Raises:
        ValueError: ``levels < 2``.
    """
    if levels < 2:
        raise ValueError(f"levels must be at least 2, not {levels}")
    return k.float() * (2.0 / (levels - 1)) - 1.0


def _log_uniform(n: int, low: float, high: float, rng: torch.Generator, *shape: int) -> Tensor:
    u = torch.rand(n, *shape, generator=rng)
    return torch.exp(math.log(low) + u * (math.log(high) - math.log(low)))


def draw_waveforms(n: int, length: int, rng: torch.Generator) -> Tensor:
    """``n`` raw waveforms ``(n, length)`` float32 in ``[-1, 1]``: each a sum of 1 to
    :data:`MAX_COMPONENTS` sinusoids (frequencies log-uniform in
    :data:`FREQUENCY_RANGE` cycles per step, uniform phases, amplitudes uniform in
    ``[0.3, 1]``) under one envelope: a linear attack over up to a third of the length,
    then an exponential decay with a time constant log-uniform in ``[T / 4, 4 T]``;
    scaled to a peak gain log-uniform in :data:`GAIN_RANGE`. Every draw from ``rng``."""
    t = torch.arange(length, dtype=torch.float32)
    count = torch.randint(1, MAX_COMPONENTS + 1, (n, 1), generator=rng)
    used = (torch.arange(MAX_COMPONENTS)[None] < count).float()  # (n, K)
    freq = _log_uniform(n, *FREQUENCY_RANGE, rng, MAX_COMPONENTS)
    phase = 2 * math.pi * torch.rand(n, MAX_COMPONENTS, generator=rng)
    amp = (0.3 + 0.7 * torch.rand(n, MAX_COMPONENTS, generator=rng)) * used
    waves = torch.sin(2 * math.pi * freq[:, :, None] * t + phase[:, :, None])  # (n, K, T)
    tone = (amp[:, :, None] * waves).sum(1) / amp.sum(1, keepdim=True)
    attack = torch.rand(n, 1, generator=rng) * (length / 3.0)
    tau = _log_uniform(n, length / 4.0, 4.0 * length, rng, 1)
    envelope = ((t + 1.0) / (attack + 1.0)).clamp(max=1.0) * torch.exp(-t / tau)
    gain = _log_uniform(n, *GAIN_RANGE, rng, 1)
    return (gain * envelope * tone).clamp(-1.0, 1.0)


class SequenceDataset(abc.ABC):
    """A set of one-channel sequences on a grid of levels (``kind = "sequence"``).

    The Session draws training batches with :meth:`sample`; held-out ``bits_per_dim``
    reads :attr:`test_examples`.

    Attributes:
        name, description: the command-line name and one line for ``list``.
        length: ``T``, time steps per sequence.
        shape: ``(1, T)``; ``dim``: ``T``.
        levels: values per time step (the integers behind the floats:
            :func:`quantize`).
        sample_rate: samples per second (the units of the time and frequency axes).
        test_sequences: ``(n, 1, T)`` float32, the fixed test set.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    is_image: ClassVar[bool] = False
    kind: ClassVar[str] = "sequence"
    can_sample: ClassVar[bool] = True
    has_log_prob: ClassVar[bool] = False
    is_energy: ClassVar[bool] = False
    modes: ClassVar[Tensor | None] = None
    mode_std: ClassVar[float | None] = None
    #: a plotting box for code that reads every dataset's box: time as a fraction of the
    #: length, companded amplitude
    box: ClassVar[tuple[float, float, float, float]] = (0.0, 1.0, -1.0, 1.0)
    options: ClassVar[dict[str, type]] = {}
    levels: int = MU_LAW_LEVELS
    sample_rate: int = 8000
    class_names: tuple[str, ...] | None = None
    test_labels: Tensor | None = None
    has_labels: bool = False
    length: int
    test_sequences: Tensor

    @property
    def shape(self) -> tuple[int, int]:
        return (1, int(self.length))

    @property
    def dim(self) -> int:
        return int(self.length)

    @property
    def test_examples(self) -> Tensor:
        """The test set ``(n, 1, T)`` (what held-out ``bits_per_dim`` reads)."""
        return self.test_sequences

    @abc.abstractmethod
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` training sequences ``(n, 1, T)``, every draw from ``rng``."""

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Sequences ``(n, 1, T)`` and labels ``(n,)`` of ``-1`` (a set without labels)."""
        return self.sample(n, rng), torch.full((n,), -1, dtype=torch.long)

    def raw(self, x: Tensor) -> Tensor:
        """The raw amplitudes in ``[-1, 1]`` of stored (companded) sequences ``x``, same
        shape: :func:`mu_law_decode` with ``mu = levels - 1``."""
        return mu_law_decode(x, float(self.levels - 1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, length={self.length})"


class Waveforms(SequenceDataset):
    """Procedural audio-like waveforms (:func:`draw_waveforms`), mu-law companded and
    quantised to ``levels`` values (``mu = levels - 1``; 256 and 255 in the paper).

    Every training batch is drawn fresh from the session's rng (an endless set); the test
    set is :attr:`n_test` waveforms drawn from the seed ``test_seed``. Frequencies are in
    cycles per time step, so ``sample_rate`` changes only the units the spectrogram is
    labelled in (Hz, seconds), not the data.

    Arguments:
        length: ``T``, time steps per sequence (2 to 4,096).
        sample_rate: samples per second of the time and frequency axes (1 to 192,000).
        levels: quantisation levels ``L`` (2 to 65,536), ``mu = L - 1``.
        test_seed: the seed of the fixed test set.

    Raises:
        ValueError: an option out of its range.

    References:
        van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016, section
        2.2 (the softmax over mu-law levels, eq. (2)).
    """

    name = "waveforms"
    description = "procedural waveforms (sums of sinusoids under an envelope), 8-bit mu-law"
    options = {"length": int, "sample_rate": int, "levels": int}
    n_test = 500

    def __init__(
        self,
        length: int = 256,
        sample_rate: int = 8000,
        levels: int = MU_LAW_LEVELS,
        test_seed: int = 12345,
    ):
        for key, value, low, high in (
            ("length", length, 2, 4096),
            ("sample_rate", sample_rate, 1, 192_000),
            ("levels", levels, 2, 65_536),
        ):
            if not low <= value <= high:
                raise ValueError(f"waveforms {key} must be in {low}..{high}, not {value}")
        self.length, self.sample_rate, self.levels = int(length), int(sample_rate), int(levels)
        self.test_sequences = self.sample(self.n_test, torch.Generator().manual_seed(test_seed))

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` fresh waveforms ``(n, 1, T)``: companded, quantised values in ``[-1, 1]``."""
        y = mu_law_encode(draw_waveforms(n, self.length, rng), float(self.levels - 1))
        return dequantize(quantize(y, self.levels), self.levels)[:, None]
