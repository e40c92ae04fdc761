"""The dequantization bound as the explain panel shows it (RealNVP on images): uniform noise
or a variational q(u | k), with the live bound, its bits per dimension and log q.

Every ``term`` below is a name ``RealNVPImage.train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["dequantization_objective", "NOISE_LINES"]

_BOUND = Line(
    r"-\log P(k) \leq \mathbb{E}_{u \sim q(u|k)}\left[-\log p_Y\left(\frac{k+u}{L}\right)"
    r" + D \log L + \log q(u|k)\right]",
    "nll",
    "the dequantization bound on the pixels' discrete NLL (batch mean, one u per image)",
)
_BITS = Line(
    r"\frac{\mathrm{bound}}{D \ln 2}",
    "bits_per_dim",
    "the same in bits per pixel: uniform coding of L levels costs log2 L",
    "bits/dim",
)
_DENSITY = Line(
    r"\log p_Y(y) = \log p_Z(f(y)) + \log\left|\det \frac{\partial f}{\partial y}\right|",
    note="the flow's density of dequantized images y in [0, 1], logit pre-transform included",
)
#: how u is drawn, per ``dequantization``
NOISE_LINES: dict[str, tuple[Line, ...]] = {
    "uniform": (
        Line(
            r"u \sim \mathcal{U}[0, 1)^D,\ \ \log q(u|k) = 0",
            note="uniform noise: the flow must fill every cell evenly",
        ),
    ),
    "variational": (
        Line(
            r"u = \sigma(g_k(\epsilon)),\ \ \epsilon \sim \mathcal{N}(0, I)",
            note="a conditional flow g_k (couplings that read the image k), then a sigmoid",
        ),
        Line(
            r"\mathbb{E}\,\log q(u|k)",
            "log_q",
            "minus q's entropy: the bound is tight when q(u|k) is p_Y's own shape in the cell",
        ),
    ),
}


def dequantization_objective(config: Any = None) -> Objective:
    """The bound for ``config``'s ``dequantization`` (``None``: the default, uniform)."""
    kind = getattr(config, "dequantization", "uniform")
    return Objective(
        "Dequantized maximum likelihood",
        (_BOUND, _BITS, _DENSITY, *NOISE_LINES.get(kind, NOISE_LINES["uniform"])),
        "A density on continuous pixels gives each discrete image k the mass of its cell; "
        "noise u spreads k over the cell, and the bound on -log P(k) is what is minimised. "
        "Held-out bits/dim is the same bound on the test set, so it can only overstate the "
        "true NLL; a learned q (Flow++) makes it tighter than uniform noise.",
        "Theis, van den Oord & Bethge, A note on the evaluation of generative models, ICLR "
        "2016, section 3.1; Ho et al., Flow++, ICML 2019, section 3.1, eqs. (11)-(12); Dinh, "
        "Sohl-Dickstein & Bengio, Density estimation using Real NVP, ICLR 2017, eq. (3).",
    )
