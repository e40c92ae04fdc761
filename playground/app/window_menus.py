"""The main window's File menu and keys: presets (open, save, the gallery, recent ones),
the tools (record a view, compare two sessions), and the lecture hall's plain keys.

A mixin of :class:`~.main_window.MainWindow`: it uses the window's worker, views, tabs,
transport and settings, and keeps no state of its own beyond the menus it builds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from .panels import PresetGallery
from .preview import png_bytes as _pixmap_png

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
PRESET_FILTER = "Presets (*.dgmpreset config.json);;All files (*)"


def settings_store() -> QSettings:
    """The user's settings (recent presets): an INI file in the user scope, so tests can
    redirect it with ``QSettings.setPath(IniFormat, UserScope, folder)``."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, APP_TITLE, "playground")


def png_bytes(widget: QWidget) -> bytes:
    """What ``widget`` shows now, as PNG bytes."""
    return _pixmap_png(widget.grab())


class PresetMenus:
    """File menu, presets and keys of the main window (a mixin; see the module)."""

    # ------------------------------------------------------------- presets
    def open_preset(self, path: str) -> None:
        """Open the preset folder or ``.dgmpreset`` bundle at ``path``, paused at its trained
        state (the worker loads it; a broken one shows a banner and keeps the session)."""
        from ..core.presets import PresetError, read_preset_info

        self._opening = (time.perf_counter(), self.worker.generation, False)
        try:
            info = read_preset_info(path)
        except (PresetError, OSError):  # the worker says what is wrong with it
            info = None
        self._pending = (str(path), info)
        if info is not None and info.view in self.views:
            # the worker snapshots the preset's own view first: its tab is shown at once
            parts = self._parts_of(info.view)
            if parts != self._posted_parts:
                self._posted_parts = parts
                self.worker.post("views", parts)
        self._post("open_preset", str(path))

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
        view = self.visible_view
        preview = png_bytes(self.views[view])
        offered = self.info.views if self.info is not None else []
        self._post(
            "save_preset",
            str(path),
            preview,
            title,
            description,
            notes,
            view if view in offered else None,
        )

    def open_gallery(self) -> PresetGallery:
        """Show the preset gallery (the shipped and the recent presets); choosing one opens it."""
        if self.gallery is not None:
            self.gallery.close()
        self.gallery = PresetGallery(extra=self.recent_presets(), parent=self)
        self.gallery.preset_chosen.connect(self.open_preset)
        self.gallery.open()
        return self.gallery

    def recent_presets(self) -> list[str]:
        """The recently opened or saved presets that still exist, newest first."""
        value = self.settings.value(RECENT_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if Path(p).exists()][:MAX_RECENT]

    def _remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        paths = [path, *(p for p in self.recent_presets() if p != path)][:MAX_RECENT]
        self.settings.setValue(RECENT_KEY, paths)
        self.settings.sync()
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.recent_presets()
        for i, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{i}  {Path(path).name}")
            action.setData(path)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_preset(p))
        menu.setEnabled(bool(paths))

    def _on_preset_opened(self, path: str) -> None:
        if self._opening is not None:
            self._opening = (*self._opening[:2], True)
        pending, self._pending = self._pending, None
        self.preset = pending[1] if pending is not None and pending[0] == path else None
        title = self.preset.title if self.preset is not None else Path(path).name
        self.setWindowTitle(f"{title} — {APP_TITLE}")
        self.statusBar().showMessage(f"Opened preset {path}", 5000)
        self._remember(path)

    def _on_problem(self, message: str) -> None:
        if self._pending is not None and self._opening is not None and not self._opening[2]:
            # the open failed: snapshot the visible view again, not the preset's
            self._pending = None
            self._posted_parts = ()
            self._post_views()

    def _on_preset_saved(self, path: str) -> None:
        self.statusBar().showMessage(f"Saved preset {path}", 5000)
        self._remember(path)

    def _ask_preset(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a preset: a .dgmpreset file, or a preset folder's config.json",
            "",
            PRESET_FILTER,
        )
        if not path:
            return None
        return str(Path(path).parent) if Path(path).name == "config.json" else path

    def _ask_save_path(self) -> str | None:
        from ..core.presets import BUNDLE_SUFFIX

        path, chosen = QFileDialog.getSaveFileName(
            self,
            "Save preset as",
            "",
            f"Preset bundle (*{BUNDLE_SUFFIX});;Preset folder (*)",
        )
        if not path:
            return None
        if chosen.startswith("Preset bundle") and not path.endswith(BUNDLE_SUFFIX):
            path += BUNDLE_SUFFIX
        return path

    def _open_chosen(self) -> None:
        path = self.choose_preset()
        if path:
            self.open_preset(path)

    def _save_chosen(self) -> None:
        path = self.choose_save_path()
        if path:
            self.save_preset_as(path)

    # ------------------------------------------------------------- menus, keys
    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        for text, keys, slot in (
            ("&Open preset\u2026", "Ctrl+O", self._open_chosen),
            ("&Save preset as\u2026", "Ctrl+S", self._save_chosen),
            ("Preset &gallery\u2026", "Ctrl+G", self.open_gallery),
        ):
            action = file_menu.addAction(text)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _=False, slot=slot: slot())
        self.recent_menu = file_menu.addMenu("&Recent presets")
        self._fill_recent_menu()
        file_menu.addSeparator()
        self._add_tool_actions(file_menu)
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.file_menu = file_menu
        view_menu = self.menuBar().addMenu("&View")
        self.presentation_action = QAction("&Presentation mode", self)
        self.presentation_action.setCheckable(True)
        self.presentation_action.setShortcut(QKeySequence("F11"))
        self.presentation_action.toggled.connect(self.set_presentation)
        view_menu.addAction(self.presentation_action)
        self.view_menu = view_menu

    def _add_tool_actions(self, menu: QMenu) -> None:
        """Add the tools' actions to the File menu, above Quit: record the current view (PNG,
        GIF or MP4) and compare this session with another model's on the same dataset."""
        record = menu.addAction("&Record view\u2026")
        record.setShortcut(QKeySequence("Ctrl+Shift+R"))
        record.triggered.connect(lambda _=False: self.open_record_dialog())
        compare = menu.addAction("&Compare with\u2026")
        compare.setShortcut(QKeySequence("Ctrl+Shift+C"))
        compare.triggered.connect(lambda _=False: self._compare_chosen())
        menu.addSeparator()
        self._tool_windows: list[QWidget] = []

    def open_record_dialog(self) -> QWidget:
        """Open the Record dialog on the current view (see :mod:`.panels.record_dialog`)."""
        from .panels.record_dialog import RecordDialog

        dialog = RecordDialog(self)
        dialog.show()
        return dialog

    def compare_with(self, model: str) -> QWidget:
        """Open a window with this session's model and ``model`` side by side on this
        session's dataset, each with its own controls and one shared Play (see
        :class:`.compare.CompareWindow`); it is kept until closed."""
        from .compare import CompareWindow

        info = self.info
        window = CompareWindow((info.model, info.dataset), (model, info.dataset), seed=info.seed)
        window.resize(1800, 900)
        window.show()
        window.start()
        self._tool_windows.append(window)
        return window

    def choose_compare_model(self, models: list[str]) -> str | None:
        """Ask which model to compare with (replaceable in tests)."""
        from PySide6.QtWidgets import QInputDialog

        model, ok = QInputDialog.getItem(
            self, "Compare with", f"Model to train beside {self.info.model}:", models, 0, False
        )
        return model if ok else None

    def _compare_chosen(self) -> None:
        if self.info is None:
            return
        dataset = self.info.dataset.partition(":")[0]
        trainable = self.worker._catalog.get("trainable", {})
        models = [m for m, ds in trainable.items() if dataset in ds]
        model = self.choose_compare_model(models) if models else None
        if model:
            self.compare_with(model)

    def _add_keys(self) -> None:
        """Plain keys for the lecture hall. A focused spin box or line edit takes printable
        keys and arrows first (Qt's ShortcutOverride), so typing a value never triggers them."""
        keys: list[tuple[str, Callable[[], None]]] = [
            ("Space", lambda: self._click(self.transport.play)),
            ("Right", lambda: self._click(self.transport.step)),
            ("R", lambda: self._click(self.transport.reset)),
        ]
        for i in range(1, 10):
            keys.append((str(i), lambda i=i: self._show_tab(i - 1)))
        self._key_shortcuts = [QShortcut(QKeySequence(k), self, slot) for k, slot in keys]

    def _click(self, button: Any) -> None:
        if button.isEnabled() and button.isVisibleTo(self.transport) and self.transport.isEnabled():
            button.click()

    def _show_tab(self, index: int) -> None:
        if index < self.tabs.count():
            self.tabs.setCurrentIndex(index)
