"""The main window's File menu: presets (open, save, the gallery, recent ones), the
recent sessions (trained sessions kept when they were replaced) and the tools (record a
view, compare two sessions).

:class:`PresetMenus` is a part the main window owns (``window.presets``): it builds the menu,
keeps the open preset's state and talks to the window through its public methods.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QWidget

from .commands import OpenPreset, Pause, SavePreset, SetPoints
from .compare import CompareWindow, Side
from .panels import PresetGallery
from .panels.save_dialog import SaveChoice, ask_save
from .preview import png_bytes as _pixmap_png
from .qt_util import weakly
from .session_guard import SessionGuard, session_label

__all__ = [
    "PresetMenus",
    "APP_TITLE",
    "RECENT_KEY",
    "MAX_RECENT",
    "PRESET_FILTER",
    "settings_store",
    "png_bytes",
]

APP_TITLE = "DGM Playground"
#: recent presets: QSettings key, and how many the File menu lists (newest first)
RECENT_KEY, MAX_RECENT = "recent_presets", 8
PRESET_FILTER = "Preset bundles (*.dgmpreset);;All files (*)"


def settings_store() -> QSettings:
    """The user's settings (recent presets): an INI file in the user scope, so tests can
    redirect it with ``QSettings.setPath(IniFormat, UserScope, folder)``."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_TITLE, "playground")


def png_bytes(widget: QWidget) -> bytes:
    """What ``widget`` shows now, as PNG bytes."""
    return _pixmap_png(widget.grab())


