"""Memory of one long training session in the app: does RSS level off, or keep growing?

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/long_session.py [--minutes 60]
[--interval 30] [--threads 1] [--model realnvp] [--dataset moons] [--view VIEW]``.

One process, offscreen: the main window with the default model and view (the first tab),
playing for ``--minutes``. The resident set size (RSS) is sampled every ``--interval``
seconds and printed as a table (minutes, RSS, steps, steps/s, frames drawn). At the end it
prints RSS(end) / RSS(10 min), the growth after the warm-up; a run of 10 minutes or
less prints RSS(end) / RSS(first sample at or after 1 min) instead. The script sets torch's
threads itself: ``--threads`` for this (the GUI) thread and the training thread; the
snapshot thread keeps the app's one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.app_bench import rss_mb, spin  # noqa: E402
from playground.app import theme  # noqa: E402
from playground.app.commands import Play  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402

#: a run longer than this is judged from its 10-minute sample (shorter: from 1 minute)
LONG_RUN_MINUTES = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (GUI, training)")
    parser.add_argument("--model", default="realnvp")
    parser.add_argument("--dataset", default="moons")
    parser.add_argument("--view", default=None, help="the view on show (default: the first)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.apply(app)
    window = MainWindow(args.model, args.dataset, paused=True)
    window.worker.torch_threads = args.threads  # read when its thread starts
    window.resize(1400, 850)
    window.show()
    window.start()
    end = time.perf_counter() + 120
    while window.frame is None or window.info is None:
        if time.perf_counter() > end:
            print("the session did not start within 2 minutes", file=sys.stderr)
            window.close()
            return 1
        spin(50)
    if args.view:
        window.tabs.setCurrentIndex(window.tab_names.index(args.view))
    window.post(Play())
    print(
        f"{args.model} on {args.dataset}, view {window.visible_view}, "
        f"{args.minutes:g} min, torch threads {args.threads}"
    )
    print(f"{'min':>7} {'RSS MB':>9} {'steps':>10} {'steps/s':>9} {'frames':>8}")

    samples: list[tuple[float, float]] = []  # (minutes, RSS MB)
    start = time.perf_counter()
    last_steps, last_t = 0, start
    k = 0
    while True:
        k += 1
        due = start + k * args.interval
        if due > start + args.minutes * 60 + 1e-6:
            break
        while (now := time.perf_counter()) < due:
            spin(int(min(due - now, 0.5) * 1000) + 1)
        session = window.worker.session
        steps = session.step_count if session is not None else 0
        rate = (steps - last_steps) / (now - last_t)
        last_steps, last_t = steps, now
        minutes = (now - start) / 60
        samples.append((minutes, rss_mb()))
        frames = sum(window.draws.values())
        print(f"{minutes:7.2f} {samples[-1][1]:9,.0f} {steps:10,d} {rate:9,.0f} {frames:8,d}")
        sys.stdout.flush()

    window.close()
    if not samples:
        print("no sample: --minutes is shorter than --interval")
        return 1
    reference = 10.0 if args.minutes > LONG_RUN_MINUTES else 1.0
    base = next(((m, r) for m, r in samples if m >= reference - 1e-9), samples[0])
    ratio = samples[-1][1] / base[1]
    print(
        f"RSS(end) / RSS({base[0]:.1f} min) = {samples[-1][1]:,.0f} / {base[1]:,.0f} MB "
        f"= {ratio:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
