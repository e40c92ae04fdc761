"""Formulas as pictures: matplotlib's mathtext rendered once per size into a cached pixmap.

matplotlib is imported on the first call only (about a second), so the window opens as
fast without it; the explain panel calls this when it is first shown.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PySide6.QtGui import QColor, QPixmap

__all__ = ["formula_pixmap", "formula_png"]

#: Computer Modern, the look of the course's slides, on a transparent background (the
#: panel's own shows through); a context, not a global setting
_RC = {"mathtext.fontset": "cm", "savefig.transparent": True}


@lru_cache(maxsize=512)
def formula_png(tex: str, points: float, dpi: float, color: str = "#000000") -> bytes:
    """The PNG of ``$tex$`` at ``points`` (font size) and ``dpi``, transparent background.

    Arguments:
        tex: mathtext without the dollar signs, e.g. ``r"\\log q(x)"``.
        points: the font size in points.
        dpi: pixels per inch of the picture (the screen's, times its pixel ratio).
        color: the text colour, ``#rrggbb``.

    Raises:
        ValueError: matplotlib cannot parse ``tex``.
    """
    import matplotlib
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        mathtext.math_to_image(
            f"${tex}$",
            buffer,
            prop=FontProperties(size=points),
            dpi=dpi,
            format="png",
            color=color,
        )
    return buffer.getvalue()


def formula_pixmap(tex: str, points: float, logical_dpi: float, ratio: float, color: QColor):
    """``tex`` as a ``QPixmap`` for a label: rendered at ``ratio`` times the logical size
    (sharp on a high-density screen) and tagged with that device pixel ratio."""
    png = formula_png(tex, round(points, 1), round(logical_dpi * ratio, 1), color.name())
    pixmap = QPixmap()
    pixmap.loadFromData(png, "PNG")
    pixmap.setDevicePixelRatio(ratio)
    return pixmap
