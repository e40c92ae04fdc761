"""Small HTML swatches in a view's own colours, for the explain panel's key of a view."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

__all__ = ["glyph", "dot", "square", "stroke", "ramp"]


def _c(color: QColor | str) -> str:
    return QColor(color).name()


def glyph(color: QColor | str, char: str) -> str:
    """``char`` in ``color`` (a marker of the view: a triangle, a star)."""
    return f"<span style='color:{_c(color)}'>{char}</span>"


def dot(color: QColor | str) -> str:
    """A disc in ``color``: scatter points."""
    return glyph(color, "\u25cf")


def square(color: QColor | str) -> str:
    """A filled square in ``color``: bars, legend boxes."""
    return f"<span style='color:{_c(color)}'>\u25a0</span>"


def stroke(color: QColor | str, char: str = "\u2501\u2501") -> str:
    """A line segment in ``color`` (or an arrow with ``char="\u2192"``)."""
    return f"<span style='color:{_c(color)}'><b>{char}</b></span>"


def ramp(cmap: pg.ColorMap, stops: int = 5) -> str:
    """The colour map ``cmap`` as ``stops`` squares, low to high."""
    colors = cmap.map([i / (stops - 1) for i in range(stops)], mode="qcolor")
    return "".join(square(c) for c in colors)
