"""The training worker's preset commands: open and save a preset, between two steps.

Both run on the worker's thread, reading and writing included: a slow or stuck file (a
network folder, a FIFO) holds up training, never the window, and closing the window
abandons such a thread (see :mod:`.worker_thread`).
"""

from __future__ import annotations

from typing import Any

from .commands import OpenPreset, SavePreset

__all__ = ["PresetCommands"]


class PresetCommands:
    """The :class:`~.worker.TrainingWorker`'s handlers of :class:`~.commands.OpenPreset` and
    :class:`~.commands.SavePreset` (a mixin: the signals and the session are the worker's)."""

    session: Any
    chain_settings: Any
    pacing: Any

    def _open_preset(self, command: OpenPreset) -> None:
        """Read the preset's description (its view is snapshot first), then replace the
        session by the preset, paused; on any failure keep it."""
        from ..core.presets import load_preset, read_preset_info

        path = str(command.path)
        try:
            info = read_preset_info(path)
        except Exception:  # noqa: BLE001 - loading it below says what is wrong
            info = None
        self.preset_read.emit(path, info)
        parts = command.view_parts.get(info.view) if info is not None and info.view else None
        if parts:
            self.pacing.set_views(tuple(parts))
            self._snapshotter.forget_cost()
        device = str(self.session.device) if self.session is not None else self._start[3]
        try:
            session = load_preset(path, device=device)
            if self.chain_settings is not None:
                session.set_chain_settings(self.chain_settings)
        except Exception as e:  # noqa: BLE001 - a broken preset keeps the current session
            self.problem.emit(f"Cannot open preset: {e}")
            return
        self.session = session
        self._set_playing(False)
        self._restarted()  # forces the first snapshot: the view draws at once
        self._emit_info()
        self.preset_opened.emit(path)

    def _save_preset(self, command: SavePreset) -> None:
        """Save the session (between two steps) as a preset folder or bundle."""
        from ..core.presets import save_preset

        try:
            saved = save_preset(
                self.session,
                command.path,
                preview=command.preview,
                notes=command.notes,
                title=command.title,
                description=command.description,
                view=command.view,
            )
        except Exception as e:  # noqa: BLE001 - a failed save leaves training as it was
            self.problem.emit(f"Cannot save preset: {e}")
            return
        self.preset_saved.emit(str(saved))
