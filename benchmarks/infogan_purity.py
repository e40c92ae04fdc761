"""Does InfoGAN's categorical code pick out the modes of a 2D mixture? Purity per category.

Usage: ``python benchmarks/infogan_purity.py [--dataset 8gaussians] [--steps 3000] [--seed 1]``.
Trains ``infogan`` through the Session (what ``train infogan DATASET`` runs), then for each
category value draws 200 samples with that code fixed and assigns them to their nearest mode.
Purity is the share of a category's samples in its majority mode; a code that picks out
modes has mean purity near 1 and as many distinct majority modes as categories.
"""

from __future__ import annotations

import argparse
import time

import torch

from playground.core.training import Session

__all__ = ["category_purity"]

PER_CATEGORY = 200


@torch.no_grad()
def category_purity(session: Session, seed: int = 123) -> tuple[list[float], list[int]]:
    """Purity and majority mode of each category value, from a fixed noise batch."""
    model, modes = session.model, session.data.modes.double()
    g = torch.Generator().manual_seed(seed)
    purities, majority = [], []
    for c in range(model.config.categories):
        z = torch.randn(PER_CATEGORY, model.config.latent_dim, generator=g)
        codes = 2 * torch.rand(PER_CATEGORY, model.config.continuous_codes, generator=g) - 1
        x = model.generate_with_codes(z, torch.full((PER_CATEGORY,), c), codes)
        nearest = torch.cdist(x.double().cpu(), modes).argmin(1)
        counts = torch.bincount(nearest, minlength=len(modes))
        majority.append(int(counts.argmax()))
        purities.append(float(counts.max()) / PER_CATEGORY)
    return purities, majority


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="8gaussians")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    session = Session("infogan", args.dataset, seed=args.seed, device="cpu")
    t0 = time.perf_counter()
    terms = session.run(args.steps)
    seconds = time.perf_counter() - t0
    purities, majority = category_purity(session)
    metrics = session.evaluate(record=False)
    print(
        f"infogan {args.dataset} seed {args.seed}, {args.steps} steps in {seconds:.0f} s: "
        f"mutual_information {terms['mutual_information']:.3f} nats; mean purity "
        f"{sum(purities) / len(purities):.3f}, distinct majority modes {len(set(majority))} "
        f"of {len(purities)} categories; modes_captured {metrics['modes_captured']}, "
        f"high_quality {metrics['high_quality']:.3f}"
    )
    print("    per category:", [f"{p:.2f}->{m}" for p, m in zip(purities, majority, strict=True)])


if __name__ == "__main__":
    main()
