"""A live step's fallback: the GIF recorded when the lesson was built, played once over the
views (and held at its last frame) when live training is too slow or diverges.

The file's header is checked before Qt reads it (:func:`check_gif`): a GIF that claims a
huge picture is refused, never decoded.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QMovie
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .lesson_card import Overlay

__all__ = ["RecordingPlayback", "check_gif", "MAX_GIF_BYTES", "MAX_GIF_SIDE"]

#: the largest recording played (bytes): a built lesson's GIF is a few MB (40 frames, 640x480)
MAX_GIF_BYTES = 64 * 1024 * 1024
#: the largest width or height a recording may claim (pixels)
MAX_GIF_SIDE = 4096


def check_gif(path: str | os.PathLike) -> QSize:
    """The picture size a GIF's header claims, once it is known to be small enough to play.

    Arguments:
        path: the file.

    Returns:
        The logical screen size (width, height) in pixels.

    Raises:
        ValueError: unreadable, not a GIF, larger than :data:`MAX_GIF_BYTES`, or a side
            of 0 or over :data:`MAX_GIF_SIDE` pixels (one sentence naming the file).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = f.read(10)
    except OSError as e:
        raise ValueError(f"cannot read the recording {path.name}: {e.strerror or e}") from None
    if size > MAX_GIF_BYTES:
        raise ValueError(
            f"the recording {path.name} is {size / 2**20:.0f} MiB, over the "
            f"{MAX_GIF_BYTES // 2**20} MiB a recording may have"
        )
    if len(header) < 10 or header[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError(f"the recording {path.name} is not a GIF file")
    width = int.from_bytes(header[6:8], "little")
    height = int.from_bytes(header[8:10], "little")
    if not (0 < width <= MAX_GIF_SIDE and 0 < height <= MAX_GIF_SIDE):
        raise ValueError(
            f"the recording {path.name} claims {width}x{height} pixels; a recording is at "
            f"most {MAX_GIF_SIDE} pixels a side"
        )
    return QSize(width, height)


class RecordingPlayback(Overlay):
    """A recording played over ``target`` (the window's tabs), once, then held at its last
    frame, scaled to fit and captioned.

    Arguments:
        target: the widget to cover.
        path: the GIF (checked with :func:`check_gif` first).
        caption: the line above the picture (what it shows).

    Signals:
        finished(): the last frame is on show.

    Attributes:
        movie: the :class:`~PySide6.QtGui.QMovie`; ``picture`` the label that shows it;
        ``caption`` the label above it.

    Raises:
        ValueError: as :func:`check_gif`, or Qt cannot decode the file.
    """

    finished = Signal()

    def __init__(self, target: QWidget, path: str | os.PathLike, caption: str):
        size = check_gif(path)
        movie = QMovie(str(path))
        if not movie.isValid():
            raise ValueError(f"the recording {Path(path).name} cannot be decoded")
        super().__init__(target)
        self._size = size
        self.setObjectName("recording_playback")
        self.setStyleSheet("#recording_playback { background: white; }")
        self.movie = movie
        self.movie.setParent(self)
        self.movie.setCacheMode(QMovie.CacheMode.CacheNone)
        self.caption = QLabel(caption)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("background: #fdb863; color: black; padding: 6px;")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.picture.setMovie(self.movie)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.picture, 1)
        self.movie.frameChanged.connect(self._on_frame)
        self._fit()
        self.show()
        self.movie.start()

    @property
    def done(self) -> bool:
        """Whether the last frame is on show (the recording played through)."""
        return self.movie.state() == QMovie.MovieState.Paused

    def _on_frame(self, number: int) -> None:
        if number >= self.movie.frameCount() - 1:  # play once: hold the last frame
            self.movie.setPaused(True)
            self.finished.emit()

    def _fit(self) -> None:
        """Scale the recording to the room under the caption, keeping its aspect ratio."""
        room = self.picture.size()
        if room.width() > 0 and room.height() > 0:
            self.movie.setScaledSize(self._size.scaled(room, Qt.AspectRatioMode.KeepAspectRatio))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Refit the picture."""
        super().resizeEvent(event)
        if self.layout() is not None and hasattr(self, "movie"):
            self.layout().activate()
            self._fit()

    def remove(self) -> None:
        """Stop playing and take the playback off its target."""
        self.movie.stop()
        super().remove()
