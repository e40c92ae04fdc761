"""Which objective the explain panel shows for a model: one entry per registered model.

A model added to the zoo gets a line here (``tests/test_explain.py`` checks that every
model of the registry has one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .adversarial import gan_objective
from .autoregressive import made_objective
from .avb import avb_objective
from .continuous import cnf_objective, ffjord_objective
from .dequantization import dequantization_objective
from .dirac import dirac_objective
from .disentanglement import factor_vae_objective, vae_or_tcvae_objective
from .energy_score import EBM_OBJECTIVE, NCSN_OBJECTIVE, ddpm_objective, score_objective
from .flow_matching import flow_matching_objective
from .likelihood import LATENT_OBJECTIVES, flow_objective
from .lines import Objective
from .pixelcnn import gated_pixelcnn_objective, pixelcnn_objective
from .wavenet import wavenet_objective

__all__ = ["OBJECTIVES", "objective_for"]

#: model name -> ``builder(model, config, exact_density) -> Objective``
Builder = Callable[[str, Any, bool], Objective]
_FLOW: Builder = lambda _m, c, _e: flow_objective(c)  # noqa: E731
_GAN: Builder = gan_objective
OBJECTIVES: dict[str, Builder] = {
    "realnvp": _FLOW,
    "maf": _FLOW,
    "iaf": _FLOW,
    "planar": _FLOW,
    "glow": _FLOW,
    "realnvp-image": lambda _m, c, _e: dequantization_objective(c),
    "gan": _GAN,
    "wgan": _GAN,
    "wgan-gp": _GAN,
    "sngan": _GAN,
    "fgan": _GAN,
    "infogan": _GAN,
    "dirac-gan": lambda _m, c, _e: dirac_objective(c),
    "dcgan": _GAN,
    "vae": lambda _m, c, _e: vae_or_tcvae_objective(c),
    "factor-vae": lambda _m, c, _e: factor_vae_objective(c),
    **{name: (lambda _m, c, _e, b=b: b(c)) for name, b in LATENT_OBJECTIVES.items()},
    "ebm": lambda _m, _c, _e: EBM_OBJECTIVE,
    "score": lambda _m, c, _e: score_objective(c),
    "ncsn": lambda _m, _c, _e: NCSN_OBJECTIVE,
    "ddpm": lambda _m, c, _e: ddpm_objective(c),
    "cnf": lambda _m, c, _e: cnf_objective(c),
    "ffjord": lambda _m, c, _e: ffjord_objective(c),
    "flow-matching": lambda _m, c, _e: flow_matching_objective(c),
    "made": lambda _m, c, _e: made_objective(c),
    "pixelcnn": lambda _m, c, _e: pixelcnn_objective(c),
    "gated-pixelcnn": lambda _m, c, _e: gated_pixelcnn_objective(c),
    "wavenet": lambda _m, c, _e: wavenet_objective(c),
    "avb": lambda _m, c, _e: avb_objective(c),
}


def objective_for(model: str, config: Any = None, exact_density: bool = False) -> Objective | None:
    """The objective of ``model`` under ``config`` (its loss, objective or guidance), or
    ``None`` for a model this panel does not know.

    Arguments:
        model: a registered model name.
        config: the model's config (``None``: its defaults' choices).
        exact_density: whether the dataset's density is exact (a GAN's D* can be compared).
    """
    builder = OBJECTIVES.get(model)
    return None if builder is None else builder(model, config, exact_density)
