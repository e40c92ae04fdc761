"""GAN convergence in the explain panel (Mescheder, Geiger and Nowozin 2018): the Dirac-GAN's
objective with its update rule and the eigenvalues at its equilibrium, and the R1, R2 and
instance-noise lines every GAN's objective gains when those switches are on.

Every ``term`` below is a name the models' ``train_step`` returns (``loss_d``, ``loss_g``,
``r1_penalty``, ``r2_penalty``, ``gradient_penalty``, ``theta``, ``psi``, ``distance``)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .lines import Line, Objective

__all__ = ["dirac_objective", "with_convergence_terms", "convergence_lines", "SOURCE"]

SOURCE = (
    "Mescheder, Geiger & Nowozin, Which Training Methods for GANs do actually Converge?, "
    "ICML 2018, sections 2.2, 3 and 4.1"
)
_R1 = r"\frac{\gamma}{2}\,\mathbb{E}_{p_D}[\|\nabla_x D(x)\|^2]"
_R2 = r"\frac{\gamma}{2}\,\mathbb{E}_{p_\theta}[\|\nabla_x D(x)\|^2]"
_NOISE = r"\tilde{x} = x + \epsilon,\ \ \epsilon \sim \mathcal{N}(0, \sigma^2 I)"


def convergence_lines(config: Any) -> tuple[Line, ...]:
    """The lines of the switches on in a GAN's ``config``: R1 (``r1 > 0``), R2 (``r2 >
    0``) and instance noise (``instance_noise > 0``); none when all are off."""
    lines = []
    r1, r2 = float(getattr(config, "r1", 0.0)), float(getattr(config, "r2", 0.0))
    noise = float(getattr(config, "instance_noise", 0.0))
    if r1 > 0:
        lines.append(Line(_R1, "r1_penalty", f"R1, γ = {r1:g}: added to L_D, on real data", ""))
    if r2 > 0:
        lines.append(Line(_R2, "r2_penalty", f"R2, γ = {r2:g}: added to L_D, on fakes", ""))
    if noise > 0:
        lines.append(
            Line(_NOISE, note=f"instance noise, σ = {noise:g}: the critic sees noisy samples")
        )
    return tuple(lines)


def with_convergence_terms(objective: Objective, config: Any) -> Objective:
    """``objective`` (a GAN's) with the convergence switches of ``config``: ``+ R_1``,
    ``+ R_2`` after its critic loss ``L_D`` and their lines after its ``loss_d_fake``
    line (else at the end); unchanged when they are all off."""
    extra = convergence_lines(config)
    if not extra:
        return objective
    suffix = "".join(
        r" + R_1" if line.term == "r1_penalty" else r" + R_2" if line.term == "r2_penalty" else ""
        for line in extra
    )
    lines = [
        dataclasses.replace(line, tex=line.tex + suffix) if line.term == "loss_d" else line
        for line in objective.lines
    ]
    at = next((i + 1 for i, line in enumerate(lines) if line.term == "loss_d_fake"), len(lines))
    lines[at:at] = [
        dataclasses.replace(line, tex=f"R_{line.term[1]} = " + line.tex)
        if line.term in ("r1_penalty", "r2_penalty")
        else line
        for line in extra
    ]
    return dataclasses.replace(
        objective, lines=tuple(lines), source=objective.source.rstrip(".") + "; " + SOURCE + "."
    )


_F = {
    "minimax": (r"f(t) = -\log(1 + e^{-t})", 0.5, -0.25),
    "non-saturating": (r"f(t) = -\log(1 + e^{-t})", 0.5, -0.25),
    "wasserstein": (r"f(t) = t", 1.0, 0.0),
}
_GENERATOR = {
    "minimax": r"\mathcal{L}_G = f(\psi\theta)",
    "non-saturating": r"\mathcal{L}_G = -f(-\psi\theta)",
    "wasserstein": r"\mathcal{L}_G = f(\psi\theta) = \psi\theta",
}
_PENALTY = {
    "r1": (
        r"R_1 = \frac{\gamma}{2}\,\mathbb{E}_{p_D}[\|\nabla_x D\|^2] = \frac{\gamma}{2}\psi^2",
        "r1_penalty",
    ),
    "r2": (
        r"R_2 = \frac{\gamma}{2}\,\mathbb{E}_{p_\theta}[\|\nabla_x D\|^2] = \frac{\gamma}{2}\psi^2",
        "r2_penalty",
    ),
    "wgan-gp": (
        r"\frac{\gamma}{2}\,\mathbb{E}[(\|\nabla_x D(\hat{x})\| - 1)^2]"
        r" = \frac{\gamma}{2}(|\psi| - 1)^2",
        "gradient_penalty",
    ),
}
_UPDATES = {
    "simultaneous": r"(\theta, \psi)_{k+1} = (\theta, \psi)_k + h\,v(\theta_k, \psi_k)",
    "alternating": r"\psi_{k+1} = \psi_k + h\,v_\psi(\theta_k, \psi_k),\ \ "
    r"\theta_{k+1} = \theta_k + h\,v_\theta(\theta_k, \psi_{k+1})",
}


def _eigenvalues(loss: str, regularizer: str, gamma: float, sigma: float) -> Line | None:
    """The eigenvalues of the field's Jacobian at (0, 0), with the values of this setting."""
    _, fp, fpp = _F[loss]
    if regularizer in ("r1", "r2"):
        tex = r"\lambda_{1,2} = -\frac{\gamma}{2} \pm \sqrt{\frac{\gamma^2}{4} - f'(0)^2}"
        a, disc = -gamma / 2, gamma**2 / 4 - fp**2
    elif regularizer == "instance-noise":
        tex = r"\lambda_{1,2} = f''(0)\,\sigma^2 \pm \sqrt{f''(0)^2\sigma^4 - f'(0)^2}"
        a, disc = fpp * sigma**2, (fpp * sigma**2) ** 2 - fp**2
    elif regularizer == "none":
        tex, a, disc = r"\lambda_{1,2} = \pm\, i\,f'(0)", 0.0, -(fp**2)
    else:
        return None  # WGAN-GP's penalty is not differentiable at psi = 0
    root = math.sqrt(abs(disc))
    value = f"{a:.3g} ± {root:.3g}" + ("i" if disc < 0 else "")
    fate = (
        "the real parts are negative: training converges for a small enough h"
        if a < 0
        else ("no damping: simultaneous steps spiral out, alternating ones orbit")
    )
    return Line(tex, note=f"at the equilibrium (0, 0): λ = {value}; {fate}")


def dirac_objective(config: Any = None) -> Objective:
    """The Dirac-GAN's objective for ``config`` (its loss, updates and regulariser;
    ``None``: the defaults: minimax, simultaneous, none)."""
    loss = getattr(config, "loss", "minimax")
    updates = getattr(config, "updates", "simultaneous")
    regularizer = getattr(config, "regularizer", "none")
    gamma = float(getattr(config, "gamma", 1.0))
    sigma = float(getattr(config, "noise_std", 1.0))
    f_tex, _, _ = _F[loss]
    penalty = _PENALTY.get(regularizer)
    critic = r"\mathcal{L}_D = -[f(\psi\theta) + f(0)]" + (r" + R" if penalty else "")
    lines = [
        Line(
            r"\mathcal{L}(\theta, \psi) = \mathbb{E}[f(D(G(z)))] + \mathbb{E}[f(-D(x))]"
            r" = f(\psi\theta) + f(0)",
            note="data at 0, G(z) = θ, D(x) = ψx: the critic maximises L",
        ),
        Line(critic, "loss_d", "the critic minimises", ""),
        Line(_GENERATOR[loss], "loss_g", "the generator minimises", ""),
        Line(f_tex, note="WGAN: ψ clipped to [-1, 1]" if loss == "wasserstein" else ""),
    ]
    if penalty:
        lines.append(Line(penalty[0], penalty[1], f"γ = {gamma:g}: added to L_D", ""))
    if regularizer == "instance-noise":
        lines.append(Line(_NOISE, note=f"σ = {sigma:g}, on real and generated samples"))
    lines += [
        Line(_UPDATES[updates], note=f"{updates} plain gradient steps, h = lr"),
        Line(r"\|(\theta, \psi)\|", "distance", "the distance to the equilibrium (0, 0)", ""),
    ]
    eigen = _eigenvalues(loss, regularizer, gamma, sigma)
    if eigen is not None:
        lines.append(eigen)
    return Objective(
        f"Dirac-GAN, {loss} loss, {updates} updates",
        tuple(lines),
        "v = (−∂L_G/∂θ, −∂L_D/∂ψ) is the direction training moves (the arrows of the "
        "Dirac-GAN tab). Unregularised, its Jacobian at the equilibrium has purely imaginary "
        "eigenvalues: simultaneous gradient steps spiral away from (0, 0), alternating ones "
        "circle it. R1, R2 and instance noise damp the critic and training converges.",
        SOURCE + ".",
    )
