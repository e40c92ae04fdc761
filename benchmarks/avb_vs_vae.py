"""AVB against the VAE on the four-points toy: ELBO, reconstruction, NLL, and whether the
four posteriors partition the latent plane (Mescheder et al. 2017, figure 2).

Usage: ``python benchmarks/avb_vs_vae.py [--seeds 0-2] [--steps 3000] [--threads 1]
[--png benchmarks/avb_vs_vae.png]``.

Each run is ``python -m playground train MODEL four-points --steps 3000 --seed S`` (the
defaults of four-points: a 2D latent, a Bernoulli decoder, 128 x 2 networks, batches of
128, lr 3e-3; AVB's adversary 5 steps at 3e-3 per step). 3,000 steps: the whole cosine
decay of the rates (``lr_decay_steps``); at 2,000 AVB's partition accuracy was 0.982,
0.944 and 0.971 on seeds 0-2, at 3,000 0.977 and 0.966 on seeds 1-2. Columns, in nats
per image:

- ``elbo``, ``reconstruction``, ``kl``: the held-out one-sample terms ``session.evaluate()``
  reports over the test split (the four images, 125 times each). For AVB the KL is the
  adversary's estimate ``E_q T(x, z)``, so its ELBO is an estimate, not a bound; the VAE's
  KL is the closed form.
- ``nll``: ``-log (1/K) sum_j p(x | z_j)``, ``z_j ~ N(0, I)``, ``K = 100,000``, averaged
  over the four images: the same prior importance-sampling estimate for both models (it
  needs no density of q; with a 2D latent and K this large it is within a few thousandths
  of a nat). The best any model can do is ``log 4 = 1.386``.
- ``partition``: the accuracy of a 5-nearest-neighbour classifier that tells from one
  posterior sample ``z ~ q(z | x)`` which of the four images it encodes (neighbours: 250
  samples per image; tested on 250 fresh ones). 1 when the posteriors do not overlap.
- ``cpu_s``: CPU seconds of the training (``time.process_time``, single-threaded).

The PNG draws 250 posterior samples of each image for both models at seed 0 (four colours).
One markdown row per model and seed, then the worst and best seed. Exits 1 if a bar is
missed: AVB's partition accuracy at least 0.95 on every seed.
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
from benchmarks.seeds import markdown_table, parse_seeds  # noqa: E402
from playground.core.data.four_points import FOUR_POINT_NAMES  # noqa: E402
from playground.core.training import Session  # noqa: E402

#: the four images, one-hot on the 2x2 canvas
POINTS = torch.eye(4).reshape(4, 1, 2, 2)
#: prior samples of the NLL estimate, and posterior samples per image of the partition
NLL_K, PER_POINT, NEIGHBOURS = 100_000, 250, 5
#: the partition bar AVB must clear on every seed
PARTITION_BAR = 0.95
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


@torch.no_grad()
def posterior_samples(model, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``PER_POINT`` samples ``z ~ q(z | x)`` of each image ``(4 * PER_POINT, 2)`` and their
    image's index."""
    x = POINTS.repeat_interleave(PER_POINT, 0)
    z, _ = model.posterior_sample(x, torch.Generator().manual_seed(seed))
    return z, torch.arange(4).repeat_interleave(PER_POINT)


def partition_accuracy(model) -> float:
    """The k-NN accuracy of the image from a posterior sample (see the module docstring)."""
    fit, y = posterior_samples(model, 1)
    test, _ = posterior_samples(model, 2)
    nearest = torch.cdist(test, fit).topk(NEIGHBOURS, largest=False).indices
    return float((torch.mode(y[nearest], 1).values == y).float().mean())


@torch.no_grad()
def prior_nll(model, seed: int) -> float:
    """``-log (1/K) sum_j p(x | z_j)``, ``z_j ~ p(z)``, averaged over the four images."""
    z = model.sample_prior(NLL_K, torch.Generator().manual_seed(seed + 100))
    out = []
    for x in POINTS:
        log_px = model.decoder.log_prob(x[None].expand(NLL_K, -1, -1, -1), z, 0.1)
        out.append(-(torch.logsumexp(log_px, 0) - math.log(NLL_K)))
    return float(torch.stack(out).mean())


def run(model_name: str, seed: int, steps: int) -> tuple[dict[str, Any], Session]:
    """One training run and its row."""
    session = Session(model_name, "four-points", seed=seed, device="cpu")
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    m = session.evaluate(n=2000, record=False)
    row = {
        "model": model_name,
        "seed": seed,
        "elbo": m["elbo"],
        "reconstruction": m["reconstruction"],
        "kl": m["kl"],
        "nll": prior_nll(session.model, seed),
        "partition": partition_accuracy(session.model),
        "cpu_s": cpu,
    }
    return row, session


def draw(sessions: dict[str, Session], path: Path) -> None:
    """Both latent spaces of seed 0 side by side, one colour per image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sessions), figsize=(5 * len(sessions), 5), squeeze=False)
    for ax, (name, session) in zip(axes[0], sessions.items(), strict=True):
        z, y = posterior_samples(session.model, 1)
        for k, label in enumerate(FOUR_POINT_NAMES):
            pts = z[y == k].numpy()
            ax.scatter(pts[:, 0], pts[:, 1], s=6, alpha=0.6, c=COLOURS[k], label=label)
        title = "AVB: implicit q(z|x)" if name == "avb" else "VAE: Gaussian q(z|x)"
        ax.set_title(f"{title}, {PER_POINT} samples per image", fontsize=12)
        ax.set_xlabel("z0")
        ax.set_ylabel("z1")
        ax.set_xlim(-3.5, 3.5)
        ax.set_ylim(-3.5, 3.5)
        ax.set_aspect("equal")
    axes[0][0].legend(loc="upper left", fontsize=9, markerscale=3)
    fig.suptitle("four-points, seed 0: posterior samples coloured by the lit pixel")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--png", default=str(Path(__file__).with_suffix(".png")))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = parse_seeds(args.seeds)
    rows, first = [], {}
    for seed in seeds:
        for name in ("avb", "vae"):
            row, session = run(name, seed, args.steps)
            rows.append(row)
            print(markdown_table([row]).splitlines()[-1], flush=True)
            if seed == seeds[0]:
                first[name] = session
    print(f"\n## four-points, {args.steps} steps\n")
    print(markdown_table(rows))
    ok = True
    print("\n| model | worst nll (seed) | best nll (seed) | worst partition (seed) | mean elbo |")
    print("|---|---|---|---|---|")
    for name in ("avb", "vae"):
        mine = [r for r in rows if r["model"] == name]
        worst = max(mine, key=lambda r: r["nll"])
        best = min(mine, key=lambda r: r["nll"])
        part = min(mine, key=lambda r: r["partition"])
        elbo = sum(r["elbo"] for r in mine) / len(mine)
        print(
            f"| {name} | {worst['nll']:.4f} ({worst['seed']}) | {best['nll']:.4f} "
            f"({best['seed']}) | {part['partition']:.3f} ({part['seed']}) | {elbo:.4f} |"
        )
        if name == "avb":
            ok &= part["partition"] >= PARTITION_BAR
    draw(first, Path(args.png))
    print(f"\nlatent spaces of seed {seeds[0]}: {args.png}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
