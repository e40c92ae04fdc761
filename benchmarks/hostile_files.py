"""Hostile preset files: seconds to refuse each and the peak memory it takes.

Each case runs in a fresh Python process (one at a time) that imports the playground of
``--tree`` and calls ``load_preset`` or ``read_preset_info`` on a hostile file; the parent
reports the seconds the call took (inside the child, after imports) and the child's peak
resident memory (``os.wait4``'s ``ru_maxrss``, or ``VmHWM`` from ``/proc`` for a child
stopped at the timeout or the memory guard). The hostile files are built with plain
Python (``json``, ``zipfile``, ``struct``), so the same script measures a tree without
``core/files.py`` ("before") and one with it ("after")::

    .venv/bin/python benchmarks/hostile_files.py --timeout 60
    git worktree add /work/before_tree 0113bfb
    cd /work/before_tree && /work/main/.venv/bin/python /work/main/benchmarks/hostile_files.py \\
        --tree /work/before_tree --timeout 60

Cases: a ``history.json`` of 10^7 points; a 200 MB ``config.json``; a ``model.safetensors``
whose header is 50 MB of JSON (a million empty tensors); a bundle of about 600 kB whose
``config.json`` description unpacks to 200 MB; a bundle of 100 000 members; and
``read_preset_info`` over a gallery folder holding all of these. A control case loads the
small good preset they are built from (its time and memory are the baseline: importing
torch and building a model). The results are in ``benchmarks/hostile_files.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the child: import the tree's playground, call one reader, print one JSON line
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import playground
assert playground.__file__.startswith(sys.argv[1]), playground.__file__
from playground.core.presets import load_preset, read_preset_info
how, path = sys.argv[2], sys.argv[3]
from pathlib import Path
t0 = time.perf_counter()
error = None
try:
    if how == "gallery":
        errors = []
        for p in sorted(Path(path).iterdir()):
            try:
                read_preset_info(p)
            except Exception as e:
                errors.append(f"{type(e).__name__}: {str(e)[:160]}")
        error = f"{len(errors)} of {len(list(Path(path).iterdir()))} refused"
    else:
        (load_preset if how == "load" else read_preset_info)(path)
except BaseException as e:
    text = " ".join(str(e).split())
    error = f"{type(e).__name__}: {text[:300]}"
print(json.dumps({"seconds": time.perf_counter() - t0, "error": error}))
"""


# ------------------------------------------------------------------ the hostile files
def _base_preset(tree: Path, out: Path) -> None:
    """A small good preset saved by the tree's own code (realnvp on 8gaussians, 10 steps)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from playground.core.training import Session;"
        "from playground.core.presets import save_preset;"
        "s = Session('realnvp', '8gaussians', {'batch_size': 64}, seed=0); s.run(10);"
        "save_preset(s, sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", code, str(tree), str(out)], check=True)


def _history_of(points: int, file: Path) -> None:
    """``history.json`` with one curve of ``points`` points, written in chunks."""
    with open(file, "w") as f:
        f.write('{"loss": [')
        chunk = 100_000
        for start in range(0, points, chunk):
            stop = min(points, start + chunk)
            text = ", ".join(f"[{i}, 0.5]" for i in range(start, stop))
            f.write(text if start == 0 else ", " + text)
        f.write("]}")


def _config_with_description(base: Path) -> tuple[str, str]:
    """The base preset's config.json split where its description goes."""
    cfg = json.loads((base / "config.json").read_text())
    cfg["description"] = "@@DESCRIPTION@@"
    head, tail = json.dumps(cfg).split("@@DESCRIPTION@@")
    return head, tail


