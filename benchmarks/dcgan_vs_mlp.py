"""DCGAN against the MLP GAN on digits at equal time: FID, precision, recall, class coverage.

Usage: ``python benchmarks/dcgan_vs_mlp.py [--seconds 100] [--seeds 0-2] [--threads 1]``.

Each model trains on ``digits`` with its own defaults (``Session("dcgan", "digits",
seed=S)``, ``Session("gan", "digits", seed=S)``: what ``python -m playground train MODEL
digits --seed S --steps N`` builds) for ``--seconds`` of CPU time, in chunks of
:data:`CHUNK` steps, then ``session.evaluate()``: ``fid`` (Fréchet distance in the
features of the shipped digits classifier), ``precision``, ``recall`` (k-NN manifolds),
``classifier_score``, ``classes_captured`` and ``class_kl``. CPU seconds
(``time.process_time``, one thread) are the clock: on a shared machine they are what
the model spent, where wall time also counts the neighbours; on an idle machine they are
the wall time.

One markdown row per model and seed, then per model the worst and the best seed by FID.
Exits 1 if a bar is missed: DCGAN captures at least 8 classes at every seed, and its
worst FID is below the MLP GAN's best.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table, parse_seeds  # noqa: E402
from playground.core.training import Session  # noqa: E402

#: steps between two looks at the clock (a DCGAN step takes ~26 ms, an MLP GAN's ~7 ms)
CHUNK = 10
MODELS = ("dcgan", "gan")
KEYS = ["model", "seed", "steps", "cpu_s", "fid", "precision", "recall", "classifier_score"]
KEYS += ["classes_captured", "class_kl"]


def run(model: str, seed: int, seconds: float) -> dict[str, Any]:
    """Train ``model`` on digits for ``seconds`` CPU seconds; its row of metrics."""
    session = Session(model, "digits", seed=seed, device="cpu")
    spent = 0.0
    while spent < seconds:
        t0 = time.process_time()
        session.run(CHUNK)
        spent += time.process_time() - t0
    metrics = session.evaluate(record=False)
    row: dict[str, Any] = {"model": model, "seed": seed, "steps": session.step_count}
    row["cpu_s"] = spent
    row.update({k: metrics[k] for k in KEYS[4:] if k in metrics})
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=100.0, help="CPU seconds per run")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for seed in parse_seeds(args.seeds):
        for model in MODELS:
            rows.append(run(model, seed, args.seconds))
            print(markdown_table([rows[-1]], [k for k in KEYS if k in rows[-1]]), flush=True)
    keys = [k for k in KEYS if k in rows[0]]
    print(f"\n{args.seconds:g} CPU seconds per run, {args.threads} thread(s)\n")
    print(markdown_table(rows, keys))
    ok = True
    summary = {}
    for model in MODELS:
        mine = [r for r in rows if r["model"] == model]
        if "fid" in keys:
            worst, best = max(mine, key=lambda r: r["fid"]), min(mine, key=lambda r: r["fid"])
        else:  # without the image metrics: class coverage alone
            worst = min(mine, key=lambda r: (r["classes_captured"], -r["class_kl"]))
            best = max(mine, key=lambda r: (r["classes_captured"], -r["class_kl"]))
        summary[model] = (worst, best)
        print(f"\n{model}: worst seed {worst['seed']}, best seed {best['seed']}")
        print(markdown_table([worst, best], keys))
    ok &= min(r["classes_captured"] for r in rows if r["model"] == "dcgan") >= 8
    if "fid" in keys:
        ok &= summary["dcgan"][0]["fid"] < summary["gan"][1]["fid"]
    print("\nbars met" if ok else "\nA BAR IS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
