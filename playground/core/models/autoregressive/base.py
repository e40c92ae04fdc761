"""What every autoregressive model shares: ``p(x) = prod_i p(x_i | x_<i)`` over discrete
dimensions, its exact log-likelihood, sampling dimension by dimension, and training by
maximum likelihood (the cross-entropy of each conditional).

A subclass builds its network and implements :meth:`AutoregressiveModel.conditional_logits`; the
discretisation defaults to the image set's own ``levels`` (``to_levels``), which a
subclass overrides for other data (2D points on a K x K grid, mu-law sequences).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from ...data.discrete import bits_per_dim, from_levels, to_levels
from ...sampling import budget
from ..base import GenerativeModel

__all__ = ["AutoregressiveModel"]


class AutoregressiveModel(GenerativeModel):
    """A model of discrete data as a product of categorical conditionals.

    ``log p(x) = sum_i log softmax(conditional_logits(x)[:, i])[k_i]`` with ``k = to_levels(x)``:
    exact, in nats. Training minimises its mean over a batch; the loss terms are ``nll``
    (nats per example) and ``bits_per_dim``.

    Attributes:
        levels: values per dimension (the logits' last axis).
        event_shape: the shape of one example in the dataset's format (``(1, 8, 8)``).

    References:
        Larochelle and Murray, "The Neural Autoregressive Distribution Estimator", AISTATS
        2011 (the product of conditionals); Germain et al., "MADE", ICML 2015, eq. (1).
    """

    family: ClassVar[str] = "autoregressive"
    capabilities: ClassVar[frozenset[str]] = frozenset({"autoregressive", "samples"})
    levels: int
    event_shape: tuple[int, ...]

    @property
    def dims(self) -> int:
        """``D``: the discrete dimensions of one example."""
        n = 1
        for s in self.event_shape:
            n *= int(s)
        return n

    # ------------------------------------------------------------ protocol
    @abc.abstractmethod
    def conditional_logits(self, x: Tensor) -> Tensor:
        """Logits ``(n, D, levels)`` of each dimension of ``x`` (``(n, *event_shape)``, the
        dataset's format) given those before it in :meth:`sampling_order`."""

    def sampling_order(self) -> Tensor:
        """The order in which dimensions are generated: a ``(D,)`` int64 permutation of
        the flattened dimensions (raster order unless a subclass says otherwise)."""
        return torch.arange(self.dims)

    def to_levels(self, x: Tensor) -> Tensor:
        """Integers ``(n, D)`` in ``0..levels-1`` of data ``x (n, *event_shape)``."""
        return to_levels(x.reshape(x.shape[0], -1), self.levels)

    def from_levels(self, k: Tensor) -> Tensor:
        """Data ``(n, *event_shape)`` of integers ``k (n, D)``."""
        return from_levels(k, self.levels).reshape(k.shape[0], *self.event_shape)

    # ------------------------------------------------------------ likelihood
    def log_prob_levels(self, x: Tensor) -> Tensor:
        """Exact ``log p(x)`` ``(n,)`` in nats of data ``x (n, *event_shape)``."""
        k = self.to_levels(x)
        logp = F.log_softmax(self.conditional_logits(self.from_levels(k)), dim=-1)
        return logp.gather(-1, k[..., None]).squeeze(-1).sum(dim=1)

    def discrete_nll(self, x: Tensor, rng: torch.Generator | None = None) -> Tensor:
        """``-log p(x)`` ``(n,)`` in nats, exact (see :meth:`log_prob_levels`; no noise, so
        ``rng`` is unused)."""
        return -self.log_prob_levels(x)

    # ------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` samples ``(n, *event_shape)``, one dimension at a time in
        :meth:`sampling_order` (``D`` network evaluations), every draw from ``rng``."""
        k = torch.zeros(n, self.dims, dtype=torch.long, device=self.steps_taken.device)
        order = self.sampling_order().tolist()
        spend = budget.current()
        for j, i in enumerate(order):
            probs = F.softmax(self.conditional_logits(self.from_levels(k))[:, i].float(), dim=-1)
            k[:, i] = torch.multinomial(probs, 1, generator=rng).squeeze(1)
            # a picture no longer wanted (or an evaluation a tab interrupts) stops here
            spend.progress("autoregressive sampling, dimension", j + 1, len(order))
        return self.from_levels(k)

    # ------------------------------------------------------------ training
    def losses(self, batch: Tensor) -> dict[str, Tensor]:
        """``loss`` (mean nats per example), ``nll`` (the same) and ``bits_per_dim``."""
        nll = self.discrete_nll(batch).mean()
        return {"loss": nll, "nll": nll, "bits_per_dim": nll / (self.dims * 0.6931471805599453)}

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the mean negative log-likelihood of ``batch``."""
        assert batch is not None
        self.apply_lr_schedule()
        terms = self.losses(batch)
        values = self.optimize(terms.pop("loss"), terms)
        self.steps_taken += 1
        return values

    def test_bits_per_dim(self, x: Tensor) -> float:
        """Bits per dimension of ``x (n, *event_shape)`` (see
        :func:`~playground.core.data.discrete.bits_per_dim`)."""
        with torch.no_grad():
            return bits_per_dim(self.discrete_nll(x), self.dims)

    @staticmethod
    def levels_of(data: Any) -> int:
        """The ``levels`` of an image set, or 2 for one without a level grid (thresholded)."""
        return int(data.levels or 2)
