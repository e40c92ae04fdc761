"""Drawing: points a second the brush adds without dropping the GUI's frame rate (issue 17:
p99 <= 16 ms of event-loop latency while training plays).

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/drawing.py [--model gan] [--dataset
moons] [--seconds 4] [--densities 300,1000,3000,10000,20000]``. The window trains (playing)
with the samples view on show and the draw mode on; for each brush density the brush is
held on the plot by synthetic mouse events (press, a move every 16 ms along a circle,
release) for ``--seconds``, starting from an empty drawing. A 10 ms ``QTimer`` probes the
event loop (latency: its measured interval minus 10 ms), as ``gui_latency.py`` does. Per
density it prints points added a second, the drawing's size at release, the probe's
latency p50 / p99 / max, and the p99 cost of one brush tick (adding points and redrawing
the scatter). Exits 1 unless some density of at least 1,000 points a second keeps p99
<= 16 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.app_bench import spin, wait_for  # noqa: E402
from benchmarks.gui_latency import probe  # noqa: E402
from playground.app import theme  # noqa: E402
from playground.app.drawing_mode import TICK_MS  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402

PROBE_MS = 10
TARGET_P99_MS = 16.0
#: the least brush density (points a second) that must keep the target
TARGET_DENSITY = 1000


def hold_brush(window: MainWindow, seconds: float) -> tuple[np.ndarray, list[float], int, float]:
    """Hold the brush on the samples view for ``seconds``, moving along a circle; returns
    the probe latencies (ms), the brush ticks' costs (ms), the points added and the GUI
    thread's CPU share (CPU seconds a wall second: what a loaded machine cannot hide)."""
    drawing = window.drawing
    overlay = drawing.overlays["samples"]
    viewport = overlay.canvas.viewport()
    costs: list[float] = []
    tick = drawing.tick

    def timed(dt: float) -> int:
        t0 = time.perf_counter()
        added = tick(dt)
        costs.append((time.perf_counter() - t0) * 1000)
        return added

    drawing.tick = timed  # type: ignore[method-assign]
    drawing.clear()
    stamps: list[float] = []
    probe = QTimer()
    probe.setInterval(PROBE_MS)
    probe.timeout.connect(lambda: stamps.append(time.perf_counter()))
    phase = [0.0]

    def move() -> None:
        phase[0] += 0.15
        x, y = 0.5 + 0.6 * math.cos(phase[0]), 0.25 + 0.4 * math.sin(phase[0])
        QTest.mouseMove(viewport, overlay.to_pixel(x, y))

    mover = QTimer()
    mover.setInterval(16)
    mover.timeout.connect(move)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=overlay.to_pixel(1.1, 0.25))
    probe.start()
    mover.start()
    cpu0 = time.thread_time()
    spin(int(seconds * 1000))
    cpu = (time.thread_time() - cpu0) / seconds
    mover.stop()
    probe.stop()
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=overlay.to_pixel(0.5, 0.25))
    drawing.tick = tick  # type: ignore[method-assign]
    latency = np.diff(np.array(stamps)) * 1000 - PROBE_MS
    return latency, costs, len(drawing.sketch), cpu


