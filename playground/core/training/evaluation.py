"""Held-out evaluation of a session's model: the metrics of its family and data, and the
names they are recorded under in the history."""

from __future__ import annotations

from typing import Any

import torch

from ..data.discrete import bits_per_dim
from ..metrics.density import density_metrics, image_metrics
from ..metrics.disentanglement import disentanglement_metrics
from ..metrics.latent import latent_metrics
from ..metrics.modes import mode_coverage, mode_metrics
from ..metrics.samples import SAMPLE_METRIC_N, guidance_accuracy, sample_metrics
from ..metrics.transport import W2_N, w2

__all__ = [
    "heldout_metrics",
    "discrete_metrics",
    "transport_metrics",
    "history_values",
    "HELDOUT_NAMES",
    "SAMPLE_METRIC_FAMILIES",
]

#: families whose held-out metrics are sample-based: MMD to the data (and mode weights)
SAMPLE_METRIC_FAMILIES = ("diffusion", "score", "energy")
#: history names of held-out metrics that share a name with a training loss term
HELDOUT_NAMES = {
    "nll": "heldout_nll",
    "reverse_kl": "heldout_reverse_kl",
    "elbo": "test_elbo",
    "kl": "test_kl",
    "reconstruction": "test_reconstruction",
    "bits_per_dim": "test_bits_per_dim",
}


