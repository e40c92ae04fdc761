"""Adversarial variational Bayes as the explain panel shows it: the implicit encoder, the
ELBO with the adversary's KL, and the adversary's density-ratio loss.

Every ``term`` below is a name ``AVB.train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = ["avb_objective", "AVB_LINES"]

#: the formulas, the encoder-decoder's loss first
AVB_LINES: tuple[Line, ...] = (
    Line(
        r"\mathcal{L}_{\theta,\phi} = \mathbb{E}_{q_\phi(z|x)}[T(x, z) - \log p_\theta(x|z)]",
        "loss",
        "what the encoder and decoder minimise: minus the ELBO, with T in place of the KL",
    ),
    Line(
        r"z = f_\phi(x, \epsilon),\ \ \epsilon \sim \mathcal{N}(0, I)",
        note="the implicit encoder: noise is an input, so q(z|x) has no formula",
    ),
    Line(
        r"\mathbb{E}_{q(z|x)}[\log p(x|z)]",
        "reconstruction",
        "how well the decoder explains x",
    ),
    Line(
        r"\mathbb{E}_{q(z|x)}[T(x, z)] \approx \mathrm{KL}(q(z|x)\,\|\,p(z))",
        "kl_estimate",
        "the adversary's estimate of the KL (at least log 4 for four separate points)",
    ),
    Line(
        r"\mathrm{ELBO} \approx \mathbb{E}_q[\log p(x|z)] - \mathbb{E}_q[T(x, z)]",
        "elbo",
        "the ELBO with the adversary's KL: an estimate, not a bound, until T is optimal",
    ),
    Line(
        r"\mathcal{L}_\psi = \mathbb{E}_{q(z|x)}[\mathrm{softplus}(-T_\psi)]"
        r" + \mathbb{E}_{p(z)}[\mathrm{softplus}(T_\psi)]",
        "adversary_loss",
        "logistic regression of (x, z ~ q(z|x)) against (x, z ~ p(z)); 2 log 2 = 1.386 "
        "when it cannot tell them apart",
    ),
    Line(
        r"T^*(x, z) = \log q(z|x) - \log p(z)",
        note="the adversary's optimum: the density-ratio trick",
    ),
)


def avb_objective(config: Any = None) -> Objective:
    """AVB's objective (the same for every ``config``)."""
    return Objective(
        "Adversarial variational Bayes",
        AVB_LINES,
        "The encoder may put any distribution on z, so the KL of the ELBO has no formula. "
        "An adversary T(x, z) learns to tell codes of the encoder from codes of the prior; "
        "at its optimum its logit is log q(z|x) - log p(z), and the encoder minimises it as "
        "the KL. On four-points the posteriors of the four images split the latent plane "
        "into four regions, where a Gaussian encoder's overlap. Watch the adversary's loss: "
        "near 1.386 it has been fooled and the KL estimate is too low.",
        "Mescheder, Nowozin & Geiger, Adversarial Variational Bayes, ICML 2017, eqs. (3)-(7), "
        "algorithm 1 and figure 2.",
    )
