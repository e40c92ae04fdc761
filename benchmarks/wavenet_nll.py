"""WaveNet's figure: its test NLL on the waveforms, in bits per time step, against uniform
coding of the 256 mu-law levels (8 bits).

Usage: ``python benchmarks/wavenet_nll.py [--seeds 0-2] [--threads 1] [--steps N]``.

Each seed is what ``python -m playground train wavenet waveforms --steps 2000 --seed S
--threads 1`` prints as ``bits_per_dim`` (the defaults: batch 16, lr 3e-3 decayed over
2,000 steps; with ``--steps N`` here the decay runs over ``N``: ``--set
lr_decay_steps=N``): the exact ``-log2 p(x)`` of the 500 fixed test waveforms (256 steps
each, 8-bit mu-law) divided by 256, with the default network (two stacks of dilations 1 to
32, kernel 2: a receptive field of 127 steps; 32 residual and 64 skip channels). Also the
last training batch's bits per step, the bits per sequence (``x 256``) and the CPU seconds
(``time.process_time``) of the training, the honest clock on a shared machine.

One markdown row per seed, then the worst and the best. Exits 1 if a bar is missed: test
bits per step at most :data:`BAR_BITS` at every seed (uniform coding: 8).
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

#: the run's steps (the model's defaults otherwise; the decay follows the steps)
STEPS = 2000
#: uniform coding of 256 levels, bits per time step
UNIFORM_BITS = 8.0
#: the bar: test bits per time step at most this
BAR_BITS = 3.5


def run(seed: int, steps: int) -> dict[str, Any]:
    """One seed's row: train ``steps`` steps and evaluate as ``train`` does."""
    session = Session("wavenet", "waveforms", {"lr_decay_steps": steps}, seed)
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    bits = session.evaluate()["bits_per_dim"]
    length = session.data.dim
    return {
        "seed": seed,
        "steps": steps,
        "test_bits_per_step": bits,
        "test_bits_per_sequence": bits * length,
        "train_bits_per_step": session.last_terms["bits_per_dim"],
        "below_uniform": UNIFORM_BITS - bits,
        "receptive_field": session.model.receptive_field,
        "cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for seed in parse_seeds(args.seeds):
        rows.append(run(seed, args.steps))
        print(_table(rows[-1:]), flush=True)  # one table per seed as it finishes
    print("\n## wavenet on waveforms: test bits per time step (uniform: 8)\n")
    print(_table(rows))
    worst = max(rows, key=lambda r: r["test_bits_per_step"])
    best = min(rows, key=lambda r: r["test_bits_per_step"])
    print(
        f"\nworst {worst['test_bits_per_step']:.3f} bits/step (seed {worst['seed']}), best "
        f"{best['test_bits_per_step']:.3f} (seed {best['seed']}); bar <= {BAR_BITS}"
    )
    return 0 if worst["test_bits_per_step"] <= BAR_BITS else 1


if __name__ == "__main__":
    sys.exit(main())
