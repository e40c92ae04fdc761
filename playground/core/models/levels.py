"""The records of a model's noise levels and noising process (the ``score`` and
``process`` capabilities): what the score views and the diffusion pictures read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import Tensor

__all__ = ["ScoreLevels", "NoiseProcess"]


@dataclass(frozen=True)
class ScoreLevels:
    """The noise levels a model's score is defined at (:meth:`GenerativeModel.score_levels`).

    The level ``i`` score estimates ``grad log`` of the density of
    ``signal_scale[i] x + noise_std[i] eps``, ``x`` from the data, ``eps ~ N(0, I)``.

    Attributes:
        values: ``(L,)`` what to pass as ``score``'s second argument: an NCSN's sigmas
            (float32), a DDPM's steps ``t`` (int64); CPU.
        noise_std: ``(L,)`` float32 noise std of each level, data units (a DDPM's
            ``sqrt(1 - abar_t)``).
        signal_scale: ``(L,)`` factor on the data at each level: a DDPM's
            ``sqrt(abar_t)`` (float64), else ones.
        labels: ``L`` names of the levels: ``t = 37`` (DDPM), ``sigma = 0.5``.
        conditional: whether ``score(x, values[i])`` takes the level; False for a
            denoising score model, whose one level is its config ``sigma`` and whose
            ``score(x)`` takes ``x`` only.
    """

    values: Tensor
    noise_std: Tensor
    signal_scale: Tensor
    labels: tuple[str, ...]
    conditional: bool


@dataclass(frozen=True)
class NoiseProcess:
    """How a diffusion model noises data, step ``k = 0..K`` (capability ``process``):
    ``x_k = signal_scale[k] x_0 + noise_std[k] eps``; ``k = 0`` is the data.

    Attributes:
        kind: ``ddpm`` (``K = T``, step ``k`` is ``t = k``) or ``ncsn`` (``K = L``, the
            levels in increasing order: ``k = 1`` is ``sigma_L``, the smallest).
        noise_std: ``(K + 1,)`` float64, data units: ``sqrt(1 - abar_t)`` (DDPM),
            ``sigma`` (NCSN); 0 at ``k = 0``.
        signal_scale: ``(K + 1,)`` float64: ``sqrt(abar_t)`` (DDPM), 1 (NCSN).
        labels: ``K + 1`` names: ``data`` at 0, then ``t = 37`` (DDPM) or
            ``sigma_3 = 1.25`` (NCSN, the model's own numbering: ``sigma_1`` largest).
        key: identifies the schedule, for caches of pictures that depend on it only.

    References:
        Ho, Jain and Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020,
        eq. (4); Song and Ermon, "Generative Modeling by Estimating Gradients of the Data
        Distribution", NeurIPS 2019, section 4.2.
    """

    kind: str
    noise_std: np.ndarray
    signal_scale: np.ndarray
    labels: list[str]
    key: tuple
