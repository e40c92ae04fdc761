"""``cnf``: a continuous normalizing flow with the exact trace (Chen et al. 2018)."""

from __future__ import annotations

from typing import ClassVar

from .likelihood import LikelihoodConfig, LikelihoodFlow

__all__ = ["CNF", "CNFConfig"]

CNFConfig = LikelihoodConfig


class CNF(LikelihoodFlow):
    """A continuous normalizing flow ``dz/dt = f(t, z)`` on ``[0, 1]``, trained by maximum
    likelihood with the exact trace ``tr(df/dz)`` (two autograd calls per evaluation in 2D).

    ``log p_1(x) = log N(z(0); 0, I) - int_0^1 tr(df/dz(t, z(t))) dt`` along the path that
    ends at ``x``; :meth:`train_step` minimises its negative batch mean (see
    :class:`~.likelihood.LikelihoodFlow`).

    References:
        Chen et al., "Neural Ordinary Differential Equations", NeurIPS 2018, theorem 1
        (the instantaneous change of variables) and section 4.
    """

    name: ClassVar[str] = "cnf"
    description: ClassVar[str] = "continuous normalizing flow, exact trace (Chen et al. 2018)"
    Config: ClassVar[type] = CNFConfig
    trace: ClassVar[str] = "exact"
