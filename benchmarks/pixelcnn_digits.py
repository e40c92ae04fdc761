"""PixelCNN and Gated PixelCNN on 17-level digits: held-out bits per dimension after a few
CPU minutes of training.

Usage: ``python benchmarks/pixelcnn_digits.py [--models pixelcnn,gated-pixelcnn]
[--seeds 0-2] [--threads 1]``.

Each row is what ``python -m playground train MODEL digits --steps N --seed S --threads 1
--set ...`` (the recipes in :data:`RECIPES`) prints as ``bits_per_dim``: the exact
``-log2 P(x)`` of the 359 test digits per pixel (``discrete_metrics``, the model in eval
mode), beside the last training batch's bits/dim and the CPU seconds of the training
(``time.process_time``, the honest clock on a shared machine). Uniform coding of 17 levels
costs ``log2 17 = 4.09`` bits/dim.

One markdown table of every seed, then the worst and the best of each model. Exits 1 if a
bar is missed: every model below half of uniform coding, and at every seed Gated PixelCNN
below PixelCNN (the issue's ordering; MADE's figure is its own benchmark's).
"""

from __future__ import annotations

import argparse
import math
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

#: model -> (steps, hyperparameters): the best test bits/dim found within about 3-4 CPU
#: minutes of one core (benchmarks/pixelcnn_digits.md)
RECIPES: dict[str, tuple[int, dict[str, Any]]] = {
    "pixelcnn": (1500, {"dropout": 0.3, "lr_decay_steps": 1500}),
    "gated-pixelcnn": (1500, {"dropout": 0.3, "lr_decay_steps": 1500}),
}
UNIFORM = math.log2(17)


def command(model: str, seed: int) -> str:
    """The ``train`` command line of ``model``'s recipe at ``seed``."""
    steps, values = RECIPES[model]
    sets = " ".join(f"--set {k}={v}" for k, v in values.items())
    return f"python -m playground train {model} digits --steps {steps} --seed {seed} " + (
        f"--threads 1 {sets}"
    )


def run(model: str, seed: int) -> dict[str, Any]:
    """Train ``model``'s recipe at ``seed``; its row."""
    steps, values = RECIPES[model]
    session = Session(model, "digits", values, seed=seed)
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    session.model.eval()
    bpd = discrete_metrics(session.model, session.data, seed, session.device)["bits_per_dim"]
    return {
        "model": model,
        "seed": seed,
        "steps": steps,
        "test_bits_per_dim": bpd,
        "train_bits_per_dim": session.last_terms["bits_per_dim"],
        "cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(RECIPES))
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models, seeds = args.models.split(","), parse_seeds(args.seeds)
    rows = []
    for seed in seeds:
        for model in models:
            rows.append(run(model, seed))
            print(f"# {command(model, seed)}: {rows[-1]['test_bits_per_dim']:.4f}", flush=True)
    print("\n## 17-level digits, test bits/dim\n")
    print(_table(rows))
    print("\n| model | worst | best | mean |\n|---|---|---|---|")
    ok = True
    for model in models:
        mine = [r for r in rows if r["model"] == model]
        worst = max(mine, key=lambda r: r["test_bits_per_dim"])
        best = min(mine, key=lambda r: r["test_bits_per_dim"])
        mean = sum(r["test_bits_per_dim"] for r in mine) / len(mine)
        print(
            f"| {model} | {worst['test_bits_per_dim']:.4f} (seed {worst['seed']}) | "
            f"{best['test_bits_per_dim']:.4f} (seed {best['seed']}) | {mean:.4f} |"
        )
        ok &= worst["test_bits_per_dim"] < 0.5 * UNIFORM
    if {"pixelcnn", "gated-pixelcnn"} <= set(models):
        bpd = {(r["model"], r["seed"]): r["test_bits_per_dim"] for r in rows}
        ok &= all(bpd["gated-pixelcnn", s] < bpd["pixelcnn", s] for s in seeds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
