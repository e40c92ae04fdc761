"""DDIM with 10 steps against ancestral DDPM sampling with all T steps, on moons, per seed.

Usage: ``python benchmarks/ddim_vs_ddpm.py [--seeds 0-4] [--steps 4000] [--threads 1]
[--presets]``.
Each seed trains what ``python -m playground train ddpm moons --steps N --seed S`` trains
(the default DDPM: T = 100, linear betas), then samples 2,000 points with each sampler of
:data:`SAMPLERS` from the same trained weights and prints one markdown row: ``mmd`` (MMD^2
of the samples against 2,000 fresh data points) per sampler beside ``mmd_data`` (the same
between two further data samples: the noise floor), the sampling seconds of each, and the
training's wall and process CPU seconds; then the worst and the best seed (by DDIM-10's
mmd). The samplers are chosen as ``train`` would with ``--set sampler=ddim --set
sampling_steps=10``. Exits 1 if, at any seed, deterministic DDIM (``eta = 0``) with 10
steps is not closer to the data than ``eta = 1`` with the same 10 steps (Song, Meng and
Ermon 2021, table 1: at 10 steps ``eta = 0`` is far better).

``--presets`` instead samples the shipped ``ddpm-moons`` and ``ncsn-gmm82`` presets (no
training) with every sampler of :data:`PRESET_SAMPLERS`, one row each: mmd, mmd_data, the
mode weights (gmm82: 0.8 / 0.2) and the sampling seconds; and for the NCSN the reverse SDE
started from the true ``p_1`` (data plus ``sigma_max`` noise) instead of the prior
``N(0, sigma_max^2 I)``, which isolates the prior's mismatch from the score's error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.seeds import parse_seeds  # noqa: E402
from playground.core.metrics.samples import SAMPLE_METRIC_N, sample_metrics
from playground.core.presets import load_preset
from playground.core.sampling.sde import reverse_sde_sample
from playground.core.training import Session

__all__ = ["SAMPLERS", "PRESET_SAMPLERS", "run_seed", "run_presets"]

#: training steps of the default run (the DDPM's lr decay is tuned for 4,000)
STEPS = 4000
#: name -> the live hyperparameters of that sampler
SAMPLERS: dict[str, dict[str, Any]] = {
    "ancestral (T = 100)": {"sampler": "ancestral"},
    "ddim 10, eta 0": {"sampler": "ddim", "sampling_steps": 10, "eta": 0.0},
    "ddim 10, eta 1": {"sampler": "ddim", "sampling_steps": 10, "eta": 1.0},
    # RK4 on the probability-flow ODE: 10 steps (9 solver steps and the denoising), 37
    # network evaluations
    "ode 10": {"sampler": "probability-flow", "sampling_steps": 10},
}


def run_seed(seed: int, steps: int) -> dict[str, Any]:
    """Train at ``seed``; each sampler's mmd and sampling seconds, mmd_data, and the
    training's wall and CPU seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    session = Session("ddpm", "moons", {}, seed=seed, device="cpu")
    session.run(steps)
    out: dict[str, Any] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    for name, values in SAMPLERS.items():
        session.set_hyperparameters(values)
        t = time.perf_counter()
        x = session.model.sample(SAMPLE_METRIC_N, torch.Generator().manual_seed(1000 + seed))
        seconds = time.perf_counter() - t
        m = sample_metrics(x, session.data, generator_seed=2000 + seed)  # same data draws
        out[name] = (m["mmd"], seconds)
        out["mmd_data"] = m["mmd_data"]
    return out


#: preset -> the samplers it is sampled with (live values; the first is its own default)
PRESET_SAMPLERS: dict[str, list[dict[str, Any]]] = {
    "ddpm-moons": [
        {"sampler": "ancestral"},
        {"sampler": "ddim", "sampling_steps": 10, "eta": 0.0},
        {"sampler": "ddim", "sampling_steps": 10, "eta": 1.0},
        {"sampler": "ddim", "sampling_steps": 100, "eta": 0.0},
        {"sampler": "reverse-sde", "sampling_steps": 100},
        {"sampler": "probability-flow", "sampling_steps": 10},
        {"sampler": "probability-flow", "sampling_steps": 100},
    ],
    "ncsn-gmm82": [
        {"sampler": "annealed"},
        {"sampler": "reverse-sde", "sampling_steps": 500},
        {"sampler": "probability-flow", "sampling_steps": 50},
    ],
}


