"""Mode coverage of the GAN family through the Session: the collapse demo and the remedies.

Usage: ``python benchmarks/gan_modes.py [--threads 1] [--only NAME]``. Each case is what
``python -m playground train MODEL DATASET --steps N --seed S --set ...`` runs; the mode
metrics (VEEGAN / PacGAN definitions, 2,500 samples) are printed as ``train`` prints them,
with the wall time. Exits 1 if a case misses its bar.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from playground.core.training import Session

__all__ = ["CASES"]

GRID25_REMEDY = {
    "pack": 3,
    "latent_dim": 8,
    "lr_generator": 5e-4,
    "lr_critic": 2e-3,
    "batch_size": 512,
    "lr_decay_steps": 25000,
}
RING8_COLLAPSE = {"lr_generator": 1e-3, "lr_critic": 1e-4}

#: name -> (model, dataset, hyperparameters, seed, iterations, check, the bar in words)
CASES: dict[str, tuple] = {
    "ring8-collapse": (
        "gan",
        "ring8",
        RING8_COLLAPSE,
        1,
        3000,
        lambda m: m["modes_captured"] <= 4,
        "at most 4 of 8 modes",
    ),
    "ring8-pacgan": (
        "gan",
        "ring8",
        {**RING8_COLLAPSE, "pack": 4},
        1,
        4000,
        lambda m: m["modes_captured"] == 8,
        "8 of 8 modes",
    ),
    "grid25-pacgan": (
        "gan",
        "grid25",
        GRID25_REMEDY,
        0,
        25000,
        lambda m: m["modes_captured"] == 25 and m["high_quality"] >= 0.8,
        "25 of 25 modes, high_quality >= 0.80, within 5 minutes",
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--every", type=int, default=1000, help="print metrics every N steps")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    only = set(filter(None, args.only.split(",")))
    failed = False
    for name, (model, dataset, values, seed, steps, check, bar) in CASES.items():
        if only and name not in only:
            continue
        session = Session(model, dataset, values, seed=seed, device="cpu")
        t0 = time.perf_counter()
        while session.step_count < steps:
            session.run(min(args.every, steps - session.step_count))
            m = session.evaluate(n=2500, record=False)
            print(
                f"  {name} step {session.step_count}: modes_captured {m['modes_captured']}, "
                f"high_quality {m['high_quality']:.3f}, mode_kl {m['mode_kl']:.3f}, "
                f"{time.perf_counter() - t0:.0f} s",
                flush=True,
            )
        seconds = time.perf_counter() - t0
        ok = check(m)
        failed |= not ok
        sets = " ".join(f"--set {k}={v}" for k, v in values.items())
        print(
            f"{name}: python -m playground train {model} {dataset} --steps {steps} --seed {seed} "
            f"{sets}\n    modes_captured {m['modes_captured']}, high_quality "
            f"{m['high_quality']:.3f}, mode_kl {m['mode_kl']:.3f}; {seconds:.0f} s "
            f"({1000 * seconds / steps:.1f} ms/iteration); bar: {bar} -> "
            f"{'ok' if ok else 'MISSED'}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
