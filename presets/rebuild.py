"""Rebuild the shipped presets from their training commands, or check that doing so
reproduces them.

    python presets/rebuild.py                      # rebuild every preset into presets/
    python presets/rebuild.py --only ddpm-moons    # only these
    python presets/rebuild.py --check --only realnvp-moons planar-U1

Every preset is one `python -m playground train ... --out presets/NAME` command (seeded,
on the CPU), printed before it runs; the presets that would pass 1 MB with their optimizer
state leave it out (`--no-optimizer`; `fit` checks the size). `--check` rebuilds into a
temporary folder instead and compares the metrics on the command's JSON line with the
held-out values stored in the shipped preset's history.json: each must agree within 5%
relative, or within an absolute floor for values near 0 (see `FLOORS`); a miss exits
with status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# the held-out names the session records for metrics that share a name with a loss term
from playground.core.training.evaluation import history_values

__all__ = ["PRESETS", "Preset", "command", "stored_metrics", "flatten", "compare", "main"]

ROOT = Path(__file__).resolve().parent.parent
PRESET_DIR = ROOT / "presets"
NOTES_DIR = PRESET_DIR / "notes"

#: a shipped preset's size limit; above it the optional optimizer state is left out
MAX_BYTES = 2**20
#: relative tolerance of a reproduced metric
RELATIVE = 0.05
#: absolute floors for values near 0, where 5% of the value is below the estimate's own
#: noise: 0.01 for nats, counts and fractions (the Monte-Carlo standard error of a held-out
#: NLL from 10,000 samples is about 0.01 nats), 0.001 for MMD^2 (the shipped values are
#: 1e-4 to 4e-3, and mmd_data, the same estimate between two data samples, is -3e-4 to 6e-4:
#: its own noise)
FLOORS = {"mmd": 1e-3, "mmd_data": 1e-3}
DEFAULT_FLOOR = 0.01
#: keys of the train JSON line that are not metrics
NOT_METRICS = {
    "model", "dataset", "steps", "seed", "device", "objective", "seconds", "steps_per_s",
    "hyperparameters",
}  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """One shipped preset: its folder name, `train` arguments, and gallery text."""

    name: str
    args: str  # MODEL DATASET --steps N [--set k=v ...]; seed and device are added
    title: str
    description: str
    view: str  # the view its preview.png shows and the app opens on
    seed: int = 0


PRESETS: tuple[Preset, ...] = (
    # flows
    Preset(
        "realnvp-moons",
        "realnvp moons --steps 3000",
        "RealNVP on two moons",
        "Affine coupling layers fit two moons by maximum likelihood.",
        "trajectory",
    ),
    Preset(
        "planar-U1",
        "planar U1 --steps 2000",
        "Planar flow on U1",
        "Sixteen tanh ridges bend a Gaussian into the ring U1 by reverse KL.",
        "density",
    ),
    Preset(
        "planar-U2",
        "planar U2 --steps 2000",
        "Planar flow on U2",
        "A planar flow fits the sine-wave energy U2 by reverse KL.",
        "density",
    ),
    Preset(
        "planar-U3",
        "planar U3 --steps 2000",
        "Planar flow on U3",
        "A planar flow fits the forked energy U3 by reverse KL.",
        "density",
    ),
    Preset(
        "planar-U4",
        "planar U4 --steps 2000",
        "Planar flow on U4",
        "A planar flow fits the step energy U4 by reverse KL.",
        "density",
    ),
    Preset(
        "realnvp-gmm82-forward-kl",
        "realnvp gmm82 --steps 2000 --set objective=forward_kl",
        "Forward KL: mass-covering",
        "RealNVP by maximum likelihood covers both modes of the 0.8 / 0.2 mixture.",
        "density",
    ),
    Preset(
        "realnvp-gmm82-reverse-kl",
        "realnvp gmm82 --steps 2000 --set objective=reverse_kl",
        "Reverse KL: mode-seeking",
        "The same RealNVP fit by reverse KL locks onto one mode and ignores the other.",
        "density",
    ),
    Preset(
        "maf-8gaussians",
        "maf 8gaussians --steps 3000 --no-optimizer",
        "MAF on eight Gaussians",
        "A masked autoregressive flow (fast density) fit by maximum likelihood.",
        "density",
    ),
    Preset(
        "iaf-8gaussians",
        "iaf 8gaussians --steps 3000",
        "IAF on eight Gaussians",
        "An inverse autoregressive flow (fast sampling) fit by reverse KL.",
        "density",
    ),
    # GANs
    Preset(
        "gan-ring8",
        "gan ring8 --steps 2000 --set depth=5 --set lr_generator=3e-5 --set lr_critic=1e-3"
        " --set lr_decay_steps=2000 --no-optimizer",
        "GAN mode collapse on ring8",
        "A slow generator against a deep, fast critic collapses onto one of eight modes.",
        "modes",
    ),
    Preset(
        "gan-ring8-pack4",
        "gan ring8 --steps 10000 --set pack=4 --set latent_dim=8 --set lr_generator=5e-4"
        " --set lr_critic=2e-3 --set batch_size=512 --set lr_decay_steps=10000 --no-optimizer",
        "PacGAN: the remedy",
        "PacGAN's critic judges four samples at once: all eight modes, sharply.",
        "modes",
    ),
    Preset(
        "wgan-gp-grid25",
        "wgan-gp grid25 --steps 3000 --set lr_generator=5e-4 --set lr_critic=5e-4 --no-optimizer",
        "WGAN-GP on the 5 x 5 grid",
        "A Wasserstein critic with a gradient penalty spreads samples over the grid.",
        "critic",
    ),
    # latent models
    Preset(
        "vae-gaussian2d-axis",
        "vae gaussian2d-axis --steps 3000",
        "Posterior collapse",
        "On an axis-aligned Gaussian the decoder needs no latent: q(z|x) collapses to p(z).",
        "latent_space",
    ),
    Preset(
        "vae-gaussian2d-rotated",
        "vae gaussian2d-rotated --steps 3000",
        "No collapse when rotated",
        "Rotate the Gaussian by 45 degrees and the latent carries its correlation.",
        "latent_space",
    ),
    Preset(
        "vae-digits",
        "vae digits --steps 3000",
        "VAE on digits",
        "A 2D-latent VAE on 8 x 8 digits: sweep each latent and watch the digit morph.",
        "traversal",
    ),
    Preset(
        "vae-shapes-beta4",
        "vae shapes --steps 6000 --set beta=4 --set hidden=32 --no-optimizer",
        "beta-VAE on shapes",
        "beta = 4 pushes latents toward the true factors: position, scale, shape.",
        "traversal",
    ),
    # score and diffusion
    Preset(
        "ebm-8gaussians",
        "ebm 8gaussians --steps 1500 --set sampler=mala",
        "Langevin on eight Gaussians",
        "Langevin chains on the exact 8gaussians density, beside an EBM's own energy.",
        "chains",
    ),
    Preset(
        "ncsn-gmm82",
        "ncsn gmm82 --steps 6000 --set lr_decay_steps=6000 --set batch_size=512 --no-optimizer",
        "Plain vs annealed Langevin",
        "On the 0.8 / 0.2 mixture only annealed Langevin recovers the weights.",
        "chains",
    ),
    Preset(
        "ddpm-moons",
        "ddpm moons --steps 4000 --no-optimizer",
        "DDPM on two moons",
        "Denoising diffusion: scrub particles from noise to two moons and back.",
        "diffusion",
    ),
)


def command(preset: Preset, out: Path, gallery: bool = True) -> list[str]:
    """The `train` command that rebuilds ``preset`` into ``out``.

    Arguments:
        gallery: also pass the title, description, notes and view (the preview).
    """
    cmd = [sys.executable, "-m", "playground", "train", *shlex.split(preset.args)]
    cmd += ["--seed", str(preset.seed), "--device", "cpu", "--out", str(out)]
    if gallery:
        cmd += ["--title", preset.title, "--description", preset.description]
        cmd += ["--notes", str(NOTES_DIR / f"{preset.name}.md"), "--view", preset.view]
    return cmd


def shown(cmd: list[str]) -> str:
    """``cmd`` as one would type it in the repository root."""
    words = ["python", *cmd[1:]]
    return shlex.join(_relative(w) for w in words)


def _relative(word: str) -> str:
    try:
        return str(Path(word).relative_to(ROOT)) if word.startswith(str(ROOT)) else word
    except ValueError:
        return word


def flatten(metrics: dict) -> dict[str, float]:
    """Metrics under the names the session records them in its history (see
    :func:`~playground.core.training.evaluation.history_values`), less ``NOT_METRICS``."""
    return history_values({k: v for k, v in metrics.items() if k not in NOT_METRICS})


def stored_metrics(folder: Path) -> dict[str, float]:
    """The held-out values of a preset: the last point of every curve of its history.json
    that was recorded only at its final evaluation (loss terms start at step 1)."""
    steps = json.loads((folder / "config.json").read_text())["steps"]
    history = json.loads((folder / "history.json").read_text())
    return {
        name: float(points[-1][1])
        for name, points in history.items()
        if points and points[0][0] == steps and points[-1][1] is not None
    }


def compare(
    new: dict[str, float], stored: dict[str, float]
) -> list[tuple[str, float, float, bool]]:
    """``(name, stored, new, ok)`` for every stored metric: ok when within ``RELATIVE``
    of the stored value or within its absolute floor; a metric missing from ``new`` fails."""
    rows = []
    for name, old in stored.items():
        value = new.get(name, math.nan)
        floor = FLOORS.get(name, DEFAULT_FLOOR)
        ok = abs(value - old) <= max(RELATIVE * abs(old), floor)
        rows.append((name, old, value, ok))
    return rows


def print_rows(preset: str, rows: list[tuple[str, float, float, bool]]) -> None:
    for name, old, new, ok in rows:
        print(f"{preset:<30} {name:<22} {old:>12.5g} {new:>12.5g}  {'ok' if ok else 'MISS'}")


def size(folder: Path) -> int:
    """Bytes of the files in ``folder``."""
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())


def fit(folder: Path) -> None:
    """Say so when a shipped preset is over ``MAX_BYTES`` (its command should then pass
    ``--no-optimizer``: Adam's two moments are twice the weights)."""
    if size(folder) > MAX_BYTES:
        print(f"  {folder.name}: still {size(folder) // 1024} KB (limit {MAX_BYTES // 1024} KB)")


def _run(cmd: list[str]) -> dict | None:
    """Run ``cmd``; its JSON line, or None (with the reason printed) if it printed none.

    A command that printed its JSON line (the preset is saved before it) and then exited
    with an error is reported, and its result kept."""
    print(shown(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        print(f"  failed with exit status {done.returncode}", flush=True)
        return None
    if done.returncode != 0:
        print(f"  warning: exit status {done.returncode} after its metrics", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", nargs="+", metavar="NAME", help="these presets only")
    p.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temporary folder and compare the metrics with the shipped preset's",
    )
    args = p.parse_args(argv)
    names = [pr.name for pr in PRESETS]
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        p.error(f"unknown preset(s) {', '.join(unknown)}; known: {', '.join(names)}")
    chosen = [pr for pr in PRESETS if not args.only or pr.name in args.only]
    failed = []
    if not args.check:
        for pr in chosen:
            t0 = time.perf_counter()
            result = _run(command(pr, PRESET_DIR / pr.name))
            if result is None:
                failed.append(pr.name)
                continue
            fit(PRESET_DIR / pr.name)
            kb = size(PRESET_DIR / pr.name) // 1024
            seconds = time.perf_counter() - t0
            print(f"  {pr.name}: {seconds:.1f} s, training {result['seconds']:.1f} s, {kb} KB")
        if failed:
            print(f"failed: {', '.join(failed)}")
        return 1 if failed else 0
    misses = 0
    rows_by_preset = []
    with tempfile.TemporaryDirectory() as tmp:
        for pr in chosen:
            result = _run(command(pr, Path(tmp) / pr.name))
            if result is None:
                failed.append(pr.name)
                continue
            print(f"  {pr.name}: training {result['seconds']:.1f} s", flush=True)
            rows = compare(flatten(result), stored_metrics(PRESET_DIR / pr.name))
            rows_by_preset.append((pr.name, rows))
            misses += sum(not ok for *_, ok in rows)
    print(f"\n{'preset':<30} {'metric':<22} {'stored':>12} {'rebuilt':>12}")
    for name, rows in rows_by_preset:
        print_rows(name, rows)
    floors = ", ".join(f"{k} {v}" for k, v in FLOORS.items())
    print(
        f"\n{misses} miss(es); {RELATIVE:.0%} relative, absolute floor {DEFAULT_FLOOR} ({floors})"
    )
    if failed:
        print(f"failed to rebuild: {', '.join(failed)}")
    return 1 if misses or failed else 0


if __name__ == "__main__":
    sys.exit(main())
