"""The command line's torch threads and its checks before torch: what ``train`` costs.

Run: ``python benchmarks/cli_threads.py [--steps 500] [--threads 1] [--before-checkout DIR]``.

(a) Two ``python -m playground train realnvp moons --steps 500`` started at once (both
cores busy on a 2-core machine), first with ``--threads 0`` (torch's own default, one
thread per core: what ``train`` did before it had ``--threads``), then with ``--threads N``
(the new default, 1). Prints each process's wall time and the ``seconds`` and
``steps_per_s`` of its JSON line. With ``--before-checkout DIR`` (``git worktree add DIR
HEAD`` of a commit before the change) the "before" runs are that checkout's own ``train``,
without ``--threads``.

(b) The wall time of ``python -m playground train realnvpp moons`` (a typo) until it exits
with its error: the median of ``--repeats`` runs, here and, with ``--before-checkout``, there.

Targets: the typo answers in under 1 s with exit code 2 and "did you mean realnvp"; two
runs at once with the new default take no longer than with torch's default. The children
get no ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` from this process, so "torch's default"
is one thread per core. Exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground.cli import DEFAULT_THREADS  # noqa: E402  (torch-free)

TYPO_TARGET_S = 1.0


def child_env(checkout: Path) -> dict[str, str]:
    """The environment of a child: ``checkout``'s playground first, no thread settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join([str(checkout), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def which_playground(checkout: Path) -> str:
    """The folder of the ``playground`` package a child started in ``checkout`` imports."""
    code = "import playground, os; print(os.path.dirname(playground.__file__))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=checkout,
        env=child_env(checkout),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def two_at_once(checkout: Path, extra: list[str], steps: int) -> list[dict]:
    """Start two ``train realnvp moons`` at the same moment; each one's wall time and JSON."""
    argv = [sys.executable, "-m", "playground", "train", "realnvp", "moons"]
    argv += ["--steps", str(steps), *extra]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            argv,
            cwd=checkout,
            env=child_env(checkout),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate()
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {err.strip()[-500:]}")
        results.append({"wall": wall, **json.loads(out.strip().splitlines()[-1])})
    return results


def typo_seconds(checkout: Path, repeats: int) -> tuple[float, int, str]:
    """Median wall time of ``train realnvpp moons``, its exit code and its last stderr line."""
    argv = [sys.executable, "-m", "playground", "train", "realnvpp", "moons"]
    times, rc, err = [], 0, ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.run(argv, cwd=checkout, env=child_env(checkout), capture_output=True)
        times.append(time.perf_counter() - t0)
        rc, err = p.returncode, p.stderr.decode(errors="replace").strip().splitlines()[-1]
    return statistics.median(times), rc, err


def show(label: str, results: list[dict]) -> float:
    """Print one line per run of a pair; returns the pair's slower wall time."""
    for i, r in enumerate(results):
        threads = r.get("threads", "?")
        print(
            f"  {label} run {i + 1}: wall {r['wall']:6.1f} s, training {r['seconds']:6.1f} s, "
            f"{r['steps_per_s']:7.1f} steps/s, torch threads {threads}, nll {r['nll']:.3f}"
        )
    return max(r["wall"] for r in results)


def main() -> int:
    """Run (a) and (b), print the figures; 1 on a missed target."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=500, help="training steps of each run")
    p.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help="torch threads of the 'after' runs (default: %(default)s, train's default)",
    )
    p.add_argument("--before-checkout", default=None, help="a checkout of the old code")
    p.add_argument("--repeats", type=int, default=5, help="runs of the typo")
    p.add_argument("--skip-pair", action="store_true", help="only (b)")
    args = p.parse_args()
    before = Path(args.before_checkout).resolve() if args.before_checkout else None
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    for checkout in (ROOT, *([before] if before else [])):
        print(f"{checkout}: imports {which_playground(checkout)}")
    misses = 0

    if not args.skip_pair:
        print(f"(a) two `train realnvp moons --steps {args.steps}` at once")
        if before:
            slow = show("before (old checkout)", two_at_once(before, [], args.steps))
        else:
            slow = show("before (--threads 0)", two_at_once(ROOT, ["--threads", "0"], args.steps))
        after_label = f"after (--threads {args.threads})"
        fast = show(after_label, two_at_once(ROOT, ["--threads", str(args.threads)], args.steps))
        print(f"  slower of the pair: before {slow:.1f} s, after {fast:.1f} s ({slow / fast:.1f}x)")
        misses += fast > slow

    print("(b) `train realnvpp moons` until its error")
    seconds, rc, err = typo_seconds(ROOT, args.repeats)
    print(f"  after: {seconds:.2f} s (median of {args.repeats}), exit {rc}: {err[:100]}")
    misses += not (seconds < TYPO_TARGET_S and rc == 2 and "did you mean realnvp" in err)
    if before:
        seconds, rc, err = typo_seconds(before, args.repeats)
        print(f"  before: {seconds:.2f} s (median of {args.repeats}), exit {rc}: {err[:100]}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
