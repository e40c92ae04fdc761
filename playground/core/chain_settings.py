"""The Langevin chains view's settings: what the chains run, checked. Plain Python (no
torch), so the app's chains view can build its controls before torch is imported (the
window shows first)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CHAIN_SOURCES", "CHAIN_SAMPLERS", "CHAIN_STARTS", "ChainSettings"]

#: where the score comes from: the trained model, or the dataset's exact density
CHAIN_SOURCES = ("model", "exact")
#: unadjusted Langevin, Metropolis-adjusted Langevin, annealed Langevin
CHAIN_SAMPLERS = ("langevin", "mala", "annealed")
#: where the chains start: uniform on the data box, the prior N(0, I), data points
CHAIN_STARTS = ("uniform", "prior", "data")


_MAX_STEP = 10.0
_MAX_CHAINS = 2000
_MAX_STEPS_PER_FRAME = 1000
_MAX_STEPS_PER_LEVEL = 100_000


@dataclass(frozen=True)
class ChainSettings:
    """What the chains run; every field can change live.

    Attributes:
        source: ``model`` or ``exact`` (see :func:`chain_target`).
        sampler: ``langevin`` (unadjusted), ``mala`` (Metropolis-adjusted) or ``annealed``.
        step_size: ``eta`` in squared data units; for ``annealed`` it is ``epsilon``, the
            step at the smallest sigma (level ``i`` steps by ``epsilon (sigma_i/sigma_L)^2``).
        n_chains: number of chains.
        steps_per_frame: Langevin steps between two pictures.
        start: ``uniform`` (on the data box), ``prior`` (``N(0, I)``; ``N(0, sigma_1^2 I)``
            for ``annealed``) or ``data`` (data points).
        restart: a counter: a value the chains have not last seen restarts them, reseeded
            from ``seed + restart`` (the same counter repeats the same run).
        steps_per_level: ``T``, the annealed sampler's steps at each noise level.
    """

    source: str = "model"
    sampler: str = "langevin"
    step_size: float = 0.01
    n_chains: int = 200
    steps_per_frame: int = 5
    start: str = "uniform"
    restart: int = 0
    steps_per_level: int = 50

    def validated(self) -> ChainSettings:
        """These settings, checked.

        Raises:
            ValueError: an unknown source, sampler or start; ``step_size`` not in
                ``(0, 10]``; ``n_chains`` not in ``[1, 2000]``; ``steps_per_frame`` not in
                ``[1, 1000]``; ``steps_per_level`` not in ``[1, 100000]``; ``restart < 0``.
        """
        for name, value, valid in (
            ("source", self.source, CHAIN_SOURCES),
            ("sampler", self.sampler, CHAIN_SAMPLERS),
            ("start", self.start, CHAIN_STARTS),
        ):
            if value not in valid:
                raise ValueError(f"unknown chain {name} {value!r}; valid: {', '.join(valid)}")
        step = float(self.step_size)
        if not (math.isfinite(step) and 0.0 < step <= _MAX_STEP):
            raise ValueError(f"step_size must be in (0, {_MAX_STEP:g}], got {self.step_size}")
        for name, value, low, high in (
            ("n_chains", self.n_chains, 1, _MAX_CHAINS),
            ("steps_per_frame", self.steps_per_frame, 1, _MAX_STEPS_PER_FRAME),
            ("steps_per_level", self.steps_per_level, 1, _MAX_STEPS_PER_LEVEL),
            ("restart", self.restart, 0, None),
        ):
            is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if not is_int or value < low or (high is not None and value > high):
                span = f"[{low}, {high}]" if high is not None else f">= {low}"
                raise ValueError(f"{name} must be an integer in {span}, got {value!r}")
        return self
