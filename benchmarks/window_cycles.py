"""Memory over many open -> play -> close cycles of the main window, then of Compare windows.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/window_cycles.py [--cycles 50]
[--play 1.5] [--model realnvp] [--dataset moons] [--compare-model maf] [--only main|compare]``.

In one process: ``--cycles`` times open a main window, play ``--play`` seconds, close it
(events processed, garbage collected); then ``--cycles`` times open a Compare window from
one long-lived main window, play both panes, close it. The resident set size (RSS) is
printed after each cycle, and a summary per loop: the first, 10th, 25th, last and largest
value, and the median of the last ten. Target: that median within 10% of the first cycle's
RSS (exits 1 otherwise; single cycles spike by a few percent either way).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.app_bench import rss_mb, spin, wait_for  # noqa: E402
from playground.app import theme  # noqa: E402
from playground.app.commands import Play  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402

TARGET = 1.10


def settle() -> None:
    """Let deferred deletions run and collect the garbage."""
    for _ in range(3):
        spin(50)
        QApplication.sendPostedEvents(None, 0)  # DeferredDelete among them
        gc.collect()


def ready(window: MainWindow) -> bool:
    """The window's session is built and its first frame drawn."""
    return window.frame is not None and window.info is not None


def main_cycle(model: str, dataset: str, play_s: float) -> None:
    """Open a main window, train ``play_s`` seconds, close it (no reference is kept: a
    closed window must be freed by the collector)."""
    window = MainWindow(model, dataset, paused=True)
    window.resize(1400, 850)
    window.show()
    window.start()
    wait_for(lambda: ready(window))
    window.post(Play())
    spin(int(play_s * 1000))
    window.close()
    assert window.worker_thread.thread.isFinished(), "the worker did not stop"


def compare_cycle(host: MainWindow, model: str, play_s: float) -> None:
    """Open a Compare window from ``host``, play both panes ``play_s`` seconds, close it."""
    compare = host.presets.compare_with(model)
    wait_for(lambda: all(ready(p) for p in compare.panes))
    compare.play.click()
    spin(int(play_s * 1000))
    compare.close()
    assert all(p.worker_thread.thread.isFinished() for p in compare.panes)


def summary(name: str, values: list[float]) -> bool:
    """Print the loop's figures; whether its steady state (the median of the last ten
    cycles) is within :data:`TARGET` of the first cycle."""
    picks = {k: values[k - 1] for k in (1, 10, 25) if k <= len(values)}
    picks[len(values)] = values[-1]
    parts = "  ".join(f"#{k} {v:,.0f}" for k, v in picks.items())
    steady = statistics.median(values[-10:])
    print(
        f"{name}: RSS MB {parts}  max {max(values):,.0f}  median of the last 10 "
        f"{steady:,.0f}  last10/first {steady / values[0]:.2f}  max/first "
        f"{max(values) / values[0]:.2f}"
    )
    return steady <= TARGET * values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--play", type=float, default=1.5, help="seconds of training a cycle")
    parser.add_argument("--model", default="realnvp")
    parser.add_argument("--dataset", default="moons")
    parser.add_argument("--compare-model", default="maf")
    parser.add_argument("--only", choices=["main", "compare"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads of this thread")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.apply(app)
    ok = True
    if args.only in (None, "main"):
        values = []
        for i in range(1, args.cycles + 1):
            main_cycle(args.model, args.dataset, args.play)
            settle()
            values.append(rss_mb())
            print(f"main window cycle {i:3d}: RSS {values[-1]:,.0f} MB", flush=True)
        ok &= summary("main window", values)
    if args.only in (None, "compare"):
        host = MainWindow(args.model, args.dataset, paused=True)
        host.show()
        host.start()
        wait_for(lambda: host.frame is not None and host.info is not None)
        values = []
        for i in range(1, args.cycles + 1):
            compare_cycle(host, args.compare_model, args.play)
            settle()
            values.append(rss_mb())
            print(f"compare cycle {i:3d}: RSS {values[-1]:,.0f} MB", flush=True)
        host.close()
        settle()
        ok &= summary("compare window", values)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
