"""How long the developers' quick loop takes: ``pytest -m "not slow"``, per test and per file.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/quick_loop.py [--top 25] [--tsv FILE]
[-- PYTEST ARGS]``.

Runs the quick loop in a child pytest with this module as a plugin, which writes one line per
test: its node id, wall seconds and the process's CPU seconds (``time.process_time``: every
thread of the test process, so the worker threads of a GUI test count; a child process that a
test starts does not) for setup, call and teardown together. Then prints the total wall
time, the load average before and after (the wall time of a loaded 2-core machine is several
times its CPU time; the CPU seconds move far less), the test process's peak memory (Linux
``ru_maxrss``), the slowest files and tests. Target: the whole run under 180 s of wall time
(exits 1 otherwise).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest

#: the project's rule for the quick loop, seconds of wall time on the 2-core machine
TARGET_SECONDS = 180.0
#: where the plugin writes its lines (set by the script for the child pytest)
TSV_VARIABLE = "QUICK_LOOP_TSV"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Plugin hook: time one test's setup, call and teardown; append a line to the TSV."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    path = os.environ.get(TSV_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(
                f"{item.nodeid}\t{time.perf_counter() - wall:.3f}\t"
                f"{time.process_time() - cpu:.3f}\n"
            )


def read_rows(path: Path) -> list[tuple[str, float, float]]:
    """The plugin's lines as ``(node id, wall s, cpu s)``."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        node, wall, cpu = line.rsplit("\t", 2)
        rows.append((node, float(wall), float(cpu)))
    return rows


def per_file(rows: list[tuple[str, float, float]]) -> list[tuple[str, int, float, float]]:
    """``(file, tests, wall s, cpu s)`` per test file, the largest wall time first."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for node, wall, cpu in rows:
        entry = sums[node.partition("::")[0]]
        entry[0] += 1
        entry[1] += wall
        entry[2] += cpu
    table = [(name, int(n), wall, cpu) for name, (n, wall, cpu) in sums.items()]
    return sorted(table, key=lambda row: -row[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=25, help="files and tests listed")
    parser.add_argument(
        "--tsv", type=Path, default=Path(tempfile.gettempdir()) / "quick_loop.tsv", help="per test"
    )
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args()

    root = Path(__file__).resolve().parents[1]
    args.tsv.unlink(missing_ok=True)
    env = {**os.environ, TSV_VARIABLE: str(args.tsv.resolve()), "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "pytest", "-m", "not slow", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "benchmarks.quick_loop", *args.pytest_args]
    load_before = [round(x, 1) for x in os.getloadavg()]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    total = time.perf_counter() - start
    load_after = [round(x, 1) for x in os.getloadavg()]
    print(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr)

    rows = read_rows(args.tsv)
    print(f"command: {' '.join(command)}")
    tests_wall, tests_cpu = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"tests {len(rows)}, wall {total:.1f} s (in tests {tests_wall:.1f} s), ", end="")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"test-process CPU {tests_cpu:.1f} s, peak RSS {peak:.0f} MB")
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    print("\n| file | tests | wall s | cpu s |\n|---|---|---|---|")
    for name, n, wall, cpu in per_file(rows)[: args.top]:
        print(f"| {name} | {n} | {wall:.1f} | {cpu:.1f} |")
    print("\n| test | wall s | cpu s |\n|---|---|---|")
    for node, wall, cpu in sorted(rows, key=lambda r: -r[1])[: args.top]:
        print(f"| {node} | {wall:.2f} | {cpu:.2f} |")
    if result.returncode != 0:
        failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
        print(f"pytest exited {result.returncode}", *failed, sep="\n")
    return 0 if total <= TARGET_SECONDS and result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
