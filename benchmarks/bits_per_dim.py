"""One table: test-set bits/dim on the 17-level digits, every likelihood model of the course.

Usage: ``python benchmarks/bits_per_dim.py [--only ROW[,ROW]] [--seeds 0-2] [--threads 1]``.
Each row is what ``python -m playground train MODEL digits --steps N --seed S --set ...``
runs and prints as ``bits_per_dim``: the test set's (359 images of 64 pixels, each one of
17 levels) negative log-likelihood in bits per pixel, exact for the autoregressive models,
an upper bound for the dequantised flows (the dequantisation bound, Ho et al. 2019) and the
VAE (its IWAE bound, K = 100). Uniform coding costs log2 17 = 4.09 bits/dim.

The bars (issue 15): gated-pixelcnn below pixelcnn below made; variational dequantisation at
least 0.05 bits/dim below uniform at the same flow and steps; each row trained within 10
minutes (process CPU seconds of a single-threaded run). A bar between rows holds at a seed
when it holds between that seed's runs. Exits 1 if any bar is missed at any seed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.training import Session  # noqa: E402

__all__ = ["ROWS", "Row", "run_row"]

#: what uniform coding of 17 levels costs, bits per dimension
UNIFORM_BITS = math.log2(17)
#: the most process CPU seconds a row may train for
CPU_LIMIT = 600.0


@dataclass(frozen=True)
class Row:
    """One row of the table: a ``train`` command on ``digits``."""

    model: str
    values: dict[str, Any]
    steps: int
    what: str

    def command(self, seed: int | str) -> str:
        sets = "".join(f" --set {k}={v}" for k, v in self.values.items())
        return (
            f"python -m playground train {self.model} digits --steps {self.steps}"
            f" --seed {seed}{sets}"
        )


#: the rows; the recipes are those of the benchmarks behind each model (made_entropy.md,
#: pixelcnn_digits.md, dequantization.md, vqvae_prior.md)
ROWS: dict[str, Row] = {
    "made": Row(
        "made",
        {
            "hidden": 512,
            "batch_size": 128,
            "lr_decay_steps": 4000,
            "orderings": 16,
            "masks": 16,
            "ensemble": 32,
        },
        4000,
        "order- and connectivity-agnostic MADE, 32-member ensemble at test time (exact)",
    ),
    "pixelcnn": Row(
        "pixelcnn",
        {"dropout": 0.3, "lr_decay_steps": 1500},
        1500,
        "PixelCNN, masks A and B (exact)",
    ),
    "gated-pixelcnn": Row(
        "gated-pixelcnn",
        {"dropout": 0.3, "lr_decay_steps": 1500},
        1500,
        "Gated PixelCNN, no blind spot (exact)",
    ),
    "flow-uniform": Row(
        "realnvp-image",
        {"dequantization": "uniform"},
        2000,
        "RealNVP image flow, uniform dequantisation (a bound)",
    ),
    "flow-variational": Row(
        "realnvp-image",
        {"dequantization": "variational"},
        2000,
        "RealNVP image flow, variational dequantisation (a bound)",
    ),
    "vae-logistic": Row(
        "iwae",
        {
            "decoder": "discretized_logistic",
            "latent_dim": 32,
            "hidden": 512,
            "lr_decay_steps": 1000,
        },
        1000,
        "IWAE with a discretised logistic decoder (IWAE bound, K = 100)",
    ),
}

#: (lower row, higher row, margin): bits/dim of ``lower`` + margin <= bits/dim of ``higher``
BARS: tuple[tuple[str, str, float], ...] = (
    ("gated-pixelcnn", "pixelcnn", 0.0),
    ("pixelcnn", "made", 0.0),
    ("flow-variational", "flow-uniform", 0.05),
)


def run_row(row: Row, seed: int) -> dict[str, float]:
    """Train ``row`` at ``seed`` as ``train`` does; its test bits/dim, wall and CPU seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    session = Session(row.model, "digits", row.values, seed=seed, device="cpu")
    session.run(row.steps)
    cpu = time.process_time() - c0
    metrics = session.evaluate(record=False)
    return {
        "bits_per_dim": float(metrics["bits_per_dim"]),
        "wall": time.perf_counter() - t0,
        "cpu": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    parser.add_argument("--only", default="", help="comma-separated row names")
    parser.add_argument("--seeds", default="0-2", help="seeds such as 0-2 (default: 0-2)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    only = set(filter(None, args.only.split(",")))
    seeds = parse_seeds(args.seeds)
    results: dict[str, dict[int, dict[str, float]]] = {}
    print("| row | seed | bits/dim | train CPU s | wall s |")
    print("|---|---:|---:|---:|---:|")
    for name, row in ROWS.items():
        if only and name not in only:
            continue
        results[name] = {}
        for seed in seeds:
            r = results[name][seed] = run_row(row, seed)
            print(
                f"| {name} | {seed} | {r['bits_per_dim']:.3f} | {r['cpu']:.0f} | {r['wall']:.0f} |",
                flush=True,
            )
    failed = False
    print(f"\nuniform coding: {UNIFORM_BITS:.3f} bits/dim")
    for name, per_seed in results.items():
        values = [r["bits_per_dim"] for r in per_seed.values()]
        slow = [s for s, r in per_seed.items() if r["cpu"] > CPU_LIMIT]
        failed |= bool(slow)
        print(
            f"{name}: worst {max(values):.3f}, best {min(values):.3f}, mean "
            f"{sum(values) / len(values):.3f} bits/dim; {ROWS[name].command('S')}"
            + (f"; OVER {CPU_LIMIT:.0f} CPU s at seeds {slow}" if slow else "")
        )
    for low, high, margin in BARS:
        if low not in results or high not in results:
            continue
        common = sorted(set(results[low]) & set(results[high]))
        gaps = {
            s: results[high][s]["bits_per_dim"] - results[low][s]["bits_per_dim"] for s in common
        }
        misses = [s for s, g in gaps.items() if g < margin]
        failed |= bool(misses)
        print(
            f"bar {low} + {margin} <= {high}: gaps "
            + ", ".join(f"seed {s}: {g:+.3f}" for s, g in gaps.items())
            + (f"; MISSED at seeds {misses}" if misses else "; holds at every seed")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
