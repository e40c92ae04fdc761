"""The training worker's points command: train the session's model on the user's drawn or
imported 2D points (issue 17: "the drawn set becomes the session's dataset at once")."""

from __future__ import annotations

from typing import Any

from .commands import SetPoints

__all__ = ["PointsCommands"]


class PointsCommands:
    """The :class:`~.worker.TrainingWorker`'s handler of :class:`~.commands.SetPoints` (a
    mixin: the session, the signals, ``_restarted`` and ``_emit_info`` are the worker's)."""

    session: Any
    chain_settings: Any

    def _set_points(self, command: SetPoints) -> None:
        """Replace the session by ``Session(model, "points", hyperparameters, seed, device,
        points=...)``, playing or paused as before; the hyperparameters are kept but the
        objective, which follows the data (points have no density: ``forward_kl``). A
        model that cannot use the points keeps its session and emits ``problem`` with the
        Session's message (the window's banner)."""
        import torch

        from ..core import hyperparameters as hpm
        from ..core.training import Session

        s = self.session
        keep = {k: v for k, v in hpm.to_dict(s.config).items() if k != "objective"}
        try:
            points = torch.as_tensor(command.points, dtype=torch.float32).detach().cpu()
            session = Session(
                s.model_name, "points", keep, seed=s.seed, device=str(s.device), points=points
            )
        except Exception as e:  # noqa: BLE001 - points a model cannot use keep the session
            self.problem.emit(f"Cannot train {s.model_name} on the {command.name}: {e}")
            return
        self._install(session)
