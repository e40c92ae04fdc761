"""WaveNet's objective as the explain panel shows it: the exact likelihood of a mu-law
sequence as a product of causal conditionals, the gated dilated layers and the receptive
field they reach.

Every ``term`` below is a name ``WaveNet.train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["wavenet_objective"]

_NLL = Line(
    r"\mathrm{NLL} = -\mathbb{E}_{x \sim p_{\mathrm{data}}} \sum_{t=1}^{T}"
    r" \log p(x_t \mid x_{t-R}, \ldots, x_{t-1})",
    "nll",
    "minimised: the cross-entropy of every time step's softmax over the levels, nats per "
    "sequence; exact",
)
_BITS = Line(
    r"\mathrm{bits/dim} = \frac{\mathrm{NLL}}{T \ln 2}",
    "bits_per_dim",
    "bits per time step: uniform coding of 256 levels costs 8",
    "bits",
)
_MU_LAW = Line(
    r"f(s) = \mathrm{sign}(s)\,\frac{\ln(1 + \mu |s|)}{\ln(1 + \mu)},\ \ \mu = 255",
    note="mu-law companding of the amplitude s in [-1, 1], then 256 levels: quiet sounds "
    "get finer steps than a uniform grid would give them",
)
_GATE = Line(
    r"z = \tanh(W_{f,l} \ast_{d_l} h) \odot \sigma(W_{g,l} \ast_{d_l} h)",
    note="each layer: a causal convolution with dilation d_l = 1, 2, 4, ..., gated; a 1x1 "
    "convolution adds z to the residual stream and another to the skips",
)
_SOURCE = (
    "van den Oord et al., WaveNet: A Generative Model for Raw Audio, 2016, eqs. (1)-(2), "
    "section 2.2 (mu-law) and figures 3-4; Paine et al., Fast Wavenet Generation Algorithm, "
    "2016 (the sampler)."
)


def wavenet_objective(config: Any = None) -> Objective:
    """WaveNet's objective, with the receptive field of ``config``'s layers, stacks and
    kernel (``None``: the defaults, 127 steps). Read without importing the model (the
    window starts without torch): ``R = 1 + (k - 1) stacks (2^layers - 1)``, the sum of
    the dilations of :func:`playground.core.models.autoregressive.wavenet.receptive_field`."""
    layers = int(getattr(config, "layers", 6))
    stacks = int(getattr(config, "stacks", 2))
    kernel = int(getattr(config, "kernel_size", 2))
    r = 1 + (kernel - 1) * stacks * (2**layers - 1)
    field = Line(
        rf"R = 1 + (k - 1) \sum_l d_l = {r}",
        note=f"past steps each conditional sees: {stacks} stack(s) of dilations 1 to "
        f"{2 ** (layers - 1)}, kernel {kernel}; steps further back are ignored",
    )
    return Objective(
        "WaveNet: exact maximum likelihood",
        (_NLL, _BITS, _MU_LAW, _GATE, field),
        "Dilated causal convolutions compute every time step's conditional in one pass, "
        "so training and the likelihood are exact and fast; sampling goes one step at a "
        "time, each layer keeping only its last (k - 1) d + 1 inputs. The Waveforms tab "
        "compares samples and spectrograms with the data; Receptive field shows the "
        f"{r} steps each output sees.",
        _SOURCE,
    )
