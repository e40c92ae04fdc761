"""The main window's draw mode (issue 17, "draw your data"): a brush and an eraser on the
plane views, and 2D points imported from or exported to CSV; the drawn set becomes the
session's dataset at once (a :class:`~.commands.SetPoints` to the worker).

Strokes change the drawing at once (a tick of the held brush adds ``density * dt``
points); the worker gets the drawing on release (coalesced: at most one
:class:`~.commands.SetPoints` per :data:`APPLY_DELAY_MS`), never per mouse event.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from .commands import SetPoints
from .drawing import DrawOverlay, PointSketch
from .drawing_bar import DrawBar
from .drawing_files import PointFiles
from .qt_util import weakly
from .session_choice import ask_points

__all__ = ["DrawingMode", "PLANE_VIEWS", "DRAW_KEY", "APPLY_DELAY_MS", "TICK_MS"]

#: the views drawn in data coordinates (their ``canvas`` and ``plot``): the draw mode's
PLANE_VIEWS = ("samples", "density", "energy", "critic", "manifold", "chains")
#: the key that turns the draw mode on and off
DRAW_KEY = "D"
#: the held brush adds points this often (ms): 60 a second, one a frame
TICK_MS = 16
#: the drawing goes to the worker this long after the last stroke ends (ms)
APPLY_DELAY_MS = 300
#: the fewest points a drawing trains on (``playground.core.data.points.MIN_POINTS``; not
#: imported here: the window opens before torch is imported)
MIN_POINTS = 2
_TOO_FEW = f"draw at least {MIN_POINTS} points"


class DrawingMode(QObject):
    """The draw mode of a :class:`~.main_window.MainWindow` (a part it owns:
    ``window.drawing``): View > Draw points (D), the :class:`~.drawing_bar.DrawBar`, one
    :class:`~.drawing.DrawOverlay` per plane view, and File > Import/Export points (CSV).

    Arguments:
        window: the main window (its ``views``, ``view_menu``, ``file_menu``, ``worker``,
            ``info``, ``post``, ``show_banner`` and ``visible_view``).

    Attributes:
        sketch: the :class:`~.drawing.PointSketch` drawn.
        bar: the tool bar; action: the View menu's toggle (D).
        tool: ``"brush"`` or ``"eraser"``.
        overlays: view name to its overlay (made when the draw mode first starts).
        applied_version: the sketch's version last sent to (or received from) the worker.
        choose_import, choose_export: ``() -> path | None`` (dialogs; tests replace them).
        files: the :class:`~.drawing_files.PointFiles` that reads and writes CSV files.
    """

    def __init__(self, window: Any):
        super().__init__(window)
        self.window = window
        self.sketch = PointSketch()
        self.applied_version = self.sketch.version
        self.tool = "brush"
        self.overlays: dict[str, DrawOverlay] = {}
        self._held: tuple[float, float] | None = None
        self._carry = 0.0
        self._last_tick = 0.0
        self.choose_import = lambda: ask_points(window)
        self.choose_export = weakly(self, lambda m: m._ask_export())
        self.bar = DrawBar(window)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.bar)
        self.bar.hide()
        self.action = QAction("&Draw points", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(DRAW_KEY))
        self.action.setToolTip("Draw your own 2D data on a plane view (D)")
        self.action.toggled.connect(self.set_active)
        window.view_menu.addAction(self.action)
        window.addAction(self.action)  # D works with the menu bar hidden too
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._on_timer)
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(APPLY_DELAY_MS)
        self._apply_timer.timeout.connect(self.apply)
        b = self.bar
        b.tool_changed.connect(self._set_tool)
        b.spread_changed.connect(self._set_spread)
        b.density_changed.connect(self._set_density)
        b.clear_clicked.connect(self.clear)
        b.import_clicked.connect(self.import_csv)
        b.export_clicked.connect(self.export_csv)
        b.done_clicked.connect(weakly(self, lambda m: m.action.setChecked(False)))
        self.files = PointFiles(self)
        self.files.loaded.connect(self._on_loaded)
        self.files.written.connect(self._on_written)
        self._exporting = 0
        self._add_file_actions(window.file_menu)
        window.worker.session_changed.connect(self._on_session)
        window.tabs.currentChanged.connect(self._on_tab)

    @classmethod
    def install(cls, window: Any) -> DrawingMode:
        """Give ``window`` its draw mode; returns it."""
        return cls(window)

    @property
    def active(self) -> bool:
        """Whether the draw mode is on."""
        return self.action.isChecked()

    # ------------------------------------------------------------- on and off
    def set_active(self, on: bool) -> None:
        """Turn the draw mode on (the bar shows, strokes on the plane views draw) or off
        (a drawing not yet applied is applied first)."""
        if self.action.isChecked() != bool(on):
            self.action.setChecked(bool(on))  # comes back here through toggled
            return
        if on:
            for name in PLANE_VIEWS:
                if name not in self.overlays and name in self.window.views:
                    self._make_overlay(name)
        else:
            self._end_stroke()
            if self._apply_timer.isActive():
                self._apply_timer.stop()
                self.apply()
        for overlay in self.overlays.values():
            overlay.set_active(on)
        self.bar.setVisible(on)
        self._refresh()
        self._show_count()

    def _make_overlay(self, name: str) -> None:
        view = self.window.views[name]
        overlay = DrawOverlay(view.canvas, view.plot)
        overlay.pressed.connect(self.press)
        overlay.moved.connect(self.move)
        overlay.released.connect(self.release)
        self.overlays[name] = overlay

    # ------------------------------------------------------------- strokes
    def press(self, x: float, y: float) -> None:
        """A stroke starts at data point ``(x, y)``: the brush puts one tick's dab down,
        the eraser erases there; both go on while held (:meth:`tick`)."""
        self._held = (x, y)
        self._carry = 0.0
        self._last_tick = time.perf_counter()
        self._apply_timer.stop()  # nothing goes to the worker mid-stroke
        self.tick(TICK_MS / 1000)
        self._timer.start()

    def move(self, x: float, y: float) -> None:
        """The held pointer moved to ``(x, y)`` (the eraser erases along the way)."""
        if self._held is None:
            return
        self._held = (x, y)
        if self.tool == "eraser" and self.sketch.erase(x, y):
            self._refresh()

    def release(self) -> None:
        """The stroke ends: the drawing goes to the worker after :data:`APPLY_DELAY_MS`."""
        if self._held is None:
            return
        self._end_stroke()
        self._apply_timer.start()

    def tick(self, dt: float) -> int:
        """``dt`` seconds of the held tool: the brush adds ``density * dt`` points (the
        fraction carries over), the eraser erases; returns the points added or removed."""
        if self._held is None:
            return 0
        x, y = self._held
        if self.tool == "eraser":
            changed = self.sketch.erase(x, y)
        else:
            self._carry += self.sketch.density * dt
            count = int(self._carry)
            self._carry -= count
            changed = self.sketch.brush(x, y, count)
        if changed:
            self._refresh()
            self._show_count()
        return changed

    def _on_timer(self) -> None:
        now = time.perf_counter()
        dt, self._last_tick = min(now - self._last_tick, 0.1), now
        self.tick(dt)

    def _end_stroke(self) -> None:
        self._timer.stop()
        self._held = None

    # ------------------------------------------------------------- the worker
    def apply(self) -> bool:
        """Send the drawing to the worker (:class:`~.commands.SetPoints`) if it changed
        since last sent; fewer than two points are not sent (the bar says so). Returns
        whether it was sent."""
        self._apply_timer.stop()
        if self.sketch.version == self.applied_version:
            return False
        if len(self.sketch) < MIN_POINTS:
            self.bar.show_hint(f"{len(self.sketch)} points: {_TOO_FEW}")
            return False
        if not self._may_replace():
            self.bar.show_hint(f"{len(self.sketch):,} points: not applied, the session is kept")
            return False
        self.applied_version = self.sketch.version
        self.window.post(SetPoints(self.sketch.points.copy(), "drawn points"))
        self.bar.show_hint(f"{len(self.sketch):,} points: training on them")
        return True

    def _may_replace(self) -> bool:
        """Whether the points may replace the session: a session on points is the drawing
        itself; any other that trained and is unsaved is asked about first (the window's
        session guard, which keeps a copy in File > Recent sessions)."""
        from ..core.preset_points import is_points_dataset

        info = self.window.info
        if info is not None and is_points_dataset(info.dataset):
            return True
        guard = getattr(getattr(self.window, "presets", None), "guard", None)
        return guard is None or guard.allow_replace()

    def _on_session(self, info: Any) -> None:
        """A new session: one on points (a preset, an import, the drawing itself) becomes
        the drawing, unless strokes are waiting to be applied."""
        points = getattr(info, "points", None)
        if points is None or self.sketch.version != self.applied_version or self._held:
            return
        self.sketch.set(points)
        self.applied_version = self.sketch.version
        self._refresh()
        self._show_count()

    def clear(self) -> None:
        """Remove every drawn point (the session trains on until 2 or more are drawn)."""
        self._end_stroke()
        self._apply_timer.stop()
        self.sketch.clear()
        self._refresh()
        self.bar.show_hint(f"0 points: {_TOO_FEW}")

    # ------------------------------------------------------------- CSV files
    def import_csv(self, path: str | None = None) -> bool:
        """Train on the points of a CSV file (``path``, else :attr:`choose_import` asks),
        read on a thread (:class:`~.drawing_files.PointFiles`): they become the drawing
        and the session's dataset. A refused file shows its one line in the banner and
        changes nothing. Returns whether the reading started."""
        path = path or self.choose_import()
        if not path:
            return False
        if not self.files.read(str(path)):
            self.window.show_banner(f"Still busy with {self.files.busy}", "warning")
            return False
        self.bar.show_hint(f"reading {Path(path).name}\u2026")
        return True

    def _on_loaded(self, path: str, points: Any) -> None:
        if isinstance(points, str):
            self.window.show_banner(f"Points not imported: {points}", "error")
            self._show_count()
            return
        if not self._may_replace():
            self._show_count()
            return
        self._end_stroke()
        self.sketch.set(points)
        self.applied_version = self.sketch.version
        self.window.post(SetPoints(self.sketch.points.copy(), f"points of {Path(path).name}"))
        self._refresh()
        self.bar.show_hint(f"{len(self.sketch):,} points from {Path(path).name}")

    def export_csv(self, path: str | None = None) -> bool:
        """Write the points as CSV (``x1,x2``), on a thread: the drawing while drawing,
        else the points the session trains on. Returns whether the writing started
        (nothing to write or cancelled: ``False``); the banner says when it is written,
        or why not."""
        points = self.sketch.points if self.active else None
        if points is None or len(points) < MIN_POINTS:
            points = getattr(self.window.info, "points", None)
        if points is None:
            self.window.show_banner(
                f"No points to export: draw or import at least {MIN_POINTS}", "warning"
            )
            return False
        path = path or self.choose_export()
        if not path:
            return False
        if not self.files.write(str(path), points):
            self.window.show_banner(f"Still busy with {self.files.busy}", "warning")
            return False
        self._exporting = len(points)
        return True

    def _on_written(self, path: str, error: Any) -> None:
        if error is not None:
            self.window.show_banner(f"Points not exported: {error}", "error")
        else:
            self.window.show_banner(f"Exported {self._exporting:,} points to {path}", "info")

    def _ask_export(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export points as CSV", str(Path.cwd() / "points.csv"),
            "CSV files (*.csv);;All files (*)",
        )  # fmt: skip
        return path or None

    def _add_file_actions(self, menu: Any) -> None:
        quit_action = next((a for a in menu.actions() if a.text() == "&Quit"), None)
        before = None
        if quit_action is not None:  # above the separator over Quit
            actions = menu.actions()
            index = actions.index(quit_action)
            before = actions[index - 1] if index and actions[index - 1].isSeparator() else None
            before = before or quit_action
        self.file_actions = []
        for text, slot in (
            ("&Import points (CSV)\u2026", lambda m, *_: m.import_csv()),
            ("E&xport points (CSV)\u2026", lambda m, *_: m.export_csv()),
        ):
            action = QAction(text, menu)
            action.triggered.connect(weakly(self, slot))
            if before is not None:
                menu.insertAction(before, action)
            else:
                menu.addAction(action)
            self.file_actions.append(action)

    # ------------------------------------------------------------- showing
    def _set_tool(self, tool: str) -> None:
        self.tool = tool

    def _set_spread(self, spread: float) -> None:
        self.sketch.spread = float(spread)

    def _set_density(self, density: float) -> None:
        self.sketch.density = float(density)

    def _on_tab(self, _: int) -> None:
        self._end_stroke()
        self._refresh()
        self._show_count()

    def _refresh(self) -> None:
        """Draw the sketch on the visible view's overlay (the others catch up when shown)."""
        overlay = self.overlays.get(self.window.visible_view)
        if overlay is not None and overlay.active:
            overlay.show_points(self.sketch)

    def _show_count(self) -> None:
        if not self.active:
            return
        n = len(self.sketch)
        if self.window.visible_view not in self.overlays:
            offered = [v for v in self.overlays if v in self.window.tab_names]
            names = ", ".join(self.window.views[v].title for v in offered) or "none here"
            self.bar.show_hint(f"{n:,} points; draw on a plane view: {names}")
        elif n < MIN_POINTS:
            self.bar.show_hint(f"{n:,} points: {_TOO_FEW}")
        else:
            training = getattr(self.window.info, "points", None) is not None
            applied = training and self.sketch.version == self.applied_version
            self.bar.show_hint(f"{n:,} points" + (": training on them" if applied else ""))
