"""Reference figures of the image-quality metrics on digits: fid, precision, recall and
classifier_score of a few models after short training, and of the training images
themselves (the floor a perfect model would be at).

Usage: ``python benchmarks/image_quality.py [--seeds 0-2] [--models gan,vae,ddpm,pixelcnn]``.

Each model row trains what ``python -m playground train MODEL digits --steps N --seed S
--threads 1 [--set ...]`` trains (the recipes in :data:`RECIPES`) and reports what that
command prints (``session.evaluate()``): 1,000 samples against the 359 test digits in the
feature space of the shipped digits classifier (precision and recall on 359 of each). The
``data`` row is the same computation with 1,000 training digits (drawn without
replacement from the seed) in place of the samples; ``fid_train_all`` is the FID of all
1,438 training digits to the test digits.

One markdown row per seed and model, then the worst and the best seed; single-threaded;
CPU seconds (``time.process_time``). Exits 1 if a bar is missed: every model's worst
``fid`` below :data:`FID_BAR` and the data's floor below :data:`FLOOR_BAR`.
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
from playground.core.data import make_dataset  # noqa: E402
from playground.core.metrics.features import feature_net_for, features_and_probs  # noqa: E402
from playground.core.metrics.frechet import frechet_distance  # noqa: E402
from playground.core.metrics.image_quality import image_quality_metrics  # noqa: E402
from playground.core.training import Session  # noqa: E402

#: model -> (steps, --set values)
RECIPES: dict[str, tuple[int, dict[str, Any]]] = {
    "gan": (2000, {}),
    "vae": (2000, {}),
    "ddpm": (2000, {}),
    "pixelcnn": (1500, {"dropout": 0.3, "lr_decay_steps": 1500}),
}
#: the bar every model's worst fid must be under (an untrained gan is at about 1,150)
FID_BAR = 300.0
#: the bar of the training digits' own fid to the test digits
FLOOR_BAR = 30.0
KEYS = ["model", "seed", "steps", "fid", "precision", "recall", "classifier_score", "cpu_s"]


class _Replay:
    """A "model" whose samples are training digits, drawn without replacement."""

    capabilities = frozenset({"samples"})

    def __init__(self, images: torch.Tensor):
        self.images = images

    def sample(self, n: int, rng: torch.Generator) -> torch.Tensor:
        return self.images[torch.randperm(len(self.images), generator=rng)[:n]]


def floor(seed: int) -> dict[str, Any]:
    """The data row: training digits in place of samples."""
    data = make_dataset("digits")
    t0 = time.process_time()
    m = image_quality_metrics(_Replay(data.train_images), data, seed)
    net = feature_net_for(data)
    train = features_and_probs(net, data.train_images)[0]
    test = features_and_probs(net, data.test_images)[0]
    row = {"model": "data", "seed": seed, "steps": 0, **m}
    row["fid_train_all"] = frechet_distance(train, test)
    row["cpu_s"] = time.process_time() - t0
    return row


def model_row(name: str, seed: int) -> dict[str, Any]:
    """One model's row: train, then ``session.evaluate()``."""
    steps, values = RECIPES[name]
    session = Session(name, "digits", values, seed=seed)
    t0 = time.process_time()
    session.run(steps)
    m = session.evaluate(record=False)
    return {"model": name, "seed": seed, "steps": steps, **m, "cpu_s": time.process_time() - t0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--models", default=",".join(RECIPES))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds, models = parse_seeds(args.seeds), [m for m in args.models.split(",") if m]
    rows = []
    for seed in seeds:
        rows.append(floor(seed))
        for name in models:
            rows.append(model_row(name, seed))
            print(markdown_table(rows[-1:], KEYS).splitlines()[-1], file=sys.stderr, flush=True)
    print(markdown_table(rows, KEYS))
    floor_all = rows[0]["fid_train_all"]
    print(f"\nfid of all 1,438 training digits to the 359 test digits: {floor_all:.2f}")
    print("\n| model | worst fid | best fid | mean precision | mean recall | mean score |")
    print("|---|---|---|---|---|---|")
    ok = True
    for name in ["data", *models]:
        mine = [r for r in rows if r["model"] == name]
        worst = max(mine, key=lambda r: r["fid"])
        best = min(mine, key=lambda r: r["fid"])
        mean = {k: sum(r[k] for r in mine) / len(mine) for k in KEYS[4:7]}
        print(
            f"| {name} | {worst['fid']:.1f} (seed {worst['seed']}) | {best['fid']:.1f} "
            f"(seed {best['seed']}) | {mean['precision']:.3f} | {mean['recall']:.3f} "
            f"| {mean['classifier_score']:.2f} |"
        )
        ok &= worst["fid"] < (FLOOR_BAR if name == "data" else FID_BAR)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
