"""Flow matching's objective as the explain panel shows it: the conditional flow matching
loss, the chosen path's point and velocity, the coupling, and reflow.

Every ``term`` below is a name ``FlowMatching.train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["flow_matching_objective", "PATH_LINES", "COUPLING_LINES"]

#: the conditional path's point and velocity, per ``path``
PATH_LINES: dict[str, tuple[Line, ...]] = {
    "linear": (
        Line(r"x_t = (1 - t)\,x_0 + t\,x_1", note="a straight line from source to data"),
        Line(r"u_t(x_0, x_1) = x_1 - x_0", note="constant speed: rectified flow, CondOT"),
    ),
    "vp": (
        Line(
            r"x_t = \cos(\frac{\pi t}{2})\,x_0 + \sin(\frac{\pi t}{2})\,x_1",
            note="variance preserving: the squared coefficients sum to 1",
        ),
        Line(
            r"u_t = \frac{\pi}{2}\left(\cos(\frac{\pi t}{2})\,x_1"
            r" - \sin(\frac{\pi t}{2})\,x_0\right)",
            note="the path's time derivative",
        ),
    ),
}
#: how source and data points are paired, per ``coupling``
COUPLING_LINES: dict[str, Line] = {
    "independent": Line(
        r"\pi(x_0, x_1) = p_0(x_0)\,q(x_1)", note="independent pairs (I-CFM): paths cross"
    ),
    "ot": Line(
        r"\pi = \arg\min_{\pi \in \Pi(\mathrm{batch})} \sum_{ij} \pi_{ij}\,|x_0^i - x_1^j|^2",
        note="minibatch optimal transport (OT-CFM): the pairs' paths rarely cross",
    ),
}
_REFLOW = Line(
    r"(x_0, x_1) = (z, \phi_1(z)),\ \ z \sim p_0",
    note="reflow: pairs of the model's own flow straighten its paths (from reflow_after on)",
)
_LOSS = Line(
    r"\mathcal{L} = \mathbb{E}_{t, (x_0, x_1) \sim \pi}"
    r"\left\|v_\theta(t, x_t) - u_t(x_0, x_1)\right\|^2",
    "loss",
    "t uniform on [0, 1]; its minimiser's flow carries p_0 to the data",
    "",
)
_NFE = Line(
    r"\mathrm{NFE} = 1",
    "nfe",
    "field evaluations per step: no ODE is solved in training",
    "",
)


def flow_matching_objective(config: Any = None) -> Objective:
    """The objective for ``config``'s ``path``, ``coupling`` and ``reflow_after``
    (``None``: the defaults, linear path and independent pairs)."""
    path = getattr(config, "path", "linear")
    coupling = getattr(config, "coupling", "independent")
    reflow = int(getattr(config, "reflow_after", 0)) > 0
    lines = (
        _LOSS,
        *PATH_LINES.get(path, PATH_LINES["linear"]),
        COUPLING_LINES.get(coupling, COUPLING_LINES["independent"]),
        *((_REFLOW,) if reflow else ()),
        _NFE,
    )
    return Objective(
        "Conditional flow matching",
        lines,
        "The field is regressed onto the velocity of a simple path between a source point "
        "and a data point; averaged over pairs, it moves the whole source onto the data. "
        "Straight, uncrossed paths (OT pairs, reflow) make one Euler step enough.",
        "Lipman et al., Flow Matching for Generative Modeling, ICLR 2023, eqs. (9), (22)-(23); "
        "Tong et al., Improving and generalizing flow-based generative models with minibatch "
        "optimal transport, TMLR 2024, eq. (16) and table 1; Liu, Gong & Liu, Flow Straight "
        "and Fast, ICLR 2023, algorithm 1.",
    )
