"""Scrubbing the timeline (issue 17): seconds from a timeline move to the views showing that
step, the checkpoint ring's memory after a long run, and what the ring costs training.

Usage: ``QT_QPA_PLATFORM=offscreen python benchmarks/scrubbing.py [--steps 20000]
[--models realnvp,gan,...] [--scrubs 20] [--seed 0] [--overhead-steps 3000]``.

Scrubbing, per model (on moons, default hyperparameters, seed ``--seed``): the app's window
(paused, its first tab on show) trains ``--steps`` steps through the worker (``PlayUntil``,
the ring saving after each step as in Play), then the timeline moves to ``--scrubs``
random steps in random order (``Timeline.scrub_to``, as a drag's first move or a key);
each is timed from the move to the visible view drawing a frame of that step (the first
frame of it: a preview where the picture has one). One row per model: the view, the
checkpoints held, their spacing, the MiB they hold against the budget, the median and
worst scrub seconds, the median and worst of the worker's restore + replay alone and of
the steps it replayed, the median and worst CPU seconds of that restore + replay (what a
quiet machine would take), the training ms per step in the app (PlayUntil), and the
load average over the run (the machine is shared).

Overhead (``--overhead-steps``, realnvp and gan on moons): the seconds of
``CheckpointRing.maybe_save`` at every step count of a run, as a share of the training
time of that many steps (see :func:`overhead`), over the whole run and its first 1,000
steps.

Slider moves (``--scrubs`` random slider positions, ``slider.setValue`` as a drag does):
the timeline snaps each to the nearest checkpoint and the views show it without a replay;
timed the same way (``slider_s_*``). The exact scrubs above (``scrub_s_*``) are what
``Step`` while scrubbed back, or a fork at a step between checkpoints, costs.

Exits 1 if a ring exceeds its budget or a worst slider move exceeds 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table  # noqa: E402

#: 2D models of each family that train on moons
MODELS = ("realnvp", "maf", "gan", "wgan-gp", "vae", "ebm", "ncsn", "ddpm", "flow-matching")
#: the issue's bar: seconds from a timeline move to the views showing the step
SCRUB_BAR = 0.3


def _wait(app: Any, done: Any, timeout: float) -> None:
    end = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("the app did not answer in time")
        app.processEvents()
        time.sleep(0.0005)


def scrubbing(
    app: Any, model: str, steps: int, scrubs: int, seed: int, verbose: bool = False
) -> dict[str, Any]:
    """Train ``steps`` steps in the app's window, then time ``scrubs`` timeline moves
    (``verbose``: print each one's step, seconds, replayed steps and replay seconds)."""
    from playground.app.commands import PlayUntil
    from playground.app.main_window import MainWindow

    window = MainWindow(model, "moons", seed=seed, paused=True)
    window.resize(1000, 700)
    window.show()
    window.start()
    try:
        _wait(app, lambda: window.frame is not None and window.timeline.state is not None, 120)
        t0 = time.perf_counter()
        window.post(PlayUntil(steps))
        _wait(app, lambda: window.timeline.state.live_step == steps, 3600)
        train = time.perf_counter() - t0
        ring = window.worker._ring
        held, spacing, nbytes, budget = len(ring), ring.spacing, ring.nbytes, ring.budget_bytes
        drawn: list[int] = []
        window.frame_drawn.connect(drawn.append)
        targets = random.Random(seed).sample(range(1, steps), scrubs)
        times, replays, replayed, cpus = [], [], [], []
        for step in targets:
            drawn.clear()
            start = time.perf_counter()
            window.timeline.scrub_to(step)
            _wait(app, lambda s=step: s in drawn, 60)
            times.append(time.perf_counter() - start)
            replayed.append(window.worker.last_scrub[1])
            replays.append(window.worker.last_scrub[2])
            cpus.append(window.worker.last_scrub[3])
            if verbose:
                print(
                    f"  scrub to {step}: {times[-1]:.3f} s, replayed {replayed[-1]} steps "
                    f"in {replays[-1]:.3f} s",
                    flush=True,
                )
            _wait(app, lambda: not window.timeline._timer.isActive(), 5)
        # slider moves: a drag's positions snap to the nearest checkpoint (no replay)
        positions = random.Random(seed + 1).sample(range(1, steps), scrubs)
        slides = []
        for position in positions:
            shown = window.timeline.snap(position)
            if shown is None or shown == window.timeline.shown_step:
                continue
            drawn.clear()
            start = time.perf_counter()
            window.timeline.slider.setValue(position)
            _wait(app, lambda s=shown: s in drawn, 60)
            slides.append(time.perf_counter() - start)
            _wait(app, lambda: not window.timeline._timer.isActive(), 5)
        return {
            "model": model,
            "view": window.visible_view,
            "checkpoints": held,
            "spacing": spacing,
            "MiB": nbytes / 2**20,
            "budget_MiB": budget / 2**20,
            "slider_s_median": statistics.median(slides),
            "slider_s_worst": max(slides),
            "scrub_s_median": statistics.median(times),
            "scrub_s_worst": max(times),
            "replay_s_median": statistics.median(replays),
            "replay_s_worst": max(replays),
            "replay_cpu_s_median": statistics.median(cpus),
            "replay_cpu_s_worst": max(cpus),
            "replayed_median": statistics.median(replayed),
            "replayed_worst": max(replayed),
            "ms_per_step": 1000 * train / steps,
            "load": os.getloadavg()[1],
        }
    finally:
        window.shutdown()
        window.close()


def overhead(model: str, steps: int, seed: int) -> dict[str, Any]:
    """The share of training time ``CheckpointRing.maybe_save`` adds over a run of
    ``steps`` steps and over its first 1,000 steps (where the spacing is small).

    The saves are real (``capture`` of a trained session, the ring's thinning, the
    worker's least spacing: see :func:`~playground.app.timeline_state.least_spacing`) at
    every step count from 1 to ``steps``; training steps are timed in blocks between them
    (a loaded machine slows both alike) rather than run ``steps`` times."""
    from playground.app.timeline_state import least_spacing
    from playground.core.training import Session
    from playground.core.training.checkpoints import CheckpointRing

    session = Session(model, "moons", seed=seed, device="cpu")
    session.run(20)  # Adam's moments exist: checkpoints of their full size
    ring, saves, timed = CheckpointRing(), 0, 0
    save_seconds = early = step_seconds = 0.0
    ring.maybe_save(session)
    block, per_step, costs = max(1, steps // 10), 0.0, deque(maxlen=8)
    for n in range(1, steps + 1):
        if (n - 1) % block == 0:  # 20 real steps, timed, between the saves
            t0 = time.perf_counter()
            session.run(20)
            step_seconds += time.perf_counter() - t0
            timed += 20
            per_step = step_seconds / timed
        session.step_count = n
        t0 = time.perf_counter()
        saved = ring.maybe_save(session)
        cost = time.perf_counter() - t0
        if saved:  # the worker's rule: a checkpoint costs at most SAVE_SHARE of training
            saves += 1
            costs.append(cost)
            if len(costs) >= 3:
                ring.spacing = least_spacing(ring.spacing, min(costs), per_step)
        early += cost if n <= 1000 else 0.0
        save_seconds += cost
    return {
        "model": model,
        "steps": steps,
        "ms_per_step": 1000 * per_step,
        "saves": saves,
        "checkpoints": len(ring),
        "spacing": ring.spacing,
        "overhead_pct_run": 100 * save_seconds / (steps * per_step),
        "overhead_pct_first_1000": 100 * early / (min(steps, 1000) * per_step),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--scrubs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overhead-steps", type=int, default=20_000)
    parser.add_argument("--verbose", action="store_true", help="print every scrub")
    args = parser.parse_args()
    torch.set_num_threads(1)
    ok = True
    if args.overhead_steps:
        rows = [overhead(m, args.overhead_steps, args.seed) for m in ("realnvp", "gan")]
        print("\n## The ring's cost to training\n")
        print(markdown_table(rows), flush=True)
    if args.models:
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv[:1])
        print(f"\n## Scrubbing after {args.steps:,} steps (seed {args.seed})\n", flush=True)
        rows = []
        for model in filter(None, args.models.split(",")):
            rows.append(scrubbing(app, model, args.steps, args.scrubs, args.seed, args.verbose))
            print(markdown_table(rows[-1:]), flush=True)
            ok &= rows[-1]["MiB"] <= rows[-1]["budget_MiB"]
            ok &= rows[-1]["slider_s_worst"] <= SCRUB_BAR
        print("\n" + markdown_table(rows), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
