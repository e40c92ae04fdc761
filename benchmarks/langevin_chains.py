"""The Langevin chains view's sampler, measured: what the chains show on the exact targets
and on trained models, and what a frame costs.

Usage: ``python benchmarks/langevin_chains.py [--chains N] [--seed S]``.

Prints, through the same code the view runs (``LangevinChains`` and ``chains_snapshot``):

1. gmm82, exact target, ``--chains`` chains from a uniform start: the fraction of chains in
   the 0.8 mode under plain Langevin and under annealed Langevin (the exact noised score),
   after 4,000 plain steps and after the annealed levels plus the same 4,000 steps.
2. 8gaussians, exact target: MALA's acceptance rate at step sizes 0.01 to 1.
3. Chains on trained models (8gaussians; RealNVP by autograd of log p, an EBM, a denoising
   score model): modes visited and the fraction of chains within 3 std of a mode, after
   1,000 chain steps.
4. The cost of one frame (``chains_snapshot``, 200 chains, 5 steps a frame, background
   included) per source, in ms on one thread.
"""

from __future__ import annotations

import argparse
import time

import torch

from playground.core.sampling.chains import ChainSettings, LangevinChains
from playground.core.snapshots.chains import chain_target, chains_snapshot
from playground.core.training import Session


def near_modes(x: torch.Tensor, modes: torch.Tensor, std: float) -> tuple[int, float, list]:
    """(modes with a chain within 3 std, fraction of chains within 3 std of a mode,
    fraction of chains nearest each mode)."""
    d = torch.cdist(x.double(), modes.double())
    nearest = d.argmin(1)
    close = d.min(1).values < 3 * std
    visited = int(torch.unique(nearest[close]).numel())
    weights = torch.bincount(nearest, minlength=len(modes)).double() / len(x)
    return visited, float(close.double().mean()), [round(float(w), 3) for w in weights]


def run_chains(model, data, settings: ChainSettings, steps: int, seed: int) -> torch.Tensor:
    """``steps`` chain steps (frames of ``settings.steps_per_frame``) of the view's sampler."""
    target = chain_target(model, data, settings.source)
    chains = LangevinChains(seed)
    frames = max(1, steps // settings.steps_per_frame)
    for _ in range(frames):
        chains.advance(target, settings, None, data.box)
    return chains


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=2000)
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
    n = args.chains

    print("1. gmm82, exact score, uniform start: weight of the 0.8 mode")
    s = Session("ncsn", "gmm82", {"hidden": 16}, seed=args.seed)
    modes = torch.as_tensor(s.data.modes)
    plain = ChainSettings("exact", "langevin", 0.1, n, 100, "uniform")
    t0 = time.perf_counter()
    c = run_chains(s.model, s.data, plain, 4000, args.seed)
    print(
        f"   plain Langevin, eta 0.1, {c.steps} steps: "
        f"{near_modes(c.x, modes, 1.0)[2][0]:.3f}  ({time.perf_counter() - t0:.1f} s)"
    )
    annealed = ChainSettings("exact", "annealed", 5e-4, n, 100, "uniform", steps_per_level=150)
    t0 = time.perf_counter()
    c = run_chains(s.model, s.data, annealed, 10 * 150 + 4000, args.seed)
    print(
        f"   annealed Langevin, 10 levels x 150 steps, epsilon 5e-4, then {c.steps - 1500} "
        f"steps at sigma_L: {near_modes(c.x, modes, 1.0)[2][0]:.3f}  "
        f"({time.perf_counter() - t0:.1f} s)"
    )

    print("2. 8gaussians, exact target: MALA acceptance rate (500 chains, 200 steps)")
    s = Session("realnvp", "8gaussians", {"hidden": 16}, seed=args.seed)
    for eta in (0.01, 0.05, 0.1, 0.5, 1.0):
        c = run_chains(s.model, s.data, ChainSettings("exact", "mala", eta, 500, 20), 200, 0)
        print(f"   eta {eta:<5g} acceptance {c.acceptance_rate:.3f}")

    print("3. chains on trained models, 8gaussians (uniform start, 1,000 steps, 500 chains)")
    modes = torch.as_tensor(s.data.modes)
    std = float(s.data.mode_std)
    runs = [
        ("realnvp", 1500, {}, ChainSettings("model", "mala", 0.01, 500, 50)),
        ("ebm", 1500, {}, ChainSettings("model", "langevin", 0.01, 500, 50)),
        (
            "score",
            1500,
            {"objective": "denoising"},
            ChainSettings("model", "langevin", 0.01, 500, 50),
        ),
    ]
    sessions = {}
    for name, steps, hp, settings in runs:
        t0 = time.perf_counter()
        session = Session(name, "8gaussians", hp, seed=args.seed)
        session.run(steps)
        train_s = time.perf_counter() - t0
        session.model.eval()
        c = run_chains(session.model, session.data, settings, 1000, 0)
        visited, close, _ = near_modes(c.x, modes, std)
        extra = f", acceptance {c.acceptance_rate:.3f}" if c.acceptance_rate is not None else ""
        print(
            f"   {name:<8} ({steps} training steps, {train_s:.0f} s), {settings.sampler}: "
            f"modes visited {visited} of 8, within 3 std {close:.3f}{extra}"
        )
        sessions[name] = session

    print("4. one frame of the view (200 chains, 5 steps, background drawn), ms")
    for name, session in sessions.items():
        for source in ("model", "exact"):
            state, cache = LangevinChains(0), {}
            settings = ChainSettings(source, "langevin", 0.01, 200, 5)
            chains_snapshot(
                session.model, session.data, session.device, state, settings, None, cache
            )
            t0 = time.perf_counter()
            for _ in range(20):
                chains_snapshot(
                    session.model, session.data, session.device, state, settings, None, cache
                )
            ms = (time.perf_counter() - t0) / 20 * 1000
            print(f"   {name:<8} source {source:<6} {ms:6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
