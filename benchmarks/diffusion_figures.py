"""DDPM figures: MMD to the data beside the data's own noise floor, and guidance accuracy.

Usage: ``python benchmarks/diffusion_figures.py [--steps 4000] [--guided-steps 2000]``.
Through the Session (what ``python -m playground train ddpm ...`` runs), seed 0:

- ``ddpm`` on ``moons`` and ``8gaussians`` with the defaults: ``mmd`` (2,000 samples vs
  2,000 data points, unbiased, median bandwidth) and ``mmd_data`` (two data samples);
- guided ``ddpm`` on ``8gaussians`` (each mode a class) with classifier-free guidance and
  with classifier guidance at scale 1: ``guidance_accuracy``, the fraction of samples
  guided to class c whose nearest mode is c (target >= 0.90).

Exits 1 when a guidance accuracy is below 0.90.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from playground.core.training import Session


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--guided-steps", type=int, default=2000)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    for dataset in ("moons", "8gaussians"):
        s = Session("ddpm", dataset, seed=0, device="cpu")
        t0 = time.perf_counter()
        s.run(args.steps)
        seconds = time.perf_counter() - t0
        m = s.evaluate(record=False)
        print(
            f"ddpm {dataset}, {args.steps} steps in {seconds:.0f} s: mmd {m['mmd']:.5f}, "
            f"mmd_data {m['mmd_data']:.5f}",
            flush=True,
        )
    ok = True
    for guidance in ("classifier-free", "classifier"):
        s = Session("ddpm", "8gaussians", {"guidance": guidance}, seed=0, device="cpu")
        t0 = time.perf_counter()
        s.run(args.guided_steps)
        seconds = time.perf_counter() - t0
        m = s.evaluate(record=False)
        ok &= m["guidance_accuracy"] >= 0.90
        print(
            f"ddpm 8gaussians guidance={guidance} scale 1, {args.guided_steps} steps in "
            f"{seconds:.0f} s: guidance_accuracy {m['guidance_accuracy']:.3f}, "
            f"mmd {m['mmd']:.5f}",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
