"""The line above the views: which step the picture on show is from, whether it is a
preview, and what is being computed now, so a lecturer never wonders whether it froze."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

__all__ = ["ViewStatus"]


class ViewStatus(QLabel):
    """One word-wrapped line: ``Samples: picture of step 1,200 (training at step 1,450) ·
    preview: 250 of 1,000 particles, full picture when paused · computing samples:
    annealed Langevin, level 6 of 15, step 3 of 20``.

    The window tells it when a view drew (:meth:`drawn`), which view is on show
    (:meth:`show_view`) and the worker's :class:`~.snapshots.Progress` (:meth:`progress`).

    Attributes:
        shown: view name to ``(step, preview)`` of the picture it shows.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        # wraps rather than widening the window
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setContentsMargins(6, 2, 6, 2)
        self.setStyleSheet("color: palette(window-text); background: palette(alternate-base);")
        self.shown: dict[str, tuple[int, str]] = {}
        self._view: tuple[str, str] = ("", "")
        self._step: int | None = None
        self._playing = False
        self._computing = ""
        self.setText("starting: building the session\u2026")

    def clear_pictures(self) -> None:
        """A new session: no view shows a picture yet."""
        self.shown.clear()
        self._computing = ""
        self._render()

    def show_view(self, name: str, title: str) -> None:
        """The view ``name`` (tab ``title``) is on show now."""
        self._view = (name, title)
        self._render()

    def drawn(self, name: str, step: int, preview: str = "") -> None:
        """The view ``name`` drew the picture of ``step`` (a preview: what was cut)."""
        self.shown[name] = (step, preview)
        self._render()

    def progress(self, progress: Any) -> None:
        """The worker's :class:`~.snapshots.Progress`: its step and what it computes."""
        self._step, self._playing = progress.step, progress.playing
        self._computing = progress.computing
        self._render()

    def playing(self, on: bool) -> None:
        """Training plays (previews are then drawn) or is paused."""
        self._playing = on
        self._render()

    def _render(self) -> None:
        name, title = self._view
        if not name:
            self.setText("")
            return
        parts = []
        if name in self.shown:
            step, preview = self.shown[name]
            text = f"{title}: picture of step {step:,}"
            if self._step is not None and self._step > step:
                text += f" (training at step {self._step:,})"
            parts.append(text)
            if preview:
                after = "full picture when paused" if self._playing else "full picture next"
                parts.append(f"preview ({preview}); {after}")
        else:
            parts.append(f"{title}: no picture yet")
        if self._computing:
            parts.append(f"computing {self._computing}")
        self.setText("  \u00b7  ".join(parts))
