"""Locatello et al. 2019 at the playground's scale: is the seed spread as large as the
differences between beta-VAE, beta-TCVAE and FactorVAE on shapes?

Usage: ``python benchmarks/locatello_sweep.py [--steps 500] [--seeds 0-9] [--workers 2]
[--render]``.

Runs ``python -m playground sweep --spec locatello --steps N --seeds S --workers W
--eval-samples 1000 --out benchmarks/locatello_sweep.csv --plot
benchmarks/locatello_sweep.png`` (the shipped spec: one setting per method, 10 seeds each),
then writes ``benchmarks/locatello_sweep.md``: per method and metric the mean, the
standard deviation across seeds, the worst and the best seed; and per metric the ratio of
the largest gap between method means to the mean within-method standard deviation (below
about 2, the seed decides as much as the method). ``--render`` only rewrites the markdown
from the CSV. Exits 1 if every run failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from playground.core.sweep.grid import load_spec  # noqa: E402
from playground.core.sweep.table import read_csv, summarize  # noqa: E402

CSV = ROOT / "benchmarks" / "locatello_sweep.csv"
PNG = ROOT / "benchmarks" / "locatello_sweep.png"
MD = ROOT / "benchmarks" / "locatello_sweep.md"
#: reported after the spec's own metrics where the rows have them
EXTRA = ("elbo", "active_units")


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def render(rows: list[dict], command: str, wall: float | None) -> str:
    """The markdown of a finished sweep's rows."""
    spec = load_spec("locatello")
    have = [m for m in [*spec.metrics, *EXTRA] if any(isinstance(r.get(m), float) for r in rows)]
    have = list(dict.fromkeys(have))
    failed = [r for r in rows if r.get("error")]
    lines = [
        "# Locatello et al. 2019 on shapes: seed spread against method differences",
        "",
        f"`{command}`" + (f" ({wall / 60:.1f} min wall, 2 workers)" if wall else ""),
        "",
        f"{len(rows)} runs, {len(failed)} failed; one setting per method (the spec's comments "
        "give the sources), single-threaded runs on a shared 2-core machine. Worst and best "
        "as the metric improves (higher for all of these but the ELBO's sign: higher is "
        "better there too); sd across seeds (n - 1).",
    ]
    missing = [m for m in spec.metrics if m not in have]
    if missing:
        lines += ["", f"Not measured (no row has them): {', '.join(missing)}."]
    for metric in have:
        groups = summarize(rows, metric, ["method"])
        lines += [
            "",
            f"## {metric}",
            "",
            "| method | seeds | mean | sd | worst (seed) | best (seed) |",
            "|---|---|---|---|---|---|",
        ]
        for g in groups:
            worst = f"{_f(g['worst'][0])} ({int(g['worst'][1])})" if g["worst"] else "-"
            best = f"{_f(g['best'][0])} ({int(g['best'][1])})" if g["best"] else "-"
            lines.append(
                f"| {g['group']} | {g['n']} | {_f(g['mean'])} | {_f(g['sd'])} | {worst} | {best} |"
            )
        means = [g["mean"] for g in groups if g["mean"] is not None]
        sds = [g["sd"] for g in groups if g["sd"] is not None]
        if len(means) > 1 and sds and sum(sds) > 0:
            gap, sd = max(means) - min(means), sum(sds) / len(sds)
            lines += [
                "",
                f"Largest gap between method means {gap:.4g}; mean within-method sd "
                f"{sd:.4g}; ratio {gap / sd:.2f}: "
                + (
                    "the seed spread is larger than the differences between methods."
                    if gap < sd
                    else "the methods differ by more than the seed spread."
                ),
            ]
    for r in failed:
        lines.append(f"- failed: {r['method']} seed {int(r['seed'])}: {r['error']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=None, help="default: the spec's")
    p.add_argument("--seeds", default="0-9")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--render", action="store_true", help="only rewrite the markdown")
    p.add_argument("--wall", type=float, default=None, help="with --render: the sweep's seconds")
    args = p.parse_args()
    steps = args.steps if args.steps is not None else load_spec("locatello").steps
    cmd = ["sweep", "--spec", "locatello", "--steps", str(steps), "--seeds", args.seeds]
    cmd += ["--workers", str(args.workers), "--threads", str(args.threads)]
    cmd += ["--eval-samples", "1000", "--out", str(CSV.relative_to(ROOT))]
    cmd += ["--plot", str(PNG.relative_to(ROOT))]
    wall = args.wall
    if not args.render:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "playground", *cmd], check=False, cwd=ROOT)
        wall = time.perf_counter() - t0
    rows = read_csv(CSV)
    MD.write_text(render(rows, "python -m playground " + " ".join(cmd), wall), encoding="utf-8")
    print(MD.read_text())
    return 1 if all(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
