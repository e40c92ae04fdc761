"""Draw one view of a core Session outside the window: a PNG, as the app would show it."""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from . import theme
from .qt_util import quiet_platform_notices
from .views import VIEW_CLASSES, View

__all__ = [
    "render_preview",
    "ensure_app",
    "default_view",
    "build_view",
    "draw_view",
    "grab_at",
]


def ensure_app() -> QApplication:
    """The running QApplication, or a new one (offscreen where there is no display),
    with the app's theme applied (fonts, row-major images) as :func:`~.main.launch` does."""
    app = QApplication.instance()
    if app is None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            if sys.platform.startswith("linux"):
                os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
        app.setApplicationName("DGM Playground")
    theme.apply(app)
    quiet_platform_notices()
    return app


def default_view(session: Any) -> str:
    """The view the app shows first for ``session``: its first tab.

    Raises:
        ValueError: the session offers no view the app can draw.
    """
    offered = set(session.available_views)
    for name in VIEW_CLASSES:
        if name in offered:
            return name
    raise ValueError(f"{session.model_name} on {session.dataset_name} offers no drawable view")


def build_view(session: Any, view: str | None, size: tuple[int, int]) -> View:
    """A view widget for ``session`` at ``size`` (width, height) pixels, shown off screen.

    A size below the widget's minimum (its controls' row) is laid out larger, with the
    same aspect ratio; :func:`grab_at` scales the picture down to ``size``.

    Arguments:
        session: a core :class:`~playground.core.training.Session`.
        view: a view name (``None``: :func:`default_view`).
        size: the widget's size in pixels.

    Raises:
        ValueError: the session does not offer ``view``.
    """
    ensure_app()
    name = default_view(session) if view is None else view
    offered = [v for v in VIEW_CLASSES if v in session.available_views]
    if name not in offered:
        raise ValueError(
            f"{session.model_name} on {session.dataset_name} has no view {name!r}; "
            f"views: {', '.join(offered)}"
        )
    widget = VIEW_CLASSES[name]()
    # painted and grabbed, never seen: no window flashes up on a desktop
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    widget.show()
    minimum = widget.minimumSizeHint()
    scale = max(1.0, minimum.width() / size[0], minimum.height() / size[1])
    widget.resize(round(size[0] * scale), round(size[1] * scale))
    QApplication.processEvents()
    return widget


#: the Langevin chains of a preview run this many frames first (of the session's
#: ``chain_settings.steps_per_frame`` steps each), so the picture shows where they go
PREVIEW_CHAIN_FRAMES = 60


def draw_view(session: Any, widget: View) -> None:
    """Snapshot the parts ``widget`` draws (reading the session only; a live picture, the
    chains, first runs :data:`PREVIEW_CHAIN_FRAMES` frames) and draw them."""
    names = tuple(widget.snapshot_parts())
    from ..core.snapshots import PICTURES

    live = [n for n in names if PICTURES[n].live]
    for _ in range(PREVIEW_CHAIN_FRAMES - 1 if live else 0):
        session.snapshot(live)
    snap = session.snapshot(names)
    if widget.accepts(snap):
        widget.show_snapshot(snap)
    QApplication.processEvents()


def grab_at(widget: QWidget, size: tuple[int, int]) -> QPixmap:
    """``widget.grab()``, scaled smoothly to exactly ``size`` (width, height) pixels if it
    differs (a widget laid out larger than asked, or a high-DPI screen)."""
    pixmap = widget.grab()
    if (pixmap.width(), pixmap.height()) != tuple(size):
        pixmap = pixmap.scaled(
            QSize(*size),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(1.0)
    return pixmap


def png_bytes(pixmap: QPixmap) -> bytes:
    """``pixmap`` encoded as PNG."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode the view as PNG")
    buffer.close()
    return bytes(data.data())


def render_preview(
    session: Any, view: str | None = None, size: tuple[int, int] = (640, 480)
) -> bytes:
    """A PNG of one view of ``session``, drawn by the app's own view widget.

    Creates a QApplication if none runs (offscreen without a display). Training state is
    not touched: the snapshot only reads the model.

    Arguments:
        session: a core :class:`~playground.core.training.Session`.
        view: a view name such as ``density`` (``None``: the first tab the app shows).
        size: (width, height) of the picture in pixels.

    Returns:
        The PNG file's bytes.

    Raises:
        ValueError: the session does not offer ``view``.
    """
    widget = build_view(session, view, size)
    try:
        draw_view(session, widget)
        return png_bytes(grab_at(widget, size))
    finally:
        # delete the widget now, while the QApplication lives: a pyqtgraph widget left to
        # the interpreter's exit is destroyed after Qt's, and the process crashed there
        # (signal 11 in about 4 of 6 `train --out` runs)
        widget.close()
        widget.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
