"""Nothing trained is lost by a click: opening a preset or choosing another model or dataset
over a trained, unsaved session asks first, and keeps a copy in File > Recent sessions.

:class:`SessionGuard` is a part the :class:`~.window_menus.PresetMenus` owns
(``window.presets.guard``); the menus and :class:`~.session_choice.SessionChoice` ask it
before they replace the session.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths

__all__ = [
    "SessionGuard",
    "SESSIONS_KEY",
    "MAX_SESSIONS",
    "default_sessions_folder",
    "session_label",
]

#: the replaced sessions kept: QSettings key, and how many (older copies are deleted)
SESSIONS_KEY, MAX_SESSIONS = "recent_sessions", 5


def default_sessions_folder() -> Path:
    """Where replaced sessions are kept: ``sessions`` in the app's data folder
    (``QStandardPaths.AppDataLocation``)."""
    location = QStandardPaths.StandardLocation.AppDataLocation
    return Path(QStandardPaths.writableLocation(location)) / "sessions"


def session_label(path: str) -> str:
    """A Recent sessions entry: the kept copy's title (read from its config.json as plain
    JSON: the menu is built before torch is imported), else its folder's name."""
    try:
        title = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))["title"]
    except (OSError, ValueError, KeyError, TypeError):
        return Path(path).name
    return str(title)


def _slug(text: str) -> str:
    """``text`` as a short file-name part (a folder dataset's spec holds slashes)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:40] or "session"


class SessionGuard(QObject):
    """Whether the window's session holds training that no preset has, and the copies of the
    sessions replaced.

    The session is *unsaved* when it has trained (its drawn step is above 0) since it was
    built, reset, opened from a preset or saved: the state last saved or opened is
    remembered as ``(generation, step)``, the worker's restart count and the step.

    Arguments:
        window: the :class:`~.main_window.MainWindow` (``frame``, ``step``, ``info``,
            ``worker``, ``settings``, ``confirm``).
        menus: its :class:`~.window_menus.PresetMenus` (``save_preset_as``).

    Attributes:
        folder: where the copies of replaced sessions are written (default
            :func:`default_sessions_folder`; tests point it at a temporary folder).
        keeping: the copies posted to the worker and not yet written.
    """

    def __init__(self, window: Any, menus: Any):
        super().__init__(menus)
        self.window, self.menus = window, menus
        self.folder = default_sessions_folder()
        self.keeping: set[str] = set()
        self._clean: tuple[int, int] | None = None
        window.worker.preset_opened.connect(self._on_opened)

    # ------------------------------------------------------------- the state
    @property
    def unsaved(self) -> bool:
        """Whether the drawn session has trained since it was built, opened or saved (one
        the worker has since restarted, by a reset or a rebuild, is not drawn yet: its
        step is 0)."""
        frame = self.window.frame
        if frame is None or self.window.info is None or self.window.step <= 0:
            return False
        if frame.generation != self.window.worker.generation:
            return False
        return (frame.generation, self.window.step) != self._clean

    def question(self) -> str:
        """What :meth:`allow_replace` asks."""
        info, step = self.window.info, self.window.step
        return (
            f"Replace the trained session ({info.model} on {info.dataset}, step {step:,})? "
            "It is not saved; File > Recent sessions will keep a copy."
        )

    def allow_replace(self) -> bool:
        """Whether the session may be replaced: at once if nothing would be lost, else
        after ``window.confirm`` says yes; then a copy is kept (:meth:`keep_copy`)."""
        if not self.unsaved:
            return True
        if not self.window.confirm(self.question()):
            return False
        self.keep_copy()
        return True

    def saved(self, path: str) -> bool:
        """The worker saved the session at ``path``: the drawn state is saved. Returns
        whether ``path`` was one of the copies :meth:`keep_copy` asked for (then it is
        listed under Recent sessions)."""
        key = str(Path(path).resolve())
        if key in self.keeping:
            self.keeping.discard(key)
            self._remember(key)
            return True
        frame = self.window.frame
        if frame is not None:
            self._clean = (frame.generation, self.window.step)
        return False

    def _on_opened(self, _path: str) -> None:
        # the worker restarted on the preset and paused: its generation and step are still
        worker = self.window.worker
        self._clean = (worker.generation, worker.session.step_count)

    # ------------------------------------------------------------- the copies
    def keep_copy(self) -> Path | None:
        """Save the session (queued before the command that replaces it) into
        :attr:`folder`; it is listed under Recent sessions once written. ``None``: the
        folder cannot be made (the status bar says so; the replacement goes on, as agreed)."""
        info, step = self.window.info, self.window.step
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{stamp}-{_slug(info.model)}-{_slug(info.dataset)}-step{step}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.window.statusBar().showMessage(f"No copy of the session kept: {e}", 10_000)
            return None
        self.keeping.add(str(path.resolve()))
        self.menus.save_preset_as(
            str(path),
            title=f"{info.model} on {info.dataset}, step {step:,}",
            description=f"Kept when it was replaced, {time.strftime('%Y-%m-%d %H:%M')}.",
        )
        return path

    def recent_sessions(self) -> list[str]:
        """The copies of replaced sessions that still exist, newest first."""
        value = self.window.settings.value(SESSIONS_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if Path(p).exists()][:MAX_SESSIONS]

    def _remember(self, path: str) -> None:
        kept = [path, *(p for p in self.recent_sessions() if p != path)]
        for old in kept[MAX_SESSIONS:]:
            # only this guard's own copies are ever deleted
            if Path(old).parent.resolve() == self.folder.resolve():
                shutil.rmtree(old, ignore_errors=True)
        settings = self.window.settings
        settings.setValue(SESSIONS_KEY, kept[:MAX_SESSIONS])
        settings.sync()
