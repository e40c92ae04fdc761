"""Where each view's name appears in the source: the target is the two registries (the
core's picture list and the app's view list) plus the view's own two modules.

Usage: ``python benchmarks/view_sites.py [--view log_det]``. For every picture of
``playground.core.snapshots.PICTURES`` it prints the lines that name it as a string or a
module (``"log_det"``, ``log_det.picture``) in the app, the pictures, the training layer, the
presets and the command line, and exits 1 if a name appears outside the allowed files. The
model protocol's words (capabilities ``density``, ``samples``, ``critic``, ...; a GAN's
``critic`` and ``generator`` halves; family names) are the same words on purpose: lines that
test a capability, a part or a family are not counted, nor are ``core/models``, ``core/data``
and ``core/metrics``, where those words only mean the protocol."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: where a view's name belongs: its picture module, the picture registry, its view module,
#: the view list
ALLOWED = (
    "playground/core/snapshots/{name}.py",
    "playground/core/snapshots/registry.py",
    "playground/app/views/{name}.py",
    "playground/app/views/__init__.py",
)


#: the protocol's layers: there these words are capabilities, not views
SKIPPED = ("playground/core/models/", "playground/core/data/", "playground/core/metrics/")
#: a line testing a capability, a GAN's half step or a family
PROTOCOL = re.compile(r"capabilities|\bcaps\b|FAMILIES|\bparts?\b|part_step|\"generator\"")


def sites(name: str, module: str) -> dict[str, list[int]]:
    """File to line numbers naming the picture ``name`` (drawn by app module ``module``)."""
    pattern = re.compile(rf"[\"']{re.escape(name)}[\"']|\b{re.escape(module)}\.\w*picture\b")
    out: dict[str, list[int]] = {}
    for path in sorted((ROOT / "playground").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(SKIPPED):
            continue
        for i, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line) and not PROTOCOL.search(line):
                out.setdefault(rel, []).append(i)
    return out


def main() -> int:
    """Print the sites of each picture; 1 if one appears outside the allowed files."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--view", default=None, help="one picture name (default: all)")
    args = p.parse_args()
    from playground.app.views import VIEWS
    from playground.core.snapshots import PICTURES

    modules: dict[str, set[str]] = {}
    for v in VIEWS:
        for p in v.reads():
            modules.setdefault(p, set()).add(v.__module__.rpartition(".")[2])
    pictures = {p: PICTURES[p].build.__module__.rpartition(".")[2] for p in PICTURES}
    misses = 0
    for name in [args.view] if args.view else list(PICTURES):
        allowed = {a.format(name=pictures[name]) for a in ALLOWED[:2]}
        allowed |= {a.format(name=m) for m in modules.get(name, {name}) for a in ALLOWED[2:]}
        found = sites(name, pictures[name])
        extra = {f: lines for f, lines in found.items() if f not in allowed}
        misses += bool(extra)
        where = ", ".join(f"{f}:{','.join(map(str, ls))}" for f, ls in found.items())
        print(f"{name:16s} {len(found)} files: {where}")
        if extra:
            print(f"{'':16s} OUTSIDE the registries: {', '.join(extra)}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
