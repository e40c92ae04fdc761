"""The objectives of the energy and score families as the explain panel shows them:
contrastive divergence (EBM), score matching (implicit, sliced, denoising), NCSN's weighted
denoising score matching, and DDPM's simple loss.

Every ``term`` below is a name the model's ``train_step`` returns."""

from __future__ import annotations

from typing import Any

from .lines import Line, Objective

__all__ = [
    "EBM_OBJECTIVE",
    "SCORE_OBJECTIVES",
    "score_objective",
    "NCSN_OBJECTIVE",
    "ddpm_objective",
]

LANGEVIN = r"x_{k+1} = x_k + \frac{\eta}{2}\nabla_x \log p(x_k) + \sqrt{\eta}\,\epsilon_k"

EBM_OBJECTIVE = Objective(
    "Contrastive divergence",
    (
        Line(r"p_\theta(x) = \frac{e^{-E_\theta(x)}}{Z_\theta}", note="Z is never computed"),
        Line(
            r"\mathcal{L} = \mathbb{E}_{p_{\mathrm{data}}}[E_\theta(x^{\!\!+})]"
            r" - \mathbb{E}_{p_\theta}[E_\theta(x^{-})] + \alpha\,\mathcal{R}",
            "loss",
            "x+ data, x- model samples: its gradient estimates the NLL's",
        ),
        Line(r"\mathbb{E}[E_\theta(x^{\!\!+})]", "energy_data", "pushed down: data"),
        Line(r"\mathbb{E}[E_\theta(x^{-})]", "energy_negative", "pushed up: Langevin negatives"),
        Line(
            r"\alpha\,\mathbb{E}[E_\theta(x^{\!\!+})^2 + E_\theta(x^{-})^2]",
            "energy_reg",
            "keeps the energies near 0 (only when energy_reg > 0)",
        ),
        Line(
            r"\mathbb{E}[E_\theta(x^{-})] - \mathbb{E}[E_\theta(x^{\!\!+})]",
            "cd_gap",
            "about 0 once the negatives look like the data",
        ),
        Line(LANGEVIN, note="the negatives: persistent Langevin chains on log p = -E"),
    ),
    "Data lower the energy, the model's own samples raise it: the two meet where the model "
    "puts as much mass as the data.",
    "Du & Mordatch, Implicit Generation and Modeling with Energy-Based Models, NeurIPS 2019, "
    "eq. (2) and sections 3.1 and 3.3; Hinton, Training Products of Experts by Minimizing "
    "Contrastive Divergence, Neural Computation 2002.",
)

_DENOISING = (
    r"J(\theta) = \frac{1}{2}\,\mathbb{E}\left\|s_\theta(\tilde x)"
    r" + \frac{\tilde x - x}{\sigma^2}\right\|^2,\ \ \tilde x = x + \sigma\epsilon"
)
SCORE_OBJECTIVES: dict[str, Objective] = {
    "implicit": Objective(
        "Implicit score matching",
        (
            Line(
                r"J(\theta) = \mathbb{E}_{p}\left[\mathrm{tr}(\nabla_x s_\theta(x))"
                r" + \frac{1}{2}\|s_\theta(x)\|^2\right]",
                "loss",
                "equals E||s - grad log p||^2 / 2 up to a constant",
                "",
            ),
            Line(
                r"\mathbb{E}[\mathrm{tr}(\nabla_x s_\theta)]", "trace", "exact Jacobian trace", ""
            ),
            Line(r"\frac{1}{2}\mathbb{E}\|s_\theta\|^2", "norm", "", ""),
        ),
        "No true score is needed: integration by parts replaces it by the Jacobian's trace.",
        "Hyvarinen, Estimation of non-normalized statistical models by score matching, "
        "JMLR 2005, theorem 1, eq. (4).",
    ),
    "sliced": Objective(
        "Sliced score matching",
        (
            Line(
                r"J(\theta) = \mathbb{E}_{p}\mathbb{E}_{v}\left[v^{\mathsf{T}}"
                r" \nabla_x s_\theta(x)\,v + \frac{1}{2}(v^{\mathsf{T}} s_\theta(x))^2\right]",
                "loss",
                "random directions v replace the trace",
                "",
            ),
            Line(r"\mathbb{E}[v^{\mathsf{T}} \nabla_x s_\theta\, v]", "jacobian", "", ""),
            Line(r"\frac{1}{2}\mathbb{E}(v^{\mathsf{T}} s_\theta)^2", "norm", "", ""),
        ),
        "One Jacobian-vector product per direction instead of d backward passes.",
        "Song, Garg, Shi & Ermon, Sliced Score Matching, UAI 2019, eq. (7).",
    ),
    "denoising": Objective(
        "Denoising score matching",
        (Line(_DENOISING, "loss", "the score of the data blurred by N(0, sigma^2 I)", ""),),
        "The target -(x~ - x) / sigma^2 points from the noisy point back to its clean one.",
        "Vincent, A Connection Between Score Matching and Denoising Autoencoders, Neural "
        "Computation 2011, eq. (11).",
    ),
}


