"""The objectives of the likelihood-based families, as the explain panel shows them:
normalizing flows (forward or reverse KL) and the latent-variable models (VAE, IWAE, HVAE,
VQ-VAE, Gumbel-softmax VAE).

Every ``term`` below is a name the model's ``train_step`` really returns."""

from __future__ import annotations

from typing import Any

from ..views import LogDetView
from .lines import Line, Objective

__all__ = ["flow_objective", "LATENT_OBJECTIVES", "vae_objective"]

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


ELBO = r"\mathrm{ELBO} = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))"
_RECONSTRUCTION = Line(
    r"\mathbb{E}_{q(z|x)}[\log p(x|z)]", "reconstruction", "how well the decoder explains x"
)
_KL = Line(r"\mathrm{KL}(q(z|x)\,\|\,p(z))", "kl", "the rate: the nats the code carries about x")
_ELBO_LINE = Line(ELBO, "elbo", "a lower bound on log p(x), nats per data point")
_VAE_SOURCE = (
    "Kingma & Welling, Auto-Encoding Variational Bayes, ICLR 2014, eqs. (3) and (10); "
    "Higgins et al., beta-VAE, ICLR 2017, eq. (4); Burgess et al., Understanding "
    "disentangling in beta-VAE, 2018, eq. (8) (capacity)."
)
_VAE_TEXT = (
    "The ELBO trades reconstruction against rate. beta > 1 presses the posterior towards "
    "the prior (smoother latents, blurrier reconstructions); a KL near 0 is posterior "
    "collapse: the decoder ignores z."
)


def vae_objective(config: Any) -> Objective:
    """The VAE's ELBO, with the weighted loss it minimises: ``beta`` or capacity ``C_t``."""
    if getattr(config, "capacity", 0.0) > 0:
        loss = (
            Line(
                r"\mathcal{L} = -\mathbb{E}_q[\log p(x|z)] + \gamma\,|\mathrm{KL} - C_t|",
                "loss",
                "minimised: the KL is steered to the capacity C_t",
                "",
            ),
            Line(r"C_t", "capacity", "the capacity, raised over capacity_steps"),
        )
    else:
        loss = (
            Line(
                r"\mathcal{L} = -\mathbb{E}_q[\log p(x|z)] + \beta\,\mathrm{KL}",
                "loss",
                "minimised (with free bits, each dimension's KL counts at least lambda)",
                "",
            ),
            Line(r"\beta", "beta", "the KL weight (annealed from 0 over kl_anneal_steps)", ""),
        )
    return Objective(
        "Evidence lower bound", (_ELBO_LINE, _RECONSTRUCTION, _KL, *loss), _VAE_TEXT, _VAE_SOURCE
    )


