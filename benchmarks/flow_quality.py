"""Quality and speed of the default flows: nll_gap, reverse KL and ms per step.

Usage: ``python benchmarks/flow_quality.py [--threads 2] [--steps 3000] [--seed 0]``.
Trains every case with a plain loop (default hyperparameters, the seeding of the Session)
and prints one line per case; the targets are in ``CASES``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models import MODELS

__all__ = ["CASES", "evaluate", "train"]

#: (model, dataset, objective, target in nats): nll_gap for forward KL, KL(q || p) for reverse
CASES = [
    ("realnvp", "moons", "forward_kl", 0.08),
    ("maf", "moons", "forward_kl", None),
    ("glow", "moons", "forward_kl", None),
    ("realnvp", "8gaussians", "forward_kl", 0.15),
    ("maf", "8gaussians", "forward_kl", 0.15),
    ("glow", "8gaussians", "forward_kl", None),
    ("planar", "U1", "reverse_kl", 0.1),
    ("iaf", "U1", "reverse_kl", None),
]


@torch.no_grad()
def evaluate(model, data, objective: str, n: int = 10_000) -> float:
    """``nll_gap`` = mean of ``log p - log q`` over ``n`` data samples (forward KL), or the
    exact reverse KL = mean of ``log q - log p`` over ``n`` model samples, in nats."""
    model.eval()
    if objective == "forward_kl":
        x = data.sample(n, torch.Generator().manual_seed(10_000))
        value = (data.log_prob(x.double()) - model.log_prob(x).double()).mean()
    else:
        x, log_q = model.sample_with_log_prob(n, torch.Generator().manual_seed(20_000))
        value = (log_q.double() - data.log_prob(x.double())).mean()
    model.train()
    return float(value)


def train(name: str, dataset: str, objective: str, steps: int, seed: int, every: int = 250):
    """Train with defaults; returns ``(final metric, median ms per step, [(step, metric)])``.

    The median, not the mean: other processes on a shared machine only add outliers."""
    data = make_dataset(dataset)
    cls = MODELS[name]
    config = from_dict(cls.Config, {"objective": objective})
    torch.manual_seed(seed)
    model = cls(config, data)
    model.generator = torch.Generator().manual_seed(seed + 1)
    model.configure_optimizers()
    data_generator = torch.Generator().manual_seed(seed + 2)
    curve, seconds = [], []
    for step in range(1, steps + 1):
        batch = data.sample(config.batch_size, data_generator) if model.needs_data else None
        t0 = time.perf_counter()
        model.train_step(batch)
        seconds.append(time.perf_counter() - t0)
        if step % every == 0:
            curve.append((step, round(evaluate(model, data, objective), 3)))
    return curve[-1][1], 1000 * statistics.median(seconds), curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default="", help="comma-separated model names")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    only = set(filter(None, args.only.split(",")))
    for name, dataset, objective, target in CASES:
        if only and name not in only:
            continue
        final, ms, curve = train(name, dataset, objective, args.steps, args.seed)
        metric = "nll_gap" if objective == "forward_kl" else "reverse_kl"
        verdict = "" if target is None else ("  ok" if final <= target else "  MISSED")
        reached = next((s for s, v in curve if target is not None and v <= target), None)
        print(
            f"{name:8s} {dataset:11s} {metric} = {final:.3f} nats"
            + (f" (target {target}, first <= at step {reached})" if target else "")
            + f"  {ms:.1f} ms/step{verdict}",
            flush=True,
        )
        print(f"    curve: {curve}", flush=True)


if __name__ == "__main__":
    main()
