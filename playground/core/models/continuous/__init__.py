"""Continuous time: neural ODE flows (CNF, FFJORD) and flow matching."""

from .base import ContinuousConfig, ContinuousFlow
from .ode import (
    SOLVERS,
    AugmentedDynamics,
    CountedField,
    TimeMLP,
    exact_divergence,
    hutchinson_divergence,
    solve,
)

__all__ = [
    "ContinuousConfig",
    "ContinuousFlow",
    "SOLVERS",
    "AugmentedDynamics",
    "CountedField",
    "TimeMLP",
    "exact_divergence",
    "hutchinson_divergence",
    "solve",
]
