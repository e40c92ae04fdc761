"""The training worker's fork command: replace the session by a branch of another run,
started from a :class:`~playground.core.training.checkpoints.ForkPoint` (issue 17).

The branch is built, restored and replayed on the worker's thread (a replay of a few
hundred steps holds up this worker, never the window)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal

from .commands import StartFrom

__all__ = ["ForkCommands"]


class ForkCommands:
    """The :class:`~.worker.TrainingWorker`'s handler of :class:`~.commands.StartFrom` (a
    mixin: the session, the other signals and ``_restarted`` are the worker's).

    Signals:
        fork_started(int): the session is now the branch, paused at this step.
    """

    fork_started = Signal(int)

    session: Any
    chain_settings: Any

    def _start_from(self, command: StartFrom) -> None:
        """Build the branch of ``command.point`` with ``command.changes``, then make it the
        session, paused (like a preset opened); on any failure keep the session and say
        why (a field that needs a rebuild is named)."""
        from ..core.training.checkpoints import session_from

        point = command.point
        try:
            session = session_from(point, dict(command.changes or {}))
        except Exception as e:  # noqa: BLE001 - a branch that cannot start keeps the session
            self.problem.emit(f"Cannot start the branch at step {point.step}: {e}")
            return
        self._set_playing(False)
        self._install(session)
        self.fork_started.emit(session.step_count)
