"""Samplers of the energy and score family: Langevin dynamics, MALA, annealed Langevin."""

from playground.core.sampling.langevin import (
    LangevinResult,
    annealed_langevin,
    geometric_sigmas,
    langevin,
    mala_log_acceptance,
    score_from_log_prob,
)

__all__ = [
    "LangevinResult",
    "annealed_langevin",
    "geometric_sigmas",
    "langevin",
    "mala_log_acceptance",
    "score_from_log_prob",
]
