"""Score models: score matching (implicit, sliced, denoising) and NCSN."""

from .models import OBJECTIVES, SAMPLERS, ScoreModel, ScoreNet
from .ncsn import NCSN, NoiseConditionalScoreNet
from .objectives import (
    PROJECTIONS,
    denoising_score_matching,
    denoising_target,
    implicit_score_matching,
    sliced_score_matching,
)

__all__ = [
    "ScoreModel",
    "NCSN",
    "ScoreNet",
    "NoiseConditionalScoreNet",
    "OBJECTIVES",
    "SAMPLERS",
    "PROJECTIONS",
    "implicit_score_matching",
    "sliced_score_matching",
    "denoising_target",
    "denoising_score_matching",
]