def item_costs(sizes: tuple[int, ...] = (1000, 10000, 50000)) -> None:
    """Print ms to set and to paint n points with ``pg.ScatterPlotItem`` and with the draw
    mode's :class:`~playground.app.drawing.DotsItem` (900 x 700 plot, offscreen)."""
    import pyqtgraph as pg

    from playground.app.drawing import DotsItem

    canvas = pg.GraphicsLayoutWidget()
    plot = canvas.addPlot()
    canvas.resize(900, 700)
    canvas.show()
    plot.setXRange(-3, 3)
    plot.setYRange(-3, 3)
    plot.disableAutoRange()
    rng = np.random.default_rng(0)
    print("| item | points | set (ms) | first paint (ms) | repaint, unchanged (ms) |")
    print("|---|---|---|---|---|")
    for name in ("ScatterPlotItem", "DotsItem"):
        if name == "DotsItem":
            item = DotsItem()
            setter = item.set_points
        else:
            item = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(84, 39, 143, 200))
            setter = lambda xy, item=item: item.setData(pos=xy)  # noqa: E731
        plot.addItem(item)
        for n in sizes:
            xy = rng.normal(size=(n, 2)).astype(np.float32)
            set_ms = first_ms = 0.0
            for _ in range(5):
                t0 = time.perf_counter()
                setter(xy)
                t1 = time.perf_counter()
                canvas.grab()
                set_ms += (t1 - t0) / 5 * 1000
                first_ms += (time.perf_counter() - t1) / 5 * 1000
            t0 = time.perf_counter()
            for _ in range(5):
                canvas.grab()
            again_ms = (time.perf_counter() - t0) / 5 * 1000
            print(f"| {name} | {n} | {set_ms:.1f} | {first_ms:.1f} | {again_ms:.1f} |")
        plot.removeItem(item)
    canvas.close()


def main() -> int:
    """Measure the event loop while drawing at several densities; print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="gan")
    p.add_argument("--dataset", default="moons")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--densities", default="300,1000,3000,10000,20000")
    p.add_argument("--tick-ms", type=int, default=TICK_MS, help="the brush's tick (ms)")
    args = p.parse_args()
    torch.set_num_threads(1)

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    item_costs()
    window = MainWindow(args.model, args.dataset)
    window.resize(1366, 768)
    window.confirm = lambda question: True  # drawing over the trained moons: replace it
    window.show()
    window.start()
    wait_for(lambda: window.step > 0 and window.info is not None)
    window.tabs.setCurrentIndex(window.tab_names.index("samples"))
    window.drawing.set_active(True)
    window.drawing._timer.setInterval(args.tick_ms)
    spin(1000)
    rows = []
    cpu0 = time.thread_time()
    baseline = hold_brush_baseline(args.seconds)
    base_cpu = (time.thread_time() - cpu0) / args.seconds
    for density in (int(d) for d in args.densities.split(",")):
        window.drawing.bar.density.setValue(density)
        latency, costs, n, cpu = hold_brush(window, args.seconds)
        spin(1500)  # the release's SetPoints rebuilds the session; let it settle
        rows.append((density, n / args.seconds, n, latency, costs, cpu))
    steps = window.step
    window.close()

    print(f"{args.model} on {args.dataset}, {os.cpu_count()} cores, 1 torch thread a thread, ")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"training playing; {args.seconds:.0f} s a density; brush tick {args.tick_ms} ms; "
          f"load average {load}")  # fmt: skip
    print(f"no brush: latency p50 {np.percentile(baseline, 50):.1f} ms, "
          f"p99 {np.percentile(baseline, 99):.1f} ms, max {baseline.max():.1f} ms, "
          f"GUI thread CPU {100 * base_cpu:.0f}%")  # fmt: skip
    print("| density (points/s) | added/s | points at release | latency p50 (ms) | p99 | max |"
          " tick p50 / p99 (ms) | GUI thread CPU |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    best = 0
    for density, rate, n, lat, costs, cpu in rows:
        p99 = np.percentile(lat, 99)
        print(
            f"| {density} | {rate:.0f} | {n} | {np.percentile(lat, 50):.1f} | {p99:.1f} | "
            f"{lat.max():.1f} | {np.percentile(costs, 50):.2f} / {np.percentile(costs, 99):.2f}"
            f" | {100 * cpu:.0f}% |"
        )
        if p99 <= TARGET_P99_MS:
            best = max(best, density)
    print(f"highest density with p99 <= {TARGET_P99_MS:.0f} ms: {best} points/s (step {steps})")
    return 0 if best >= TARGET_DENSITY else 1


def hold_brush_baseline(seconds: float) -> np.ndarray:
    """The probe's latencies with the draw mode on but no stroke (the same training)."""
    return probe(seconds)


if __name__ == "__main__":
    sys.exit(main())
