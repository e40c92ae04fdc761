"""Training speed inside the running app versus a bare ``Session.run`` loop (target: >= 0.95).

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/app_overhead.py [--model realnvp]
[--dataset moons] [--seconds 3] [--rounds 6]``. The window is offscreen at 1400x850 with
the density tab visible and views refreshing at their default rate. Bare and app phases
alternate in the same process (short phases, many rounds: the machine's speed drifts),
and the ratio is total app steps over total bare steps.
Prints the figures and exits 1 if the ratio is below the target.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.app_bench import spin, wait_for  # noqa: E402
from playground.app import theme  # noqa: E402
from playground.app.commands import Pause, Play  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.worker import TORCH_THREADS  # noqa: E402

TARGET = 0.95


def bare_rate(session, seconds: float) -> float:
    """Steps per second of ``Session.step`` in a plain loop."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(10)
        n += 10
    return n / (time.perf_counter() - start)


def app_rate(window: MainWindow, seconds: float, view: str = "density") -> tuple[float, float]:
    """Steps per second and frames per second of ``view`` while the app trains."""
    window.worker.post(Play())
    spin(500)
    worker = window.worker
    s0, d0, t0 = worker.session.step_count, window.draws[view], time.perf_counter()
    spin(int(seconds * 1000))
    s1, d1, t1 = worker.session.step_count, window.draws[view], time.perf_counter()
    window.worker.post(Pause())
    wait_for(lambda: window.frame is not None and not window.frame.playing)
    return (s1 - s0) / (t1 - t0), (d1 - d0) / (t1 - t0)


def main() -> int:
    """Alternate bare and app phases; print each and the overall ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="realnvp")
    p.add_argument("--dataset", default="moons")
    p.add_argument("--view", default="density", help="the visible view (critic for GANs)")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument(
        "--bare-threads",
        type=int,
        default=TORCH_THREADS,
        help="torch threads of the bare loop (default: the app's training thread's)",
    )
    args = p.parse_args()

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    window = MainWindow(args.model, args.dataset, paused=True)
    window.resize(1400, 850)
    window.show()
    window.start()
    wait_for(lambda: window.frame is not None)
    window.tabs.setCurrentIndex(window.tab_names.index(args.view))
    print(
        f"{args.model} on {args.dataset}; torch threads: app {TORCH_THREADS}, "
        f"bare {args.bare_threads}; {os.cpu_count()} cores"
    )
    import torch

    from playground.core.training import Session

    torch.set_num_threads(args.bare_threads)
    session = Session(args.model, args.dataset, seed=0)
    session.run(20)
    bare, inapp, fps = [], [], []
    for r in range(args.rounds):
        bare.append(bare_rate(session, args.seconds))
        rate, frames = app_rate(window, args.seconds, args.view)
        inapp.append(rate)
        fps.append(frames)
        print(
            f"round {r + 1}: bare {bare[-1]:.1f} steps/s, app {rate:.1f} steps/s "
            f"(ratio {rate / bare[-1]:.3f}), {args.view} view {frames:.1f} frames/s"
        )
    window.close()
    ratio = sum(inapp) / sum(bare)
    print(
        f"overall: bare {sum(bare) / len(bare):.1f} steps/s, app {sum(inapp) / len(inapp):.1f} "
        f"steps/s, ratio {ratio:.3f} (target >= {TARGET}); {args.view} view "
        f"{sum(fps) / len(fps):.1f} frames/s"
    )
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
