"""The log-det picture of a flow: for a batch of test points, the base log-density and each
layer's mean log|det J| as bars, whose sum is minus the NLL shown beside them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .base import SnapshotContext

__all__ = ["LogDetBars", "log_det_bars", "picture", "LOG_DET_POINTS"]

#: test points averaged over (the session's fixed data samples)
LOG_DET_POINTS = 500


@dataclass(frozen=True)
class LogDetBars:
    """The change of variables of a flow, term by term, averaged over test points.

    ``log q(x) = log p_Z(z) + sum_k log|det J_k|`` (Dinh et al. 2016, eq. 3), so
    ``base + layers.sum() == -nll``.

    Attributes:
        names: ``L`` layer names in the data-to-base order (the order ``x`` meets them).
        base: mean ``log p_Z(f(x))`` over the points, nats.
        layers: ``(L,)`` float64, each layer's mean ``log|det J_k|``, nats.
        nll: ``-(base + layers.sum())``: the mean negative log-likelihood, nats.
        points: how many test points were averaged.
        from_model: the points are model samples (an energy target has no data).
    """

    names: tuple[str, ...]
    base: float
    layers: np.ndarray
    nll: float
    points: int
    from_model: bool


@torch.no_grad()
def log_det_bars(model, x: torch.Tensor, from_model: bool = False) -> LogDetBars:
    """Average the flow's change-of-variables terms over ``x``.

    Arguments:
        model: a model with the ``layers`` capability (``layer_log_dets``,
            ``layer_names``): a normalising flow.
        x: ``(n, 2)`` points on the model's device.
        from_model: ``x`` are model samples.

    Returns:
        A :class:`LogDetBars`; non-finite terms (a point off the flow's support) are
        dropped from every mean.
    """
    log_base, log_dets = model.layer_log_dets(x)
    terms = torch.cat([log_base[None], log_dets]).double().cpu()
    finite = torch.isfinite(terms).all(0)
    terms = terms[:, finite]
    means = terms.mean(1) if terms.shape[1] else torch.zeros(terms.shape[0], dtype=torch.float64)
    base, layers = float(means[0]), means[1:].numpy()
    return LogDetBars(
        names=tuple(reversed(model.layer_names())),
        base=base,
        layers=np.ascontiguousarray(layers),
        nll=-(base + float(layers.sum())),
        points=int(finite.sum()),
        from_model=from_model,
    )


def picture(ctx: SnapshotContext) -> LogDetBars:
    """The log-det bars of :data:`LOG_DET_POINTS` of the session's fixed data samples, or
    of as many model samples (seed ``seed + 5``) for a target without a sampler."""
    if ctx.overlay is not None:
        x = ctx.overlay[:LOG_DET_POINTS].to(ctx.device)
        return log_det_bars(ctx.model, x)
    rng = torch.Generator(device=ctx.device).manual_seed(ctx.seed + 5)
    with torch.no_grad():
        x = ctx.model.sample(LOG_DET_POINTS, rng)
    return log_det_bars(ctx.model, x, from_model=True)
