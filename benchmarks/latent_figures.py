"""The latent-model figures of the course: digits' test NLL (VAE vs IWAE) and disentangled
shapes (beta-VAE factor correlations).

Usage::

    python benchmarks/latent_figures.py digits [--steps 5000] [--seed 0]
    python benchmarks/latent_figures.py shapes [--steps 6000] [--beta 4] [--seed 0]

``digits`` trains the default ``vae`` and ``iwae`` (K = 10) on the digits through the
Session (what ``python -m playground train MODEL digits`` runs) and prints each model's
test ELBO and test NLL (the IWAE bound with K = 100 on the 359 test digits, Burda et al.
2016). The course's table reports the same direction on MNIST: the IWAE-trained model's
test bound is at least as tight as the VAE's.

``shapes`` trains a beta-VAE (``vae --set beta=B``) on the procedural shapes and prints the
full table of |Pearson r| between each true factor and each latent's posterior mean on the
1,000 test shapes, and ``factor_r`` (for each factor, the largest |r| over latents).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from playground.core.metrics.latent import factor_correlations
from playground.core.training import Session


def run(model: str, dataset: str, steps: int, seed: int, values: dict) -> tuple[Session, float]:
    session = Session(model, dataset, values, seed=seed, device="cpu")
    t0 = time.perf_counter()
    session.run(steps)
    return session, time.perf_counter() - t0


def digits(args: argparse.Namespace) -> None:
    for model in ("vae", "iwae"):
        session, seconds = run(model, "digits", args.steps, args.seed, {})
        m = session.evaluate(record=False)
        print(
            f"{model:5s} digits seed {args.seed}, {args.steps} steps in {seconds:.0f} s: "
            f"test elbo {m['elbo']:.2f}, iwae_nll (K=100) {m['iwae_nll']:.2f} nats, "
            f"iwae_nll_10 {m['iwae_nll_10']:.2f}, kl {m['kl']:.2f}, "
            f"mutual_info {m['mutual_info']:.2f}, active_units {m['active_units']}",
            flush=True,
        )


def shapes(args: argparse.Namespace) -> None:
    values = {"beta": args.beta, "latent_dim": args.latent_dim}
    session, seconds = run("vae", "shapes", args.steps, args.seed, values)
    m = session.evaluate(record=False)
    data = session.data
    with torch.no_grad():
        r = factor_correlations(session.model, data.test_images, data.test_factors)
    print(
        f"vae shapes beta {args.beta} seed {args.seed}, {args.steps} steps in {seconds:.0f} s: "
        f"test elbo {m['elbo']:.2f}, kl {m['kl']:.2f}, active_units {m['active_units']}"
    )
    print("|r| factor x latent (latents by decreasing KL):")
    kl = session.model.posterior_kl_per_dim(data.test_images).mean(0).detach()
    order = torch.argsort(kl, descending=True).tolist()
    print("          " + " ".join(f"z{j:<5d}" for j in order))
    print("   KL     " + " ".join(f"{float(kl[j]):<6.2f}" for j in order))
    for i, name in enumerate(data.factor_names):
        print(f"{name:>9} " + " ".join(f"{float(r[i, j]):<6.2f}" for j in order))
    print("factor_r", json.dumps({k: round(v, 3) for k, v in m["factor_r"].items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figure", choices=("digits", "shapes"))
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--beta", type=float, default=4.0)
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    (digits if args.figure == "digits" else shapes)(args)


if __name__ == "__main__":
    main()
