"""What the Dirac-GAN view shows (Mescheder et al. 2018, the convergence of GAN training);
merged into :data:`~.view_help.VIEW_HELP`."""

from __future__ import annotations

from PySide6.QtGui import QColor

from ..views.dirac_field import (
    ARROW_COLOR,
    CLIP_COLOR,
    EQUILIBRIUM_COLOR,
    PATH_COLOR,
    POINT_COLOR,
    DiracFieldView,
)
from .help_entry import ViewHelp
from .swatches import dot, glyph, stroke

__all__ = ["DIRAC_VIEW_HELP"]

#: view name -> its explanation
DIRAC_VIEW_HELP: dict[str, ViewHelp] = {
    DiracFieldView.name: ViewHelp(
        "The Dirac-GAN's training on its two parameters: the gradient field of the chosen "
        "loss and regulariser, and the path training took on it",
        (
            (
                stroke(QColor(*ARROW_COLOR), "\u2192"),
                "arrows: v = (−∂L_G/∂θ, −∂L_D/∂ψ), where gradient descent moves (θ, ψ) "
                "from each point (instance noise averaged out)",
            ),
            (
                stroke(PATH_COLOR),
                "the training path, from the start (hollow circle, (θ₀, ψ₀)) to now",
            ),
            (dot(POINT_COLOR), "now: the generator's point θ and the critic's slope ψ"),
            (
                glyph(EQUILIBRIUM_COLOR, "\u2605"),
                "the equilibrium (0, 0): G puts its point on the data, D is flat",
            ),
            (
                stroke(CLIP_COLOR, "\u2505\u2505"),
                "WGAN: ψ is clipped to [−1, 1] after every critic step",
            ),
            (
                "",
                "simultaneous steps spiral out, alternating steps circle the equilibrium, "
                "R1, R2 and instance noise (on a classifier loss) spiral in",
            ),
        ),
    ),
}
