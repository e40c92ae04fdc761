"""Posterior collapse on the plane: the VAE ignores its latent exactly when the decoder can
model the data alone.

Usage: ``python benchmarks/posterior_collapse.py [--steps 3000] [--seeds 0-4] [--threads 1]``.
Trains ``vae`` with its defaults (Gaussian decoder with learned diagonal variance) on
``gaussian2d-axis`` and on ``gaussian2d-rotated``, built as the Session builds it, then
reports on 2,000 fresh samples the test KL ``E_x KL(q(z | x) || p(z))`` in nats and the
active units (Burda et al. 2016, section 5.2: units with ``Cov_x(E_q[z_i | x]) > 0.01``).

The issue's bar: axis-aligned KL < 0.05 nats and no active unit (the diagonal decoder
models the axis-aligned Gaussian alone, so the latent is unused); rotated KL > 0.5 nats
and at least one active unit (the correlation needs the latent). One markdown row per seed
and dataset, with wall and process CPU seconds. Exits 1 if it is missed at any seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models.latent.vae import VAE

__all__ = ["collapse_metrics", "train"]

TEST_SAMPLES = 2000
#: Burda et al.'s threshold on the variance over x of the posterior mean
ACTIVE_THRESHOLD = 0.01


def train(dataset: str, steps: int, seed: int) -> VAE:
    """A default ``vae`` trained ``steps`` steps on ``dataset``, seeded as the Session does."""
    data = make_dataset(dataset)
    config = from_dict(VAE.Config, VAE.defaults_for(data))
    torch.manual_seed(seed)
    model = VAE(config, data)
    model.rng = torch.Generator().manual_seed(seed + 1)
    model.configure_optimizers()
    batches = torch.Generator().manual_seed(seed + 2)
    model.train()
    for _ in range(steps):
        model.train_step(data.sample(config.batch_size, batches))
    return model


@torch.no_grad()
def collapse_metrics(model: VAE, seed: int) -> tuple[float, int, list[float]]:
    """Test KL in nats, active units, and each unit's ``Cov_x(E_q[z_i | x])``."""
    model.eval()
    x = model.data.sample(TEST_SAMPLES, torch.Generator().manual_seed(10_000 + seed))
    kl = float(model.posterior_kl_per_dim(x).sum(-1).mean())
    activity = model.posterior_mean(x).var(0)
    return kl, int((activity > ACTIVE_THRESHOLD).sum()), activity.tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seeds", default="0", help="seeds such as 0-4 or 1,3")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    ok = True
    print(
        "| dataset | seed | test KL (nats) | active units | Cov_x E[z_i \\| x] "
        "| wall s | CPU s | bar |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---|")
    for seed in parse_seeds(args.seeds):
        for dataset in ("gaussian2d-axis", "gaussian2d-rotated"):
            t0, c0 = time.perf_counter(), time.process_time()
            model = train(dataset, args.steps, seed)
            kl, active, activity = collapse_metrics(model, seed)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if dataset == "gaussian2d-axis":
                passed = kl < 0.05 and active == 0
            else:
                passed = kl > 0.5 and active >= 1
            ok = ok and passed
            print(
                f"| {dataset} | {seed} | {kl:.4f} | {active} of {len(activity)} | "
                f"{', '.join(f'{a:.4f}' for a in activity)} | {wall:.0f} | {cpu:.0f} | "
                f"{'ok' if passed else 'MISSED'} |",
                flush=True,
            )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