class PresetMenus(QObject):
    """The File menu of a main window, the presets it opens and saves, and its tools.

    A ``QObject`` child of the window, so the worker's signals reach its slots on the GUI
    thread.

    Arguments:
        window: the :class:`~.main_window.MainWindow` (its ``worker``, ``views``, ``info``,
            ``settings``, its ``choose_*`` questions and :meth:`post` /
            :meth:`request_parts`).

    Opening a preset from the menus, the gallery or a recent list (:meth:`request_open`)
    over a trained, unsaved session asks first, and keeps a copy under Recent sessions
    (see :class:`~.session_guard.SessionGuard`); :meth:`open_preset` opens at once.

    Attributes:
        file_menu, recent_menu: the menus; Recent lists :meth:`recent_presets`.
        sessions_menu: Recent sessions: the copies of replaced trained sessions.
        guard: the :class:`~.session_guard.SessionGuard`.
        choose_bundle: ``choose_bundle() -> path | None``; asks which ``.dgmpreset`` file
            to open (File > Open bundle; tests replace it).
        preset: the :class:`~playground.core.presets.PresetInfo` of the open preset, or
            ``None`` (none opened, or the model or data changed since).
        last_open_seconds: seconds from :meth:`open_preset` to its first drawn view.
        gallery: the :class:`~.panels.PresetGallery` last opened, or ``None``.
        tool_windows: the compare windows opened from here and still open (joined with the
            window); one that closes is forgotten and deleted.
    """

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.preset: Any = None
        self.last_open_seconds: float | None = None
        self.gallery: PresetGallery | None = None
        self.tool_windows: list[QWidget] = []
        # copies of the session being saved for a compare window: path to that window
        self._compare_copies: dict[str, Any] = {}
        # an open in flight: (clock at the click, generation then, whether it opened)
        self._opening: tuple[float, int, bool] | None = None
        self._pending: tuple[str, Any] | None = None  # (path, PresetInfo) being opened
        self.guard = SessionGuard(window, self)
        self.choose_bundle = self.ask_bundle
        self.file_menu, self.recent_menu = self._make_menu(window)
        worker = window.worker
        worker.session_changed.connect(self._on_session)
        worker.preset_read.connect(self._on_preset_read)
        worker.preset_opened.connect(self._on_preset_opened)
        worker.preset_saved.connect(self._on_preset_saved)
        worker.problem.connect(self._on_problem)
        window.frame_drawn.connect(self._on_frame_drawn)

    # ------------------------------------------------------------- presets
    @property
    def pending_view(self) -> str | None:
        """The view of the preset being opened (its tab is shown first), or ``None``."""
        info = self._pending[1] if self._pending is not None else None
        return info.view if info is not None else None

    def open_preset(self, path: str) -> None:
        """Open the preset folder or ``.dgmpreset`` bundle at ``path``, paused at its trained
        state. The worker reads and loads it (never this thread: a stuck read must not
        freeze the window); a broken one shows a banner and keeps the session."""
        window = self.window
        self._opening = (time.perf_counter(), window.worker.generation, False)
        self._pending = (str(path), None)
        # the worker snapshots the preset's own view first: its tab is shown at once
        parts = {name: window.views.parts_of(name) for name in window.views}
        window.post(OpenPreset(str(path), parts))

    def request_open(self, path: str) -> bool:
        """Open the preset at ``path`` as the user asked (a menu, the gallery, a recent
        list): over a trained, unsaved session only once ``window.confirm`` says yes.
        Returns whether it is being opened."""
        if not self.guard.allow_replace():
            return False
        self.open_preset(path)
        return True

    def _on_preset_read(self, path: str, info: Any) -> None:
        """The worker read the preset's description (before loading it)."""
        if self._pending is None or self._pending[0] != path:
            return
        self._pending = (path, info)
        if info is not None and info.view in self.window.views:
            # the worker snapshots that view now: say so, so it is not asked for again
            self.window.request_parts(self.window.views[info.view].snapshot_parts())

    def save_preset_as(
        self,
        path: str,
        title: str | None = None,
        description: str | None = None,
        notes: str | None = None,
    ) -> None:
        """Save the session as a preset at ``path`` (``.dgmpreset``: a bundle; otherwise a
        folder), with a PNG of the visible view as its preview. Title, description and notes
        default to those of the open preset, if the session is still that preset's."""
        if self.preset is not None:
            title = title if title is not None else self.preset.title
            description = description if description is not None else self.preset.description
            notes = notes if notes is not None else self.preset.notes
        window = self.window
        view = window.visible_view
        offered = window.info.views if window.info is not None else []
        window.post(
            SavePreset(
                str(path),
                png_bytes(window.views[view]),
                title,
                description,
                notes,
                view if view in offered else None,
            )
        )

    def open_gallery(self) -> PresetGallery:
        """Show the preset gallery (the shipped and the recent presets); choosing one opens it."""
        if self.gallery is not None:
            self.gallery.close()
            self.gallery.deleteLater()
        self.gallery = PresetGallery(extra=self.recent_presets(), parent=self.window)
        self.gallery.preset_chosen.connect(self.request_open)
        self.gallery.open()
        return self.gallery

    def recent_presets(self) -> list[str]:
        """The recently opened or saved presets that still exist, newest first."""
        value = self.window.settings.value(RECENT_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if Path(p).exists()][:MAX_RECENT]

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        paths = [path, *(p for p in self.recent_presets() if p != path)][:MAX_RECENT]
        settings = self.window.settings
        settings.setValue(RECENT_KEY, paths)
        settings.sync()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.recent_presets()
        for i, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{i}  {Path(path).name}")
            action.setData(path)
            action.setToolTip(path)
            action.triggered.connect(weakly(self, lambda m, *_, p=path: m.request_open(p)))
        menu.setEnabled(bool(paths))

    def _fill_sessions_menu(self) -> None:
        menu = self.sessions_menu
        menu.clear()
        paths = self.guard.recent_sessions()
        for i, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{i}  {session_label(path)}")
            action.setData(path)
            action.setToolTip(path)
            action.triggered.connect(weakly(self, lambda m, *_, p=path: m.request_open(p)))
        menu.setEnabled(bool(paths))

    def _on_session(self, info: Any) -> None:
        preset = self.preset
        if preset is not None and (info.model, info.dataset) != (preset.model, preset.dataset):
            # another model or data: no longer the preset
            self.preset = None
            self.window.setWindowTitle(APP_TITLE)

    def _on_preset_opened(self, path: str) -> None:
        if self._opening is not None:
            self._opening = (*self._opening[:2], True)
        pending, self._pending = self._pending, None
        self.preset = pending[1] if pending is not None and pending[0] == path else None
        title = self.preset.title if self.preset is not None else Path(path).name
        self.window.setWindowTitle(f"{title} — {APP_TITLE}")
        self.window.statusBar().showMessage(f"Opened preset {path}", 5000)
        self._remember(path)

    def _on_frame_drawn(self, _step: int) -> None:
        opening, frame = self._opening, self.window.frame
        if opening is not None and opening[2] and frame.generation > opening[1]:
            self.last_open_seconds = time.perf_counter() - opening[0]
            self._opening = None

    def _on_problem(self, message: str) -> None:
        if message.startswith("Cannot save preset") and self._compare_copies:
            # the copy for a compare window failed: its left side keeps a fresh session
            for path, tool in list(self._compare_copies.items()):
                self._compare_copies.pop(path)
                if tool in self.tool_windows:
                    tool.copy_failed(0, message)
                    tool.start()
        if self._pending is not None and self._opening is not None and not self._opening[2]:
            # the open failed: snapshot the visible view again, not the preset's
            self._pending = None
            self.window.request_parts(self.window.visible_parts, force=True)

    def _on_preset_saved(self, path: str) -> None:
        if path in self._compare_copies:  # a compare window's copy: not the user's preset
            self._compare_copy_saved(path)
            return
        if self.guard.saved(path):  # a replaced session's copy, not the user's save
            self._fill_sessions_menu()
            return
        self.window.show_banner(f"Saved to {path}", "info")
        self._remember(path)

    def ask_preset(self) -> str | None:
        """Ask which preset folder to open (a folder dialog; bundles: :meth:`ask_bundle`)."""
        path = QFileDialog.getExistingDirectory(self.window, "Open a preset folder")
        return path or None

    def ask_bundle(self) -> str | None:
        """Ask which preset bundle (a ``.dgmpreset`` file) to open."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open a preset bundle", "", PRESET_FILTER
        )
        return path or None

    def ask_save_path(self) -> SaveChoice | None:
        """Ask where to save the session, with its title and description (see
        :func:`~.panels.save_dialog.ask_save`); ``None``: cancelled."""
        window = self.window
        return ask_save(window, window.info, window.step, self.preset)

    def _open_chosen(self) -> None:
        path = self.window.choose_preset()
        if path:
            self.request_open(path)

    def _open_bundle_chosen(self) -> None:
        path = self.choose_bundle()
        if path:
            self.request_open(path)

    def _save_chosen(self) -> None:
        chosen = self.window.choose_save_path()
        if isinstance(chosen, SaveChoice):
            self.save_preset_as(chosen.path, chosen.title or None, chosen.description or None)
        elif chosen:  # a bare path (tests answer with one): the default title
            self.save_preset_as(chosen)

    # ------------------------------------------------------------- the menu
    def _make_menu(self, window: QMainWindow) -> tuple[QMenu, QMenu]:
        file_menu = window.menuBar().addMenu("&File")
        for text, keys, slot in (
            ("&Open preset folder\u2026", "Ctrl+O", "_open_chosen"),
            ("Open preset &bundle\u2026", "Ctrl+Shift+O", "_open_bundle_chosen"),
            ("&Save preset as\u2026", "Ctrl+S", "_save_chosen"),
            ("Preset &gallery\u2026", "Ctrl+G", "open_gallery"),
        ):
            action = file_menu.addAction(text)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(weakly(self, lambda m, *_, slot=slot: getattr(m, slot)()))
        from .lesson_control import open_lesson_in  # File > Open lesson… (Ctrl+L)

        lesson = file_menu.addAction("Open &lesson\u2026")
        lesson.setShortcut(QKeySequence("Ctrl+L"))
        lesson.triggered.connect(weakly(window, lambda w, *_: open_lesson_in(w)))
        recent_menu = file_menu.addMenu("&Recent presets")
        self.recent_menu = recent_menu
        self._fill_recent_menu()
        self.sessions_menu = file_menu.addMenu("Recent &sessions")
        self.sessions_menu.setToolTip("Trained sessions kept when a preset or model replaced them")
        self._fill_sessions_menu()
        file_menu.addSeparator()
        # the tools, above Quit: record the current view (PNG, GIF or MP4), and compare this
        # session with another model's on the same dataset
        record = file_menu.addAction("&Record view\u2026")
        record.setShortcut(QKeySequence("Ctrl+Shift+R"))
        record.triggered.connect(weakly(self, lambda m, *_: m.open_record_dialog()))
        compare = file_menu.addAction("&Compare with\u2026")
        compare.setShortcut(QKeySequence("Ctrl+Shift+C"))
        compare.triggered.connect(weakly(self, lambda m, *_: m.compare_chosen()))
        from .scoreboard_menu import add_scoreboard_actions  # Scoreboard…, Run scoreboard…

        self.scoreboards = add_scoreboard_actions(file_menu, window)
        from .export_actions import add_export_actions  # Export as script…, as notebook…

        self.exports = add_export_actions(file_menu, window)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(window.close)
        return file_menu, recent_menu

    # ------------------------------------------------------------- the tools
    def open_record_dialog(self) -> QWidget:
        """Open the Record dialog on the current view (see :mod:`.panels.record_dialog`)."""
        from .panels.record_dialog import RecordDialog

        dialog = RecordDialog(self.window)
        dialog.show()
        return dialog

    def compare_with(self, other: str) -> QWidget:
        """Open a window comparing this session with ``other`` on its dataset (see
        :class:`.compare.CompareWindow`, whose panes are windows of this window's class).

        The left side is this session itself: paused here and saved (weights,
        hyperparameters, step, optimizer state, history) to a temporary preset that the
        left pane opens; the folder goes when the compare window closes. The right side is
        ``other``: a model name (a fresh session, step 0), a shipped preset's name
        (``"gan-ring8-pack4"``) or a preset's path. The window fits the screen this window
        is on; it is kept until closed, then forgotten and deleted.

        Raises:
            ValueError: the preset trained on another dataset.
            PresetError: the preset cannot be read.
        """
        from ..core.presets import SHIPPED_PRESETS

        window, info = self.window, self.window.info
        if other in window.worker.catalog.get("trainable", {}):
            right = Side(other, info.dataset)
        else:
            shipped = SHIPPED_PRESETS / other
            right = Side.of_preset(shipped if "/" not in other and shipped.is_dir() else other)
        tool = CompareWindow.in_temp_folder(
            Side(info.model, info.dataset),
            right,
            prefix="dgm-compare-",
            pane=type(window),
            seed=info.seed,
            device=info.device,
        )
        if info.dataset == "points" and right.preset is None and info.points is not None:
            # a fresh model on the same drawn points (its pane starts on a plane set)
            tool.panes[1].post(SetPoints(info.points, "drawn points"))
        copy = str(tool.folder / "session")
        # queued: the left pane's worker starts (and opens it) once it is saved
        tool.open_preset(0, copy)
        self._compare_copies[copy] = tool
        self.tool_windows.append(tool)
        tool.closed.connect(self._forget_tool)
        view = window.visible_view
        window.post(Pause())
        window.post(SavePreset(copy, view=view if view in info.views else None))
        tool.fit_screen((window.screen() or tool.screen()).availableGeometry())
        tool.show()
        return tool

    def _compare_copy_saved(self, path: str) -> None:
        """This session's copy for a compare window is saved: its left pane opens it (the
        folder goes with the window; if that closed meanwhile, it goes now)."""
        tool = self._compare_copies.pop(path)
        if tool in self.tool_windows:
            tool.start()
        else:
            shutil.rmtree(Path(path).parent, ignore_errors=True)

    def _forget_tool(self, window: QWidget) -> None:
        """A tool window closed: no longer ours (it deletes itself)."""
        self.tool_windows = [w for w in self.tool_windows if w is not window]

    def ask_compare_model(self, options: list[str]) -> str | None:
        """Ask what to compare with (see :class:`.compare_dialog.CompareDialog`): one of
        ``options`` (model names, preset paths) or another preset (a file dialog)."""
        from .compare_dialog import CompareDialog

        info = self.window.info
        others = [
            ("Other preset folder\u2026", self.ask_preset),
            ("Preset bundle\u2026", self.ask_bundle),
        ]
        dialog = CompareDialog(info.model, info.dataset, options, others, self.window)
        try:
            return dialog.choice if dialog.exec() else None
        finally:
            dialog.deleteLater()

    def compare_chosen(self) -> None:
        """Ask for a model that trains on this session's dataset or a preset that trained on
        it, and compare with it; a preset on other data, or unreadable, says so in the
        banner."""
        from ..core.presets import PresetError
        from .compare_dialog import compare_options

        window = self.window
        if window.info is None:
            return
        trainable = window.worker.catalog.get("trainable", {})
        options = compare_options(window.info.dataset, trainable)
        choice = window.choose_compare_model(options) if options else None
        if not choice:
            return
        try:
            self.compare_with(choice)
        except (ValueError, PresetError) as e:
            window.show_banner(f"Cannot compare: {e}")
