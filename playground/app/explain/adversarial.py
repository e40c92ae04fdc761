"""The GAN objectives as the explain panel shows them: each loss pair of the critic and the
generator, the penalties (WGAN-GP), f-GAN's variational bound, InfoGAN's information term,
and the optimal discriminator ``D* = p / (p + q)`` where it exists.

Every ``term`` below is a name the GANs' ``train_step`` returns (``loss_d``, ``loss_d_real``,
``loss_d_fake``, ``loss_g``, ``wasserstein``, ``gradient_penalty``, ``divergence_estimate``,
``mutual_information``, ``info_loss``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .dirac import with_convergence_terms
from .lines import Line, Objective

__all__ = ["GAN_LOSSES", "gan_objective", "OPTIMAL_D"]

#: (critic loss, its real part, its fake part, generator loss): mathtext per loss pair
GAN_LOSSES: dict[str, tuple[str, str, str, str]] = {
    "minimax": (
        r"\mathcal{L}_D = -\mathbb{E}_{p}[\log D(x)] - \mathbb{E}_{z}[\log(1 - D(G(z)))]",
        r"-\mathbb{E}_{p}[\log D(x)]",
        r"-\mathbb{E}_{z}[\log(1 - D(G(z)))]",
        r"\mathcal{L}_G = \mathbb{E}_{z}[\log(1 - D(G(z)))]",
    ),
    "non-saturating": (
        r"\mathcal{L}_D = -\mathbb{E}_{p}[\log D(x)] - \mathbb{E}_{z}[\log(1 - D(G(z)))]",
        r"-\mathbb{E}_{p}[\log D(x)]",
        r"-\mathbb{E}_{z}[\log(1 - D(G(z)))]",
        r"\mathcal{L}_G = -\mathbb{E}_{z}[\log D(G(z))]",
    ),
    "least-squares": (
        r"\mathcal{L}_D = \frac{1}{2}\mathbb{E}_{p}[(D(x) - 1)^2]"
        r" + \frac{1}{2}\mathbb{E}_{z}[D(G(z))^2]",
        r"\frac{1}{2}\mathbb{E}_{p}[(D(x) - 1)^2]",
        r"\frac{1}{2}\mathbb{E}_{z}[D(G(z))^2]",
        r"\mathcal{L}_G = \frac{1}{2}\mathbb{E}_{z}[(D(G(z)) - 1)^2]",
    ),
    "hinge": (
        r"\mathcal{L}_D = \mathbb{E}_{p}[\max(0, 1 - D(x))] + \mathbb{E}_{z}[\max(0, 1 + D(G(z)))]",
        r"\mathbb{E}_{p}[\max(0, 1 - D(x))]",
        r"\mathbb{E}_{z}[\max(0, 1 + D(G(z)))]",
        r"\mathcal{L}_G = -\mathbb{E}_{z}[D(G(z))]",
    ),
    "wasserstein": (
        r"\mathcal{L}_D = \mathbb{E}_{z}[D(G(z))] - \mathbb{E}_{p}[D(x)]",
        r"-\mathbb{E}_{p}[D(x)]",
        r"\mathbb{E}_{z}[D(G(z))]",
        r"\mathcal{L}_G = -\mathbb{E}_{z}[D(G(z))]",
    ),
}
_SOURCES = {
    "minimax": "Goodfellow et al., Generative Adversarial Nets, NeurIPS 2014, eq. (1) and "
    "proposition 1 (D*)",
    "non-saturating": "Goodfellow et al., NeurIPS 2014, eq. (1), section 3 and proposition 1",
    "least-squares": "Mao et al., Least Squares GANs, ICCV 2017, eq. (2) (a = 0, b = c = 1) "
    "and proposition 1 (D*)",
    "hinge": "Lim & Ye, Geometric GAN, 2017; Miyato et al., Spectral Normalization for "
    "GANs, ICLR 2018, eqs. (16)-(17)",
    "wasserstein": "Arjovsky, Chintala & Bottou, Wasserstein GAN, ICML 2017, eq. (3)",
}
_TEXT = {
    "minimax": "The generator's gradient vanishes while D rejects its samples (watch "
    "grad_norm_g early on). At the equilibrium p = q, D = 1/2 and L_D = log 4 = 1.386 nats.",
    "non-saturating": "Same fixed point as the minimax game, but a strong gradient where D "
    "rejects the samples. At p = q, D = 1/2 and L_D = log 4 = 1.386 nats.",
    "least-squares": "Samples far on the correct side of the boundary are still pulled "
    "towards the data. At p = q, D = 1/2 and L_D = 1/4.",
    "hinge": "The critic only cares about margins of 1; the generator raises the critic's "
    "value on its samples.",
    "wasserstein": "The critic estimates the earth mover's distance; it must be 1-Lipschitz "
    "(weight clipping, or a gradient penalty). Its estimate should fall as G improves.",
}
OPTIMAL_D = r"D^{*}(x) = \frac{p(x)}{p(x) + q(x)}"
#: the losses whose optimal discriminator is ``p / (p + q)``
_CLASSIFIER = ("minimax", "non-saturating", "least-squares")


def _loss_lines(loss: str) -> tuple[Line, ...]:
    critic, real, fake, generator = GAN_LOSSES[loss]
    return (
        Line(critic, "loss_d", "the critic minimises", ""),
        Line(real, "loss_d_real", "on data", ""),
        Line(fake, "loss_d_fake", "on generated samples", ""),
        Line(generator, "loss_g", "the generator minimises", ""),
    )


def _optimal_d(exact: bool) -> Line:
    where = (
        "p is exact on this dataset: compare D with it in the Critic tab"
        if exact
        else "p is known only through samples here"
    )
    return Line(OPTIMAL_D, note=f"the best D for the current generator q; {where}")


def gan_objective(model: str, config: Any, exact_density: bool = False) -> Objective:
    """The objective of GAN ``model`` with ``config`` (its ``loss`` where it has one).

    Arguments:
        model: ``gan``, ``sngan``, ``wgan``, ``wgan-gp``, ``fgan`` or ``infogan``.
        config: the model's config.
        exact_density: whether the dataset's density is exact (D* can be compared).
    """
    if model == "fgan":
        return with_convergence_terms(_fgan(config), config)
    loss = {"wgan": "wasserstein", "wgan-gp": "wasserstein", "infogan": "non-saturating"}.get(
        model, getattr(config, "loss", "non-saturating")
    )
    lines = list(_loss_lines(loss))
    source, text = _SOURCES[loss], _TEXT[loss]
    if loss == "wasserstein":
        lines.insert(
            1,
            Line(
                r"W \approx \mathbb{E}_{p}[D(x)] - \mathbb{E}_{z}[D(G(z))]",
                "wasserstein",
                "the critic's estimate of the Wasserstein-1 distance",
                "",
            ),
        )
    if model in ("wgan-gp", "infogan"):  # loss_d includes the critic's extra term
        extra = r" + \lambda\,\mathrm{GP}" if model == "wgan-gp" else r" - \lambda L_I"
        critic = lines[0]
        lines[0] = dataclasses.replace(critic, tex=critic.tex + extra)
    if model == "wgan":
        lines.append(Line(r"|w| \leq c", note="every critic weight clipped after each step"))
    if model == "wgan-gp":
        lines.insert(
            2,
            Line(
                r"\lambda\,\mathbb{E}_{\hat x}[(\|\nabla_{\hat x} D(\hat x)\|_2 - 1)^2]",
                "gradient_penalty",
                "added to L_D; x^ on lines between real and fake samples",
                "",
            ),
        )
        source = "Gulrajani et al., Improved Training of Wasserstein GANs, NeurIPS 2017, eq. (3)"
    if model == "infogan":
        lines += [
            Line(
                r"L_I = \mathbb{E}[\log Q(c|x)] + H(c) \leq I(c; G(z, c))",
                "mutual_information",
                "the Q head's lower bound on the codes' information",
            ),
            Line(
                r"-\lambda L_I", "info_loss", "added to L_G (and to L_D, for the shared body)", ""
            ),
        ]
        source = "Chen et al., InfoGAN, NeurIPS 2016, eqs. (4)-(6) and lemma 5.1; " + source
    if loss in _CLASSIFIER:
        lines.append(_optimal_d(exact_density))
    title = f"GAN, {loss} loss"
    switch = int(getattr(config, "minimax_steps", 0) or 0)
    if switch > 0:
        minimax_g = GAN_LOSSES["minimax"][3]
        lines[3] = dataclasses.replace(lines[3], note="the generator minimises after that")
        lines.insert(
            3,
            Line(
                minimax_g, "loss_g", f"the generator minimises for its first {switch:,} steps", ""
            ),
        )
        title = f"GAN, minimax then {loss} loss"
        text = (
            f"For its first {switch:,} steps the generator minimises the minimax loss: a weak "
            "pull on the samples D rejects, so it keeps every mode it holds; then the "
            "non-saturating loss sharpens them. " + text
        )
    return with_convergence_terms(Objective(title, tuple(lines), text, source + "."), config)


def _fgan(config: Any) -> Objective:
    divergence = getattr(config, "divergence", "js")
    if getattr(config, "generator_form", "practical") == "saddle":
        generator = r"\mathcal{L}_G = -\mathbb{E}_{Q}[f^{*}(g_f(V(G(z))))]"
    else:
        generator = r"\mathcal{L}_G = -\mathbb{E}_{Q}[g_f(V(G(z)))]"
    lines = (
        Line(
            r"D_f(P\,\|\,Q) \geq \mathbb{E}_{P}[g_f(V(x))] - \mathbb{E}_{Q}[f^{*}(g_f(V(x)))]",
            "divergence_estimate",
            f"the critic's variational bound on the {divergence} divergence",
        ),
        Line(r"\mathcal{L}_D = -(\mathrm{bound})", "loss_d", "the critic minimises", ""),
        Line(r"-\mathbb{E}_{P}[g_f(V(x))]", "loss_d_real", "on data", ""),
        Line(r"\mathbb{E}_{Q}[f^{*}(g_f(V(x)))]", "loss_d_fake", "on generated samples", ""),
        Line(generator, "loss_g", "the generator minimises", ""),
        Line(r"T^{*}(x) = f'\left(\frac{p(x)}{q(x)}\right)", note="the optimal critic"),
    )
    return Objective(
        f"f-GAN, {divergence} divergence",
        lines,
        "f* is the Fenchel conjugate of f and g_f the output activation that keeps the "
        "critic in its domain; the bound is tight at the optimal critic T*.",
        "Nowozin, Cseke & Tomioka, f-GAN, NeurIPS 2016, eq. (6), tables 1-2 and section 3.2.",
    )
