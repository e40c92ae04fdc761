"""The shipped lessons built headless and played back: the wall time of each build (per
step), and every fallback recording opened and decoded (its frames, its seconds of
playback, the time to decode it).

Usage: ``QT_QPA_PLATFORM=offscreen python benchmarks/lessons.py [--in-place] [--only flows]
[--out benchmarks/lessons.md]``.

Without ``--in-place`` each lesson is built in a temporary copy of ``lessons/`` (the shipped
recordings are left as they are) and the shipped recordings are decoded. With
``--in-place`` the shipped lessons are built where they lie: this is how
``lessons/*.recordings/`` are made (``python -m playground lesson build lessons/NAME.toml``
does the same for one lesson). Training runs on the CPU with one torch thread, as the app.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["build_all", "decode", "markdown"]

ROOT = Path(__file__).resolve().parents[1]


def decode(path: Path) -> dict:
    """Open and decode a GIF: its frames, their size, its seconds of playback (the sum of
    the frames' durations) and the milliseconds the decoding took."""
    import imageio.v3 as iio
    from PIL import Image

    t = time.perf_counter()
    frames = iio.imread(path, index=None)
    ms = 1000 * (time.perf_counter() - t)
    with Image.open(path) as im:
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info.get("duration", 0))
    return {
        "frames": int(frames.shape[0]),
        "size": f"{frames.shape[2]}x{frames.shape[1]}",
        "playback_s": sum(durations) / 1000,
        "decode_ms": ms,
        "kB": path.stat().st_size / 1000,
    }


def build_all(names: list[str], in_place: bool) -> list[dict]:
    """Build each lesson (in a temporary copy unless ``in_place``) and decode its
    recordings; one dict per lesson with its build report and the decoded recordings."""
    from playground.app.lesson_build import build_lesson
    from playground.core.lessons import SHIPPED_LESSONS, load_lesson, read_recordings

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = SHIPPED_LESSONS
        if not in_place:
            folder = Path(tmp) / "lessons"
            shutil.copytree(SHIPPED_LESSONS, folder, ignore=shutil.ignore_patterns("*.recordings"))
        for name in names:
            path = folder / f"{name}.toml"
            print(f"building {name} ...", file=sys.stderr, flush=True)
            report = build_lesson(path)
            shipped = load_lesson(SHIPPED_LESSONS / f"{name}.toml")
            recordings = read_recordings(shipped)
            played = []
            for index, info in sorted(recordings.items()):
                played.append(
                    {
                        "step": index + 1,
                        "view": info.view,
                        "steps": info.steps,
                        "build_s": info.seconds,
                        "stale": info.stale,
                        **decode(info.path),
                    }
                )
            runs = [s for s in shipped.steps if s.kind == "run"]
            out.append({"name": name, "report": report, "played": played, "runs": len(runs)})
    return out


def markdown(results: list[dict], command: str) -> str:
    """The results as the Markdown of ``benchmarks/lessons.md``."""
    import torch

    lines = [
        "# Lessons: built headless, played back",
        "",
        f"Command: `{command}`. Machine: {platform.machine()} CPU, "
        f"{os.cpu_count()} cores (shared with other jobs while this ran), 1 torch thread, "
        f"torch {torch.__version__}, Python {platform.python_version()}. A build replays the "
        "lesson with core sessions and records every run step with the app's own views "
        "(480 x 360, about 36 frames, 8 frames per second); the wall times below include "
        "drawing the frames, which costs as much as the training on this machine.",
        "",
        "## Builds",
        "",
        "| lesson | steps | run steps | build wall s | per step (s): kind |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        rep = r["report"]
        per = ", ".join(
            f"{s.index + 1}: {s.kind} {s.seconds:.1f}" for s in rep.steps if s.seconds >= 0.05
        )
        lines.append(
            f"| {r['name']} | {len(rep.steps)} | {len(rep.recordings)} | {rep.seconds:.1f} "
            f"| {per} |"
        )
    lines += [
        "",
        "## Every shipped recording, opened and decoded",
        "",
        "| lesson | step | view | training steps | build s | frames | size | playback s "
        "| kB | decode ms | stale |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for p in r["played"]:
            lines.append(
                f"| {r['name']} | {p['step']} | {p['view']} | {p['steps']:,} | "
                f"{p['build_s']:.1f} | {p['frames']} | {p['size']} | {p['playback_s']:.1f} | "
                f"{p['kB']:.0f} | {p['decode_ms']:.0f} | {'yes' if p['stale'] else 'no'} |"
            )
        if len(r["played"]) != r["runs"]:
            lines.append(f"| {r['name']} | MISSING: {r['runs'] - len(r['played'])} | | | | |")
    total = sum(p["kB"] for r in results for p in r["played"])
    count = sum(len(r["played"]) for r in results)
    lines += ["", f"{count} recordings, {total / 1000:.1f} MB in all.", ""]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--in-place", action="store_true", help="build the shipped lessons in place")
    p.add_argument("--only", nargs="*", default=["flows", "gans", "diffusion"])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "lessons.md"))
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    results = build_all(args.only, args.in_place)
    command = "QT_QPA_PLATFORM=offscreen python benchmarks/lessons.py" + (
        " --in-place" if args.in_place else ""
    )
    text = markdown(results, command)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