def _write_big_config(base: Path, file: Path, size: int) -> None:
    head, tail = _config_with_description(base)
    with open(file, "w") as f:
        f.write(head)
        for _ in range(size // 10**6):
            f.write("x" * 10**6)
        f.write(tail)


def _big_header_safetensors(file: Path, header_bytes: int) -> None:
    """A valid safetensors file whose header is ``header_bytes`` of JSON: empty tensors."""
    entry = '"t{:07d}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'
    n = header_bytes // (len(entry.format(0)) + 1)
    header = ("{" + ",".join(entry.format(i) for i in range(n)) + "}").encode()
    with open(file, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)


def _bomb_bundle(base: Path, bundle: Path, size: int) -> None:
    """A bundle of the base preset whose config.json's description unpacks to ``size``."""
    head, tail = _config_with_description(base)
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("config.json", "w", force_zip64=True) as f:
            f.write(head.encode())
            block = b"x" * 10**6
            for _ in range(size // 10**6):
                f.write(block)
            f.write(tail.encode())
        for p in sorted(base.iterdir()):
            if p.name != "config.json":
                z.write(p, p.name)


def _many_members_bundle(base: Path, bundle: Path, count: int) -> None:
    """A bundle of the base preset plus ``count`` empty members all named ``notes.md``
    (known names, so only a member count refuses it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate names
        with zipfile.ZipFile(bundle, "w") as z:
            for p in sorted(base.iterdir()):
                z.write(p, p.name)
            for _ in range(count):
                z.writestr("notes.md", b"")


def build(tree: Path, work: Path) -> dict[str, tuple[str, Path]]:
    """Build every hostile file under ``work``; returns case name to (how, path)."""
    base = work / "base"
    _base_preset(tree, base)
    gallery = work / "gallery"
    gallery.mkdir()

    def copy(name: str) -> Path:
        return Path(shutil.copytree(base, gallery / name))

    history = copy("history-1e7-points")
    _history_of(10**7, history / "history.json")
    config = copy("config-200MB")
    _write_big_config(base, config / "config.json", 200 * 10**6)
    header = copy("safetensors-header-50MB")
    _big_header_safetensors(header / "model.safetensors", 50 * 10**6)
    bomb = gallery / "description-200MB.dgmpreset"
    _bomb_bundle(base, bomb, 200 * 10**6)
    many = gallery / "members-100000.dgmpreset"
    _many_members_bundle(base, many, 100_000)
    mb = {p.name: p.stat().st_size / 1e6 for p in (bomb, many)}
    print(
        f"built in {work}: history.json {(history / 'history.json').stat().st_size / 1e6:.0f} "
        f"MB, bundles {mb}",
        file=sys.stderr,
        flush=True,
    )
    return {
        "control: the small good preset": ("load", base),
        "history.json of 10^7 points": ("load", history),
        "config.json of 200 MB": ("load", config),
        "safetensors header of 50 MB": ("load", header),
        f"bundle of {mb[bomb.name] * 1000:.0f} kB, description unpacks to 200 MB": ("load", bomb),
        "bundle of 100 000 members": ("load", many),
        "read_preset_info over the gallery folder": ("gallery", gallery),
    }


# ------------------------------------------------------------------ running a case
def _vm_hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _vm_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_case(tree: Path, how: str, path: Path, timeout: float, max_rss_mb: int) -> dict:
    """One case in a fresh process: its seconds, peak MB and error (or why it was stopped)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tree), how, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    t0 = time.perf_counter()
    stopped, hwm = None, 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        hwm = max(hwm, _vm_hwm_kb(child.pid) or 0)
        if time.perf_counter() - t0 > timeout + 30:  # imports get 30 s on top
            stopped = f"> {timeout:.0f} s"
        elif _vm_rss_kb(child.pid) > max_rss_mb * 1024:
            stopped = f"> {max_rss_mb} MB"
        if stopped:
            hwm = max(hwm, _vm_hwm_kb(child.pid) or 0)
            os.killpg(child.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.05)
    out, err = child.communicate()
    child.returncode = os.waitstatus_to_exitcode(status)
    peak_mb = max(usage.ru_maxrss, hwm) / 1024
    if stopped:
        return {"seconds": None, "peak_mb": peak_mb, "error": f"stopped: {stopped}"}
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = " ".join(err.strip().splitlines()[-1:])
        return {"seconds": None, "peak_mb": peak_mb, "error": f"crashed: {tail[:300]}"}
    if result["seconds"] > timeout:
        return {"seconds": None, "peak_mb": peak_mb, "error": f"> {timeout:.0f} s"}
    return {"seconds": result["seconds"], "peak_mb": peak_mb, "error": result["error"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="the playground tree to test")
    parser.add_argument("--timeout", type=float, default=60, help="seconds a case may take")
    parser.add_argument(
        "--max-rss-mb", type=int, default=8000, help="stop a case past this much memory"
    )
    parser.add_argument("--work", type=Path, help="where to build the files (default: a temp)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", nargs="*", help="run only the cases whose name has these")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    work = Path(tempfile.mkdtemp(prefix="hostile-", dir=args.work))
    results = {}
    try:
        cases = build(tree, work)
        for name, (how, path) in cases.items():
            if args.only and not any(o in name for o in args.only):
                continue
            r = run_case(tree, how, path, args.timeout, args.max_rss_mb)
            r["error"] = r["error"] and r["error"].replace(str(work), "$WORK")
            results[name] = r
            seconds = f"{r['seconds']:.2f} s" if r["seconds"] is not None else r["error"]
            print(f"| {name} | {seconds} | {r['peak_mb']:.0f} MB | {r['error']} |", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"tree": str(tree), "results": results}, indent=1))
    # the target: every hostile file refused within a second (the control opens; the
    # gallery shows what it can)
    missed = [
        name
        for name, r in results.items()
        if not name.startswith(("control", "read_preset_info"))
        and (r["seconds"] is None or r["seconds"] > 1.0 or not r["error"])
    ]
    if missed:
        print(f"missed: {', '.join(missed)} not refused within 1 s", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
