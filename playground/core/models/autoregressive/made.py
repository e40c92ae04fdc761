"""MADE as a model of discrete data: binned 2D points on a K x K grid, or the pixels of a
small image set, each dimension a categorical given those before it, with order- and
connectivity-agnostic training."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...data.grid import Grid
from ...hyperparameters import hp
from ..base import TrainingConfig, lr_decay_hp
from ..flows.made import MaskedLinear, made_masks
from .base import AutoregressiveModel

__all__ = ["MADEModel", "sampled_masks", "ORDER_SEED", "MASK_SEED"]

#: ordering ``o >= 1`` is the permutation drawn from a generator seeded ``ORDER_SEED + o``
ORDER_SEED = 7_000
#: mask set ``m >= 1`` has the hidden degrees drawn from a generator seeded ``MASK_SEED + m``
MASK_SEED = 9_000


def sampled_masks(
    input_degrees: Tensor, hidden: int, depth: int, n_params: int, g: torch.Generator
) -> list[Tensor]:
    """The masks of a MADE whose hidden degrees are drawn at random (connectivity-agnostic
    training): layer ``l``'s unit ``k`` has degree ``m^l(k)`` uniform on
    ``min_k' m^{l-1}(k') .. D - 1``; connections follow the degree rule of
    :func:`~playground.core.models.flows.made.made_masks`.

    Arguments:
        input_degrees: ``(D,)`` a permutation of ``1..D``.
        hidden, depth: units per hidden layer and hidden layers.
        n_params: outputs per input dimension (output ``p * D + i`` has input ``i``'s degree).
        g: the generator of the degrees.

    Returns:
        ``depth + 1`` float masks ``(out, in)``.

    References:
        Germain et al., "MADE: Masked Autoencoder for Distribution Estimation", ICML 2015,
        section 4.2 and equations (12)-(13).
    """
    d = input_degrees.numel()
    top = max(d - 1, 1)
    low, degrees = 1, []
    for _ in range(depth):
        m = torch.randint(low, top + 1, (hidden,), generator=g)
        degrees.append(m)
        low = int(m.min())
    masks = [degrees[0][:, None] >= input_degrees[None, :]]
    masks += [b[:, None] >= a[None, :] for a, b in zip(degrees, degrees[1:], strict=False)]
    masks.append(input_degrees.repeat(n_params)[:, None] > degrees[-1][None, :])
    return [m.float() for m in masks]


class MADEModel(AutoregressiveModel):
    """MADE: one masked MLP gives every conditional ``p(x_i | x_<i)`` of an ordering at once.

    The input is each dimension one-hot over its ``levels`` values; output unit ``p * D +
    i`` is the logit of value ``p`` of dimension ``i``, and the masks let it see only the
    inputs before ``i`` in the ordering (the degree rule; the first dimension's logits are
    a learned bias: its marginal). On the plane a point ``x (n, 2)`` is binned on the ``bins``
    x ``bins`` grid over the dataset's box (:class:`~playground.core.data.grid.Grid`), so
    ``p(x) = p(x1) p(x2 | x1)`` over the bins, and the model's density of a point is
    ``log P(bin) - log(cell area)`` (piecewise constant), whose exact samples are points
    uniform in a sampled cell; on images each pixel is one categorical over the set's levels.

    Order-agnostic training (section 4 of the paper): with ``orderings > 1`` each step draws
    one of ``orderings`` fixed orderings (0: the natural, raster order; ``o >= 1``: a
    permutation seeded :data:`ORDER_SEED` ``+ o``), and with ``masks > 1`` one of ``masks``
    connectivity sets (0: the cycled degree rule; ``m >= 1``: hidden degrees drawn by
    :func:`sampled_masks`, seeded :data:`MASK_SEED` ``+ m``), from :attr:`rng`. Between steps
    the model rests on pair ``(0, 0)``: :meth:`conditional_logits` and
    :meth:`sampling_order` are those of the natural ordering and the first mask set.
    Evaluation (``log_prob`` and ``discrete_nll`` in eval mode) averages the probabilities
    of the first ``ensemble`` pairs, as the paper does at test time, and :meth:`sample`
    samples that mixture (``ensemble = 1``: the first pair alone); pair ``j`` is ordering
    ``j mod orderings`` with mask set ``(j // orderings) mod masks``. The masks are not
    saved with the weights: they follow from the config.

    References:
        Germain, Gregor, Murray and Larochelle, "MADE: Masked Autoencoder for Distribution
        Estimation", ICML 2015, equations (1), (12)-(13) and section 4.
    """

    name: ClassVar[str] = "made"
    description: ClassVar[str] = (
        "MADE: masked autoencoder, one categorical per dimension (2D points on a K x K grid, "
        "pixels)"
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"autoregressive", "samples", "density"})

    @dataclass
    class Config(TrainingConfig):
        """MADE hyperparameters."""

        # 32 bins a side: moons' shape is clear, and its 1,024 cells are learnt to 0.016
        # nats of their entropy in 2,000 steps (benchmarks/made_entropy.md)
        bins: int = hp(32, low=4, high=128, help="grid cells per side on the plane (K)")
        hidden: int = hp(256, low=8, high=2048, log=True, help="units per hidden layer")
        depth: int = hp(2, low=1, high=4, help="hidden layers of the masked MLP")
        orderings: int = hp(
            1, low=1, high=32, help="orderings trained on, one per step (1: the natural order)"
        )
        masks: int = hp(
            1, low=1, high=32, help="connectivity masks trained on, one per step (1: fixed)"
        )
        ensemble: int = hp(
            1,
            low=1,
            high=64,
            live=True,
            help="(ordering, mask) pairs whose probabilities evaluation averages",
        )
        lr_decay_steps: int = lr_decay_hp(0)

    def __init__(self, config: Config, data: Any):
        super().__init__(config, data)
        plane = data.kind == "plane"
        self.grid = Grid(tuple(float(v) for v in data.box), config.bins) if plane else None
        self.levels = config.bins if plane else self.levels_of(data)
        self.event_shape = (2,) if plane else tuple(data.shape)
        if not plane:
            self.capabilities = type(self).capabilities - {"density"}
        d, n_in = self.dims, self.dims * self.levels
        sizes = [n_in] + [config.hidden] * config.depth + [self.levels * d]
        self.layers = nn.ModuleList(
            MaskedLinear(a, b, torch.ones(b, a)) for a, b in zip(sizes, sizes[1:], strict=False)
        )
        # the masks and the order are not saved (a preset would double in size): they follow
        # from the config, and between steps they are always those of pair (0, 0), which a
        # new model, a frozen copy and a loaded preset start from
        for layer in self.layers:
            layer.register_buffer("mask", layer.mask, persistent=False)
        self.register_buffer("order", torch.arange(d), persistent=False)
        self.pair = (0, 0)
        self._rest = self._mask_set(0, 0)
        self.use_pair(0, 0, force=True)

    # --------------------------------------------------------------- masks
    def _ordering(self, o: int) -> Tensor:
        if o == 0:
            return torch.arange(self.dims)
        return torch.randperm(self.dims, generator=torch.Generator().manual_seed(ORDER_SEED + o))

    def _mask_set(self, o: int, m: int) -> list[Tensor]:
        """The masks of ordering ``o`` and mask set ``m``, expanded to one-hot inputs."""
        order = self._ordering(o)
        degrees = torch.empty(self.dims, dtype=torch.long)
        degrees[order] = torch.arange(1, self.dims + 1)
        c = self.config
        if m == 0:
            masks, _ = made_masks(degrees, c.hidden, c.depth, self.levels)
        else:
            g = torch.Generator().manual_seed(MASK_SEED + m)
            masks = sampled_masks(degrees, c.hidden, c.depth, self.levels, g)
        masks[0] = masks[0].repeat_interleave(self.levels, dim=1)
        return masks

    def use_pair(self, o: int, m: int, force: bool = False) -> None:
        """Load the masks and the order of ordering ``o`` and mask set ``m`` into the
        buffers (a no-op when they hold them already, unless ``force``)."""
        if not force and self.pair == (o, m):
            return
        masks = self._rest if (o, m) == (0, 0) else self._mask_set(o, m)
        with torch.no_grad():
            for layer, mask in zip(self.layers, masks, strict=True):
                layer.mask.copy_(mask)
            self.order.copy_(self._ordering(o))
        self.pair = (o, m)

    def ensemble_pairs(self) -> list[tuple[int, int]]:
        """The ``(ordering, mask set)`` pairs evaluation averages over (see the class)."""
        c = self.config
        j = min(c.ensemble, c.orderings * c.masks)
        return [(i % c.orderings, (i // c.orderings) % c.masks) for i in range(j)]

    # --------------------------------------------------------------- protocol
    def sampling_order(self) -> Tensor:
        """The dimensions in the order of the pair in use: ``(D,)`` int64 (between steps
        the natural order ``0..D-1``)."""
        return self.order.clone()

    def to_levels(self, x: Tensor) -> Tensor:
        """Bins ``(n, 2)`` of points ``(n, 2)`` (clamped to the box), or the levels
        ``(n, D)`` of images ``(n, 1, h, w)``; int64."""
        return self.grid.index(x) if self.grid is not None else super().to_levels(x)

    def from_levels(self, k: Tensor) -> Tensor:
        """The bin centres ``(n, 2)`` of bins ``k (n, 2)``, or images of levels ``k (n, D)``."""
        return self.grid.centres(k) if self.grid is not None else super().from_levels(k)

    def conditional_logits(self, x: Tensor) -> Tensor:
        """Logits ``(n, D, levels)`` of every dimension of ``x`` given those before it in
        :meth:`sampling_order` (one pass of the masked MLP)."""
        k = self.to_levels(x)
        return self.network(F.one_hot(k, self.levels).to(self.layers[0].weight.dtype).flatten(1))

    def network(self, h: Tensor) -> Tensor:
        """The masked MLP: one-hot inputs ``h (n, D * levels)`` (dimension ``i``'s values at
        ``i * levels .. (i + 1) * levels - 1``) to logits ``(n, D, levels)``."""
        for i, layer in enumerate(self.layers):
            h = layer(h) if i == 0 else layer(F.relu(h))
        return h.unflatten(1, (self.levels, self.dims)).transpose(1, 2)

    def log_prob_levels(self, x: Tensor) -> Tensor:
        """``log P(x)`` ``(n,)`` in nats: in training the pair in use; in eval mode the log
        of the mean probability over :meth:`ensemble_pairs`."""
        pairs = self.ensemble_pairs()
        if self.training or len(pairs) == 1:
            return super().log_prob_levels(x)
        logs = []
        for o, m in pairs:
            self.use_pair(o, m)
            logs.append(super().log_prob_levels(x))
        self.use_pair(0, 0)
        return torch.logsumexp(torch.stack(logs), 0) - math.log(len(pairs))

    def log_prob(self, x: Tensor) -> Tensor:
        """The density ``(n,)`` in nats of points ``x (n, 2)`` that the binned model
        defines: ``log P(bin(x)) - log(cell area)``, constant on each cell (its gradient is
        zero, returned as such). A point outside the box has the density of the edge cell
        it is clamped to, so this integrates to 1 over the box."""
        assert self.grid is not None, "log_prob is defined on the plane only"
        return self.log_prob_levels(x) - math.log(self.grid.cell_area) + 0.0 * x.sum(dim=1)

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` samples in the dataset's format, every draw from ``rng``: each from one of
        :meth:`ensemble_pairs` (uniformly) sampled dimension by dimension; on the plane a
        point uniform in its sampled cell (an exact sample of :meth:`log_prob`)."""
        pairs = self.ensemble_pairs()
        if len(pairs) == 1:
            x = super().sample(n, rng)
        else:
            which = torch.randint(len(pairs), (n,), generator=rng, device=rng.device).cpu()
            x = torch.empty(n, *self.event_shape, device=self.steps_taken.device)
            for j, (o, m) in enumerate(pairs):
                idx = (which == j).nonzero().squeeze(1)
                if len(idx):
                    self.use_pair(o, m)
                    x[idx.to(x.device)] = super().sample(len(idx), rng)
            self.use_pair(0, 0)
        if self.grid is not None:
            u = torch.rand(n, 2, generator=rng, device=rng.device).to(x) - 0.5
            x = x + u * torch.tensor(self.grid.widths, device=x.device, dtype=x.dtype)
        return x

    # --------------------------------------------------------------- training
    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the mean NLL of ``batch`` under an ordering and a mask set drawn
        from :attr:`rng` (when there are more than one); the model then rests on pair 0."""
        c = self.config
        with self.rng_kept_on_failure():
            o = m = 0
            if c.orderings > 1:
                o = int(
                    torch.randint(c.orderings, (1,), generator=self.rng, device=self.rng.device)
                )
            if c.masks > 1:
                m = int(torch.randint(c.masks, (1,), generator=self.rng, device=self.rng.device))
            self.use_pair(o, m)
            try:
                return super().train_step(batch)
            finally:
                self.use_pair(0, 0)
