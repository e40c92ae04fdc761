"""How the main window draws: the worker's newest frame into the visible view and the
status bar, the worker's progress between frames, and the drawing cost it reports to the
pacing. A mixin of :class:`~.main_window.MainWindow`, on the GUI thread."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .snapshots import Frame, Progress
    from .views import View

__all__ = ["FrameDrawing"]

#: the most CPU seconds one frame's drawing is counted at (a dialog opened between two
#: frames is not drawing)
_MAX_DRAW_COST = 0.1


class FrameDrawing:
    """Drawing of a :class:`~.main_window.MainWindow` (which owns the attributes used
    here: ``worker``, ``views``, ``visible_view``, ``frame``, ``step``, ``draws``, the
    status-bar labels, ``view_status``, ``presentation_mode``, ``frame_drawn``,
    ``show_banner``, ``_generation`` and ``_drawn_at``)."""

    def draw_newest(self) -> None:
        """Draw the worker's newest frame into the visible view and the status bar.

        A view that fails to draw a snapshot shows a one-line banner naming it and the
        error; nothing escapes this slot and training goes on."""
        frame = self.worker.take()
        if frame is None:
            return
        view = self.views[self.visible_view]
        try:
            self._draw(frame, view)
        except Exception as e:  # noqa: BLE001 - a bad picture must not leave the Qt slot
            text = " ".join(f"{type(e).__name__}: {e}".split())
            text = text if len(text) <= 200 else text[:199] + "\u2026"
            self.show_banner(f"The {view.title} view could not draw this frame: {text}")

    def _draw(self, frame: Frame, view: View) -> None:
        if frame.generation != self._generation:
            self._generation = frame.generation
            for each in self.views.built():  # views not built yet hold nothing
                each.clear()
            self.view_status.clear_pictures()
        self.view_status.show_view(view.name, view.title)
        self.frame = frame
        snap = frame.snapshot
        self.step = snap.step
        self.step_label.setText(f"step {snap.step:,}")
        rate = f"{frame.steps_per_second:,.0f} steps/s" if frame.playing else "paused"
        self.speed_label.setText(rate)
        self.terms_label.setText("   ".join(f"{k} {v:.4g}" for k, v in snap.terms.items()))
        if view.accepts(snap):
            view.show_snapshot(snap)
            self.draws[view.name] += 1
            previews = (snap.previews.get(p, "") for p in view.reads())
            self.view_status.drawn(view.name, snap.step, "; ".join(p for p in previews if p))
            # presenting: scale what the view created or restyled as it drew
            self.presentation_mode.restyle(view)
            self._measure_drawing(frame.playing)
            self.frame_drawn.emit(snap.step)

    def _measure_drawing(self, playing: bool) -> None:
        """Tell the worker's pacing the GUI's CPU time per frame while training plays: from
        one drawn frame to the next (this draw, the last one's painting, the event loop)."""
        clock = time.thread_time()
        if playing and self._drawn_at is not None:
            self.worker.pacing.drawn(min(clock - self._drawn_at, _MAX_DRAW_COST))
        self._drawn_at = clock if playing else None

    # ------------------------------------------------------------- from user
    def _on_progress(self, progress: Progress) -> None:
        """The worker's step and what it computes, between frames (a costly picture is
        late: the counters still move, and the status line says what is being done)."""
        if progress.generation != self._generation:
            return  # the new session's first frame has not come yet
        self.step_label.setText(f"step {progress.step:,}")
        rate = progress.steps_per_second
        self.speed_label.setText(f"{rate:,.0f} steps/s" if progress.playing else "paused")
        self.terms_label.setText("   ".join(f"{k} {v:.4g}" for k, v in progress.terms.items()))
        view = self.views[self.visible_view]
        self.view_status.show_view(view.name, view.title)
        self.view_status.progress(progress)
