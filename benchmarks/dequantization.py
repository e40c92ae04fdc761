"""RealNVP on 17-level digits: variational against uniform dequantization, test-set bits/dim.

Usage: ``python benchmarks/dequantization.py [--seeds 0-2] [--steps 2000] [--threads 1]``.

Each row is what ``python -m playground train realnvp-image digits --steps 2000 --seed S
--set dequantization=D`` prints as ``bits_per_dim`` (``D`` uniform or variational; every
other hyperparameter its default, so both rows of a seed have the same flow, batches and
steps): the dequantization bound of the 359 test digits, one draw of ``u`` per image, in
bits per pixel (uniform coding of 17 levels: log2 17 = 4.09). Also the training bound of the
last 100 steps and the CPU seconds of the training (``time.process_time``, the honest clock
on a shared machine).

One markdown table per seed, then the worst and the best; exits 1 if a bar is missed:
variational at least 0.05 bits/dim below uniform at every seed, and every row trained within
600 CPU seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table as _table  # noqa: E402
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.training import Session  # noqa: E402
from playground.core.training.evaluation import discrete_metrics  # noqa: E402

#: the bar: variational below uniform by at least this much (bits/dim), each row within
#: this many CPU seconds
MIN_GAIN, MAX_CPU_S = 0.05, 600.0
KINDS = ("uniform", "variational")


def row(kind: str, seed: int, steps: int) -> dict[str, Any]:
    """Train one dequantization at one seed; its test bits/dim and CPU seconds."""
    session = Session("realnvp-image", "digits", {"dequantization": kind}, seed, device="cpu")
    t0 = time.process_time()
    train = [session.step()["bits_per_dim"] for _ in range(steps)]
    cpu = time.process_time() - t0
    session.model.eval()
    test = discrete_metrics(session.model, session.data, seed, session.device)["bits_per_dim"]
    tail = train[-100:]
    return {
        "dequantization": kind,
        "seed": seed,
        "test_bits_per_dim": test,
        "train_bits_per_dim": sum(tail) / len(tail),
        "cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    gains, ok = [], True
    for seed in parse_seeds(args.seeds):
        rows = [row(kind, seed, args.steps) for kind in KINDS]
        gain = rows[0]["test_bits_per_dim"] - rows[1]["test_bits_per_dim"]
        gains.append((gain, seed))
        print(f"## seed {seed}: variational {gain:.3f} bits/dim below uniform\n")
        print(_table(rows) + "\n", flush=True)
        ok &= gain >= MIN_GAIN and all(r["cpu_s"] <= MAX_CPU_S for r in rows)
    worst, best = min(gains), max(gains)
    print(f"worst gain {worst[0]:.3f} bits/dim (seed {worst[1]}), "
          f"best {best[0]:.3f} (seed {best[1]}); bar {MIN_GAIN}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
