""" "Fork here": a run's branch with changed hyperparameters beside the run as it was, in a
Compare window whose two sides start at the fork step and whose curves are overlaid, so
"what if I had lowered the learning rate at step 500" is one click (issue 17)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import hyperparameters as hpm
from .commands import Pause
from .compare import CompareWindow, Side
from .qt_util import weakly

__all__ = ["open_fork", "fork_problem", "describe_changes"]


def describe_changes(changes: Mapping[str, Any]) -> str:
    """``{"lr": 1e-4, "batch_size": 64}`` as ``"lr 0.0001, batch_size 64"`` (``"unchanged"``
    for none)."""
    words = [f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in changes.items()]
    return ", ".join(words) or "unchanged"


def fork_problem(config: Any, changes: Mapping[str, Any]) -> str | None:
    """Why a branch of a run with ``config`` cannot take ``changes``, or ``None``: an
    unknown field or a bad value (the core's message), or fields that rebuild the model
    (a branch keeps the run's weights: only live fields may change)."""
    try:
        new = hpm.replace(config, dict(changes))
    except hpm.HyperparameterError as e:
        return str(e)
    rebuilds = hpm.needs_reset(config, new)
    if rebuilds:
        return (
            f"a fork changes live hyperparameters only; {', '.join(rebuilds)} would rebuild "
            "the model and lose the run's weights (change it in a new run instead)"
        )
    return None


def open_fork(
    window: Any, point: Any, changes: Mapping[str, Any] | None = None
) -> CompareWindow | None:
    """Open a Compare window with two branches of ``window``'s run at ``point``: left "as
    run" (no change: it goes on exactly as the run did), right "fork" (``changes``). Both
    start paused at ``point.step``; Play both trains them in lock-step, and each side's
    Curves view draws the other's curves dashed.

    Arguments:
        window: the :class:`~.main_window.MainWindow` whose run it is (its class makes the
            panes; it keeps the Compare window until that closes, and is paused).
        point: a :class:`~playground.core.training.checkpoints.ForkPoint` of its run.
        changes: live field name to value; ``None``: ask, with ``window.choose_fork_changes
            (point, config)`` where the window has it (tests), else a
            :class:`~.fork_dialog.ForkDialog`.

    Returns:
        The Compare window, or ``None``: cancelled, or ``changes`` cannot apply (an
        unknown field, a bad value, a field that rebuilds the model): then the window's
        banner says why and nothing else happens.
    """
    config = point.checkpoint.config
    if changes is None:
        ask = getattr(window, "choose_fork_changes", None)
        if ask is not None:
            changes = ask(point, config)
        else:
            from .fork_dialog import ask_fork_changes

            changes = ask_fork_changes(window, point.step, config)
        if changes is None:
            return None
    changes = dict(changes)
    problem = fork_problem(config, changes)
    if problem is not None:
        window.show_banner(f"Cannot fork at step {point.step:,}: {problem}")
        return None
    described = describe_changes(changes)
    sides = (
        Side(point.model, point.dataset, fork=point, label="as run"),
        Side(point.model, point.dataset, fork=point, changes=changes, label=f"fork: {described}"),
    )
    tool = CompareWindow.in_temp_folder(
        *sides, prefix="dgm-fork-", pane=type(window), seed=point.seed, device=point.device
    )
    tool.setWindowTitle(f"DGM Playground: fork at step {point.step:,}: as run vs {described}")
    window.presets.tool_windows.append(tool)  # joined with the window, kept until closed
    tool.closed.connect(weakly(window, _forget))
    window.post(Pause())  # the branches train now; this run waits where it is
    tool.start()
    tool.fit_screen((window.screen() or tool.screen()).availableGeometry())
    tool.show()
    return tool


def _forget(window: Any, tool: Any) -> None:
    """The fork's Compare window closed: ``window`` no longer keeps it (it deletes itself)."""
    window.presets.tool_windows = [w for w in window.presets.tool_windows if w is not tool]
