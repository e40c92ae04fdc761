"""The waveforms picture: a sequence model's samples beside data sequences on one time
axis, and the spectrogram of the first of each (the raw amplitude, mu-law decoded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .base import SnapshotContext

__all__ = [
    "WaveformsPicture",
    "spectrogram",
    "window_steps",
    "picture",
    "SEQUENCES",
    "SEGMENT",
    "FLOOR_DB",
]

#: sequences drawn of each: the model's samples and the data's
SEQUENCES = 4
#: the spectrogram's window in time steps, at most a quarter of the sequence (at least 2):
#: 64 steps resolve 1 / 64 cycles per step (125 Hz at 8 kHz), the waveforms' slowest
#: component; its hop is an eighth of it (87.5% overlap): a 256-step sequence gets 25 columns
SEGMENT = 64
#: the spectrogram's floor: power more than this many dB under the loudest cell of the
#: two spectrograms is drawn at the floor (silence would be -inf dB)
FLOOR_DB = 60.0


@dataclass(frozen=True)
class WaveformsPicture:
    """Model samples against data sequences, and their spectrograms.

    Attributes:
        time: ``(T,)`` float64 seconds of each time step (``t / sample_rate``).
        generated: ``(g, T)`` float32 companded values in ``[-1, 1]`` of the model's
            samples (fixed noise, so they change only as the model learns).
        data: ``(m, T)`` float32 the same of data sequences (the session's fixed overlay).
        spec_time: ``(s,)`` float64 seconds of each spectrogram column (segment centres).
        spec_freq: ``(f,)`` float64 Hz of each spectrogram row, 0 to ``sample_rate / 2``.
        generated_spectrogram, data_spectrogram: ``(f, s)`` float32 power in dB of the
            first sequence of each (raw amplitude, mu-law decoded), floored
            :data:`FLOOR_DB` under the louder of the two.
        window: the spectrogram's window in time steps.
        levels: the quantisation levels of the data.
        sample_rate: samples per second.
    """

    time: np.ndarray
    generated: np.ndarray
    data: np.ndarray
    spec_time: np.ndarray
    spec_freq: np.ndarray
    generated_spectrogram: np.ndarray
    data_spectrogram: np.ndarray
    window: int
    levels: int
    sample_rate: float

    @property
    def db_range(self) -> tuple[float, float]:
        """``(floor, top)``: the dB range both spectrograms are drawn on."""
        top = float(max(self.generated_spectrogram.max(), self.data_spectrogram.max()))
        return top - FLOOR_DB, top


def window_steps(length: int) -> int:
    """The spectrogram's window for a sequence of ``length >= 2`` steps: :data:`SEGMENT`,
    or a quarter of the length if shorter, at least 2 and at most the length."""
    return min(max(2, min(SEGMENT, length // 4)), length)


def spectrogram(x: np.ndarray, sample_rate: float) -> tuple[np.ndarray, ...]:
    """The power spectrogram of one raw sequence (``scipy.signal.spectrogram``, Hann
    window of :data:`SEGMENT` steps or a quarter of the sequence if shorter, 87.5% overlap,
    power spectral density).

    Arguments:
        x: ``(T,)`` raw amplitudes, ``T >= 2``.
        sample_rate: samples per second.

    Returns:
        ``(freq (f,) Hz, time (s,) seconds, power (f, s) dB)``: ``10 log10`` of the
        density, with ``1e-12`` added so silence stays finite.
    """
    # imported here: scipy.signal takes about a second to import, which every session (and
    # the app's start) would otherwise pay
    from scipy import signal

    segment = window_steps(len(x))
    freq, time, power = signal.spectrogram(
        x.astype(np.float64),
        fs=sample_rate,
        window="hann",
        nperseg=segment,
        noverlap=segment - max(1, segment // 8),
        scaling="density",
        mode="psd",
    )
    return freq, time, 10.0 * np.log10(power + 1e-12)


@torch.no_grad()
def picture(ctx: SnapshotContext) -> WaveformsPicture:
    """:data:`SEQUENCES` model samples (from the fixed seed ``seed + 4``, like the
    samples picture) and as many of the session's fixed data sequences, with the
    spectrograms of the first of each."""
    data = ctx.data
    g = torch.Generator(device=ctx.device).manual_seed(ctx.seed + 4)
    generated = ctx.model.sample(SEQUENCES, g).float().cpu().reshape(SEQUENCES, -1)
    overlay = ctx.overlay[:SEQUENCES].float().reshape(-1, generated.shape[1])
    rate = float(data.sample_rate)
    spectra = [spectrogram(data.raw(x[0]).double().numpy(), rate) for x in (generated, overlay)]
    freq, spec_time = spectra[0][0], spectra[0][1]
    top = max(float(s[2].max()) for s in spectra)
    floored = [np.maximum(s[2], top - FLOOR_DB).astype(np.float32) for s in spectra]
    return WaveformsPicture(
        time=np.arange(generated.shape[1], dtype=np.float64) / rate,
        generated=generated.numpy().astype(np.float32),
        data=overlay.numpy().astype(np.float32),
        spec_time=spec_time,
        spec_freq=freq,
        generated_spectrogram=floored[0],
        data_spectrogram=floored[1],
        window=window_steps(generated.shape[1]),
        levels=int(data.levels),
        sample_rate=rate,
    )
