"""MADE's figures: its test NLL on a 2D density binned on a 32 x 32 grid against the bins'
exact discrete entropy (the best any model can do), and its bits/dim on 17-level digits.

Usage: ``python benchmarks/made_entropy.py [--only entropy,digits] [--seeds 0-2]
[--threads 1]``.

``entropy``: ``python -m playground train made moons --steps 2000 --seed S --set
batch_size=512 --set lr=0.003 --set lr_decay_steps=2000`` (``bins`` 32, the default), then
the model's NLL of the bins of 200,000 fresh samples (seed ``1000 + S``; nats per point) and
the exact discrete entropy ``H`` of the moons' cells (quadrature, 8 x 8 points per cell:
:func:`~playground.core.data.grid.cell_probabilities`). ``gap = NLL - H`` estimates
``KL(P || Q)`` of the cells; ``paired`` is the same KL estimated on the same samples as the
mean of ``log P(bin) - log Q(bin)`` (lower variance). ``train``'s own ``nll`` is the
continuous density's on 10,000 points: ``nll - log(cell area)`` is the bins' NLL on those.

``digits``: ``python -m playground train made digits --steps 4000 --seed S --set
hidden=512 --set batch_size=128 --set lr_decay_steps=4000 --set orderings=16 --set
masks=16 --set ensemble=32``: ``bits_per_dim`` of the test split as the command prints it
(the probabilities averaged over 32 (ordering, mask) pairs).

One markdown row per seed, then the worst and the best; CPU seconds
(``time.process_time``) of the training. Exits 1 if a bar is missed: ``gap <= 0.05`` nats
at every seed.
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
from playground.core.data.grid import cell_probabilities  # noqa: E402
from playground.core.training import Session  # noqa: E402

#: the 2D run: dataset, steps and hyperparameters (bins: the default 32)
DATASET, STEPS = "moons", 2000
PLANE = {"batch_size": 512, "lr": 3e-3, "lr_decay_steps": STEPS}
#: fresh samples whose bins the NLL is measured on
TEST_POINTS = 200_000
#: the digits run
DIGITS_STEPS = 4000
DIGITS = {
    "hidden": 512,
    "batch_size": 128,
    "lr_decay_steps": DIGITS_STEPS,
    "orderings": 16,
    "masks": 16,
    "ensemble": 32,
}
#: the bar: the bins' NLL at most this far above their entropy, nats
GAP_BAR = 0.05


def entropy_row(seed: int) -> dict[str, Any]:
    """Train on the binned moons and compare the test NLL with the cells' entropy."""
    session = Session("made", DATASET, PLANE, seed)
    t0 = time.process_time()
    session.run(STEPS)
    cpu = time.process_time() - t0
    model = session.model.eval()
    cells = cell_probabilities(session.data, model.levels)
    x = session.data.sample(TEST_POINTS, torch.Generator().manual_seed(1000 + seed))
    with torch.no_grad():
        log_q = model.log_prob_levels(x).double()
    k = model.to_levels(x)
    log_p = cells.probs[k[:, 0], k[:, 1]].log()
    nll = float(-log_q.mean())
    train_nll = session.evaluate(record=False)["nll"]
    return {
        "seed": seed,
        "nll": nll,
        "H": cells.entropy,
        "gap": nll - cells.entropy,
        "paired": float((log_p - log_q).mean()),
        "train_nll_bins": train_nll - math.log(model.grid.cell_area),
        "cpu_s": cpu,
    }


def digits_row(seed: int) -> dict[str, Any]:
    """Train on 17-level digits and report the test split's bits/dim."""
    session = Session("made", "digits", DIGITS, seed)
    t0 = time.process_time()
    session.run(DIGITS_STEPS)
    cpu = time.process_time() - t0
    m = session.evaluate(record=False)
    return {"seed": seed, "bits_per_dim": m["bits_per_dim"], "cpu_s": cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="entropy,digits")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds, only, ok = parse_seeds(args.seeds), args.only.split(","), True
    if "entropy" in only:
        rows = []
        for seed in seeds:
            rows.append(entropy_row(seed))
            print(f"## {DATASET}, 32 x 32 bins, seed {seed}\n\n{_table(rows[-1:])}\n", flush=True)
        worst = max(rows, key=lambda r: r["gap"])
        best = min(rows, key=lambda r: r["gap"])
        print(_table(rows))
        print(
            f"\nworst gap {worst['gap']:.4f} nats (seed {worst['seed']}), best "
            f"{best['gap']:.4f} (seed {best['seed']}); bar {GAP_BAR}\n"
        )
        ok &= worst["gap"] <= GAP_BAR
    if "digits" in only:
        rows = []
        for seed in seeds:
            rows.append(digits_row(seed))
            print(f"## digits (17 levels), seed {seed}\n\n{_table(rows[-1:])}\n", flush=True)
        worst = max(rows, key=lambda r: r["bits_per_dim"])
        best = min(rows, key=lambda r: r["bits_per_dim"])
        print(_table(rows))
        print(
            f"\nworst {worst['bits_per_dim']:.4f} bits/dim (seed {worst['seed']}), best "
            f"{best['bits_per_dim']:.4f} (seed {best['seed']})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
