"""Quality and speed of the default flows through the Session: nll_gap, reverse KL, ms/step.

Usage: ``python benchmarks/flow_quality.py [--threads 1] [--steps 3000] [--seed 0] [--only maf]``.
Each case is what ``python -m playground train MODEL DATASET --steps 3000`` runs (default
hyperparameters, 10,000 evaluation samples). Prints one line per case and exits 1 if a
target of the issue is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from playground.core.training import Session

__all__ = ["CASES"]

#: (model, dataset, metric, target in nats): the issue's figures, and the other flows beside
CASES = [
    ("realnvp", "moons", "nll_gap", 0.08),
    ("maf", "moons", "nll_gap", None),
    ("glow", "moons", "nll_gap", None),
    ("realnvp", "8gaussians", "nll_gap", None),
    ("maf", "8gaussians", "nll_gap", 0.15),
    ("glow", "8gaussians", "nll_gap", None),
    ("planar", "U1", "reverse_kl", 0.1),
    ("iaf", "U1", "reverse_kl", None),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=500, help="evaluate every N steps")
    parser.add_argument("--only", default="", help="comma-separated model names")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    only = set(filter(None, args.only.split(",")))
    missed = False
    for model, dataset, metric, target in CASES:
        if only and model not in only:
            continue
        session = Session(model, dataset, seed=args.seed, device="cpu")
        curve, seconds = [], 0.0
        while session.step_count < args.steps:
            t0 = time.perf_counter()
            session.run(min(args.every, args.steps - session.step_count))
            seconds += time.perf_counter() - t0
            curve.append((session.step_count, round(session.evaluate()[metric], 3)))
        final = curve[-1][1]
        ok = target is None or final <= target
        missed |= not ok
        reached = next((s for s, v in curve if target is not None and v <= target), None)
        print(
            f"{model:8s} {dataset:11s} {metric} = {final:.3f} nats"
            + (f" (target <= {target}, first met at step {reached})" if target else "")
            + f"  {1000 * seconds / args.steps:.1f} ms/step"
            + ("" if target is None else ("  ok" if ok else "  MISSED")),
            flush=True,
        )
        print(f"    curve: {curve}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
