"""What the explain panel shows of a model's objective: formulas, each with the training
term whose live value stands beside it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Line", "Objective", "value_of", "format_value"]


@dataclass(frozen=True)
class Line:
    """One formula of an objective.

    Attributes:
        tex: the formula in matplotlib mathtext (no dollar signs).
        term: the ``train_step`` term whose value is shown beside it, or ``None`` (a
            definition; no number is ever made up for it).
        note: one short line under the formula: what the term means.
        unit: the value's unit (``"nats"``, ``""``).
        picture: where the value is read from a picture instead of the terms:
            ``picture(snapshot) -> float | None`` (the flows' log-det bars).
    """

    tex: str
    term: str | None = None
    note: str = ""
    unit: str = "nats"
    picture: Callable[[Any], float | None] | None = None

    @property
    def key(self) -> str:
        """The name the panel files this line's value under: its term, or its formula."""
        return self.term or self.tex


@dataclass(frozen=True)
class Objective:
    """A model's objective as the course writes it.

    Attributes:
        title: e.g. ``"Maximum likelihood (forward KL)"``.
        lines: the formulas, the objective first.
        text: a paragraph (HTML) on what it does and what to watch.
        source: the paper and equation the formulas come from.
    """

    title: str
    lines: tuple[Line, ...]
    text: str = ""
    source: str = ""


def value_of(line: Line, terms: Mapping[str, float], snapshot: Any = None) -> float | None:
    """The live value of ``line``: its term from ``terms``, else its picture's value from
    ``snapshot``; ``None`` when neither has one (or it is not finite)."""
    value: float | None = None
    if line.term is not None and line.term in terms:
        value = float(terms[line.term])
    elif line.picture is not None and snapshot is not None:
        value = line.picture(snapshot)
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def format_value(value: float | None, unit: str) -> str:
    """``"-1.234 nats"``; an empty string for no value."""
    if value is None:
        return ""
    text = f"{value:.4g}".replace("-", "\u2212")
    return f"{text} {unit}".strip()
