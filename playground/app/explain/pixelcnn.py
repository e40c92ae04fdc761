"""PixelCNN's and Gated PixelCNN's objectives as the explain panel shows them: the exact
likelihood of a product of per-pixel softmaxes, the masks, the gated stacks and the class
conditioning.

Every ``term`` below is a name ``PixelModel.train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["pixelcnn_objective", "gated_pixelcnn_objective"]

_CHAIN = Line(
    r"p(x) = \prod_{i=1}^{D} p(x_i \mid x_1, \ldots, x_{i-1})",
    note="pixels in raster order (row by row); each factor a softmax over the levels",
)
_NLL = Line(
    r"\mathrm{NLL} = -\mathbb{E}_{x \sim p_{\mathrm{data}}} \sum_i \log p(x_i \mid x_{<i})",
    "nll",
    "minimised: the cross-entropy of every pixel's softmax, nats per image; exact",
)
_BITS = Line(
    r"\mathrm{bits/dim} = \frac{\mathrm{NLL}}{D \ln 2}",
    "bits_per_dim",
    "per pixel in bits: uniform coding costs log2 17 = 4.09 on digits, 1 on binarised images",
    "bits",
)
_MASKS = Line(
    r"M_A = 1_{\mathrm{above}} + 1_{\mathrm{left}},\ \ M_B = M_A + 1_{\mathrm{centre}}",
    note="mask A (first layer) hides the pixel itself; mask B (later layers) lets a pixel's "
    "features see its own earlier features. 3x3 masks stacked leave a blind spot",
)
_GATE = Line(
    r"y = \tanh(W_{k,f} \ast x) \odot \sigma(W_{k,g} \ast x)",
    note="gated units; a vertical stack sees the rows above, a horizontal stack the pixels "
    "to the left, fed by the vertical one shifted down a row: no blind spot",
)
_SOURCE = (
    "van den Oord, Kalchbrenner & Kavukcuoglu, Pixel Recurrent Neural Networks, ICML 2016, "
    "eqs. (1)-(2) and section 3.4; van den Oord et al., Conditional Image Generation with "
    "PixelCNN Decoders, NeurIPS 2016, eqs. (2) and (4)."
)


def pixelcnn_objective(config: Any = None) -> Objective:
    """PixelCNN's objective (no hyperparameter changes its formulas)."""
    return Objective(
        "PixelCNN: exact maximum likelihood",
        (_NLL, _CHAIN, _BITS, _MASKS),
        "Masked convolutions compute every pixel's conditional in one pass, so training "
        "and the likelihood are fast and exact; sampling takes one pass per pixel. The "
        "Receptive field tab shows the blind spot: pixels up and to the right that a pixel "
        "never sees.",
        _SOURCE,
    )


def gated_pixelcnn_objective(config: Any = None) -> Objective:
    """Gated PixelCNN's objective for ``config``'s ``conditional`` (``None``: unconditional)."""
    conditional = bool(getattr(config, "conditional", False))
    lines = [_NLL, _CHAIN, _BITS, _GATE]
    if conditional:
        lines[0] = Line(
            r"\mathrm{NLL} = -\mathbb{E}_{(x, y)} \sum_i \log p(x_i \mid x_{<i}, y)",
            "nll",
            "minimised on labelled images: nats per image given its class",
        )
        lines.append(
            Line(
                r"y = \tanh(W_{k,f} \ast x + V_{k,f}^T h)"
                r" \odot \sigma(W_{k,g} \ast x + V_{k,g}^T h)",
                note="the class embedding h added to both gates of every layer (eq. 4)",
            )
        )
        lines.append(
            Line(
                r"p(x) = \frac{1}{K} \sum_{y=1}^{K} p(x \mid y)",
                note="held-out bits/dim score this mixture over the K classes, exactly",
            )
        )
    return Objective(
        "Gated PixelCNN: exact maximum likelihood" + (", class-conditional" if conditional else ""),
        tuple(lines),
        "Two stacks replace the masked convolutions: together they see every pixel above "
        "and to the left, so no pixel of the past is missed (the Receptive field tab). "
        "Gates, residual and skip connections train deeper stacks than PixelCNN's ReLUs.",
        _SOURCE,
    )
