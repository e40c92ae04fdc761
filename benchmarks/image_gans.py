"""GANs on the digits: class coverage of the samples, and InfoGAN's code picking out classes.

Usage::

    python benchmarks/image_gans.py [--model gan] [--steps 4000] [--seed 0] [--set k=v ...]
    python benchmarks/image_gans.py --model infogan --steps 8000 --set continuous_codes=0

Trains through the Session (what ``python -m playground train MODEL digits`` runs) and
prints, every 1,000 steps, the image metrics of ``Session.evaluate``: a logistic
regression fitted on the training digits judges 2,000 samples (``classes_captured``,
``class_kl``) and, for InfoGAN, 200 samples per categorical value (``category_purity``,
``categories_distinct``). With ``--png PATH`` the final sample grid is written as a PNG.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from playground.core.training import Session


def save_grid(session: Session, path: str, scale: int = 6) -> None:
    """The sample grid view's picture (rows of the fixed latent batch) as a PNG."""
    import imageio.v3 as iio

    images = session.snapshot(["grid"]).grid.images  # (rows, cols, h, w)
    rows = [np.concatenate(list(row), axis=1) for row in images]
    grid = np.kron(np.concatenate(rows, axis=0), np.ones((scale, scale)))
    iio.imwrite(path, (grid * 255).astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gan")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    parser.add_argument("--png", default="")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    values = dict(a.split("=", 1) for a in args.set)  # the Session parses and checks them
    session = Session(args.model, args.dataset, values, seed=args.seed, device="cpu")
    t0 = time.perf_counter()
    for _ in range(args.steps // 1000):
        session.run(1000)
        m = session.evaluate(record=False)
        line = (
            f"step {session.step_count:>6} {time.perf_counter() - t0:6.0f} s  "
            f"classes_captured {m['classes_captured']:>2}  class_kl {m['class_kl']:.3f}"
        )
        if "category_purity" in m:
            line += (
                f"  category_purity {m['category_purity']:.3f}"
                f"  categories_distinct {m['categories_distinct']}"
            )
        print(line, flush=True)
    print(f"judge: logistic regression, test accuracy {m['classifier_accuracy']:.3f}")
    if args.png:
        save_grid(session, args.png)
        print(f"sample grid written to {args.png}")


if __name__ == "__main__":
    main()
