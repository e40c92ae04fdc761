"""Disentanglement on shapes: FactorVAE vs beta-VAE vs beta-TCVAE, MIG and FactorVAE score.

Usage: ``python benchmarks/disentanglement.py [--seeds 0-2] [--steps 600] [--threads 1]
[--methods factor-vae,beta-vae,beta-tcvae]``.

Each run is ``python -m playground train MODEL shapes --steps N --seed S --set
lr_decay_steps=N`` plus the method's assignments (:data:`METHODS`); its ``mig`` and
``factor_vae_score`` are what held-out evaluation reports
(:func:`~playground.core.metrics.disentanglement.disentanglement_metrics`: MIG on the
1,000 test images' posterior means, the score from 50 + 50 votes of 20 images). The
``fvs_big`` column is the FactorVAE score with 150 + 150 votes of 50 images (rendered once
and shared by every run, so every model is scored on the same batches).

One markdown row per run, then per method the mean, standard deviation, worst and best;
single-threaded; CPU seconds (``time.process_time``). Exits 1 if a bar is missed: every
metric finite and in ``[0, 1]``, and every method's mean ``fvs_big`` above chance (0.2).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table, parse_seeds  # noqa: E402
from playground.core.data.images import draw_factors, render_shapes  # noqa: E402
from playground.core.metrics.disentanglement import (  # noqa: E402
    disentanglement_metrics,
    factor_vae_score,
)
from playground.core.training import Session  # noqa: E402

#: method -> (model, its ``--set`` assignments)
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "factor-vae": ("factor-vae", {"gamma": 6.4}),
    "beta-vae": ("vae", {"beta": 4.0}),
    "beta-tcvae": ("vae", {"kl_split": "beta-tcvae", "tc_beta": 6.0}),
}
#: the large FactorVAE score: images per vote, votes to fit, votes to score, seed
BIG_BATCH, BIG_VOTES, BIG_SEED = 50, 150, 123


class Replay:
    """The large score's batches, rendered once: the first pass renders and keeps each
    batch of factors ``represent`` is called with; every later pass (the same seed draws
    the same factors) encodes the kept images in the same order."""

    def __init__(self, size: int):
        self.size, self.images, self.calls = size, [], 0
        self.model: Any = None

    def __call__(self, f: Tensor) -> Tensor:
        if self.calls == len(self.images):
            self.images.append(render_shapes(f, self.size))
        x = self.images[self.calls]
        self.calls += 1
        with torch.no_grad():
            return self.model.encode(x).float()

    def score(self, model: Any) -> float:
        self.model, self.calls = model, 0
        g = torch.Generator().manual_seed(BIG_SEED)
        return factor_vae_score(self, draw_factors, 5, g, BIG_BATCH, BIG_VOTES, BIG_VOTES)


def run(method: str, seed: int, steps: int, replay: Replay) -> dict[str, Any]:
    """One training run and its metrics."""
    model, values = METHODS[method]
    session = Session(model, "shapes", {**values, "lr_decay_steps": steps}, seed, "cpu")
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    session.model.eval()
    t1 = time.process_time()
    m = disentanglement_metrics(session.model, session.data, seed, session.device)
    eval_cpu = time.process_time() - t1
    terms = session.last_terms
    return {
        "method": method,
        "seed": seed,
        "mig": m["mig"],
        "factor_vae_score": m["factor_vae_score"],
        "fvs_big": replay.score(session.model),
        "elbo": terms.get("elbo", math.nan),
        "kl": terms.get("kl", math.nan),
        "train_cpu_s": cpu,
        "eval_cpu_s": eval_cpu,
    }


def summary(rows: list[dict[str, Any]], key: str) -> str:
    """Per method: mean, standard deviation, worst and best of ``key``."""
    lines = [f"| method | mean {key} | std | worst (seed) | best (seed) |", "|---|---|---|---|---|"]
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        values = [r[key] for r in mine]
        worst, best = min(mine, key=lambda r: r[key]), max(mine, key=lambda r: r[key])
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        lines.append(
            f"| {method} | {statistics.mean(values):.3f} | {std:.3f} | "
            f"{worst[key]:.3f} ({worst['seed']}) | {best[key]:.3f} ({best['seed']}) |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    replay = Replay(16)
    rows = []
    for method in args.methods.split(","):
        for seed in parse_seeds(args.seeds):
            rows.append(run(method, seed, args.steps, replay))
            print(markdown_table(rows[-1:]), flush=True)
    print(f"\n## shapes, {args.steps} steps\n")
    print(markdown_table(rows))
    ok = True
    for key in ("mig", "factor_vae_score", "fvs_big"):
        print(f"\n{summary(rows, key)}")
        ok &= all(math.isfinite(r[key]) and 0.0 <= r[key] <= 1.0 for r in rows)
    for method in dict.fromkeys(r["method"] for r in rows):
        ok &= statistics.mean(r["fvs_big"] for r in rows if r["method"] == method) > 0.2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
