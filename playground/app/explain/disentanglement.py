"""The disentangling objectives as the explain panel shows them: FactorVAE (a
discriminator's total correlation) and the VAE with beta-TCVAE's split of the KL.

Every ``term`` below is a name ``FactorVAE.train_step`` or ``VAE.train_step`` (with
``kl_split=beta-tcvae``) returns."""

from __future__ import annotations

from typing import Any

from .likelihood import vae_objective
from .lines import Line, Objective

__all__ = ["factor_vae_objective", "tcvae_objective", "vae_or_tcvae_objective"]

_ELBO = Line(
    r"\mathrm{ELBO} = \mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\,\|\,p(z))",
    "elbo",
    "a lower bound on log p(x), nats per data point",
)
_RECONSTRUCTION = Line(
    r"\mathbb{E}_{q(z|x)}[\log p(x|z)]", "reconstruction", "how well the decoder explains x"
)
_KL = Line(r"\mathrm{KL}(q(z|x)\,\|\,p(z))", "kl", "the rate, closed form for N(0, I)")
_TC_DEFINITION = Line(
    r"\mathrm{TC}(z) = \mathrm{KL}\left(q(z)\,\|\,\prod_j q(z_j)\right)",
    note="total correlation: 0 exactly when the aggregate posterior's dimensions are independent",
)


def factor_vae_objective(config: Any) -> Objective:
    """FactorVAE's loss, its discriminator's estimate of the total correlation and the
    discriminator's own loss (Kim and Mnih 2018, eq. 2, section 3, Algorithm 2)."""
    gamma = getattr(config, "gamma", 6.4)
    return Objective(
        "FactorVAE: ELBO minus total correlation",
        (
            Line(
                r"\mathcal{L} = -\mathrm{ELBO} + \gamma\,\mathrm{TC}(z)",
                "loss",
                f"minimised by the VAE, gamma = {gamma:g}",
            ),
            _ELBO,
            _RECONSTRUCTION,
            _KL,
            _TC_DEFINITION,
            Line(
                r"\mathrm{TC}(z) \approx \mathbb{E}_{q(z)}\left[\log \frac{D(z)}{1 - D(z)}\right]",
                "tc_estimate",
                "the density-ratio trick: D's logit, averaged over the batch",
            ),
            Line(
                r"\mathcal{L}_D = -\frac{1}{2}\left(\mathbb{E}_{q(z)}\log D(z) + "
                r"\mathbb{E}_{\tilde q(z)}\log(1 - D(\tilde z))\right)",
                "discriminator_loss",
                "z~ from a second batch, each dimension permuted across it: prod_j q(z_j); "
                "ln 2 = 0.693 means D cannot tell them apart",
            ),
        ),
        "The VAE is penalised for dependence between its latent dimensions, not for "
        "information about x (beta-VAE's price): a discriminator tells joint codes from "
        "codes shuffled dimension by dimension, and its logit estimates the total "
        "correlation. A tc_estimate near 0 with a discriminator loss near 0.693 is a "
        "factorised q(z).",
        "Kim & Mnih, Disentangling by Factorising, ICML 2018, eq. (2), section 3 and "
        "Algorithm 2; Nguyen et al., Estimating divergence functionals, 2010 (density ratio).",
    )


def tcvae_objective(config: Any) -> Objective:
    """The VAE's loss with beta-TCVAE's split of the KL into index-code mutual
    information, total correlation and dimension-wise KL, estimated by minibatch-weighted
    sampling (Chen et al. 2018, eqs. 2 to 4 and section 3.1)."""
    alpha = getattr(config, "tc_alpha", 1.0)
    beta = getattr(config, "tc_beta", 6.0)
    gamma = getattr(config, "tc_gamma", 1.0)
    return Objective(
        "beta-TCVAE: the KL split in three",
        (
            Line(
                r"\mathcal{L} = -\mathbb{E}_q[\log p(x|z)] + \alpha\,I_q(x; z) + "
                r"\beta\,\mathrm{TC}(z) + \gamma \sum_j \mathrm{KL}(q(z_j)\,\|\,p(z_j))",
                "loss",
                f"minimised: alpha = {alpha:g}, beta = {beta:g}, gamma = {gamma:g} "
                "(all 1: the negative ELBO)",
                "",
            ),
            _RECONSTRUCTION,
            Line(
                r"\mathbb{E}_x \mathrm{KL}(q(z|x)\,\|\,p(z)) = I_q(x; z) + \mathrm{TC}(z)"
                r" + \sum_j \mathrm{KL}(q(z_j)\,\|\,p(z_j))",
                "kl",
                "the decomposition: the three estimates below sum to the one-sample KL",
            ),
            Line(
                r"I_q(x; z) = \mathbb{E}[\log q(z|x) - \log q(z)]",
                "mutual_information",
                "index-code mutual information: what z says about which x",
            ),
            Line(
                r"\mathrm{TC}(z) = \mathbb{E}[\log q(z) - \sum_j \log q(z_j)]",
                "total_correlation",
                "dependence between the latent dimensions: the term beta penalises",
            ),
            Line(
                r"\sum_j \mathrm{KL}(q(z_j)\,\|\,p(z_j))",
                "dimension_kl",
                "each marginal's distance from N(0, 1)",
            ),
            Line(
                r"\log q(z_i) \approx \log \sum_{j=1}^{M} q(z_i|x_j) - \log M",
                note="minibatch-weighted sampling over the M points of the batch (the paper "
                "subtracts log NM; a constant, the same gradient)",
            ),
        ),
        "beta-VAE's beta > 1 also squeezes the information z carries about x; beta-TCVAE "
        "weighs only the total correlation, so the code can stay informative while its "
        "dimensions are pushed to be independent.",
        "Chen, Li, Grosse & Duvenaud, Isolating Sources of Disentanglement in Variational "
        "Autoencoders, NeurIPS 2018, eqs. (2)-(4) and section 3.1.",
    )


def vae_or_tcvae_objective(config: Any) -> Objective:
    """The VAE's objective: :func:`tcvae_objective` with ``kl_split=beta-tcvae``, else
    the ELBO's (:func:`~.likelihood.vae_objective`)."""
    if getattr(config, "kl_split", "none") == "beta-tcvae":
        return tcvae_objective(config)
    return vae_objective(config)
