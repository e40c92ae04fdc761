"""Mode coverage of the README's GAN demos at every seed: the collapse, its remedy, grid25.

Usage: ``python benchmarks/gan_modes.py [--only NAME[,NAME]] [--seeds 0-4] [--threads 1]``.
Each case is what ``python -m playground train MODEL DATASET --steps N --seed S --set ...``
runs, repeated at each of its seeds (ring8: 0-9, grid25: 0-4; ``--seeds`` overrides). One
markdown row per seed: the mode metrics (VEEGAN / PacGAN definitions, 2,500 samples, as
``train`` prints them), the wall seconds and the process CPU seconds (single-threaded
runs; on a shared machine the CPU seconds are the honest clock). Then the worst and the
best seed of each case. Exits 1 if any seed misses its case's bar, time included.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.training import Session

__all__ = ["CASES", "Case", "run_seed"]

#: the collapse: a generator 30 times slower than a deep (5 hidden layers), fast critic.
#: The critic learns the ring long before the generator moves; its gradient then pulls the
#: generator's whole, still narrow cloud of samples into one mode (the one its initial
#: cloud faces), and nothing pulls it out: far from its samples the critic says nothing.
RING8_COLLAPSE: dict[str, Any] = {
    "depth": 5,
    "lr_generator": 3e-5,
    "lr_critic": 1e-3,
    "lr_decay_steps": 2000,
}
#: the remedy: PacGAN (the critic judges 4 samples at once) with a critic four times faster
#: than its generator, an 8-dimensional latent, batches of 512 and a cosine decay of both
#: rates over the run, so the samples settle onto the sharp modes
RING8_REMEDY: dict[str, Any] = {
    "pack": 4,
    "latent_dim": 8,
    "lr_generator": 5e-4,
    "lr_critic": 2e-3,
    "batch_size": 512,
    "lr_decay_steps": 10000,
}
#: grid25: PacGAN (pack 3) with rates 1e-3 / 4e-3, the minimax generator loss for the
#: first 20,000 of 25,000 iterations, then the non-saturating one, and an R1 penalty
#: (gamma 0.1) on the critic's gradient at the data (Mescheder et al. 2018). The minimax
#: loss keeps hold of all 25 modes while the samples are still spread out; the
#: non-saturating iterations at decayed rates pull the stray samples onto the modes; R1
#: keeps the critic flat on the data, so the last modes are not pushed away as the
#: samples sharpen (demo_seeds.md, grid25)
GRID25_REMEDY: dict[str, Any] = {
    "pack": 3,
    "latent_dim": 8,
    "lr_generator": 1e-3,
    "lr_critic": 4e-3,
    "batch_size": 512,
    "lr_decay_steps": 25000,
    "minimax_steps": 20000,
    "r1": 0.1,
}


@dataclass(frozen=True)
class Case:
    """One demo: a ``train`` command repeated over seeds, and its bar."""

    model: str
    dataset: str
    values: dict[str, Any]
    steps: int
    seeds: tuple[int, ...]
    check: Callable[[dict], bool] = field(repr=False)
    bar: str
    cpu_limit: float  # process CPU seconds a single-threaded run may take

    def command(self, seed: int) -> str:
        sets = "".join(f" --set {k}={v}" for k, v in self.values.items())
        return (
            f"python -m playground train {self.model} {self.dataset} --steps {self.steps}"
            f" --seed {seed}{sets}"
        )


CASES: dict[str, Case] = {
    "ring8-collapse": Case(
        "gan",
        "ring8",
        RING8_COLLAPSE,
        2000,
        tuple(range(10)),
        lambda m: 1 <= m["modes_captured"] <= 2 and m["high_quality"] >= 0.5,
        "1 or 2 of 8 modes, high_quality >= 0.5, within 3 minutes",
        180.0,
    ),
    "ring8-pacgan": Case(
        "gan",
        "ring8",
        RING8_REMEDY,
        10000,
        tuple(range(10)),
        lambda m: m["modes_captured"] == 8 and m["high_quality"] >= 0.7,
        "8 of 8 modes, high_quality >= 0.70, within 3 minutes",
        180.0,
    ),
    "grid25-pacgan": Case(
        "gan",
        "grid25",
        GRID25_REMEDY,
        25000,
        tuple(range(5)),
        lambda m: m["modes_captured"] == 25 and m["high_quality"] >= 0.8,
        "25 of 25 modes, high_quality >= 0.80, within 5 minutes",
        300.0,
    ),
}


def run_seed(case: Case, seed: int) -> dict[str, Any]:
    """Train ``case`` at ``seed`` as ``train`` does; its mode metrics, wall and CPU seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    session = Session(case.model, case.dataset, case.values, seed=seed, device="cpu")
    session.run(case.steps)
    m = session.evaluate(n=2500, record=False)
    m["wall"] = time.perf_counter() - t0
    m["cpu"] = time.process_time() - c0
    m["ok"] = case.check(m) and m["cpu"] <= case.cpu_limit
    return m


def _row(seed: int, m: dict[str, Any]) -> str:
    return (
        f"| {seed} | {m['modes_captured']} | {m['high_quality']:.3f} | {m['mode_kl']:.3f} "
        f"| {m['wall']:.0f} | {m['cpu']:.0f} | {'ok' if m['ok'] else 'MISSED'} |"
    )


def _rank(m: dict[str, Any], collapse: bool) -> tuple:
    """Worse seeds sort first: a miss, then fewer modes (a collapse: more), lower quality."""
    modes = -m["modes_captured"] if collapse else m["modes_captured"]
    return (m["ok"], modes, m["high_quality"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument(
        "--seeds", default="", help="seeds such as 0-4 or 1,3 (default: the case's)"
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    only = set(filter(None, args.only.split(",")))
    failed = False
    for name, case in CASES.items():
        if only and name not in only:
            continue
        seeds = parse_seeds(args.seeds) or case.seeds
        print(f"\n{name}: {case.command(seeds[0]).replace(f'--seed {seeds[0]}', '--seed S')}")
        print(f"bar: {case.bar}\n")
        print("| seed | modes | high_quality | mode_kl | wall s | CPU s | bar |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        results = {}
        for seed in seeds:
            results[seed] = run_seed(case, seed)
            print(_row(seed, results[seed]), flush=True)

        ranked = sorted(results, key=lambda s: _rank(results[s], "collapse" in name))
        worst, best = ranked[0], ranked[-1]
        misses = [s for s, m in results.items() if not m["ok"]]
        failed |= bool(misses)
        print(
            f"\n{name}: worst seed {worst} ({results[worst]['modes_captured']} modes, "
            f"high_quality {results[worst]['high_quality']:.3f}), best seed {best} "
            f"({results[best]['modes_captured']} modes, high_quality "
            f"{results[best]['high_quality']:.3f}); CPU s per seed "
            f"{min(m['cpu'] for m in results.values()):.0f}-"
            f"{max(m['cpu'] for m in results.values()):.0f}; "
            f"{'all seeds ok' if not misses else f'MISSED at seeds {misses}'}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