def heldout_metrics(
    model: Any, data: Any, objective: str, n: int, seed: int, device: torch.device
) -> dict[str, Any]:
    """Held-out metrics in nats of ``model`` on ``data``.

    A latent model: its bounds (:func:`~..metrics.latent.latent_metrics`, on ``n // 4``
    points), and on the plane the density metrics of its IWAE estimate; an image model: the
    class metrics of its samples; otherwise :func:`~..metrics.density.density_metrics`.
    The sample-based families (:data:`SAMPLE_METRIC_FAMILIES`) add MMD to the data on
    ``min(n // 5, 2000)`` samples and a MALA sampler its acceptance rate; a guided model its
    ``guidance_accuracy``; data with known modes the mode metrics (from the MMD's samples
    where there are some: a long chain samples once).
    On an image or sequence set, a model with a likelihood of discrete data adds
    ``bits_per_dim`` (:func:`discrete_metrics`).
    A flow-matching model (capability ``paths``) adds ``w2``, the exact 2-Wasserstein
    distance of :data:`~..metrics.transport.W2_N` samples to as many data samples, and its
    floor ``w2_data`` (:func:`transport_metrics`).

    Arguments:
        model: the model, put in eval mode.
        data: the session's dataset.
        objective: ``forward_kl``, ``reverse_kl`` or the model's own.
        n: fresh samples of the density metrics.
        seed: the session's seed (each metric draws from a fixed offset of it).
        device: the model's device.

    Returns:
        Metric name to a float, or a list (``mode_weights``) or a dict (``factor_r``).
    """
    model.eval()
    if "latent" in model.capabilities:
        out = latent_metrics(model, data, seed, device, max(n // 4, 100))
        out.update(disentanglement_metrics(model, data, seed, device))  # shapes: mig, ...
        if not data.is_image:
            out.update(density_metrics(model, data, "forward_kl", n, seed, device))
    elif data.is_image:
        out = image_metrics(model, data, seed, device)
    elif data.kind == "plane":
        out = density_metrics(model, data, objective, n, seed, device)
    elif data.kind == "point":  # the Dirac-GAN's data: its distance to the equilibrium
        from ..metrics.equilibrium import equilibrium_metrics

        out = equilibrium_metrics(model, data, device)
    else:  # a sequence set: its likelihood is discrete_metrics' bits_per_dim
        out = {}
    samples = None
    if model.family in SAMPLE_METRIC_FAMILIES and data.kind == "plane":
        # MMD on fewer samples when evaluating often (the app): n // 5, at most 2,000
        m = min(SAMPLE_METRIC_N, max(n // 5, 200))
        g = torch.Generator(device=device).manual_seed(seed + 9)
        with torch.no_grad():
            samples = model.sample(m, g).float().cpu()
        out.update(sample_metrics(samples, data, seed))
        acceptance = model.last_acceptance_rate
        if acceptance is not None:  # a MALA sampler: the fraction of accepted proposals
            out["acceptance_rate"] = float(acceptance)
    if data.kind == "plane" and "samples" in model.capabilities and data.can_sample:
        # grid_kl, grid_js (GAN Lab's grid) and mmd_p_value: on the MMD's samples where a
        # long chain drew them; a one-pass sampler is cheap, so it draws the full count
        from ..metrics.two_sample import plane_sample_metrics

        plane = samples
        if plane is None:
            g = torch.Generator(device=device).manual_seed(seed + 9)
            with torch.no_grad():
                plane = model.sample(SAMPLE_METRIC_N, g).float().cpu()
        out.update(plane_sample_metrics(plane, data, seed))
    if "paths" in model.capabilities and data.kind == "plane":
        out.update(transport_metrics(model, data, seed, device))
    if data.kind != "plane":
        out.update(discrete_metrics(model, data, seed, device))
    if data.is_image and "latent" in model.capabilities:
        # fid, precision, recall, classifier_score (other image models: in image_metrics)
        from ..metrics.image_quality import image_quality_metrics

        out.update(image_quality_metrics(model, data, seed, device))
    if model.needs_labels:
        out["guidance_accuracy"] = guidance_accuracy(model, data, max(n // 100, 20), seed, device)
    if samples is not None and data.modes is not None:
        # a sampler that runs a long chain (NCSN: 2,250 Langevin steps) samples once
        # for both the MMD and the mode metrics
        m = mode_metrics(samples, data.modes, data.mode_std)
        for k in ("modes_captured", "high_quality", "mode_kl"):
            out[k] = m[k]
    elif data.modes is not None and "samples" in model.capabilities:
        coverage = mode_coverage(model, data, seed + 7, device)
        out["modes_captured"] = coverage.modes_captured
        out["high_quality"] = coverage.high_quality
        out["mode_kl"] = coverage.mode_kl
    return out


def discrete_metrics(model: Any, data: Any, seed: int, device: torch.device) -> dict[str, float]:
    """``bits_per_dim``: the model's :meth:`discrete_nll` of the test set (``data.test_examples``,
    in batches of 500) in bits per dimension of the discrete data; an empty dict for a model
    without one (a GAN) or data without a level grid. The rng of a stochastic bound
    (dequantisation noise, importance samples) is a generator seeded from ``seed``.

    Arguments:
        model: the model.
        data: an image or sequence set.
        seed: the session's seed.
        device: the model's device.
    """
    if data.levels is None:
        return {}
    x = data.test_examples
    g = torch.Generator(device=device).manual_seed(50_000 + seed)
    total, dims = 0.0, x[0].numel()
    with torch.no_grad():
        for chunk in x.split(500):
            nll = model.discrete_nll(chunk.to(device), g)
            if nll is None:
                return {}
            total += float(nll.double().sum())
    return {"bits_per_dim": bits_per_dim(total / len(x), dims)}


def transport_metrics(model: Any, data: Any, seed: int, device: torch.device) -> dict[str, float]:
    """``w2``: the exact 2-Wasserstein distance (data units; POT's ``ot.emd2``, see
    :func:`~..metrics.transport.w2`) between :data:`~..metrics.transport.W2_N` model samples
    and as many data samples; ``w2_data``: the same between those data samples and
    :data:`~..metrics.transport.W2_N` others, the floor a perfect model would be at (finite
    samples are never 0 apart: about 0.17 on ``moons``). About 0.7 s of one core each, so
    only flow matching, whose one-step samples the issue measures, reports them.

    Arguments:
        model: a model that samples on the plane.
        data: a 2D density with an exact sampler.
        seed: the session's seed (draws from fixed offsets of it).
        device: the model's device.
    """
    g = torch.Generator(device=device).manual_seed(seed + 11)
    with torch.no_grad():
        samples = model.sample(W2_N, g).float().cpu()
    reference = data.sample(W2_N, torch.Generator().manual_seed(30_000 + seed))
    other = data.sample(W2_N, torch.Generator().manual_seed(30_001 + seed))
    return {"w2": w2(samples, reference), "w2_data": w2(other, reference)}


def history_values(metrics: dict[str, Any]) -> dict[str, float]:
    """``metrics`` under the names the history records them: a list becomes one value per
    index (``mode_weights_0``), a dict one per key (``factor_r_x``), and names shared with
    a training loss term get their held-out name (``nll`` -> ``heldout_nll``, see
    :data:`HELDOUT_NAMES`); ``None`` values, strings and flags are left out."""
    flat: dict[str, float] = {}
    for k, v in metrics.items():
        if v is None or isinstance(v, (str, bool)):
            continue
        if isinstance(v, dict):
            flat.update({f"{k}_{name}": float(x) for name, x in v.items() if x is not None})
        elif isinstance(v, (list, tuple)):
            flat.update({f"{k}_{i}": float(x) for i, x in enumerate(v) if x is not None})
        else:
            flat[HELDOUT_NAMES.get(k, k)] = float(v)
    return flat
