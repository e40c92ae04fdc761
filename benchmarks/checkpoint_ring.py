"""The checkpoint ring of issue 17: its memory after a long run and the seconds of a rewind.

Usage: ``python benchmarks/checkpoint_ring.py [--steps 20000] [--seeds 0-2] [--threads 1]``.

For one 2D model per family (realnvp on moons, gan on 8gaussians, vae on moons, default
hyperparameters, as ``python -m playground train MODEL DATASET --steps N --seed S``
trains them), trains ``--steps`` steps calling ``CheckpointRing.maybe_save`` (default
budget 256 MiB) after each, then rewinds to ``--rewinds`` random steps (taken in
descending order, since a rewind forgets the checkpoints after its step) and times each
(restore + exact replay). One markdown row per model and seed: checkpoints held, their
spacing, MiB held, the mean and worst rewind seconds, the training ms per step; then the
worst and best seed. Exits 1 if the ring exceeds its budget or a worst rewind exceeds
0.3 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table, parse_seeds  # noqa: E402
from playground.core.training import Session  # noqa: E402
from playground.core.training.checkpoints import CheckpointRing, rewind  # noqa: E402

#: one 2D model per family, with its dataset
CASES = (("realnvp", "moons"), ("gan", "8gaussians"), ("vae", "moons"))
#: the bar of the issue for a rewind of a 2D model, seconds
REWIND_BAR = 0.3


def measure(model: str, dataset: str, seed: int, steps: int, rewinds: int) -> dict[str, Any]:
    """Train ``steps`` steps into a default ring, then time ``rewinds`` rewinds."""
    session, ring = Session(model, dataset, seed=seed, device="cpu"), CheckpointRing()
    ring.maybe_save(session)
    t0 = time.perf_counter()
    for _ in range(steps):
        session.step()
        ring.maybe_save(session)
    train = time.perf_counter() - t0
    held, spacing, nbytes = len(ring), ring.spacing, ring.nbytes
    targets = sorted(random.Random(seed).sample(range(1, steps), rewinds), reverse=True)
    times = []
    for step in targets:
        t0 = time.perf_counter()
        rewind(session, ring, step)
        times.append(time.perf_counter() - t0)
    return {
        "model": model,
        "seed": seed,
        "checkpoints": held,
        "spacing": spacing,
        "MiB": nbytes / 2**20,
        "budget_MiB": ring.budget_bytes / 2**20,
        "rewind_s_mean": sum(times) / len(times),
        "rewind_s_worst": max(times),
        "ms_per_step": 1000 * train / steps,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--rewinds", type=int, default=5)
    parser.add_argument("--only", default=",".join(m for m, _ in CASES))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ok = True
    for model, dataset in CASES:
        if model not in args.only.split(","):
            continue
        rows = [
            measure(model, dataset, s, args.steps, args.rewinds) for s in parse_seeds(args.seeds)
        ]
        print(f"\n## {model} on {dataset}, {args.steps} steps\n")
        print(markdown_table(rows))
        worst = max(rows, key=lambda r: r["rewind_s_worst"])
        best = min(rows, key=lambda r: r["rewind_s_worst"])
        print(
            f"\nworst rewind {worst['rewind_s_worst']:.3f} s (seed {worst['seed']}), "
            f"best {best['rewind_s_worst']:.3f} s (seed {best['seed']})",
            flush=True,
        )
        ok &= all(r["MiB"] <= r["budget_MiB"] for r in rows)
        ok &= worst["rewind_s_worst"] <= REWIND_BAR
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
