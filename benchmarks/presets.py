"""The shipped presets: eval reproduces their stored metrics, and each opens in the running
app within 0.5 s.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/presets.py [--only NAME ...]
[--skip-eval | --skip-open]``.

(a) ``eval``: every preset in ``presets/`` is loaded with ``load_preset`` and evaluated as
``python -m playground eval`` does (``session.evaluate(n=10000, record=False)``, the same n
as ``train``'s default ``--eval-samples``); each metric must agree with the last held-out
value in its ``history.json`` within 5% relative, or an absolute floor for values near 0
(0.01; 0.001 for MMD^2: see ``FLOORS`` in ``presets/rebuild.py``).

(b) open: one ``MainWindow`` is started on a default session; for each preset
``window.presets.open_preset(path)`` is called and the time measured until the window has drawn a
frame of the new session at the preset's step (a new frame generation whose snapshot step
is the preset's; polled every millisecond). The window's own figure
(``window.presets.last_open_seconds``) is printed beside it. Target: <= 0.5 s for every preset.

Exits 1 on any miss.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "presets"))

from rebuild import compare, flatten, print_rows, stored_metrics  # noqa: E402

OPEN_TARGET_S = 0.5
OPEN_TIMEOUT_S = 30.0


def shipped(only: list[str] | None) -> list[Path]:
    """The preset folders under presets/ (those with a config.json), by name."""
    folders = sorted(p.parent for p in (ROOT / "presets").glob("*/config.json"))
    return [f for f in folders if not only or f.name in only]


def eval_presets(folders: list[Path]) -> int:
    """(a): print stored against re-evaluated metrics; returns the number of misses."""
    from playground.core.presets import load_preset

    print(f"{'preset':<30} {'metric':<22} {'stored':>12} {'eval':>12}")
    misses = 0
    for folder in folders:
        t0 = time.perf_counter()
        session = load_preset(folder, device="cpu")
        metrics = session.evaluate(n=10_000, record=False)
        rows = compare(flatten(metrics), stored_metrics(folder))
        print_rows(folder.name, rows)
        print(f"{folder.name:<30} ({time.perf_counter() - t0:.1f} s)")
        misses += sum(not ok for *_, ok in rows)
    return misses


def _new_frame_at(window, steps: int):
    """A test for a frame drawn after now, of a new session (frame generation), at ``steps``."""
    generation = window.frame.generation if window.frame is not None else None
    draws = sum(window.draws.values())

    def drawn() -> bool:
        frame = window.frame
        return (
            frame is not None
            and frame.generation != generation
            and window.step == steps
            and sum(window.draws.values()) > draws
        )

    return drawn


def open_presets(folders: list[Path]) -> int:
    """(b): print the seconds from ``open_preset`` to the first drawn frame of the
    preset's session; returns the number of presets above the target."""
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from playground.app import theme
    from playground.app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    theme.apply(app)
    window = MainWindow("realnvp", "moons", device="cpu", paused=True)
    window.resize(1400, 850)
    window.show()
    window.start()
    if not hasattr(window, "open_preset"):
        window.shutdown()
        print("MainWindow.open_preset is missing: (b) not measured")
        return len(folders)

    def wait_until(done, timeout: float) -> bool:
        """Spin the event loop (1 ms polls) until ``done()`` or ``timeout`` seconds."""
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(1)
        deadline = time.perf_counter() + timeout
        timer.timeout.connect(lambda: (done() or time.perf_counter() > deadline) and loop.quit())
        timer.start()
        if not done():
            loop.exec()
        timer.stop()
        return bool(done())

    wait_until(lambda: window.frame is not None, OPEN_TIMEOUT_S)  # the first session is up
    print(f"\n{'preset':<30} {'step':>7} {'view':<14} {'open (s)':>9} {'app (s)':>8}")
    misses = 0
    try:
        for folder in folders:
            steps = json.loads((folder / "config.json").read_text())["steps"]
            drawn = _new_frame_at(window, steps)
            t0 = time.perf_counter()
            window.presets.open_preset(str(folder))
            ok = wait_until(drawn, OPEN_TIMEOUT_S)
            seconds = time.perf_counter() - t0 if ok else float("inf")
            hit = seconds <= OPEN_TARGET_S
            misses += not hit
            # the window's own measure, from open_preset to its first drawn frame
            own = window.presets.last_open_seconds
            own = f"{own:8.3f}" if isinstance(own, float) else f"{'-':>8}"
            print(
                f"{folder.name:<30} {steps:>7} {window.visible_view:<14} {seconds:>9.3f} {own}"
                f"  {'ok' if hit else 'MISS'}"
            )
    finally:
        # join the worker and delete the window while the QApplication still exists, so
        # nothing Qt is left for the interpreter's teardown
        window.close()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return misses


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", metavar="NAME", help="these presets only")
    p.add_argument("--skip-eval", action="store_true", help="skip (a)")
    p.add_argument("--skip-open", action="store_true", help="skip (b)")
    args = p.parse_args()
    folders = shipped(args.only)
    if not folders:
        print("no presets found")
        return 1
    eval_misses = 0 if args.skip_eval else eval_presets(folders)
    open_misses = 0 if args.skip_open else open_presets(folders)
    print(
        f"\n(a) eval: {eval_misses} metric(s) off by more than 5% (or the floor); "
        f"(b) open: {open_misses} preset(s) above {OPEN_TARGET_S} s",
        flush=True,
    )
    return 1 if eval_misses or open_misses else 0


if __name__ == "__main__":
    sys.exit(main())
