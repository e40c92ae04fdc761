"""The objectives of the latent-variable models as the explain panel shows them: VAE, IWAE,
HVAE (each with its discrete decoder's likelihood, where it has one), VQ-VAE with its
uniform or PixelCNN prior, and the Gumbel-softmax VAE.

Every ``term`` below is a name the model's ``train_step`` really returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .lines import Line, Objective

__all__ = [
    "LATENT_OBJECTIVES",
    "vae_objective",
    "iwae_objective",
    "hvae_objective",
    "vqvae_objective",
    "decoder_lines",
]

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
#: the decoders whose log p(x|z) is a probability of the image's L levels
_DISCRETE_DECODER_LINES = {
    "categorical": Line(
        r"p(x|z) = \prod_i \mathrm{softmax}(\ell_i(z))_{k_i}",
        note="a softmax over the L levels k of each pixel: an exact probability of the image",
    ),
    "discretized_logistic": Line(
        r"P(k_i|z) = \sigma\left(\frac{c_k + \delta - \mu_i}{s_i}\right)"
        r" - \sigma\left(\frac{c_k - \delta - \mu_i}{s_i}\right)",
        note="the logistic's mass on level k's bin, c_k = k/(L-1) +- delta = 1/(2(L-1)); "
        "the end bins take the tails",
    ),
}
_BITS_LINE = Line(
    r"\mathrm{bits/dim} \leq -\mathcal{L}_{100}(x) \,/\, (D \ln 2)",
    note="with a discrete likelihood the bounds bound -log P(x): held-out evaluation "
    "reports the IWAE bound with K = 100 in bits per pixel (4.09 is uniform on 17 levels)",
)
_DECODER_SOURCE = (
    " Salimans et al., PixelCNN++, ICLR 2017, section 2.1 (the discretised logistic); "
    "van den Oord et al., Pixel Recurrent Neural Networks, ICML 2016, section 5.3 (the "
    "softmax over pixel values)."
)


def decoder_lines(config: Any) -> tuple[Line, ...]:
    """The likelihood of a discrete decoder (``categorical``, ``discretized_logistic``)
    and the bits/dim it bounds; nothing for the others (the config's ``decoder``)."""
    line = _DISCRETE_DECODER_LINES.get(getattr(config, "decoder", ""))
    return () if line is None else (line, _BITS_LINE)


def _source(config: Any, source: str) -> str:
    return source + (_DECODER_SOURCE if decoder_lines(config) else "")


def vae_objective(config: Any) -> Objective:
    """The VAE's ELBO, with the weighted loss it minimises: ``beta`` or capacity ``C_t``,
    and its decoder's likelihood where it is discrete."""
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
        "Evidence lower bound",
        (_ELBO_LINE, _RECONSTRUCTION, _KL, *loss, *decoder_lines(config)),
        _VAE_TEXT,
        _source(config, _VAE_SOURCE),
    )


def iwae_objective(config: Any) -> Objective:
    """The IWAE's K-sample bound, and its decoder's likelihood where it is discrete."""
    return Objective(
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
            *decoder_lines(config),
        ),
        "The gap L_K - ELBO is what the importance weights buy: a tighter bound, and a "
        "posterior q that need not cover p(z|x) as tightly.",
        _source(
            config,
            "Burda, Grosse & Salakhutdinov, Importance Weighted Autoencoders, ICLR 2016, "
            "eq. (8) and theorem 1.",
        ),
    )


def hvae_objective(config: Any) -> Objective:
    """The two-layer hierarchical ELBO, and its decoder's likelihood where it is discrete."""
    return Objective(
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
            *decoder_lines(config),
        ),
        "A KL_2 near 0 means the top layer is unused: the model is a one-layer VAE.",
        _source(
            config,
            "Sønderby et al., Ladder Variational Autoencoders, NeurIPS 2016, section 2; Burda "
            "et al., ICLR 2016 (two stochastic layers).",
        ),
    )


_VQ_TERMS = (
    Line(
        r"\mathcal{L} = -\log p(x|z_q(x)) + \|\mathrm{sg}[z_e(x)] - e\|^2"
        r" + \beta\,\|z_e(x) - \mathrm{sg}[e]\|^2",
        "loss",
        "minimised; sg: stop-gradient, e: the nearest code",
        "",
    ),
    Line(r"\log p(x|z_q(x))", "reconstruction", "the decoder's fit at the chosen codes"),
    Line(r"\|\mathrm{sg}[z_e] - e\|^2", "codebook", "moves the codes to the encodings", ""),
    Line(r"\beta\,\|z_e - \mathrm{sg}[e]\|^2", "commitment", "keeps encodings near codes", ""),
)
_PERPLEXITY = Line(
    r"\exp H(\mathrm{code\ usage})", "perplexity", "how many codes are in use", "codes"
)
_VQ_SOURCE = (
    "van den Oord, Vinyals & Kavukcuoglu, Neural Discrete Representation Learning, "
    "NeurIPS 2017, eq. (3)"
)


def vqvae_objective(config: Any) -> Objective:
    """The VQ-VAE's loss, with the KL of its prior: constant under the uniform prior, the
    PixelCNN prior's NLL of the code map under ``prior = pixelcnn`` (its own term)."""
    if getattr(config, "prior", "uniform") != "pixelcnn":
        return Objective(
            "VQ-VAE loss",
            (
                *_VQ_TERMS,
                Line(
                    r"\mathrm{KL} = M \log K",
                    "kl",
                    "constant: uniform prior over K codes at M places",
                ),
                Line(r"\mathrm{ELBO} = \log p(x|z_q) - M\log K", "elbo", "the bound on log p(x)"),
                _PERPLEXITY,
            ),
            "The posterior is one-hot (the nearest code), so the KL is a constant and "
            "training is reconstruction plus the two vector-quantisation terms. Samples "
            "decode uniform codes: prior = pixelcnn fits a prior to the codes the data uses.",
            _VQ_SOURCE + ".",
        )
    start = getattr(config, "prior_start", 0)
    return Objective(
        "VQ-VAE loss with a PixelCNN prior",
        (
            *_VQ_TERMS,
            Line(
                r"-\log p_\theta(k) = -\sum_i \log p_\theta(k_i\,|\,k_{<i})",
                "prior_nll",
                f"the PixelCNN prior's loss on the batch's code maps k(x), raster order; "
                f"added to the loss from step {start} on (it trains the prior only)",
            ),
            Line(
                r"\mathrm{KL} = -\log p_\theta(k(x))",
                "kl",
                "q is one-hot on the nearest codes k(x): the KL is the prior's NLL",
            ),
            Line(
                r"\mathrm{ELBO} = \log p(x|z_q) + \log p_\theta(k(x))",
                "elbo",
                "the bound on log p(x)",
            ),
            _PERPLEXITY,
        ),
        "Stage two of the VQ-VAE: an autoregressive prior over the code map. Uniform codes "
        "ignore which codes go together, so their decodings look garbled; codes drawn from "
        "the fitted prior, one position at a time, decode to images like the data.",
        _VQ_SOURCE + ", sections 3.3 and 4.1; van den Oord et al., Pixel Recurrent Neural "
        "Networks, ICML 2016 (the PixelCNN).",
    )


_GUMBEL = Objective(
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
)

#: model name -> ``builder(config) -> Objective`` (the config may be ``None``: defaults)
LATENT_OBJECTIVES: dict[str, Callable[[Any], Objective]] = {
    "iwae": iwae_objective,
    "hvae": hvae_objective,
    "vq-vae": vqvae_objective,
    "gumbel-vae": lambda _config: _GUMBEL,
}
