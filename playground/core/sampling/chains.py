"""Live Langevin chains: their settings and their state from frame to frame (positions,
trails, MALA acceptance, the annealing level). What they sample is in :mod:`.targets`
(re-exported here); what a model offers them is in
:mod:`playground.core.snapshots.chains`."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import torch
from torch import Tensor

from ..chain_settings import CHAIN_SAMPLERS, CHAIN_STARTS, ChainSettings
from .langevin import langevin
from .targets import (
    CHAIN_SOURCES,
    CHECKERBOARD_SMOOTHING,
    EXACT_LEVELS,
    EXACT_SIGMA_MIN,
    ChainTarget,
    checkerboard_log_prob,
)

__all__ = [
    "CHAIN_SOURCES",
    "CHAIN_SAMPLERS",
    "CHAIN_STARTS",
    "ChainSettings",
    "ChainTarget",
    "LangevinChains",
    "checkerboard_log_prob",
    "EXACT_LEVELS",
    "EXACT_SIGMA_MIN",
    "CHECKERBOARD_SMOOTHING",
    "ACCEPTANCE_EMA",
]

#: the MALA acceptance rate shown is an exponential moving average over frames with
#: this weight on the newest frame (one frame is steps_per_frame x n_chains decisions)
ACCEPTANCE_EMA = 0.3


# ----------------------------------------------------------------------------- the chains


class LangevinChains:
    """The state of ``n`` Langevin chains from frame to frame.

    Each :meth:`advance` runs ``steps_per_frame`` steps of the chosen sampler and records
    the positions in a ring buffer of ``trail_length`` frames. Unadjusted Langevin:
    ``x <- x + (eta / 2) grad log p(x) + sqrt(eta) eps``; MALA adds the
    Metropolis-Hastings test (Roberts & Tweedie 1996); annealed Langevin (Song & Ermon
    2019, algorithm 1) runs ``steps_per_level`` steps at each level ``sigma_i`` with step
    ``epsilon (sigma_i / sigma_L)^2`` and the noised score ``s(x, sigma_i)``, then keeps
    running at ``sigma_L`` (step ``epsilon``). The chains restart (from ``settings.start``)
    on the first call and whenever the restart counter, ``n_chains``, ``start``,
    ``sampler``, ``source`` or the device change, reseeded from ``seed + restart``. A
    chain whose position is not finite after a frame restarts alone from a start point
    (counted in :attr:`restarted_non_finite`). Positions are never clamped.

    Arguments:
        seed: the seed of the chains' own rng.
        trail_length: frames kept for the trails, ``>= 2``.

    Attributes:
        x: ``(n, 2)`` float32 positions on the model's device (``(0, 2)`` before the first
            frame).
        acceptance_rate: MALA only: an exponential moving average over frames (weight
            :data:`ACCEPTANCE_EMA` on the newest) of the fraction of accepted proposals,
            in ``[0, 1]``; ``None`` for the other samplers.
        steps: Langevin steps since the restart.
        level: annealed only: the index ``0..L-1`` of the noise level of the last step.
        sigma: annealed only: that level's sigma (data units).
        restarted_non_finite: chains restarted since the last restart for non-finite
            positions.

    References:
        Roberts & Tweedie, "Exponential convergence of Langevin distributions and their
        discrete approximations", Bernoulli 1996 (ULA and MALA).
        Song & Ermon, "Generative modeling by estimating gradients of the data
        distribution", NeurIPS 2019, algorithm 1 (annealed Langevin dynamics).
    """

    def __init__(self, seed: int, trail_length: int = 16):
        if trail_length < 2:
            raise ValueError(f"trail_length must be >= 2, got {trail_length}")
        self.seed = int(seed)
        self.trail_length = int(trail_length)
        self.x: Tensor = torch.zeros(0, 2)
        self.acceptance_rate: float | None = None
        self.steps = 0
        self.level: int | None = None
        self.sigma: float | None = None
        self.restarted_non_finite = 0
        self._in_level = 0
        self._key: tuple | None = None
        self._generator: torch.Generator | None = None
        self._trail: deque[np.ndarray] = deque(maxlen=self.trail_length)

    def trail(self) -> np.ndarray:
        """``(L, n, 2)`` float32 positions of the last ``L <= trail_length`` frames since the
        restart, oldest first (the first is the start while it fits)."""
        if not self._trail:
            return np.zeros((0, self.x.shape[0], 2), dtype=np.float32)
        return np.stack(self._trail)

    def advance(
        self,
        target: ChainTarget,
        settings: ChainSettings,
        data_points: Tensor | None,
        box: tuple[float, float, float, float],
        *,
        device: torch.device | str | None = None,
    ) -> None:
        """Restart if needed, then run one frame of ``settings.steps_per_frame`` steps.

        Arguments:
            target: what the chains sample (:func:`playground.core.snapshots.chains.chain_target`).
            settings: the current settings.
            data_points: ``(m, 2)`` points for the ``data`` start (a ``uniform`` start is
                used when ``None`` or empty).
            box: ``(xmin, xmax, ymin, ymax)``, the ``uniform`` start's box.
            device: where the chains live (the model's device); default: that of
                ``data_points``, else the chains' current device.

        Raises:
            ValueError: bad settings, or a sampler the target cannot run (``mala`` without
                ``log_prob``, ``annealed`` without ``noised_score``).
        """
        settings = settings.validated()
        if settings.sampler == "mala" and target.log_prob is None:
            raise ValueError(f"MALA needs log p(x); {target.label} has none: use 'langevin'")
        if settings.sampler == "annealed" and (
            target.noised_score is None or target.sigmas is None
        ):
            raise ValueError(f"annealed Langevin needs noise levels; {target.label} has none")
        if device is None:
            device = data_points.device if data_points is not None else self.x.device
        device = torch.device(device)
        key = (
            settings.restart,
            settings.n_chains,
            settings.start,
            settings.sampler,
            settings.source,
            str(device),
        )
        if key != self._key:
            self._restart(key, target, settings, data_points, box, device)
        if settings.sampler == "annealed":
            self._annealed_frame(target, settings)
        else:
            self._plain_frame(target, settings)
        self._restart_non_finite(target, settings, data_points, box)
        self._trail.append(self.x.detach().float().cpu().numpy().copy())

    # -- internals

    def _restart(self, key, target, settings, data_points, box, device) -> None:
        self._key = key
        self._generator = torch.Generator(device=device).manual_seed(self.seed + settings.restart)
        self.x = self._start_points(settings.n_chains, target, settings, data_points, box, device)
        self.steps = 0
        self.acceptance_rate = None
        self.restarted_non_finite = 0
        self._in_level = 0
        annealed = settings.sampler == "annealed"
        self.level = 0 if annealed else None
        self.sigma = float(target.sigmas[0]) if annealed else None
        self._trail.clear()
        self._trail.append(self.x.cpu().numpy().copy())

    def _start_points(self, n, target, settings, data_points, box, device) -> Tensor:
        g = self._generator
        if settings.start == "data" and data_points is not None and len(data_points) > 0:
            points = data_points.detach().to(device=device, dtype=torch.float32)
            idx = torch.randint(0, points.shape[0], (n,), generator=g, device=device)
            return points[idx].clone()
        if settings.start == "prior":
            scale = 1.0
            if settings.sampler == "annealed" and target.sigmas is not None:
                scale = float(target.sigmas[0])
            return scale * torch.randn(n, 2, generator=g, device=device)
        xmin, xmax, ymin, ymax = (float(v) for v in box)
        u = torch.rand(n, 2, generator=g, device=device)
        lo = torch.tensor([xmin, ymin], device=device)
        hi = torch.tensor([xmax, ymax], device=device)
        return lo + (hi - lo) * u

    def _plain_frame(self, target: ChainTarget, settings: ChainSettings) -> None:
        mala = settings.sampler == "mala"
        result = langevin(
            target.score,
            self.x,
            float(settings.step_size),
            settings.steps_per_frame,
            self._generator,
            mala=mala,
            log_prob_fn=target.log_prob if mala else None,
        )
        self.x = result.x.float()
        self.steps += settings.steps_per_frame
        if mala and result.acceptance_rate is not None and math.isfinite(result.acceptance_rate):
            rate = float(result.acceptance_rate)
            old = self.acceptance_rate
            self.acceptance_rate = (
                rate if old is None else (1 - ACCEPTANCE_EMA) * old + ACCEPTANCE_EMA * rate
            )

    def _annealed_frame(self, target: ChainTarget, settings: ChainSettings) -> None:
        sigmas = [float(s) for s in target.sigmas]
        last = len(sigmas) - 1
        level = min(self.level or 0, last)
        remaining = settings.steps_per_frame
        while remaining > 0:
            if level < last and self._in_level >= settings.steps_per_level:
                level, self._in_level = level + 1, 0
                continue
            # past the last level the chains keep running at sigma_L
            todo = remaining if level == last else settings.steps_per_level - self._in_level
            k = min(remaining, todo)
            sigma = sigmas[level]
            alpha = float(settings.step_size) * (sigma / sigmas[-1]) ** 2
            result = langevin(
                lambda z, sigma=sigma: target.noised_score(z, sigma),
                self.x,
                alpha,
                k,
                self._generator,
            )
            self.x = result.x.float()
            self._in_level += k
            self.steps += k
            remaining -= k
        self.level, self.sigma = level, sigmas[level]

    def _restart_non_finite(self, target, settings, data_points, box) -> None:
        bad = ~torch.isfinite(self.x).all(dim=1)
        count = int(bad.sum())
        if count == 0:
            return
        fresh = self._start_points(count, target, settings, data_points, box, self.x.device)
        x = self.x.clone()
        x[bad] = fresh
        self.x = x
        self.restarted_non_finite += count
        # the restarted chains' trails start at their new position: no line to infinity
        rows = bad.cpu().numpy()
        new = fresh.float().cpu().numpy()
        for frame in self._trail:
            frame[rows] = new
