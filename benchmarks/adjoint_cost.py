"""The adjoint method's cost: CPU time and peak memory of one training step of ``cnf`` with
and without ``adjoint``, against the number of function evaluations (NFE).

Usage: ``python benchmarks/adjoint_cost.py [--model cnf] [--batch 512] [--steps 4]
[--configs rk4:4,rk4:16,rk4:64,dopri5:1e-3,dopri5:1e-5,dopri5:1e-7] [--device cpu]``.

Each configuration (a fixed-step solver and its steps, or dopri5 and its tolerance) runs in a
fresh process on one thread: one warm-up step, then ``--steps`` timed steps on moons.
``ms/step`` is the median CPU time (``time.process_time``) of a step; the peak memory is the
growth of the process's peak resident set (``ru_maxrss``) from before the first step to the
end on the CPU (torch keeps no CPU peak), and ``torch.cuda.max_memory_allocated`` over the
model's memory on a GPU. The forward NFE is the same with and without
the adjoint; the adjoint adds a backward solve (``nfe_backward``) and keeps no graph of the
forward solve, so its memory does not grow with the NFE (Chen et al. 2018, section 2).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

__all__ = ["one", "DEFAULT_CONFIGS"]

DEFAULT_CONFIGS = "rk4:4,rk4:16,rk4:64,dopri5:1e-3,dopri5:1e-5,dopri5:1e-7"


def one(model: str, batch: int, steps: int, solver: str, setting: str, adjoint: bool, device):
    """Measure one configuration in this process; returns its figures as a dict."""
    import torch

    from playground.core.training import Session

    torch.set_num_threads(1)
    values = {"solver": solver, "adjoint": adjoint, "batch_size": batch}
    if solver == "dopri5":
        values.update(rtol=float(setting), atol=float(setting))
    else:
        values["solver_steps"] = int(setting)
    session = Session(model, "moons", values, seed=0, device=device)
    cuda = session.device.type == "cuda"
    # the baseline before any step: the peak resident set only grows, so a baseline taken
    # after a step would already hold that step's peak
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    session.step()  # warm-up: not timed (first-call costs)
    times, nfe, nfe_backward = [], [], []
    for _ in range(steps):
        t0 = time.process_time()
        terms = session.step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.process_time() - t0)
        nfe.append(terms["nfe"])
        nfe_backward.append(terms.get("nfe_backward", 0.0))
    if cuda:
        peak_mib = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    return {
        "solver": solver,
        "setting": setting,
        "adjoint": adjoint,
        "nfe": statistics.mean(nfe),
        "nfe_backward": statistics.mean(nfe_backward),
        "ms_per_step": 1000 * statistics.median(times),
        "peak_mib": peak_mib,
        "device": str(session.device),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnf")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--configs", default=DEFAULT_CONFIGS, help="solver:steps or :tolerance")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        solver, setting, adjoint = args.one.split(":")
        result = one(
            args.model, args.batch, args.steps, solver, setting, adjoint == "1", args.device
        )
        print(json.dumps(result))
        return 0
    rows = []
    for config in filter(None, args.configs.split(",")):
        pair = {}
        for adjoint in (False, True):
            command = [
                sys.executable,
                __file__,
                *("--model", args.model, "--batch", str(args.batch)),
                *("--steps", str(args.steps), "--device", args.device),
                "--one",
                f"{config}:{int(adjoint)}",
            ]
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            pair[adjoint] = json.loads(out.strip().splitlines()[-1])
        rows.append(pair)
        bp, adj = pair[False], pair[True]
        print(
            f"{config:12s} NFE {bp['nfe']:6.1f} (+{adj['nfe_backward']:.1f} backward)  "
            f"backprop {bp['ms_per_step']:7.1f} ms {bp['peak_mib']:7.1f} MiB  "
            f"adjoint {adj['ms_per_step']:7.1f} ms {adj['peak_mib']:7.1f} MiB",
            flush=True,
        )
    print(f"\n{args.model}, moons, batch {args.batch}, {rows[0][False]['device']}, one thread")
    print(
        "| solver | NFE forward | NFE backward (adjoint) | ms/step backprop | ms/step adjoint "
        "| peak MiB backprop | peak MiB adjoint |"
    )
    print("|---|---|---|---|---|---|---|")
    for pair in rows:
        bp, adj = pair[False], pair[True]
        print(
            f"| {bp['solver']} {bp['setting']} | {bp['nfe']:.1f} | {adj['nfe_backward']:.1f} "
            f"| {bp['ms_per_step']:.1f} | {adj['ms_per_step']:.1f} "
            f"| {bp['peak_mib']:.1f} | {adj['peak_mib']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
