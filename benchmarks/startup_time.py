"""Time from ``python -m playground`` to a visible window (target: <= 4 s).

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/startup_time.py [--runs 3]``. Each run
starts a fresh process with ``PLAYGROUND_QUIT_AFTER=shown``: the app prints the time at
which its window is exposed and quits. A second series with ``PLAYGROUND_QUIT_AFTER=frame``
measures the time to the first drawn density (informational: the session is built after
the window shows). Exits 1 if the median time to the window is above 4 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 4.0


def once(event: str) -> float:
    """Seconds from starting the process to the app printing ``event``."""
    env = dict(os.environ, PLAYGROUND_QUIT_AFTER=event)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-m", "playground"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for line in out.stdout.splitlines():
        word, _, stamp = line.partition(" ")
        if word == event:
            return float(stamp) - start
    raise RuntimeError(f"no '{event}' line (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")


def main() -> int:
    """Run the series; print every time and the medians."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    shown = [once("shown") for _ in range(args.runs)]
    frame = [once("frame") for _ in range(args.runs)]
    print("window visible: " + ", ".join(f"{t:.2f}" for t in shown) + " s")
    print("first density drawn: " + ", ".join(f"{t:.2f}" for t in frame) + " s")
    median = statistics.median(shown)
    print(
        f"median: window {median:.2f} s (target <= {TARGET_S:.0f} s), "
        f"first frame {statistics.median(frame):.2f} s"
    )
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
