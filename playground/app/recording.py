"""Recording a view while it trains: frames to GIF, MP4 or PNG, headless or from the window.

A frame is the view's pictures only (its canvases, not its row of controls), with a header
strip burnt in: the view's title and the training step it shows (see :mod:`.recording_frames`).
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from .recording_frames import fit_plot_area, pixmap_array, plot_area, stamp, view_frame

__all__ = [
    "Recording",
    "FORMATS",
    "write_frames",
    "grab_frame",
    "pixmap_array",
    "plot_area",
    "stamp",
    "view_frame",
    "record_headless",
    "WindowRecorder",
]

#: the file suffixes :func:`write_frames` writes
FORMATS = (".gif", ".mp4", ".png")
#: a window recording keeps at most this many frames (800x600 RGB: ~1.4 MB each); past
#: it every other frame is dropped and frames are taken half as often
MAX_FRAMES = 600
#: how often a recording by seconds reports its progress (ms)
PROGRESS_MS = 100


@dataclass(frozen=True)
class Recording:
    """A written recording: its file, how many frames it holds, the training steps and
    the wall-clock seconds it covers."""

    path: Path
    frames: int
    steps: int
    seconds: float


def _check_suffix(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(
            f"cannot record to {path.name}: the suffix must be one of {', '.join(FORMATS)}"
        )
    return path


def _same_size(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Every frame cropped or padded (white) to the first one's size (a window resized
    during a recording)."""
    h, w = frames[0].shape[:2]
    out = []
    for f in frames:
        if f.shape[:2] != (h, w):
            g = np.full((h, w, 3), 255, np.uint8)
            fh, fw = min(h, f.shape[0]), min(w, f.shape[1])
            g[:fh, :fw] = f[:fh, :fw]
            f = g
        out.append(f)
    return out


def write_frames(frames: list[np.ndarray], path: str | os.PathLike, fps: float) -> Path:
    """Write frames to a GIF (looping), an MP4 (H.264) or a PNG (the last frame).

    The file is written under a temporary name in the same folder, then renamed: a
    failed write never leaves a half-written file at ``path``.

    Arguments:
        frames: ``(height, width, 3)`` uint8 RGB arrays; later frames of another size
            are cropped or padded to the first one's. An MP4's odd width or height is
            padded by one white pixel (H.264 needs even sizes).
        path: the output file; its suffix picks the format (``.gif``, ``.mp4``, ``.png``).
        fps: frames per second of playback (a GIF shows each frame ``1 / fps`` s).

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        ValueError: another suffix, no frames, or ``fps <= 0``.
    """
    path = _check_suffix(path)
    if not frames:
        raise ValueError(f"no frames to write to {path.name}")
    if not fps > 0:
        raise ValueError(f"fps must be positive, not {fps}")
    import imageio.v3 as iio

    suffix = path.suffix.lower()
    frames = _same_size([np.ascontiguousarray(f, dtype=np.uint8) for f in frames])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".png":
            iio.imwrite(tmp, frames[-1], extension=".png")
        elif suffix == ".gif":
            # duration in ms per frame; loop=0: forever
            iio.imwrite(tmp, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
        else:
            h, w = frames[0].shape[:2]
            pad = ((0, h % 2), (0, w % 2), (0, 0))
            even = [np.pad(f, pad, constant_values=255) for f in frames]
            iio.imwrite(
                tmp,
                np.stack(even),
                plugin="FFMPEG",
                fps=fps,
                codec="libx264",
                macro_block_size=2,
                ffmpeg_log_level="error",
            )
        # mkstemp makes the file private (0600): give it the usual permissions of a new file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def grab_frame(widget: QWidget) -> np.ndarray:
    """The widget as drawn now: ``(height, width, 3)`` uint8 RGB (a copy)."""
    return pixmap_array(widget.grab())


def _one_of(steps: int | None, seconds: float | None) -> None:
    if (steps is None) == (seconds is None):
        raise ValueError("give exactly one of steps and seconds")
    if steps is not None and steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}")
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds}")


