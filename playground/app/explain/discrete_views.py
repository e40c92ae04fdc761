"""What the views of discrete data show (issue 15): Conditionals, Codes, Waveforms and
Receptive field; merged into :data:`~.view_help.VIEW_HELP`."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

from .. import theme
from ..views.conditionals import JOINT_COLORMAP, SELECTED_COLOR, TARGET_COLOR, ConditionalsView
from ..views.conditionals_pixels import UNDRAWN_RGB
from .help_entry import ViewHelp
from .swatches import dot, glyph, ramp, square, stroke

__all__ = ["DISCRETE_VIEW_HELP"]

_VIRIDIS = pg.colormap.get("viridis")
_DATA, _MODEL = theme.DATA_COLOR, theme.MODEL_COLOR
_BLACK = QColor(15, 15, 15)

#: view name -> its explanation, for the views of discrete data
DISCRETE_VIEW_HELP: dict[str, ViewHelp] = {
    ConditionalsView.name: ViewHelp(
        "An autoregressive model's conditionals: the joint over the grid's cells, p(x1) and "
        "p(x2 | x1 = a); on images, a sample drawn pixel by pixel",
        (
            (ramp(JOINT_COLORMAP, 3), "plane, left: the model's P(x1, x2) of each cell"),
            (
                square(_MODEL),
                "plane, right: the model's p(x1) and p(x2 | x1 = a) as bars; the slider picks "
                "the bin a (outlined), whose column is framed on the left",
            ),
            (
                stroke(TARGET_COLOR),
                "blue steps: the same of the data's cell probabilities (by quadrature of the "
                "exact density, or a Monte Carlo estimate: the caption says which)",
            ),
            (
                stroke(SELECTED_COLOR),
                "images: the pixel drawn at this frame; the bars are its p(x_i | x_<i) over the "
                "levels, the level drawn in orange",
            ),
            (square(QColor(*UNDRAWN_RGB)), "images: pixels not drawn yet"),
            ("", "Play draws one pixel per frame, Pause stops, Restart takes the latest sample"),
        ),
    ),
    "code_usage": ViewHelp(
        "A VQ-VAE's codebook: how often each code is used on the test set (its perplexity "
        "above), how often the prior draws it, and code maps of test images and of the prior",
        (
            (
                "",
                "bars: each code's share of the test set's code positions, each code in its "
                "own colour; perplexity exp H(usage) counts the codes in effective use",
            ),
            (dot(_BLACK), "dots: the code's share of 256 code maps drawn from the prior"),
            (stroke(_BLACK, "\u2505\u2505"), "dashed: the uniform share 1 / K"),
            (
                "",
                "maps: each test image beside the code chosen at each position (cell colour "
                "and number as in the bars), and maps drawn from the prior beside their "
                "decoding; a uniform prior's maps ignore which codes go together",
            ),
        ),
    ),
    "waveforms": ViewHelp(
        "A sequence model's samples beside data sequences, and the spectrogram of each",
        (
            (
                stroke(_MODEL),
                "top left: the model's sequences against time (ms), mu-law companded "
                "amplitude; the first thick, its spectrogram on the right",
            ),
            (stroke(_DATA), "bottom left: data sequences, the same way"),
            (
                ramp(_VIRIDIS),
                "spectrograms: power in dB of the raw (mu-law decoded) amplitude, frequency "
                "(Hz) against time; one scale for both, 60 dB deep (yellow loud, dark quiet)",
            ),
            (
                "",
                "a model that has learned the data draws the same few bright bands, each "
                "fading with its envelope",
            ),
        ),
    ),
    "receptive_field": ViewHelp(
        "Where an autoregressive model looks: how one output's conditional p(x_i | x_<i) "
        "depends on each input pixel (or time step) of test examples",
        (
            (
                ramp(pg.colormap.get("inferno")),
                "images: |d log p(x_i | x_<i) / d x_j| relative to the strongest, log scale "
                "(black: none); click a pixel or set row and column to choose the output",
            ),
            (stroke(theme.CONTOUR_COLOR), "red frame (line on sequences): the chosen output"),
            (square("#c8c8c8"), "grey: the output and all after it, which it must not see"),
            (
                glyph(QColor(0, 200, 255), "\u00d7"),
                "crosses: pixels before the output that it cannot see. PixelCNN's blind "
                "spot is the wedge up and to the right; Gated PixelCNN has none",
            ),
            (
                "",
                "sequences: the same over the earlier time steps, the receptive field "
                "(the steps it sees) shaded",
            ),
        ),
    ),
}
