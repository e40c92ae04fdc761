"""The VQ-VAE's second stage on digits: samples decoded from code maps of a PixelCNN prior
against those of the uniform prior the VQ-VAE is trained with (van den Oord et al. 2017,
sections 3.3 and 4.1); and the test bits/dim of a VAE with a discretised decoder.

Usage: ``python benchmarks/vqvae_prior.py [--only prior,bits] [--seeds 0-2] [--steps 3000]
[--threads 1]``.

``prior``: each row is what ``python -m playground train vq-vae digits --steps 3000 --seed S --set
prior=P`` trains (``P`` uniform or pixelcnn, the defaults otherwise: the prior fits the
batch's code maps from ``prior_start`` = 1000 on), judged by ``image_metrics``
(``core/metrics/density.py``: a logistic regression of the digits' classes, its test
accuracy beside it) on 2,000 samples: ``classes_captured`` (classes with at least a tenth of
their even share) and ``class_kl`` (nats from the even class histogram). Also the judge's
mean confidence (its largest class probability, averaged over the samples: how much the
samples look like some digit), the test set's ``kl`` (``-log p(k(x))`` of the test code
maps under the prior, nats; ``8 log 32 = 27.73`` uniform) and the CPU seconds of training
(``time.process_time``, single-threaded). Seed 0's first 64 samples of each prior are
saved as ``benchmarks/vqvae_prior_uniform.png`` and ``benchmarks/vqvae_prior_pixelcnn.png``.

``bits``: what ``python -m playground train iwae digits --steps 1000 --seed S --set
decoder=discretized_logistic --set latent_dim=32 --set hidden=512 --set lr_decay_steps=1000``
prints as ``bits_per_dim``: the IWAE bound with K = 100 on the 359 test images of 17-level
digits, in bits per pixel (uniform coding: log2 17 = 4.09), with ``iwae_nll`` (nats) and
the CPU seconds of training.

Exits 1 if a bar is missed: at every seed the PixelCNN prior's samples capture all 10
classes with ``class_kl <= 0.05``, a judge confidence at least 0.05 above the uniform
prior's, and a test ``kl`` below the uniform prior's (a uniform prior's garbled samples are
spread over the classes too, so ``class_kl`` alone does not tell the two apart); the VAE's
test bits/dim is below 2.0 at every seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import markdown_table as _table  # noqa: E402
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.metrics.density import (  # noqa: E402
    IMAGE_EVAL_SAMPLES,
    image_classifier,
    image_metrics,
)
from playground.core.training import Session  # noqa: E402

HERE = Path(__file__).resolve().parent
PRIORS = ("uniform", "pixelcnn")
#: samples in the saved grid (8 x 8), each enlarged this many times
GRID, ZOOM = 8, 3
#: the discretised-decoder recipe of ``bits``: model, hyperparameters, steps
BITS_RECIPE = (
    "iwae",
    {"decoder": "discretized_logistic", "latent_dim": 32, "hidden": 512, "lr_decay_steps": 1000},
    1000,
)
#: the bar of ``bits``: test bits/dim at every seed
BITS_BAR = 2.0
#: the bars of ``prior``: the PixelCNN prior's class_kl (nats), and its judge confidence
#: above the uniform prior's
CLASS_KL_BAR, CONFIDENCE_MARGIN = 0.05, 0.05


def confidence(session: Session) -> float:
    """The judge's mean largest class probability over the samples ``image_metrics`` draws
    (the same generator seed)."""
    clf, _ = image_classifier(session.data)
    g = torch.Generator().manual_seed(40_000 + session.seed)
    with torch.no_grad():
        x = session.model.sample(IMAGE_EVAL_SAMPLES, g)
    p = clf.predict_proba(x.reshape(len(x), -1).numpy())
    return float(p.max(1).mean())


def save_grid(session: Session, path: Path) -> None:
    """The first 64 samples (the generator of ``image_metrics``) as a PNG grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = torch.Generator().manual_seed(40_000 + session.seed)
    with torch.no_grad():
        x = session.model.sample(GRID * GRID, g)[:, 0].numpy()
    h, w = x.shape[1:]
    tiles = np.pad(
        x.reshape(GRID, GRID, h, w), ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=0.35
    )
    grid = tiles.transpose(0, 2, 1, 3).reshape(GRID * (h + 1), GRID * (w + 1))
    plt.imsave(path, np.kron(grid, np.ones((ZOOM, ZOOM))), cmap="gray", vmin=0.0, vmax=1.0)


