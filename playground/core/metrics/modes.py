"""Mode coverage of samples from a mixture with known modes: VEEGAN's and PacGAN's metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["MODE_SAMPLES", "ModeCoverage", "mode_metrics", "mode_coverage"]

#: samples drawn from the generator to score it (VEEGAN and PacGAN use 2,500).
MODE_SAMPLES = 2500


@torch.no_grad()
def mode_metrics(
    samples: Tensor, means: Tensor, std: float, threshold: float = 3.0
) -> dict[str, int | float | list[int]]:
    """How many modes the samples cover, how many samples are good, how evenly they spread.

    A sample is *high quality* if its Euclidean distance to the nearest mode mean is at
    most ``threshold * std`` (the boundary counts: a sample exactly ``threshold * std``
    away is high quality). A mode is *captured* if it is the nearest mode of at least one
    high-quality sample. Samples that are NaN or infinite are never high quality.

    Arguments:
        samples: ``(n, 2)`` samples of the model, ``n >= 1`` (the papers use
            :data:`MODE_SAMPLES`).
        means: ``(k, 2)`` mode means (``Density2D.modes``).
        std: the per-mode standard deviation (``Density2D.mode_std``), in data units.
        threshold: the radius of a mode in standard deviations (3 in both papers).

    Returns:
        A dict with

        - ``modes_captured`` (int, ``0..k``): modes with at least one high-quality sample;
        - ``high_quality`` (float in ``[0, 1]``): the fraction of high-quality samples;
        - ``mode_kl`` (float, nats, in ``[0, log k]``): ``KL(h || uniform)``
          ``= sum_i h_i log(h_i k)`` with ``0 log 0 = 0``, where ``h`` is the normalised
          histogram of the high-quality samples over their nearest modes. With no
          high-quality sample ``h`` is undefined and ``mode_kl = log k``, the value of a
          point mass: the farthest any histogram is from uniform;
        - ``mode_counts`` (list of k ints): high-quality samples per mode.

    Raises:
        ValueError: the shapes are not ``(n, 2)`` with ``n >= 1`` and ``(k, 2)`` with
            ``k >= 1``.

    References:
        Srivastava et al., "VEEGAN: Reducing mode collapse in GANs using implicit
        variational learning", NeurIPS 2017, the 2D ring and grid experiments (modes
        captured, high-quality samples within three standard deviations).
        Lin et al., "PacGAN: The power of two samples in generative adversarial
        networks", NeurIPS 2018, the 2D-ring and 2D-grid experiments (the same metrics
        on 2,500 samples, plus the reverse KL, from the mode histogram to uniform).
    """
    if samples.ndim != 2 or samples.shape[0] < 1 or samples.shape[1] != 2:
        raise ValueError(f"samples must have shape (n, 2) with n >= 1, got {tuple(samples.shape)}")
    if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] != 2:
        raise ValueError(f"means must have shape (k, 2) with k >= 1, got {tuple(means.shape)}")
    x = samples.detach().double().cpu()
    mu = means.detach().double().cpu()
    k = mu.shape[0]
    # squared differences rather than cdist's matmul form, so a sample exactly on the
    # boundary compares exactly (cdist rounds)
    sq_dist = (x[:, None, :] - mu[None, :, :]).square().sum(-1)
    nearest_sq, nearest = sq_dist.min(dim=1)
    good = nearest_sq <= (threshold * std) ** 2  # NaN compares False
    counts = torch.bincount(nearest[good], minlength=k)
    n_good = int(counts.sum())
    if n_good == 0:
        kl = math.log(k)
    else:
        h = counts[counts > 0].double() / n_good
        kl = float((h * torch.log(h * k)).sum())
    return {
        "modes_captured": int((counts > 0).sum()),
        "high_quality": n_good / x.shape[0],
        "mode_kl": max(kl, 0.0),  # rounding can give -1e-17 for an exactly uniform h
        "mode_counts": [int(c) for c in counts],
    }


@dataclass(frozen=True)
class ModeCoverage:
    """The mode metrics of ``samples`` samples (VEEGAN / PacGAN definitions: 2,500).

    Attributes:
        counts: ``(k,)`` int64, high-quality samples per mode.
        means: ``(k, 2)`` float32 mode means.
        modes_captured, high_quality, mode_kl: see
            :func:`~mode_metrics`.
        samples: how many samples were scored (fewer in a preview).
    """

    counts: np.ndarray
    means: np.ndarray
    modes_captured: int
    high_quality: float
    mode_kl: float
    samples: int = MODE_SAMPLES


@torch.no_grad()
def mode_coverage(
    model, data, seed: int, device: torch.device, n: int = MODE_SAMPLES
) -> ModeCoverage:
    """Mode metrics of ``n`` model samples against the dataset's known modes."""
    g = torch.Generator(device=device).manual_seed(seed)
    x = model.sample(n, g).float().cpu()
    m = mode_metrics(x, data.modes, data.mode_std)
    return ModeCoverage(
        counts=np.asarray(m["mode_counts"], dtype=np.int64),
        means=data.modes.float().numpy(),
        modes_captured=int(m["modes_captured"]),
        high_quality=float(m["high_quality"]),
        mode_kl=float(m["mode_kl"]),
        samples=int(n),
    )
