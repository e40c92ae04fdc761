"""The Fokker-Planck picture against its particles: total-variation distance between the
density p_t and the particle histogram, at t = 1, 5, 20 (Langevin) and t = 0.2, 0.5, 1
(a DDPM's forward VP SDE), for 1,000 and 10,000 particles, per particle seed.

Each row is the picture the app draws (``langevin_picture`` / ``vp_picture`` at the app's
96 x 96 cells, uniform start on the box, particle step h^2), with the distance a histogram
of as many exact draws from p_t has (``floor``: the part that is sampling noise) and the
distance of p_t to the stationary density.

    python benchmarks/fokker_planck.py --seeds 0-2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.data import make_dataset  # noqa: E402
from playground.core.models.diffusion.ddpm import DDPM  # noqa: E402
from playground.core.snapshots.fokker_planck import (  # noqa: E402
    RESOLUTION,
    langevin_picture,
    vp_picture,
)

LANGEVIN_DATASETS = ("gmm82", "8gaussians", "U1", "U3")
LANGEVIN_AT = (1.0, 5.0, 20.0)
VP_DATASETS = ("8gaussians", "gmm82")
VP_AT = (0.2, 0.5, 1.0)
PARTICLES = (1_000, 10_000)


def _rows(fp, at, kind, dataset, n, seed, seconds):
    for t in at:
        k = int(np.argmin(np.abs(fp.times - t)))
        yield {
            "kind": kind,
            "dataset": dataset,
            "particles": n,
            "seed": seed,
            "t": float(fp.times[k]),
            "tv": float(fp.tv[k]),
            "floor": float(fp.floor[k]),
            "tv_stationary": float(fp.tv_stationary[k]),
            "seconds": seconds,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-2", help="particle seeds, e.g. 0-2 or 0,3")
    parser.add_argument("--resolution", type=int, default=RESOLUTION, help="cells per side")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = parse_seeds(args.seeds)
    rows = []
    start = time.perf_counter()
    for dataset in LANGEVIN_DATASETS:
        data = make_dataset(dataset)
        for n in PARTICLES:
            for seed in seeds:
                t0 = time.perf_counter()
                fp = langevin_picture(data, args.resolution, n, seed)
                seconds = time.perf_counter() - t0
                rows += _rows(fp, LANGEVIN_AT, "langevin", dataset, n, seed, seconds)
                print(f"langevin {dataset} n={n} seed={seed}: {seconds:.1f} s", flush=True)
    for dataset in VP_DATASETS:
        data = make_dataset(dataset)
        scale = DDPM(DDPM.Config(), data).noise_process().signal_scale  # T = 100, linear
        for n in PARTICLES:
            for seed in seeds:
                t0 = time.perf_counter()
                fp = vp_picture(data, scale, args.resolution, n, seed)
                seconds = time.perf_counter() - t0
                rows += _rows(fp, VP_AT, "vp", dataset, n, seed, seconds)
                print(f"vp {dataset} n={n} seed={seed}: {seconds:.1f} s", flush=True)
    total = time.perf_counter() - start

    print("\n## Per seed\n")
    print("| SDE | dataset | particles | seed | t | TV(p_t, particles) | floor | TV(p_t, stat.) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['dataset']} | {r['particles']:,} | {r['seed']} | {r['t']:g} "
            f"| {r['tv']:.3f} | {r['floor']:.3f} | {r['tv_stationary']:.3f} |"
        )
    print("\n## Worst and best seed\n")
    print("| SDE | dataset | t | 1,000: best / worst | 10,000: best / worst | falls |")
    print("|---|---|---:|---:|---:|---|")
    failures = 0
    keys = dict.fromkeys((r["kind"], r["dataset"], r["t"]) for r in rows)
    for kind, dataset, t in keys:
        by_n = {
            n: [
                r["tv"]
                for r in rows
                if (r["kind"], r["dataset"], r["t"], r["particles"]) == (kind, dataset, t, n)
            ]
            for n in PARTICLES
        }
        falls = max(by_n[PARTICLES[1]]) < min(by_n[PARTICLES[0]])
        failures += not falls
        cells = " | ".join(f"{min(v):.3f} / {max(v):.3f}" for v in by_n.values())
        print(f"| {kind} | {dataset} | {t:g} | {cells} | {'yes' if falls else 'NO'} |")
    print(f"\n{len(rows)} rows, {total:.0f} s in all")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