def score_objective(config: Any) -> Objective:
    """The score model's objective for its config's ``objective``."""
    return SCORE_OBJECTIVES.get(
        getattr(config, "objective", "denoising"), SCORE_OBJECTIVES["denoising"]
    )


NCSN_OBJECTIVE = Objective(
    "Weighted denoising score matching over noise levels",
    (
        Line(
            r"\mathcal{L} = \frac{1}{L}\sum_{i=1}^{L} \lambda(\sigma_i)\,\frac{1}{2}\mathbb{E}"
            r"\left\|s_\theta(\tilde x, \sigma_i) + \frac{\tilde x - x}{\sigma_i^2}\right\|^2",
            "loss",
            "one level drawn per point; sigma_1 > ... > sigma_L geometric",
            "",
        ),
        Line(r"\lambda(\sigma) = \sigma^2", note="so every level weighs the same"),
        Line(
            r"= \frac{1}{2}\,\mathbb{E}_i\,\mathbb{E}\,\|\sigma_i s_\theta(x + \sigma_i\epsilon,"
            r" \sigma_i) + \epsilon\|^2",
            note="the same loss: predict the noise",
        ),
        Line(LANGEVIN, note="sampling: annealed, a few steps at each sigma_i, largest first"),
    ),
    "Large noise levels connect the modes, small ones sharpen them: annealed Langevin "
    "goes from one to the other.",
    "Song & Ermon, Generative Modeling by Estimating Gradients of the Data Distribution, "
    "NeurIPS 2019, eqs. (5)-(6), section 3.2.2 and algorithm 1.",
)


def ddpm_objective(config: Any) -> Objective:
    """DDPM's simple loss (and the guidance classifier's loss when one is trained)."""
    lines = [
        Line(
            r"L_{\mathrm{simple}} = \mathbb{E}_{t, x_0, \epsilon}"
            r"\left\|\epsilon - \epsilon_\theta(x_t, t)\right\|^2",
            "loss",
            "mean over elements; t drawn uniformly from the T steps",
            "",
        ),
        Line(
            r"x_t = \sqrt{\bar\alpha_t}\,x_0 + \sqrt{1 - \bar\alpha_t}\,\epsilon,"
            r"\ \ \epsilon \sim \mathcal{N}(0, I)",
            note="the data noised to step t in one go",
        ),
        Line(
            r"\bar\alpha_t = (1 - \beta_1)(1 - \beta_2)\cdots(1 - \beta_t)",
            note="the noise schedule",
        ),
    ]
    if getattr(config, "guidance", "none") == "classifier":
        lines.append(
            Line(r"-\mathbb{E}\log p_\phi(y|x_t, t)", "classifier_loss", "the guidance classifier")
        )
    return Objective(
        "Denoising diffusion (simple loss)",
        tuple(lines),
        "The network predicts the noise that was added; the reverse process removes it "
        "step by step, from pure noise at t = T to a sample at t = 0.",
        "Ho, Jain & Abbeel, Denoising Diffusion Probabilistic Models, NeurIPS 2020, eqs. (4) "
        "and (14).",
    )
