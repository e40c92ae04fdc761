"""How long "Fork here" takes to show two branches (issue 17).

Usage: ``QT_QPA_PLATFORM=offscreen python benchmarks/fork_open.py [--steps 500]
[--seeds 0-2] [--replay 0]``.

For one 2D model per family (realnvp on moons, gan on 8gaussians, vae on moons, default
hyperparameters), trains ``--steps`` steps into a checkpoint ring (one checkpoint every
``--replay + 1`` steps, so a fork point between two checkpoints replays up to ``--replay``
steps; the app's timeline captures the exact step first, so there it replays none), takes
the fork point at the last step, then times:

- ``session_from s``: the core alone, :func:`~playground.core.training.checkpoints.session_from`
  (build the session, restore, replay, apply ``lr`` halved);
- ``open s``: :func:`playground.app.fork.open_fork` from a paused main window until both
  panes of the Compare window are at the fork step (Play both enabled) and have drawn a
  frame of it.

One markdown row per model and seed. Torch on one thread (the app's workers too).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table, parse_seeds  # noqa: E402
from playground.core import hyperparameters as hpm  # noqa: E402
from playground.core.training import Session  # noqa: E402
from playground.core.training.checkpoint_state import capture  # noqa: E402
from playground.core.training.checkpoints import (  # noqa: E402
    CheckpointRing,
    fork_point,
    session_from,
)

#: one 2D model per family, with its dataset and its learning-rate field
CASES = (("realnvp", "moons", "lr"), ("gan", "8gaussians", "lr_generator"), ("vae", "moons", "lr"))


def _wait(app: Any, done: Any, seconds: float = 120.0) -> None:
    end = time.perf_counter() + seconds
    while not done():
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() > end:
            raise TimeoutError("the fork window did not get ready")


def measure(app: Any, case: tuple[str, str, str], seed: int, steps: int, replay: int) -> dict:
    """Train, take the fork point at the last step, time the core and the app."""
    from playground.app.fork import open_fork
    from playground.app.main_window import MainWindow

    model, dataset, lr = case
    session = Session(model, dataset, seed=seed, device="cpu")
    ring = CheckpointRing()
    ring.add(capture(session))
    for _ in range(steps):
        session.step()
        if session.step_count % (replay + 1) == 0:
            ring.add(capture(session))
    point = fork_point(session, ring, steps)
    changes = {lr: getattr(session.config, lr) / 2}
    t0 = time.perf_counter()
    session_from(point, changes)
    core = time.perf_counter() - t0

    window = MainWindow(model, dataset, seed=seed, device="cpu", paused=True)
    window.show()
    window.start()
    _wait(app, lambda: window.frame is not None)
    t0 = time.perf_counter()
    compare = open_fork(window, point, changes)
    panes = compare.panes
    _wait(
        app,
        lambda: not compare.both.waiting and all(p.step == steps for p in panes),
    )
    opened = time.perf_counter() - t0
    assert panes[1].worker.session.config == hpm.replace(point.checkpoint.config, changes)
    window.close()
    compare.close()
    return {
        "model": model,
        "seed": seed,
        "steps": steps,
        "replayed": steps - point.checkpoint.step,
        "session_from s": core,
        "open s": opened,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--replay", type=int, default=0, help="steps between checkpoints - 1")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from PySide6.QtWidgets import QApplication

    from playground.app import theme

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    rows = [
        measure(app, case, seed, args.steps, args.replay)
        for case in CASES
        for seed in parse_seeds(args.seeds)
    ]
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
