"""The Dirac-GAN's figure (Mescheder, Geiger and Nowozin 2018, figure 1 and section 3): the
distance to the equilibrium (0, 0) after 5,000 gradient steps of h = 0.1 from (1, 0), per
loss, update rule and regulariser.

Usage: ``python benchmarks/dirac_gan.py [--steps 5000] [--seeds 0-2] [--threads 1]``.

Each row is what ``python -m playground train dirac-gan dirac --steps 5000 --seed S --set
updates=U --set loss=L --set regularizer=R [--set gamma=G]`` prints as ``distance`` (the
held-out metric: ``sqrt(theta^2 + psi^2)``, read through the model protocol). Without
instance noise the Dirac-GAN is deterministic (the data is one point and ``G(z) = theta``
draws nothing), so those rows run at the first seed only; the instance-noise rows draw
their noise from the seed and run at every seed of ``--seeds``.

Bars (exit 1 if one is missed; the issue's expectations): simultaneous updates diverge to
3.0-4.5 (about 3.6), alternating updates orbit at 0.8-1.2 (about 1.0), R1 (gamma = 1)
converges below 1e-6. The other rows (R2, WGAN, WGAN-GP, non-saturating, instance noise)
are reported without a bar.
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

#: (case, settings, bar (low, high) on the distance or None); h = 0.1 and (1, 0) throughout
CASES: list[tuple[str, dict[str, Any], tuple[float, float] | None]] = [
    ("simultaneous", {"updates": "simultaneous"}, (3.0, 4.5)),
    ("alternating", {"updates": "alternating"}, (0.8, 1.2)),
    ("R1, simultaneous", {"regularizer": "r1", "gamma": 1.0}, (0.0, 1e-6)),
    ("R1, alternating", {"updates": "alternating", "regularizer": "r1", "gamma": 1.0}, None),
    ("R2, simultaneous", {"regularizer": "r2", "gamma": 1.0}, None),
    ("non-saturating, simultaneous", {"loss": "non-saturating"}, None),
    ("WGAN (clip), simultaneous", {"loss": "wasserstein"}, None),
    ("WGAN (clip), alternating", {"loss": "wasserstein", "updates": "alternating"}, None),
    ("WGAN-GP, simultaneous", {"loss": "wasserstein", "regularizer": "wgan-gp"}, None),
    (
        "WGAN-GP, alternating",
        {"loss": "wasserstein", "regularizer": "wgan-gp", "updates": "alternating"},
        None,
    ),  # fmt: skip
    ("instance noise 1, simultaneous", {"regularizer": "instance-noise"}, None),
    (
        "instance noise 1, alternating",
        {"regularizer": "instance-noise", "updates": "alternating"},
        None,
    ),  # fmt: skip
]


def run(case: str, settings: dict[str, Any], seed: int, steps: int) -> dict[str, Any]:
    """One training run and its row."""
    session = Session("dirac-gan", "dirac", settings, seed=seed, device="cpu")
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    distance = session.evaluate(record=False)["distance"]
    terms = session.last_terms
    return {
        "case": case,
        "seed": seed,
        "distance": distance,
        "theta": terms["theta"],
        "psi": terms["psi"],
        "cpu_s": round(cpu, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = parse_seeds(args.seeds)
    rows, ok = [], True
    for case, settings, bar in CASES:
        noisy = settings.get("regularizer") == "instance-noise"
        mine = [run(case, settings, seed, args.steps) for seed in (seeds if noisy else seeds[:1])]
        rows += mine
        if bar is not None:
            ok &= all(bar[0] <= r["distance"] <= bar[1] for r in mine)
    print(f"## Dirac-GAN: distance to (0, 0) after {args.steps:,} steps, h = 0.1, from (1, 0)\n")
    print(markdown_table(rows))
    noise = [r for r in rows if r["case"].startswith("instance noise")]
    for case in dict.fromkeys(r["case"] for r in noise):
        mine = [r for r in noise if r["case"] == case]
        worst = max(mine, key=lambda r: r["distance"])
        best = min(mine, key=lambda r: r["distance"])
        print(
            f"\n{case}: worst {worst['distance']:.3g} (seed {worst['seed']}), "
            f"best {best['distance']:.3g} (seed {best['seed']})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
