"""`python -m playground list`: the model zoo and the datasets, as text or JSON."""

from __future__ import annotations

import argparse
import json

__all__ = ["cmd_list"]


def cmd_list(args: argparse.Namespace) -> int:
    """`python -m playground list [--json]`: every model with its family, capabilities and
    hyperparameter defaults, and every dataset with its kind and spec options."""
    from .core.catalog import catalog

    cat = catalog()
    if args.json:
        print(json.dumps(cat, indent=2))
        return 0
    print("Models:")
    # columns as wide as the longest name and family (flow-matching, continuous)
    nw = max(map(len, cat["models"]), default=0)
    fw = max((len(m["family"]) for m in cat["models"].values()), default=0)
    for name, m in cat["models"].items():
        print(f"  {name:<{nw}} {m['family']:<{fw}} {m['description']}")
        print(f"  {'':<{nw}} {'':<{fw}} capabilities: {', '.join(m['capabilities'])}")
        keys = ", ".join(f"{k}={v['default']}" for k, v in m["hyperparameters"].items())
        print(f"  {'':<{nw}} {'':<{fw}} --set {keys}")
    print("\nDatasets:")
    for name, d in cat["datasets"].items():
        if d["kind"] in ("image", "sequence"):
            kind = f"{d['kind']} set"
        elif d["energy_target"]:
            kind = "energy target"
        else:
            kind = "exact density" if d["exact_density"] else "samples only"
        options = ",".join(f"{k}=<{t}>" for k, t in d["options"].items())
        print(f"  {name:<18} {kind:<14} {d['description']}")
        if options:
            print(f"  {'':<18} {'':<14} spec: {name}:{options}")
    return 0
