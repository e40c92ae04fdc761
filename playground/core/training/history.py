"""Metric history: every named loss term and metric against the step it was recorded at;
and the divergence watch, which pauses training whose loss terms grow by orders of
magnitude."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..models.base import DivergingLossError

__all__ = ["History", "DivergenceWatch", "is_loss_term", "WATCHED_TERMS", "WATCHED_SUFFIX"]


class History:
    """Append-only curves, one per name, stored as growable float arrays.

    Loss terms are recorded every step; evaluation metrics (held-out NLL, ...) at the
    steps where they were computed, so each curve has its own step axis.
    """

    def __init__(self) -> None:
        self._steps: dict[str, np.ndarray] = {}
        self._values: dict[str, np.ndarray] = {}
        self._len: dict[str, int] = {}

    def record(self, step: int, values: dict[str, float]) -> None:
        """Append ``values`` (name to float) at ``step``."""
        for name, value in values.items():
            n = self._len.get(name, 0)
            if name not in self._steps:
                self._steps[name] = np.empty(1024, dtype=np.int64)
                self._values[name] = np.empty(1024, dtype=np.float64)
            elif n == len(self._steps[name]):
                self._steps[name] = np.resize(self._steps[name], 2 * n)
                self._values[name] = np.resize(self._values[name], 2 * n)
            self._steps[name][n] = step
            self._values[name][n] = value
            self._len[name] = n + 1

    def names(self) -> list[str]:
        """The recorded names, in order of first appearance."""
        return list(self._steps)

    def last(self, name: str) -> float | None:
        """The latest value of ``name``, or ``None`` if never recorded."""
        n = self._len.get(name, 0)
        return float(self._values[name][n - 1]) if n else None

    def as_arrays(self, max_points: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Copies of every curve as ``(steps, values)``.

        Arguments:
            max_points: if a curve is longer, it is averaged over equal bins of
                consecutive points down to at most this many (for drawing), the last bin
                possibly shorter, so the curve still ends at its last step.

        Returns:
            name to ``(steps (m,) int64, values (m,) float64)``.
        """
        out = {}
        for name in self._steps:
            n = self._len[name]
            s, v = self._steps[name][:n], self._values[name][:n]
            if max_points is not None and n > max_points:
                k = -(-n // max_points)
                m = n // k
                full_s = s[: m * k].reshape(m, k)[:, -1]
                full_v = v[: m * k].reshape(m, k).mean(axis=1)
                if m * k < n:  # the last, partial bin: the curve still ends at its last step
                    full_s = np.append(full_s, s[-1])
                    full_v = np.append(full_v, v[m * k :].mean())
                s, v = full_s, full_v
            out[name] = (s.copy(), v.copy())
        return out

    def to_json(self) -> dict[str, list[list[float]]]:
        """A JSON-able dict: name to ``[[step, value], ...]`` (non-finite values as null)."""
        out = {}
        for name, (s, v) in self.as_arrays().items():
            out[name] = [
                [int(a), float(b) if np.isfinite(b) else None] for a, b in zip(s, v, strict=True)
            ]
        return out

    @classmethod
    def from_json(cls, data: dict[str, list[list[float]]]) -> History:
        """Rebuild from :meth:`to_json` output."""
        h = cls()
        for name, pairs in data.items():
            for step, value in pairs:
                h.record(int(step), {name: float("nan") if value is None else float(value)})
        return h

    def __len__(self) -> int:
        return max(self._len.values(), default=0)


#: the watched terms are the losses an optimiser minimises: ``loss`` (every model but the
#: GANs), a GAN's ``loss_d`` and ``loss_g``, and any other ``*_loss`` (a guided DDPM's
#: ``classifier_loss``, InfoGAN's ``info_loss``). Their parts and diagnostics are not
#: watched: a part may grow by orders of magnitude while the total stays put (a VQ-VAE's
#: ``codebook`` term rises 10^6-fold from 0.008 before its dead codes are restarted, and
#: recovers by itself), and a gradient norm, ``beta`` or a temperature is no loss.
WATCHED_TERMS = frozenset({"loss", "loss_d", "loss_g"})
WATCHED_SUFFIX = "_loss"


def is_loss_term(name: str) -> bool:
    """Whether the step term ``name`` is a loss an optimiser minimises, which the
    :class:`DivergenceWatch` watches (see :data:`WATCHED_TERMS`)."""
    return name in WATCHED_TERMS or name.endswith(WATCHED_SUFFIX)


class _TermWatch:
    """One term's recent values and its best (smallest) window median so far."""

    __slots__ = ("values", "count", "best", "best_signed", "best_step")

    def __init__(self, window: int) -> None:
        self.values: deque[float] = deque(maxlen=window)
        self.count = 0
        self.best = math.inf  # the smallest median |value| of a window so far
        self.best_signed = math.nan  # that window's signed median
        self.best_step = 0  # the step at the end of that window


def _median_by_size(values: list[float]) -> float:
    """The value whose magnitude is the median of ``|values|`` (the upper one for an even
    count), with its sign."""
    return sorted(values, key=abs)[len(values) // 2]


class DivergenceWatch:
    """Pauses training whose loss terms grow by orders of magnitude (a learning rate too
    large), the finite twin of the non-finite check. The Session feeds it every step's
    terms (:meth:`observe`); it keeps per term only its last ``window`` values.

    The rule, per loss term (:func:`is_loss_term`), on magnitudes ``|v|``:

    - the *reference* is the smallest median ``|v|`` of the term's windows since the
      watch (re)started: the median of its last ``min(n, window)`` values (the upper one
      of an even count), taken after each of its first ``check_every`` values and then
      every ``check_every`` values;
    - *window rule*: at such a check, the latest window's median exceeds
      ``growth * max(reference, floor)`` (the reference from earlier checks), with at
      least ``min_values`` values in the window;
    - *absurd-value rule*: at any step, one value exceeds
      ``absurd * max(reference, floor)`` (``absurd * floor`` for the term's first value).

    The floor keeps losses that hover about zero (a WGAN's critic loss, an EBM's
    contrastive loss) from looking like they grew a millionfold when they move from 0.001
    to 1. Medians make the rule blind to single spikes and robust to noise; magnitudes
    make it work for losses that are negative or change sign (GAN, EBM, ELBO terms). A loss
    that merely rises slowly (a GAN's generator loss as its critic wins) is caught only if
    it grows by ``growth`` over its best, which normal training does not do.

    With the defaults (windows of 50, growth 1e4, absurd 1e8, floor 1), no model of the
    zoo trips it at its default hyperparameters (``tests/test_divergence.py``), and a
    RealNVP on moons at ``lr=1`` trips it at step 2 or 3.

    Arguments:
        window: values per window.
        check_every: values between window checks (after the first ``check_every``).
        growth: the growth of a window median over the reference that trips the watch.
        absurd: the growth of a single value that trips it at once.
        floor: references below it count as it (the loss's units, nats for most).
        min_values: the fewest values a window is judged on.
    """

    def __init__(
        self,
        window: int = 50,
        check_every: int = 10,
        growth: float = 1e4,
        absurd: float = 1e8,
        floor: float = 1.0,
        min_values: int = 5,
    ) -> None:
        self.window, self.check_every = int(window), int(check_every)
        self.growth, self.absurd, self.floor = float(growth), float(absurd), float(floor)
        self.min_values = int(min_values)
        self._terms: dict[str, _TermWatch] = {}
        #: whether a term's first value is judged against the floor (a fresh start);
        #: not after a trip, when training goes on from where it diverged to
        self._judge_first = True

    def reset(self) -> None:
        """Forget every term: the next values set the references afresh (a first value
        past ``absurd * floor`` still trips it)."""
        self._terms.clear()
        self._judge_first = True

    def observe(self, step: int, terms: dict[str, float]) -> DivergingLossError | None:
        """Take one step's terms; the error to raise when one is diverging, else None.

        After returning an error the watch starts afresh from where training now is: the
        values that follow set the references, however large, so training that goes on
        from the diverged state (at a lower rate, say) trips it again only if it grows
        by orders of magnitude more.

        Arguments:
            step: the session step the terms belong to (named in the error).
            terms: term name to value; non-loss terms (:func:`is_loss_term`) and
                non-finite values (the non-finite check's business) are skipped.

        Returns:
            A :class:`~..models.base.DivergingLossError` naming the step, the term, its
            reference and its size now, or None.
        """
        error = None
        for name, value in terms.items():
            if not is_loss_term(name) or not math.isfinite(value):
                continue
            error = self._observe_term(step, name, float(value))
            if error is not None:
                break
        if error is None:
            return None
        self.reset()
        self._judge_first = False
        # named by the model's own word where ``loss`` is a copy of it (a flow's ``nll``)
        alias = next((k for k, v in terms.items() if k != "loss" and v == terms.get("loss")), None)
        if error.term == "loss" and alias is not None:
            error = DivergingLossError(alias, error.value, error.step, error.start, error.over)
        return error

    def _observe_term(self, step: int, name: str, value: float) -> DivergingLossError | None:
        w = self._terms.get(name)
        if w is None:
            w = self._terms[name] = _TermWatch(self.window)
        w.values.append(value)
        w.count += 1
        # before the term's first check (its first value) the floor stands in for the
        # reference: a loss already past absurd * floor at its first step (a WGAN-GP at
        # lr=1 after its first five critic updates) has diverged before it was seen
        first = w.count == 1
        scale = max(0.0 if first and self._judge_first else w.best, self.floor)
        if abs(value) > self.absurd * scale:
            return DivergingLossError(name, value, step, w.best_signed, step - w.best_step)
        if w.count > self.check_every and w.count % self.check_every:
            return None
        median = _median_by_size(list(w.values))
        m = abs(median)
        if len(w.values) >= self.min_values and m > self.growth * max(w.best, self.floor):
            return DivergingLossError(name, median, step, w.best_signed, step - w.best_step)
        if m < w.best:
            w.best, w.best_signed, w.best_step = m, median, step
        return None
