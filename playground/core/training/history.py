"""Metric history: every named loss term and metric against the step it was recorded at."""

from __future__ import annotations

import numpy as np

__all__ = ["History"]


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
