"""The objectives of the likelihood-based families, as the explain panel shows them:
normalizing flows (forward or reverse KL) here, and the latent-variable models (VAE, IWAE,
HVAE, VQ-VAE, Gumbel-softmax VAE) of :mod:`.latent_objectives`, re-exported.

Every ``term`` below is a name the model's ``train_step`` really returns."""

from __future__ import annotations

from typing import Any

from ..views import LogDetView
from .latent_objectives import (
    LATENT_OBJECTIVES,
    decoder_lines,
    hvae_objective,
    iwae_objective,
    vae_objective,
    vqvae_objective,
)
from .lines import Line, Objective

__all__ = [
    "flow_objective",
    "LATENT_OBJECTIVES",
    "vae_objective",
    "iwae_objective",
    "hvae_objective",
    "vqvae_objective",
    "decoder_lines",
]

CHANGE_OF_VARIABLES = r"\log q(x) = \log p_Z(f(x)) + \sum_k \log\left|\det J_k(x)\right|"
_LOG_DET_NOTE = " (mean over the Log-det tab's points, while that tab is on screen)"


def _bars(snapshot: Any) -> Any:
    return getattr(snapshot, LogDetView.name, None)


def _base(snapshot: Any) -> float | None:
    bars = _bars(snapshot)
    return None if bars is None else float(bars.base)


def _log_dets(snapshot: Any) -> float | None:
    bars = _bars(snapshot)
    return None if bars is None else float(bars.layers.sum())


#: forward KL: both parts are terms of every training step (batch means)
_FLOW_TERMS = (
    Line(CHANGE_OF_VARIABLES, note="change of variables: f maps data x to the base z"),
    Line(
        r"\log p_Z(f(x))",
        "base_log_prob",
        note="the base N(0, I) log-density of the batch's codes (batch mean)",
    ),
    Line(
        r"\sum_k \log|\det J_k|",
        "log_det_jacobian",
        note="the layers' volume change at the batch's points (batch mean)",
    ),
)
#: reverse KL trains on the flow's own samples: the parts are read from the Log-det picture
_FLOW_LINES = (
    Line(CHANGE_OF_VARIABLES, note="change of variables: f maps data x to the base z"),
    Line(r"\log p_Z(f(x))", note="the base N(0, I) log-density" + _LOG_DET_NOTE, picture=_base),
    Line(
        r"\sum_k \log|\det J_k|",
        note="the layers' volume change" + _LOG_DET_NOTE,
        picture=_log_dets,
    ),
)
_FLOW_SOURCE = (
    "Dinh, Sohl-Dickstein & Bengio, Density estimation using Real NVP, ICLR 2017, eq. (3); "
    "Papamakarios et al., Normalizing Flows for Probabilistic Modeling and Inference, "
    "JMLR 2021, sections 2.3.1 (forward KL) and 2.3.2 (reverse KL)."
)
FLOW_OBJECTIVES = {
    "forward_kl": Objective(
        "Maximum likelihood (forward KL)",
        (
            *_FLOW_TERMS,
            Line(
                r"\mathrm{NLL} = -\mathbb{E}_{x \sim p_{\mathrm{data}}}\,\log q(x)",
                "nll",
                "minimised on data batches: KL(p_data || q) up to the data's entropy",
            ),
        ),
        "Mass-covering: every data point must get density, so q spreads over all modes, "
        "with some mass between them.",
        _FLOW_SOURCE,
    ),
    "reverse_kl": Objective(
        "Reverse KL to an unnormalised target",
        (
            *_FLOW_LINES,
            Line(
                r"\mathrm{KL}(q\,\|\,p) = \mathbb{E}_{x \sim q}[\log q(x) - \log\tilde p(x)]"
                r" + \log Z",
                "reverse_kl",
                "the flow's own samples, scored by the target's p~ = Z p (log Z where known)",
            ),
        ),
        "Mode-seeking: q is punished for mass where p is small, not for missing a mode, so "
        "it may settle on some of the modes only. No data is needed: only log p~.",
        _FLOW_SOURCE,
    ),
}


def flow_objective(config: Any) -> Objective:
    """The flow's objective for its config's ``objective`` (forward KL by default)."""
    return FLOW_OBJECTIVES.get(
        getattr(config, "objective", "forward_kl"), FLOW_OBJECTIVES["forward_kl"]
    )