def _row(name: str, what: str, x: torch.Tensor, data: Any, seconds: float) -> None:
    m = sample_metrics(x, data, generator_seed=123)
    weights = " / ".join(f"{w:.3f}" for w in m.get("mode_weights", [])) or "-"
    print(
        f"| {name} | {what} | {m['mmd']:.2e} | {m['mmd_data']:.1e} | {weights} | {seconds:.1f} |",
        flush=True,
    )


@torch.no_grad()
def run_presets() -> None:
    """Print one markdown row per shipped preset and sampler of :data:`PRESET_SAMPLERS`,
    then the NCSN's reverse SDE from the true ``p_1``."""
    root = Path(__file__).resolve().parents[1] / "presets"
    print("| preset | sampler | mmd | mmd_data | mode weights | sampling s |")
    print("|---|---|---:|---:|---|---:|")
    for name, choices in PRESET_SAMPLERS.items():
        session = load_preset(root / name, device="cpu")
        for values in choices:
            session.set_hyperparameters(values)
            t = time.perf_counter()
            x = session.model.sample(SAMPLE_METRIC_N, torch.Generator().manual_seed(0))
            what = ", ".join(f"{k} {v}" for k, v in values.items())
            _row(name, what, x, session.data, time.perf_counter() - t)
    model, g = session.model, torch.Generator().manual_seed(0)  # the NCSN
    sde = model.sde()
    x1 = session.data.sample(SAMPLE_METRIC_N, g)
    x1 = x1 + sde.sigma_max * torch.randn(x1.shape, generator=g)
    t = time.perf_counter()
    x = reverse_sde_sample(sde, model.sde_score, x1, 500, g)[-1]
    what = "reverse-sde, sampling_steps 500, from data + sigma_max noise"
    _row("ncsn-gmm82", what, x, session.data, time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-4", help="seeds such as 0-4 or 1,3")
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps per seed")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default: %(default)s, as the app and `train`; 0: torch's own)",
    )
    parser.add_argument("--presets", action="store_true", help="sample the shipped presets")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.presets:
        run_presets()
        return 0
    print(f"python -m playground train ddpm moons --steps {args.steps} --seed S")
    print("check: ddim 10 with eta 0 closer to the data than with eta 1 (DDIM, table 1)\n")
    names = list(SAMPLERS)
    head = " | ".join(f"mmd {n} | s" for n in names)
    print(f"| seed | {head} | mmd_data | train wall s | train CPU s |")
    print("|---:|" + "---:|---:|" * len(names) + "---:|---:|---:|")
    results = {}
    for seed in parse_seeds(args.seeds):
        r = results[seed] = run_seed(seed, args.steps)
        cells = " | ".join(f"{r[n][0]:.2e} | {r[n][1]:.2f}" for n in names)
        print(
            f"| {seed} | {cells} | {r['mmd_data']:.1e} | {r['wall']:.0f} | {r['cpu']:.0f} |",
            flush=True,
        )
    ddim, noisy = names[1], names[2]
    worst = max(results, key=lambda s: results[s][ddim][0])
    best = min(results, key=lambda s: results[s][ddim][0])
    misses = [s for s, r in results.items() if r[ddim][0] >= r[noisy][0]]
    for label, s in (("worst", worst), ("best", best)):
        r = results[s]
        print(
            f"{label} seed {s}: {ddim} mmd {r[ddim][0]:.2e}, {noisy} {r[noisy][0]:.2e}, "
            f"ancestral {r[names[0]][0]:.2e}, mmd_data {r['mmd_data']:.1e}"
        )
    print("all seeds ok" if not misses else f"MISSED at seeds {misses}")
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
