"""What the per-seed benchmarks share: the ``--seeds`` argument (``gan_modes.py``,
``ncsn_weights.py``, ``posterior_collapse.py``, ...) and their markdown tables."""

from __future__ import annotations

from typing import Any

__all__ = ["parse_seeds", "markdown_table"]


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-4,7"`` -> ``(0, 1, 2, 3, 4, 7)``; ``""`` -> ``()``.

    Raises:
        ValueError: a part that is not an integer or a range ``lo-hi``.
    """
    out: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return tuple(out)


def markdown_table(rows: list[dict[str, Any]], keys: list[str] | None = None) -> str:
    """A markdown table of ``rows`` (one dict each), columns ``keys`` (default: the first
    row's); floats to 4 significant digits."""
    keys = list(rows[0]) if keys is None else keys

    def fmt(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)
