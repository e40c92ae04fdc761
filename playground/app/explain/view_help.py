"""What each view shows: a one-line summary (the tab's tooltip) and what every colour,
arrow, line and marker of it means, read from the view modules' own colours.

One entry per view of :data:`~playground.app.views.VIEWS`, keyed by the view's name
(``tests/test_explain.py`` checks that every view has one)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

from .. import theme
from ..views import (
    ChainsView,
    CriticView,
    CurvesView,
    DensityView,
    DiffusionView,
    EnergyView,
    ExplorerView,
    FokkerPlanckView,
    ImageGridView,
    InterpolationView,
    LatentSpaceView,
    LogDetView,
    ManifoldView,
    ModesView,
    OdeFlowView,
    PathsView,
    ReconstructionsView,
    ReverseStripView,
    SamplesView,
    ScoreFieldView,
    SDEvsODEView,
    SolverCostView,
    TrajectoryView,
    TraversalView,
)
from ..views.chains import BACKGROUND_MAP
from ..views.critic import CRITIC_COLORMAP
from ..views.diffusion import DENSITY_COLORMAP
from ..views.energy import BUFFER_COLOR, ENERGY_COLORMAP
from ..views.fokker_planck import DENSITY_MAP as FP_DENSITY_MAP
from ..views.latent_space import LABEL_COLORS
from ..views.modes import CAPTURED_COLOR, MISSED_COLOR
from ..views.ode_flow import DENSITY_COLORMAP as ODE_DENSITY_MAP
from ..views.solver_cost import ADJOINT_COLOR, BACKPROP_COLOR, BACKWARD_COLOR, FORWARD_COLOR
from .dirac_views import DIRAC_VIEW_HELP
from .discrete_views import DISCRETE_VIEW_HELP
from .help_entry import ViewHelp
from .swatches import dot, glyph, ramp, square, stroke

__all__ = ["ViewHelp", "VIEW_HELP", "help_html"]


_VIRIDIS = pg.colormap.get("viridis")
_DATA, _MODEL = theme.DATA_COLOR, theme.MODEL_COLOR
_BLACK = QColor(15, 15, 15)

VIEW_HELP: dict[str, ViewHelp] = {
    DensityView.name: ViewHelp(
        "The model's density over the plane, with the target's contours over it",
        (
            (
                ramp(_VIRIDIS),
                "colour: the model's log q(x) in nats, the top 10 nats (yellow "
                "high, purple low); 'p' shows q(x) / max q instead",
            ),
            (
                stroke(theme.CONTOUR_COLOR),
                "the target's contours, 1, 3 and 6 nats below its "
                "highest log-density (where the target's density is exact)",
            ),
            (
                dot(theme.CONTOUR_COLOR),
                "data points, drawn instead where the target has no exact density",
            ),
            (
                "",
                "a latent model's log q(x) is an IWAE estimate (the caption says so); an "
                "EBM's picture is -E(x) = log p + log Z, whose level is arbitrary",
            ),
        ),
    ),
    EnergyView.name: ViewHelp(
        "An EBM's energy E(x), with the data, the replay buffer and the latest negatives",
        (
            (
                ramp(ENERGY_COLORMAP),
                "colour: E(x) in nats, shifted to minimum 0: white = low "
                "energy = likely; the scale tops out at the 95th percentile",
            ),
            (dot(_DATA), "training data (large blue discs): low energy should sit under them"),
            (dot(BUFFER_COLOR), "replay buffer (small green dots): the persistent Langevin chains"),
            (
                glyph(_MODEL, "\u25b2"),
                "negatives (orange triangles): "
                "the last step's Langevin samples, whose energy the loss pushes up",
            ),
        ),
    ),
    SamplesView.name: ViewHelp(
        "Model samples against data samples, on the dataset's box",
        (
            (dot(_DATA), "data samples"),
            (dot(_MODEL), "model samples: they should cover the data, no more and no less"),
        ),
    ),
    DiffusionView.name: ViewHelp(
        "The forward (noising) and learned reverse (denoising) processes, step by step",
        (
            (
                ramp(DENSITY_COLORMAP, 3),
                "shading: log pi(x | k), the density of the data "
                "noised to the slider's step (exact or Monte-Carlo, as the caption says)",
            ),
            (dot(_DATA), "forward q: data points noised to step k (data \u2192 noise)"),
            (
                dot(_MODEL),
                "reverse p\u03b8: the model's particles at step k, denoised from "
                "pure noise (noise \u2192 data)",
            ),
            ("", "slider: the step, 0 = data, right end = pure noise; Play sweeps it"),
        ),
    ),
    SDEvsODEView.name: ViewHelp(
        "A diffusion model's two samplers from the same noise: the reverse-time SDE and the "
        "probability-flow ODE, at any time t",
        (
            (
                dot(QColor.fromHsv(200, 200, 215)),
                "particles, coloured by where each one starts (the same start in both plots)",
            ),
            (
                "",
                "left: Euler-Maruyama on dx = [f - g\u00b2 s(x, t)] dt + g dw: fresh noise "
                "every step, so particles jitter and may cross",
            ),
            (
                "",
                "right: the probability-flow ODE dx/dt = f - g\u00b2 s(x, t) / 2: deterministic, "
                "the same marginals p_t, smooth paths that never cross",
            ),
            (dot(QColor(150, 150, 150)), "grey: data"),
            ("", "slider: the time, 0 = the sample (denoised), right end = the noise; Play"),
        ),
    ),
    TrajectoryView.name: ViewHelp(
        "A flow's layers one by one: a warped grid and particles, with a layer slider",
        (
            (
                stroke(theme.GRID_COLOR),
                "a regular grid pushed through the layers up to the "
                "slider: how each layer stretches and folds the plane",
            ),
            (
                dot(_MODEL),
                "particles: base samples z pushed to x (sampling), or data points x "
                "pushed to z (density)",
            ),
            ("", "slider: the layer; 0 is where the particles start"),
        ),
    ),
    OdeFlowView.name: ViewHelp(
        "A continuous-time flow dx/ds at any time s, from the base (s = 0) to the data (s = 1)",
        (
            (
                ramp(ODE_DENSITY_MAP, 3),
                "shading: log p_s(x), the flow's density at time s, by the instantaneous change "
                "of variables solved back to s = 0 (stored at a few times: the nearest shown)",
            ),
            (dot(_MODEL), "particles: base draws moved by the ODE up to time s"),
            (stroke(theme.GRID_COLOR), "a regular grid of the base space moved the same way"),
            (
                stroke(_BLACK, "\u2192"),
                "arrows: the velocity dx/ds at time s, one scale for every s (the longest capped)",
            ),
            (dot(QColor(_DATA.red(), _DATA.green(), _DATA.blue(), 70)), "light blue: data"),
            ("", "slider: the time s; Play sweeps it base \u2192 data or back"),
        ),
    ),
    PathsView.name: ViewHelp(
        "Flow matching: learned sample paths beside the conditional paths it trained on",
        (
            (stroke(_MODEL), "left: base draws moved by the learned ODE (grey start, orange end)"),
            (
                stroke(_DATA),
                "middle: conditional paths of training pairs (grey source, blue target)",
            ),
            (
                "",
                "straightness in each title: mean |x(s) - ((1-s) x(0) + s x(1))|\u00b2; 0 for "
                "straight paths, which one Euler step samples exactly (reflow lowers it)",
            ),
            (
                dot(_MODEL),
                "right: samples of N Euler steps of the learned field over the data; the slider "
                "sets N = 1, 2, 4, ...",
            ),
        ),
    ),
    SolverCostView.name: ViewHelp(
        "What the ODE solver costs per training step: evaluations, seconds, memory",
        (
            (
                stroke(FORWARD_COLOR),
                "NFE of the forward solve (dopri5's grows as the field sharpens)",
            ),
            (
                stroke(BACKWARD_COLOR, "\u2505\u2505"),
                "dashed: NFE of the adjoint's backward solve (adjoint on only)",
            ),
            (
                dot(ADJOINT_COLOR) + dot(BACKPROP_COLOR),
                "seconds (and peak memory where measured) of each step against its NFE: "
                "purple with the adjoint, green by backpropagation through the solver",
            ),
        ),
    ),
    LogDetView.name: ViewHelp(
        "A flow's change of variables term by term: log q(x) = log p_Z(f(x)) + sum log|det J|",
        (
            (square(_DATA), "the base term log p_Z(f(x)): the N(0, I) log-density at z = f(x)"),
            (
                square(_MODEL),
                "each layer's mean log|det J| in data-to-base order: positive "
                "spreads points out, negative squeezes them",
            ),
            ("", "the bars sum to log q(x) = -NLL, written above them"),
        ),
    ),
    ScoreFieldView.name: ViewHelp(
        "The model's score s(x, sigma) beside the target's true score, one noise level at a time",
        (
            (
                stroke(_BLACK, "\u2192"),
                "arrows: left the model's score, right the true score grad log p_sigma(x) "
                "of the data noised to that level (exact, or estimated from samples: the "
                "plot's title and the caption say which), at one shared scale (the longest "
                "~5% capped)",
            ),
            (dot(QColor(_DATA.red(), _DATA.green(), _DATA.blue(), 60)), "light blue: data"),
            ("", "slider: the noise level sigma, largest on the left"),
        ),
    ),
    ChainsView.name: ViewHelp(
        "Langevin chains following the model's (or the exact) score over the density",
        (
            (ramp(BACKGROUND_MAP, 3), "background: log p (or -E for an EBM), darker = likelier"),
            (dot(_MODEL), "the chains' current positions"),
            (stroke(_MODEL), "their trails, older segments fainter"),
            (
                "",
                "x += (eta/2) grad log p + sqrt(eta) eps; MALA adds an accept test, annealed "
                "Langevin walks down the noise levels; the caption counts modes visited",
            ),
        ),
    ),
    CriticView.name: ViewHelp(
        "The discriminator's D(x) (or the critic's value) over the plane, real and fake samples",
        (
            (
                ramp(CRITIC_COLORMAP),
                "colour: D(x), the probability that x is real (white = 1/2, green real, "
                "purple fake), over the range of the values present (the caption gives it); "
                "for a critic value, green = higher: only differences matter",
            ),
            (dot(_DATA), "real data (white-rimmed blue discs)"),
            (dot(_MODEL), "fake samples G(z)"),
            (
                stroke(_BLACK, "\u2192"),
                "generator gradients (toggle): where the next generator update moves each "
                "fake, -dL_G/dx (black arrows, white rim)",
            ),
        ),
    ),
    ManifoldView.name: ViewHelp(
        "A regular latent grid pushed through the generator: how G folds the plane",
        (
            (stroke(QColor(40, 40, 40)), "G(latent grid): the image of a regular 2D grid of z"),
            (dot(QColor(150, 185, 225)), "real data"),
            (dot(_MODEL), "fake samples G(z)"),
            ("", "only for a 2D latent; otherwise the view says why"),
        ),
    ),
    ImageGridView.name: ViewHelp(
        "Generated images from a fixed latent batch, beside training images",
        (
            (
                "",
                "left: model samples from the same latents every frame, so you watch them "
                "improve; right: training images",
            ),
            ("", "InfoGAN: one row per value of the categorical code"),
        ),
    ),
    InterpolationView.name: ViewHelp(
        "Images decoded along straight or spherical paths between fixed pairs of latents",
        (("", "each row walks from one latent (left) to another (right); lerp or slerp"),),
    ),
    ReverseStripView.name: ViewHelp(
        "The reverse diffusion process of an image model, from noise to sample",
        (
            (
                "",
                "each row is one chain: x_T (pure noise) on the left to the sample on the "
                "right; t above each column",
            ),
            ("", "class labels at the left when each row is guided to a class"),
        ),
    ),
    TraversalView.name: ViewHelp(
        "Latent traversals: one latent dimension swept from -3 to +3 prior std at a time",
        (
            (
                "",
                "images: one row per dimension (most KL first, its KL in the label), columns "
                "from -3 to +3 around the anchor's posterior mean",
            ),
            (
                "".join(square(c) for c in theme.CURVE_COLORS[:3]),
                "plane: each dimension's sweep, decoded, as a coloured line with dots",
            ),
            ("\u2606", "the anchor: the test point the sweeps start from"),
            (dot(QColor(150, 185, 225)), "data"),
        ),
    ),
    ReconstructionsView.name: ViewHelp(
        "Test inputs and their reconstructions decode(posterior mean)",
        (
            ("", "images: inputs above, reconstructions below"),
            (dot(_DATA), "plane: inputs"),
            (dot(_MODEL), "plane: reconstructions"),
            (stroke(QColor(150, 150, 150)), "grey segment: joins each input to its reconstruction"),
        ),
    ),
    LatentSpaceView.name: ViewHelp(
        "Posterior means of test points, beside the prior p(z) and the aggregate posterior q(z)",
        (
            (
                "".join(dot(c) for c in LABEL_COLORS[:5]),
                "posterior means in the two most-used dimensions, coloured by class",
            ),
            (
                ramp(_VIRIDIS),
                "prior log p(z) and aggregate posterior log q(z), on one scale (the "
                "top 12 nats): holes in q where p is high decode to nothing seen in training",
            ),
        ),
    ),
    ExplorerView.name: ViewHelp(
        "One decoded image: move one latent dimension from an anchor's code with the slider",
        (("", "slider: the offset from the anchor's posterior mean, in prior std"),),
    ),
    CurvesView.name: ViewHelp(
        "The loss terms and held-out metrics against the training step, in up to four panels",
        (
            (
                "",
                "panels: the training objective, the held-out fit to the data (lower is "
                "better), sample quality and coverage, training diagnostics",
            ),
            (
                "".join(square(c) for c in theme.CURVE_COLORS[:3]),
                "lines: training terms, every step (the legend above each plot names them)",
            ),
            (dot(theme.CURVE_COLORS[0]), "dots joined by a thin line: held-out evaluations"),
            (
                stroke("#000000", "\u2505\u2505"),
                "dashed: a reference level, e.g. the target's entropy (the lowest NLL any "
                "model can reach); grey band: the MMD between two data samples",
            ),
            ("", "'Log y axes': logarithmic where all values are positive"),
        ),
    ),
    ModesView.name: ViewHelp(
        "Mode coverage: high-quality samples per mode, modes captured and missed",
        (
            (square(CAPTURED_COLOR), "a captured mode"),
            (square(MISSED_COLOR), "a missed mode"),
            (stroke("#000000", "\u2505\u2505"), "dashed: an even share of the samples"),
            ("", "high quality: within 3 std of a mode mean; mode KL compares the shares"),
        ),
    ),
    FokkerPlanckView.name: ViewHelp(
        "An SDE's density p_t beside a histogram of particles that follow it, in time",
        (
            (
                ramp(FP_DENSITY_MAP),
                "left: p_t, Langevin dynamics dX = grad log pi dt + sqrt(2) dW solved by "
                "the Fokker-Planck equation dp/dt = div(pi grad(p / pi)) on the grid (or a "
                "DDPM's forward SDE in closed form); right: the particles' histogram, same "
                "colour scale (0 to the largest p_t)",
            ),
            (
                "",
                "caption: the total-variation distance between the two panels, what a "
                "histogram of as many exact draws would show (sampling noise), and the "
                "distance of p_t to the stationary density (pi, or N(0, I))",
            ),
            (
                "",
                "gmm82: Langevin dynamics cannot cross between its far modes, so p_t keeps "
                "the start's split (1/2, 1/2) instead of (0.8, 0.2); both panels agree",
            ),
            ("", "slider: the time t of the SDE; Play sweeps it once"),
        ),
    ),
    **DISCRETE_VIEW_HELP,
    **DIRAC_VIEW_HELP,
}


def help_html(name: str) -> str:
    """The HTML of view ``name``'s explanation: its summary, then a table of its keys."""
    entry = VIEW_HELP.get(name)
    if entry is None:
        return ""
    rows = "".join(
        f"<tr><td style='padding-right:8px' valign='top'><big>{key}</big></td>"
        f"<td valign='top'>{text}</td></tr>"
        for key, text in entry.items
    )
    return f"<p>{entry.summary}.</p><table cellspacing='4'>{rows}</table>"