def record_headless(
    session: Any,
    view: str,
    out: str | os.PathLike,
    *,
    steps: int | None = None,
    seconds: float | None = None,
    fps: float = 10.0,
    frames: int = 50,
    size: tuple[int, int] = (800, 600),
    progress: Callable[[int, int], Any] | None = None,
) -> Recording:
    """Train ``session`` in this thread and record one view as it learns.

    The view is drawn before training and then every ``max(1, steps // frames)`` steps
    (by ``steps``), or about ``frames`` times evenly over ``seconds`` of wall-clock time,
    and always at the end; each drawing is one frame of the file.

    Arguments:
        session: a core :class:`~playground.core.training.Session`; it trains on from
            its current step.
        view: the view to draw (one of the session's views, see :mod:`.preview`).
        out: the output file, ``.gif``, ``.mp4`` or ``.png`` (the final picture).
        steps, seconds: how long to train; exactly one.
        fps: playback frames per second.
        frames: about how many frames to draw after the first.
        size: the frames' (width, height) in pixels: the view's pictures, its controls
            left out (see :func:`view_frame`).
        progress: ``progress(done, total)`` after each frame, in frames.

    Returns:
        The :class:`Recording`.

    Raises:
        ValueError: both or neither of steps and seconds, a view the session does not
            offer, or a suffix not in :data:`FORMATS` (checked before any training).
        NonFiniteLossError: training diverged; nothing is written.
    """
    from .preview import build_view, draw_view

    _one_of(steps, seconds)
    out = _check_suffix(out)
    frames = max(1, int(frames))
    widget = build_view(session, view, size)
    fit_plot_area(widget, size)
    shots: list[np.ndarray] = []
    start_step, t0 = session.step_count, time.perf_counter()

    def shoot(total: int) -> None:
        draw_view(session, widget)
        shots.append(view_frame(widget, session.step_count, size))
        if progress is not None:
            progress(min(len(shots), total), total)

    try:
        if steps is not None:
            every = max(1, steps // frames)
            total = 1 + math.ceil(steps / every)
            shoot(total)
            done = 0
            while done < steps:
                n = min(every, steps - done)
                session.run(n)
                done += n
                shoot(total)
        else:
            total = frames + 1
            shoot(total)
            interval = seconds / frames
            for k in range(1, frames + 1):
                due = t0 + k * interval
                session.step()
                while time.perf_counter() < due:
                    session.step()
                shoot(total)
    finally:
        widget.close()
        widget.deleteLater()
    path = write_frames(shots, out, fps)
    return Recording(path, len(shots), session.step_count - start_step, time.perf_counter() - t0)


class WindowRecorder(QObject):
    """Records the window's visible view, frame by frame as the window draws them.

    :meth:`start` grabs the current view (its pictures with the title and step burnt in:
    :func:`view_frame`), then another after each ``window.frame_drawn``
    (at most ``fps`` a second), until ``steps`` training steps have been drawn since
    the start, or ``seconds`` have passed; then it writes the file on a background
    thread and emits :attr:`finished`. By steps, a paused window's repeated frames are
    skipped (the recording waits for Play); by seconds every drawn frame is kept (the
    Langevin chains move while training is paused).

    Arguments:
        window: a :class:`~.main_window.MainWindow` (``frame_drawn``, ``tabs``).
        path: the output file, ``.gif``, ``.mp4`` or ``.png``.
        steps, seconds: how long to record; exactly one.
        fps: playback frames per second, and the most frames taken per second.

    Signals:
        progress(done, total): in steps, or in ms when recording by seconds.
        finished(Recording): the file is written.
        failed(str): writing failed; the message says why.

    Raises:
        ValueError: both or neither of steps and seconds, or a suffix not in
            :data:`FORMATS`.
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    _written = Signal(object)

    def __init__(
        self,
        window: Any,
        path: str | os.PathLike,
        *,
        steps: int | None = None,
        seconds: float | None = None,
        fps: float = 10.0,
    ):
        super().__init__(window)
        _one_of(steps, seconds)
        if not fps > 0:
            raise ValueError(f"fps must be positive, not {fps}")
        self.window, self.path = window, _check_suffix(path)
        self.steps, self.seconds, self.fps = steps, seconds, fps
        self.frames: list[np.ndarray] = []
        self.running = False
        self._interval = 1.0 / fps
        self._last_grab = -math.inf
        self._last_step: int | None = None
        self._start_step = 0
        self._t0 = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(PROGRESS_MS)
        self._timer.timeout.connect(self._tick)
        self._writer: threading.Thread | None = None
        self._written.connect(self._on_written)

    @property
    def total(self) -> int:
        """The progress total: steps, or milliseconds."""
        return self.steps if self.steps is not None else round(self.seconds * 1000)

    def start(self) -> None:
        """Grab the current view and follow the window's drawn frames."""
        self.running = True
        self._start_step = self.window.step
        self._t0 = time.perf_counter()
        self._grab(self.window.step)
        self.window.frame_drawn.connect(self._on_frame)
        if self.seconds is not None:
            self._timer.start()
        self.progress.emit(0, self.total)

    def cancel(self) -> None:
        """Stop recording and write nothing (a file being written is still finished)."""
        if self.running:
            self._stop()
        self.frames = []

    def _stop(self) -> None:
        self.running = False
        self._timer.stop()
        self.window.frame_drawn.disconnect(self._on_frame)

    def _grab(self, step: int) -> None:
        widget = self.window.tabs.currentWidget()
        if widget is None:
            return
        self.frames.append(view_frame(widget, step))
        self._last_grab, self._last_step = time.perf_counter(), step
        if len(self.frames) > MAX_FRAMES:
            self.frames = self.frames[::2]
            self._interval *= 2

    @Slot(int)
    def _on_frame(self, step: int) -> None:
        if not self.running:
            return
        if self.steps is not None:
            done = step - self._start_step
            if step == self._last_step:
                return  # paused: the same picture again
            if done >= self.steps:
                self._grab(step)
                self.progress.emit(self.steps, self.steps)
                self._finish(step)
                return
            if time.perf_counter() - self._last_grab >= self._interval:
                self._grab(step)
            self.progress.emit(max(0, done), self.steps)
        elif time.perf_counter() - self._last_grab >= self._interval:
            self._grab(step)
            self._tick()

    def _tick(self) -> None:
        if not self.running or self.seconds is None:
            return
        elapsed = time.perf_counter() - self._t0
        if elapsed >= self.seconds:
            self._grab(self.window.step)
            self.progress.emit(self.total, self.total)
            self._finish(self.window.step)
        else:
            self.progress.emit(round(elapsed * 1000), self.total)

    def _finish(self, step: int) -> None:
        self._stop()
        frames, seconds = self.frames, time.perf_counter() - self._t0
        steps = step - self._start_step
        self.frames = []

        def write() -> None:
            try:
                path = write_frames(frames, self.path, self.fps)
                self._written.emit(Recording(path, len(frames), steps, seconds))
            except Exception as e:  # noqa: BLE001 - reported to the dialog
                self._written.emit(f"Recording not written: {type(e).__name__}: {e}")

        # encoding hundreds of frames takes seconds: off the GUI thread
        self._writer = threading.Thread(target=write, name="recording-writer")
        self._writer.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the file to be written; returns whether no write is still running."""
        if self._writer is not None:
            self._writer.join(timeout)
            return not self._writer.is_alive()
        return True

    @Slot(object)
    def _on_written(self, result: Any) -> None:
        if isinstance(result, Recording):
            self.finished.emit(result)
        else:
            self.failed.emit(str(result))
