"""The issue's four scoreboards (moons, 8gaussians, grid25, digits) and their markdown.

Usage: ``python benchmarks/scoreboards.py [--datasets moons,digits] [--minutes 0.2]
[--workers 2] [--render]``.

Each dataset is ``python -m playground scoreboard DATASET --minutes M --workers W --out
benchmarks/scoreboards/DATASET``: every model that trains on it, for the same wall-clock
budget, ranked by the mean of its per-metric ranks. ``--render`` only rewrites
``benchmarks/scoreboards.md`` from the folders already written. A wall-clock budget on a
shared machine gives each model the CPU it happened to get: the step counts in the table
say how much training each received. Exits 1 if a scoreboard has no ranked model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from playground.cli_sweep import markdown_table  # noqa: E402

OUT = ROOT / "benchmarks" / "scoreboards"
DATASETS = ("moons", "8gaussians", "grid25", "digits")


def render(datasets: list[str]) -> str:
    """The markdown of the scoreboards written under :data:`OUT`."""
    parts = [
        "# Scoreboards",
        "",
        "`python -m playground scoreboard DATASET --minutes M --workers W` (one seed, 0): every",
        "model that trains on the set gets the same wall clock, on a shared 2-core machine,",
        "single-threaded, so `steps` says how much training each model got. Ranked by the",
        "mean of per-metric ranks (1 = best; a metric a model lacks, such as `nll_gap` for a",
        "GAN, is left out of its mean); failed runs last. Regenerate with",
        "`python benchmarks/scoreboards.py`.",
    ]
    for name in datasets:
        path = OUT / name / "scoreboard.json"
        if not path.exists():
            continue
        board = json.loads(path.read_text())
        failed = sum(1 for r in board["rows"] if r["error"])
        parts += [
            "",
            f"## {name}",
            "",
            f"{board['minutes']:g} min per model, {len(board['rows'])} models "
            f"({failed} failed), wall {board['wall_seconds'] / 60:.1f} min; ranked on "
            + ", ".join(f"`{m['name']}` ({m['better']})" for m in board["metrics"]),
            "",
            markdown_table(board),
        ]
    return "\n".join(parts) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--minutes", type=float, default=0.2, help="training minutes per model")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--render", action="store_true", help="only rewrite the markdown")
    args = p.parse_args()
    datasets = [d for d in args.datasets.split(",") if d]
    for name in [] if args.render else datasets:
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "playground", "scoreboard", name]
        cmd += ["--minutes", str(args.minutes), "--workers", str(args.workers)]
        cmd += ["--threads", str(args.threads), "--out", str(OUT / name)]
        subprocess.run(cmd, check=True, cwd=ROOT)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    text = render(list(DATASETS))
    (ROOT / "benchmarks" / "scoreboards.md").write_text(text, encoding="utf-8")
    print(text)
    for name in datasets:
        board = json.loads((OUT / name / "scoreboard.json").read_text())
        if not any(r["mean_rank"] is not None for r in board["rows"]):
            print(f"{name}: no ranked model", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
