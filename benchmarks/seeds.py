"""The ``--seeds`` argument the per-seed benchmarks share (``gan_modes.py``,
``ncsn_weights.py``, ``posterior_collapse.py``)."""

from __future__ import annotations

__all__ = ["parse_seeds"]


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
