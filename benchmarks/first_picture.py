"""Seconds from opening a tab to its first picture, while training and while paused, and the
training speed with that tab open, for every model on its default dataset (issue 13).

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/first_picture.py [--only ncsn:gmm82 ...]
[--seconds 3] [--md benchmarks/first_picture.md]``.

For each session the window opens paused (1400 x 850, offscreen), trains for a second, then
for each tab it offers, while training plays: the tab is opened and the clock runs until
the view draws a picture of a step at least the one it was opened at (a real picture of
the current weights, a preview or full), then training runs ``--seconds`` with the tab open
and its steps/s is compared with a bare ``Session.run`` loop of the same session measured
in the same process just before. Then training is paused and each tab is opened again:
the seconds to its first picture, and to its full picture (a preview is followed by the
full one while paused). Targets: first picture <= 2 s while training and while paused;
no tab below half the bare speed. Prints a table, writes it as Markdown with ``--md``,
and exits 1 on a miss.
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

FIRST_TARGET, SPEED_TARGET = 2.0, 0.5
#: the sessions of image sets measured beside every model on its default plane dataset
EXTRA = ("ncsn:gmm82", "ebm:8gaussians", "gan:ring8", "vae:digits", "ddpm:digits")
#: the most seconds waited for a picture before it counts as a miss
GIVE_UP = 60.0


def default_sessions() -> list[str]:
    """Every model on the dataset the app picks for it from the default session (moons
    where it trains on it, else its first dataset), then :data:`EXTRA`."""
    from playground.core.catalog import catalog

    trainable = catalog()["trainable"]
    out = [f"{m}:{'moons' if 'moons' in ds else ds[0]}" for m, ds in trainable.items()]
    return out + [s for s in EXTRA if s not in out]


def bare_rate(session, seconds: float) -> float:
    """Steps per second of ``Session.step`` in a plain loop on this thread."""
    import torch

    torch.set_num_threads(TORCH_THREADS)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.run(5)
        n += 5
    return n / (time.perf_counter() - start)


def open_tab(window: MainWindow, name: str, full: bool = False) -> tuple[float, float | None]:
    """Open tab ``name``; seconds to its first picture of the current step or later (and,
    with ``full``, to its first picture that is not a preview; ``None`` if it never came)."""
    other = next(n for n in window.tab_names if n != name)
    window.tabs.setCurrentIndex(window.tab_names.index(other))
    spin(100)
    start, step0 = time.perf_counter(), window.worker.session.step_count
    drawn = window.draws[name]
    window.tabs.setCurrentIndex(window.tab_names.index(name))

    def shown() -> bool:
        return window.draws[name] > drawn and window.frame.snapshot.step >= step0

    try:
        wait_for(shown, GIVE_UP)
    except TimeoutError:
        return float("inf"), None
    first = time.perf_counter() - start
    if not full:
        return first, None
    try:
        wait_for(lambda: shown() and not window.frame.snapshot.previews, GIVE_UP)
    except TimeoutError:
        return first, None
    return first, time.perf_counter() - start


def measure(spec: str, seconds: float) -> list[dict]:
    """The rows of one ``model:dataset`` session."""
    model, dataset = spec.split(":", 1)
    window = MainWindow(model, dataset, paused=True)
    window.resize(1400, 850)
    window.show()
    window.start()
    rows = []
    try:
        wait_for(lambda: window.info is not None and window.frame is not None, 120)
        tabs = list(window.tab_names)
        worker = window.worker
        window.post(Play())
        spin(1000)
        window.post(Pause())
        wait_for(lambda: not worker.playing)
        bare = bare_rate(worker.session, seconds)  # the worker is paused: no race
        window.post(Play())
        for name in tabs:
            first, _ = open_tab(window, name)
            s0, t0 = worker.session.step_count, time.perf_counter()
            spin(int(seconds * 1000))
            rate = (worker.session.step_count - s0) / (time.perf_counter() - t0)
            rows.append(dict(session=spec, tab=name, playing=first, speed=rate / bare))
        window.post(Pause())
        wait_for(lambda: not worker.playing)
        spin(300)
        for row in rows:
            first, full = open_tab(window, row["tab"], full=True)
            row.update(paused=first, full=full)
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        spin(50)
    return rows


def fmt(v: float | None) -> str:
    return "-" if v is None else ("never" if v == float("inf") else f"{v:.2f}")


def main() -> int:
    """Measure every session; print (and write) the table; exit 1 on a miss."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="model:dataset sessions (default: all)")
    p.add_argument("--seconds", type=float, default=3.0, help="speed measured per tab")
    p.add_argument("--md", help="also write the table as Markdown to this file")
    args = p.parse_args()
    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    header = (
        "| session | tab | first picture, training (s) | speed / bare "
        "| first picture, paused (s) | full picture, paused (s) |"
    )
    lines = [header, "|---|---|---|---|---|---|"]
    print(header, flush=True)
    misses = []
    for spec in args.only or default_sessions():
        for r in measure(spec, args.seconds):
            line = (
                f"| {r['session']} | {r['tab']} | {fmt(r['playing'])} | {r['speed']:.2f} | "
                f"{fmt(r['paused'])} | {fmt(r['full'])} |"
            )
            lines.append(line)
            print(line, flush=True)
            if max(r["playing"], r["paused"]) > FIRST_TARGET or r["speed"] < SPEED_TARGET:
                misses.append(f"{r['session']} {r['tab']}")
    print(f"misses: {len(misses)}: {', '.join(misses) or 'none'}")
    if args.md:
        Path(args.md).write_text("\n".join(lines) + "\n")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