def run(prior: str, seed: int, steps: int, grid: Path | None) -> dict[str, Any]:
    """One trained VQ-VAE and its row."""
    session = Session("vq-vae", "digits", {"prior": prior}, seed=seed, device="cpu")
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    m = image_metrics(session.model, session.data, seed)
    held_out = session.evaluate()
    if grid is not None:
        save_grid(session, grid)
    return {
        "prior": prior,
        "seed": seed,
        "classes_captured": m["classes_captured"],
        "class_kl": m["class_kl"],
        "confidence": confidence(session),
        "test_kl": held_out["kl"],
        "perplexity": held_out["perplexity"],
        "judge_accuracy": m["classifier_accuracy"],
        "cpu_s": cpu,
    }


def bits(seed: int) -> dict[str, Any]:
    """The held-out bits/dim of :data:`BITS_RECIPE` at ``seed``."""
    model, values, steps = BITS_RECIPE
    session = Session(model, "digits", values, seed=seed, device="cpu")
    t0 = time.process_time()
    session.run(steps)
    cpu = time.process_time() - t0
    m = session.evaluate()
    return {
        "seed": seed,
        "bits_per_dim": m["bits_per_dim"],
        "iwae_nll": m["iwae_nll"],
        "elbo": m["elbo"],
        "cpu_s": cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="prior,bits")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds, only = parse_seeds(args.seeds), args.only.split(",")
    ok = True
    if "prior" in only:
        ok &= priors(seeds, args.steps)
    if "bits" in only:
        rows = [bits(seed) for seed in seeds]
        print("\n## digits (17 levels): test bits/dim of the discretised decoder\n")
        print(_table(rows))
        worst = max(rows, key=lambda r: r["bits_per_dim"])
        best = min(rows, key=lambda r: r["bits_per_dim"])
        print(f"\nworst {worst['bits_per_dim']:.3f} (seed {worst['seed']}), best "
              f"{best['bits_per_dim']:.3f} (seed {best['seed']})")  # fmt: skip
        ok &= worst["bits_per_dim"] < BITS_BAR
    return 0 if ok else 1


def priors(seeds: tuple[int, ...], steps: int) -> bool:
    """The tables of ``prior``; whether every bar is met."""
    ok, every = True, []
    for seed in seeds:
        rows = []
        for prior in PRIORS:
            grid = HERE / f"vqvae_prior_{prior}.png" if seed == 0 else None
            rows.append(run(prior, seed, steps, grid))
        print(f"\n## seed {seed}, {steps} steps\n")
        print(_table(rows), flush=True)
        uniform, pixelcnn = rows
        ok &= pixelcnn["classes_captured"] == 10 and pixelcnn["class_kl"] <= CLASS_KL_BAR
        ok &= pixelcnn["confidence"] >= uniform["confidence"] + CONFIDENCE_MARGIN
        ok &= pixelcnn["test_kl"] < uniform["test_kl"]
        every.extend(rows)
    print("\n| prior | worst class_kl | best class_kl | worst confidence | best confidence |")
    print("|---|---|---|---|---|")
    for prior in PRIORS:
        mine = [r for r in every if r["prior"] == prior]
        kl = sorted(mine, key=lambda r: r["class_kl"])
        conf = sorted(mine, key=lambda r: r["confidence"])
        print(
            f"| {prior} | {kl[-1]['class_kl']:.4f} (seed {kl[-1]['seed']}) "
            f"| {kl[0]['class_kl']:.4f} (seed {kl[0]['seed']}) "
            f"| {conf[0]['confidence']:.3f} (seed {conf[0]['seed']}) "
            f"| {conf[-1]['confidence']:.3f} (seed {conf[-1]['seed']}) |"
        )
    return ok


if __name__ == "__main__":
    sys.exit(main())
