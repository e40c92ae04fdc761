"""MADE's objective as the explain panel shows it: the exact likelihood of an autoregressive
model, the masks' degree rule, and order- and connectivity-agnostic training.

Every ``term`` below is a name ``MADEModel.train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["made_objective"]

_CHAIN = Line(
    r"\log p(x) = \sum_{i=1}^{D} \log p(x_{o_i} \mid x_{o_1}, \ldots, x_{o_{i-1}})",
    note="the chain rule in the ordering o: exact, no bound; each factor a categorical",
)
_NLL = Line(
    r"\mathrm{NLL} = -\mathbb{E}_{x \sim p_{\mathrm{data}}}\,\log p(x)",
    "nll",
    "minimised: the cross-entropy of every conditional, nats per example",
)
_BITS = Line(
    r"\mathrm{bits/dim} = \frac{\mathrm{NLL}}{D \ln 2}",
    "bits_per_dim",
    "the same per dimension in bits (on the plane D = 2 bins; images: D pixels)",
    "bits",
)
_MASKS = Line(
    r"M^{W}_{k,d} = 1_{m(k) \geq d},\ \ M^{V}_{d,k} = 1_{d > m(k)}",
    note="the degree rule: hidden unit k of degree m(k) sees inputs of degree up to m(k); "
    "output d sees hidden units of degree below d",
)
_AGNOSTIC = Line(
    r"\mathcal{L} = \mathbb{E}_{o, m}\left[-\log p_{o, m}(x)\right]",
    note="order- and connectivity-agnostic: each step draws an ordering o and a mask set m",
)


def made_objective(config: Any = None) -> Objective:
    """The objective for ``config``'s ``orderings``, ``masks`` and ``ensemble`` (``None``:
    the defaults: the natural order, one mask set)."""
    orderings = int(getattr(config, "orderings", 1))
    masks = int(getattr(config, "masks", 1))
    ensemble = int(getattr(config, "ensemble", 1))
    lines = [_NLL, _CHAIN, _BITS, _MASKS]
    if orderings > 1 or masks > 1:
        lines.append(_AGNOSTIC)
    if ensemble > 1:
        lines.append(
            Line(
                r"p(x) = \frac{1}{J} \sum_{j=1}^{J} p_{o_j, m_j}(x)",
                note=f"evaluation averages the probabilities of J = {ensemble} pairs (at most "
                f"{orderings} x {masks})",
            )
        )
    return Objective(
        "MADE: exact maximum likelihood",
        tuple(lines),
        "One masked network outputs every conditional at once, so the likelihood is exact "
        "and costs one pass; sampling costs D passes, one dimension at a time. On the plane "
        "each point is binned on a K x K grid: p(x1) p(x2 | x1) over the cells, whose best "
        "NLL is the cells' entropy.",
        "Germain, Gregor, Murray & Larochelle, MADE: Masked Autoencoder for Distribution "
        "Estimation, ICML 2015, eqs. (1), (12)-(13) and section 4.",
    )
