"""Continuous normalizing flows against the discrete flows at equal CPU time: nll_gap after
1, 2, 5, 10 minutes of training on one thread, through the Session (what ``train`` runs).

Usage: ``python benchmarks/cnf_quality.py [--models cnf,ffjord,realnvp,maf]
[--datasets moons,8gaussians,checkerboard] [--minutes 1,2,5,10] [--seeds 0]
[--bar-seeds 0-2]``.

Each case trains the model at its default hyperparameters in chunks of steps and, each time
its CPU time (``time.process_time``, training only) passes a checkpoint, evaluates
``nll_gap`` as ``session.evaluate()`` reports it (10,000 held-out samples). Then the bar of
issue 14, per seed: ``cnf`` or ``ffjord`` on moons reaches nll_gap <= 0.10 within 10 CPU
minutes; the per-seed table gives the first checkpoint where it is met, worst and best seed.
Exits 1 when a seed misses it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.training import Session  # noqa: E402

__all__ = ["BAR", "BAR_MINUTES", "train_against_cpu"]

#: nll_gap (nats) ``cnf`` or ``ffjord`` must reach on moons within :data:`BAR_MINUTES`
BAR, BAR_MINUTES = 0.10, 10.0
#: training steps between two looks at the CPU clock
CHUNK = 25


def train_against_cpu(
    model: str, dataset: str, seed: int, minutes: list[float], samples: int
) -> list[tuple[float, int, float, float]]:
    """Train a default ``model`` on ``dataset`` and evaluate it at each CPU checkpoint.

    Returns:
        One ``(minutes, steps, nll_gap, steps_per_cpu_second)`` per checkpoint (nats).
    """
    session = Session(model, dataset, seed=seed, device="cpu")
    cpu, out = 0.0, []
    for limit in sorted(minutes):
        while cpu < 60.0 * limit:
            t0 = time.process_time()
            session.run(CHUNK)
            cpu += time.process_time() - t0
        gap = session.evaluate(n=samples, record=False)["nll_gap"]
        out.append((limit, session.step_count, gap, session.step_count / cpu))
        print(
            f"  {model:8s} {dataset:12s} seed {seed}  {limit:5.1f} min  "
            f"{session.step_count:6d} steps  nll_gap {gap:.3f}  "
            f"({session.step_count / cpu:.1f} steps/s)",
            flush=True,
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="cnf,ffjord,realnvp,maf")
    parser.add_argument("--datasets", default="moons,8gaussians,checkerboard")
    parser.add_argument("--minutes", default="1,2,5,10", help="CPU-minute checkpoints")
    parser.add_argument("--seeds", default="0", help="seeds of the comparison, e.g. 0-2")
    parser.add_argument(
        "--bar-seeds", default="0-2", help="seeds of cnf on moons for the bar ('' skips it)"
    )
    parser.add_argument("--bar-models", default="cnf", help="models tried for the bar")
    parser.add_argument("--samples", type=int, default=10_000, help="evaluation samples")
    args = parser.parse_args()
    torch.set_num_threads(1)
    minutes = [float(m) for m in args.minutes.split(",")]
    models = list(filter(None, args.models.split(",")))
    datasets = list(filter(None, args.datasets.split(",")))
    results: dict[tuple[str, str, int], list] = {}
    for dataset in datasets:
        for seed in parse_seeds(args.seeds):
            for model in models:
                results[model, dataset, seed] = train_against_cpu(
                    model, dataset, seed, minutes, args.samples
                )
    if results:
        print("\nnll_gap (nats) against CPU minutes of training, one thread")
        print(f"| dataset | model | seed | {' | '.join(f'{m:g} min' for m in minutes)} |")
        print("|---|---|---|" + "---|" * len(minutes))
        for (model, dataset, seed), curve in results.items():
            cells = " | ".join(f"{gap:.3f} ({steps})" for _, steps, gap, _ in curve)
            print(f"| {dataset} | {model} | {seed} | {cells} |")
    bar_minutes = [m for m in minutes if m <= BAR_MINUTES] or [BAR_MINUTES]
    missed = False
    for model in filter(None, args.bar_models.split(",")):
        seeds = parse_seeds(args.bar_seeds)
        if not seeds:
            continue
        print(f"\nthe bar: {model} on moons, nll_gap <= {BAR} within {BAR_MINUTES:g} CPU minutes")
        print("| seed | " + " | ".join(f"{m:g} min" for m in bar_minutes) + " | first met |")
        print("|---|" + "---|" * (len(bar_minutes) + 1))
        finals = {}
        for seed in seeds:
            curve = results.get((model, "moons", seed)) or train_against_cpu(
                model, "moons", seed, bar_minutes, args.samples
            )
            met = next(((m, s) for m, s, gap, _ in curve if gap <= BAR), None)
            missed |= met is None
            finals[seed] = curve[-1][2]
            cells = " | ".join(f"{gap:.3f} ({steps})" for _, steps, gap, _ in curve)
            first = f"{met[0]:g} min, step {met[1]}" if met else "MISSED"
            print(f"| {seed} | {cells} | {first} |", flush=True)
        worst = max(finals, key=finals.get)
        best = min(finals, key=finals.get)
        print(
            f"worst seed {worst}: {finals[worst]:.3f}; best seed {best}: {finals[best]:.3f} "
            f"(at {bar_minutes[-1]:g} min)"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
