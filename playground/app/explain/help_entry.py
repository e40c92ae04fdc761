"""One view explained: the record the explain panel and the tab tooltips read."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ViewHelp"]


@dataclass(frozen=True)
class ViewHelp:
    """A view explained.

    Attributes:
        summary: one line: what the view shows (the tab's tooltip).
        items: ``(key, text)``: a small HTML swatch in the view's colour (or ``""``) and
            what that colour, arrow, line or marker means.
    """

    summary: str
    items: tuple[tuple[str, str], ...]
