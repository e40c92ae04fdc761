"""GUI event-loop latency while the app trains (target: p99 <= 16 ms), and view refresh rates.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/gui_latency.py [--model realnvp]
[--dataset moons] [--seconds 10]``. A 10 ms ``QTimer`` probes the event loop; its latency
is the measured interval minus 10 ms. Training runs with the density tab visible (128x128)
and the refresh rate of every view is measured too. Exits 1 if p99 latency is above
16 ms or the density view refreshes less often than the pacing's minimum rate (3 a second,
``playground.app.pacing.MIN_RATE``; a little slack for frames dropped while the snapshot
thread is busy).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.app_bench import spin  # noqa: E402
from playground.app import theme  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.pacing import MIN_RATE  # noqa: E402

PROBE_MS = 10
TARGET_P99_MS = 16.0
TARGET_DENSITY_FPS = 0.8 * MIN_RATE


def probe(seconds: float) -> np.ndarray:
    """Latencies (ms) of a 10 ms timer over ``seconds`` of event loop."""
    stamps: list[float] = []
    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start()
    spin(int(seconds * 1000))
    timer.stop()
    return np.diff(np.array(stamps)) * 1000 - PROBE_MS


def main() -> int:
    """Measure latency and refresh rates while training; print them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="realnvp")
    p.add_argument("--dataset", default="moons")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    window = MainWindow(args.model, args.dataset)
    window.resize(1400, 850)
    window.show()
    idle = probe(1.0)
    window.start()
    while window.step == 0:
        spin(50)
    spin(1000)

    d0, s0, t0 = window.draws["density"], window.step, time.perf_counter()
    lat = probe(args.seconds)
    elapsed = time.perf_counter() - t0
    density_fps = (window.draws["density"] - d0) / elapsed
    steps = (window.step - s0) / elapsed
    rates = {"density": density_fps}
    for index, name in enumerate(window.tab_names[1:], start=1):  # the views offered
        window.tabs.setCurrentIndex(index)
        spin(500)
        d, t = window.draws[name], time.perf_counter()
        spin(2000)
        rates[name] = (window.draws[name] - d) / (time.perf_counter() - t)
    window.close()

    p50, p99, worst = np.percentile(lat, 50), np.percentile(lat, 99), lat.max()
    print(f"{args.model} on {args.dataset}, {os.cpu_count()} cores, {steps:.0f} steps/s drawn")
    print(f"before training: latency p99 {np.percentile(idle, 99):.1f} ms")
    print(
        f"while training: {len(lat)} probes, latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {worst:.1f} ms (target p99 <= {TARGET_P99_MS:.0f} ms)"
    )
    print(
        "refresh rates (frames/s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in rates.items())
        + f" (target density >= {TARGET_DENSITY_FPS:.1f})"
    )
    ok = p99 <= TARGET_P99_MS and density_fps >= TARGET_DENSITY_FPS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
