"""NCSN on gmm82: annealed Langevin recovers the 0.8 / 0.2 mode weights, plain Langevin
with the true score does not (Song & Ermon 2019, section 3.2.2 and figure 3).

Usage: ``python benchmarks/ncsn_weights.py [--steps N] [--samples N] [--seed S]``.
Prints the weight of the (5, 5) mode (the fraction of samples nearer to it than to
(-5, -5)) under both samplers, the steps and the seconds; exits 1 if plain Langevin is
within 0.1 of 0.8 or annealed Langevin is not within 0.05 of it.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.models.score import NCSN
from playground.core.sampling.langevin import langevin, score_from_log_prob

#: the true weight of the (5, 5) component
TRUE_WEIGHT = 0.8
#: annealed Langevin must land this close to it
TOLERANCE = 0.05
#: plain Langevin must be at least this far from it (the phenomenon)
PLAIN_GAP = 0.1


def weight_of_first_mode(x: torch.Tensor, modes: torch.Tensor) -> float:
    """Fraction of ``x (n, 2)`` nearest to ``modes[0]`` among ``modes (k, 2)``."""
    return float((torch.cdist(x.double(), modes.double()).argmin(1) == 0).double().mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="NCSN training steps")
    parser.add_argument("--samples", type=int, default=2000, help="chains per sampler")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = make_dataset("gmm82")
    modes = data.modes

    # plain Langevin with the exact score from a uniform start on the box
    g = torch.Generator().manual_seed(args.seed)
    config = hpm.from_dict(NCSN.Config, {**NCSN.defaults_for(data), "lr_decay_steps": args.steps})
    torch.manual_seed(args.seed)
    model = NCSN(config, data)
    model.rng = torch.Generator().manual_seed(args.seed + 1)
    model.configure_optimizers()
    x0 = model.uniform_start(args.samples, g)
    t = time.perf_counter()
    plain_steps = 1000
    plain = langevin(score_from_log_prob(data.log_prob), x0, 0.1, plain_steps, g).x
    w_plain = weight_of_first_mode(plain, modes)
    t_plain = time.perf_counter() - t
    print(
        f"plain Langevin, true score: weight {w_plain:.3f} ({plain_steps} steps, step 0.1, "
        f"{t_plain:.1f} s)"
    )

    data_g = torch.Generator().manual_seed(args.seed + 2)
    t = time.perf_counter()
    for _ in range(args.steps):
        model.train_step(data.sample(config.batch_size, data_g))
    t_train = time.perf_counter() - t
    t = time.perf_counter()
    annealed = model.sample(args.samples, torch.Generator().manual_seed(args.seed + 3))
    t_sample = time.perf_counter() - t
    w_annealed = weight_of_first_mode(annealed, modes)
    print(
        f"annealed Langevin, NCSN: weight {w_annealed:.3f} (trained {args.steps} steps in "
        f"{t_train:.1f} s; sampled {config.levels} x {config.steps_per_level} steps in "
        f"{t_sample:.1f} s; sigmas {config.sigma_max:g}..{config.sigma_min:g})"
    )
    ok = abs(w_annealed - TRUE_WEIGHT) <= TOLERANCE and abs(w_plain - TRUE_WEIGHT) >= PLAIN_GAP
    print(f"true weight {TRUE_WEIGHT}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
