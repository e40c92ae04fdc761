"""Train a shipped feature network (:mod:`.features`) and write its safetensors file.

``python -m playground.core.metrics.train_features digits --out
playground/core/metrics/weights/digits_classifier.safetensors`` (and ``shapes``); seeded and
single-threaded, so the same command writes the same weights on the same build of torch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data.images import Digits, Shapes
from .features import FEATURE_NETS, ImageClassifier

__all__ = ["train_digits", "train_shapes", "accuracy", "main"]


def _shift(x: Tensor, g: torch.Generator, pixels: int = 1) -> Tensor:
    """Each image translated by up to ``pixels`` in x and y (zero padding): augmentation."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4)
    dx = torch.randint(0, 2 * pixels + 1, (n,), generator=g)
    dy = torch.randint(0, 2 * pixels + 1, (n,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None].expand(
        n, 1, h, w + 2 * pixels
    )
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :].expand(n, 1, h, w)
    return out.gather(3, cols)


@torch.no_grad()
def accuracy(net: ImageClassifier, images: Tensor, labels: Tensor) -> float:
    """The fraction of ``images`` ``(n, 1, s, s)`` whose arg-max class is ``labels`` ``(n,)``."""
    return float((net.eval()(images).argmax(1) == labels).double().mean())


def train_digits(steps: int = 3000, seed: int = 0) -> tuple[ImageClassifier, float]:
    """The digits classifier trained on the training split (1,438 images, shifted by up to
    one pixel), Adam, batch 64; returns it and its test-split accuracy."""
    data = Digits()
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    _, size, classes, aux = FEATURE_NETS["digits"]
    net = ImageClassifier(size, classes, aux)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    for _ in range(steps):
        x, y = data.sample_with_labels(64, g)
        loss = F.cross_entropy(net(_shift(x, g)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, accuracy(net, data.test_images, data.test_labels)


def _aux_targets(factors: Tensor) -> Tensor:
    """Scale, x and y of :class:`Shapes` factors, each mapped from its range to ``[-1, 1]``."""
    scale = (factors[:, 1] - 0.75) / 0.25
    xy = (factors[:, 3:5] - 0.5) / 0.2
    return torch.cat([scale[:, None], xy], dim=1)


def train_shapes(steps: int = 800, seed: int = 0) -> tuple[ImageClassifier, float]:
    """The shapes classifier (16 x 16): the shape class by cross-entropy plus scale, x and
    y by squared error from the same features, on fresh batches of 64 drawn from ``seed``
    (never the test seed); returns it and its accuracy on the 1,000 test images."""
    data = Shapes(size=16)
    g = torch.Generator().manual_seed(seed + 1_000_000)
    torch.manual_seed(seed)
    _, size, classes, aux = FEATURE_NETS["shapes"]
    net = ImageClassifier(size, classes, aux)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(steps):
        x, y, factors = data.sample_with_factors(64, g)
        f = net.features(x)
        loss = F.cross_entropy(net.head(f), y) + F.mse_loss(net.aux(f), _aux_targets(factors))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, accuracy(net, data.test_images, data.test_labels)


def main(argv: list[str] | None = None) -> int:
    """The command line: train one network, save it, print one JSON line."""
    p = argparse.ArgumentParser(prog="python -m playground.core.metrics.train_features")
    p.add_argument("dataset", choices=sorted(FEATURE_NETS))
    p.add_argument("--out", type=Path, required=True, help="the .safetensors file to write")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps (default per set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    from safetensors.torch import save_file

    train = train_digits if args.dataset == "digits" else train_shapes
    t0 = time.perf_counter()
    kwargs = {"seed": args.seed} | ({"steps": args.steps} if args.steps else {})
    net, acc = train(**kwargs)
    seconds = time.perf_counter() - t0
    state = {k: v.detach().float().contiguous() for k, v in net.state_dict().items()}
    meta = {
        "dataset": args.dataset,
        "test_accuracy": f"{acc:.4f}",
        "seed": str(args.seed),
        "command": " ".join([p.prog, *(sys.argv[1:] if argv is None else argv)]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out), metadata=meta)
    print(
        json.dumps(
            {
                "dataset": args.dataset,
                "test_accuracy": round(acc, 4),
                "seconds": round(seconds, 1),
                "bytes": args.out.stat().st_size,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