LATENT_OBJECTIVES: dict[str, Objective] = {
    "iwae": Objective(
        "Importance-weighted bound",
        (
            Line(
                r"\mathcal{L}_K = \mathbb{E}_{z_k \sim q(z|x)}\left[\log \frac{1}{K}"
                r"\sum_{k=1}^{K} \frac{p(x, z_k)}{q(z_k|x)}\right]",
                "iwae_bound",
                "maximised; L_1 is the ELBO, and L_K rises towards log p(x) with K",
            ),
            Line(r"\mathcal{L}_1 = \mathrm{ELBO}", "elbo", "the one-sample bound, for comparison"),
            _RECONSTRUCTION,
            _KL,
        ),
        "The gap L_K - ELBO is what the importance weights buy: a tighter bound, and a "
        "posterior q that need not cover p(z|x) as tightly.",
        "Burda, Grosse & Salakhutdinov, Importance Weighted Autoencoders, ICLR 2016, eq. (8) "
        "and theorem 1.",
    ),
    "hvae": Objective(
        "Hierarchical ELBO (two stochastic layers)",
        (
            Line(
                r"\mathrm{ELBO} = \mathbb{E}_q[\log p(x|z_1)] - \mathrm{KL}_1 - \mathrm{KL}_2",
                "elbo",
                "q(z1|x) q(z2|z1) against p(z2) p(z1|z2) p(x|z1)",
            ),
            Line(r"\mathbb{E}_q[\log p(x|z_1)]", "reconstruction", "the bottom layer's fit"),
            Line(
                r"\mathrm{KL}_1 = \mathbb{E}_q[\log q(z_1|x) - \log p(z_1|z_2)]",
                "kl_1",
                "sampled",
            ),
            Line(
                r"\mathrm{KL}_2 = \mathbb{E}_q\,\mathrm{KL}(q(z_2|z_1)\,\|\,p(z_2))",
                "kl_2",
                "closed form given z1",
            ),
            Line(r"\beta", "beta", "weight of KL_1 + KL_2 in the loss", ""),
        ),
        "A KL_2 near 0 means the top layer is unused: the model is a one-layer VAE.",
        "Sønderby et al., Ladder Variational Autoencoders, NeurIPS 2016, section 2; Burda et "
        "al., ICLR 2016 (two stochastic layers).",
    ),
    "vq-vae": Objective(
        "VQ-VAE loss",
        (
            Line(
                r"\mathcal{L} = -\log p(x|z_q(x)) + \|\mathrm{sg}[z_e(x)] - e\|^2"
                r" + \beta\,\|z_e(x) - \mathrm{sg}[e]\|^2",
                "loss",
                "minimised; sg: stop-gradient, e: the nearest code",
                "",
            ),
            Line(r"\log p(x|z_q(x))", "reconstruction", "the decoder's fit at the chosen codes"),
            Line(r"\|\mathrm{sg}[z_e] - e\|^2", "codebook", "moves the codes to the encodings", ""),
            Line(
                r"\beta\,\|z_e - \mathrm{sg}[e]\|^2", "commitment", "keeps encodings near codes", ""
            ),
            Line(
                r"\mathrm{KL} = M \log K", "kl", "constant: uniform prior over K codes at M places"
            ),
            Line(r"\mathrm{ELBO} = \log p(x|z_q) - M\log K", "elbo", "the bound on log p(x)"),
            Line(
                r"\exp H(\mathrm{code\ usage})", "perplexity", "how many codes are in use", "codes"
            ),
        ),
        "The posterior is one-hot (the nearest code), so the KL is a constant and training "
        "is reconstruction plus the two vector-quantisation terms.",
        "van den Oord, Vinyals & Kavukcuoglu, Neural Discrete Representation Learning, "
        "NeurIPS 2017, eq. (3).",
    ),
    "gumbel-vae": Objective(
        "Relaxed ELBO (Gumbel-softmax)",
        (
            Line(
                r"\mathrm{ELBO}_\tau = \mathbb{E}_{y \sim \mathrm{GS}(\pi, \tau)}[\log p(x|y)]"
                r" - \mathrm{KL}(q(c|x)\,\|\,p(c))",
                "elbo",
                "categorical latents c, relaxed to y for the gradient",
            ),
            Line(
                r"y_i = \frac{\exp((\log \pi_i + g_i)/\tau)}{\sum_j \exp((\log \pi_j + g_j)/\tau)}",
                note="g: Gumbel noise; y tends to one-hot as tau -> 0",
            ),
            Line(r"\mathbb{E}[\log p(x|y)]", "reconstruction", "the decoder's fit"),
            Line(r"\mathrm{KL}(q(c|x)\,\|\,p(c))", "kl", "against a uniform prior"),
            Line(r"\tau", "temperature", "annealed: lower is closer to discrete", ""),
        ),
        "A high temperature gives smooth, biased gradients; a low one nearly discrete, noisy ones.",
        "Jang, Gu & Poole, Categorical Reparameterization with Gumbel-Softmax, ICLR 2017, "
        "eqs. (1)-(2); Maddison, Mnih & Teh, The Concrete Distribution, ICLR 2017.",
    ),
}
