"""Command line: ``python -m playground [gui|list|train] ...``."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

__all__ = ["main"]

COMMANDS = ("gui", "list", "train")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m playground",
        description="DGM Playground: train deep generative models live and watch them learn.",
    )
    sub = p.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the app (the default command)")
    gui.add_argument("--model", default="realnvp", help="model name (default: realnvp)")
    gui.add_argument("--dataset", default="moons", help="dataset name (default: moons)")
    gui.add_argument("--seed", type=int, default=0)
    gui.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    gui.add_argument("--paused", action="store_true", help="open without starting training")

    ls = sub.add_parser("list", help="models, datasets and their capabilities")
    ls.add_argument("--json", action="store_true", help="print one JSON object")

    tr = sub.add_parser("train", help="train headless; prints one JSON line of metrics")
    tr.add_argument("model")
    tr.add_argument("dataset")
    tr.add_argument("--steps", type=int, default=1000)
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a hyperparameter (repeatable); `list` shows each model's",
    )
    tr.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    tr.add_argument("--out", default=None, help="save the trained session as a preset here")
    tr.add_argument("--eval-samples", type=int, default=10_000, help="samples for the metrics")
    return p


def _cmd_list(args: argparse.Namespace) -> int:
    from .core.catalog import catalog

    cat = catalog()
    if args.json:
        print(json.dumps(cat, indent=2))
        return 0
    print("Models:")
    for name, m in cat["models"].items():
        print(f"  {name:<10} {m['family']:<8} {m['description']}")
        print(f"  {'':<10} {'':<8} capabilities: {', '.join(m['capabilities'])}")
        keys = ", ".join(f"{k}={v['default']}" for k, v in m["hyperparameters"].items())
        print(f"  {'':<10} {'':<8} --set {keys}")
    print("\nDatasets:")
    for name, d in cat["datasets"].items():
        if d["kind"] == "image":
            kind = "image set"
        elif d["energy_target"]:
            kind = "energy target"
        else:
            kind = "exact density" if d["exact_density"] else "samples only"
        options = ",".join(f"{k}=<{t}>" for k, t in d["options"].items())
        print(f"  {name:<18} {kind:<14} {d['description']}")
        if options:
            print(f"  {'':<18} {'':<14} spec: {name}:{options}")
    return 0


class _Progress:
    """A progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.stream = total, stream
        self.t0 = self.last = time.perf_counter()

    def __call__(self, step: int, terms: dict[str, float]) -> None:
        now = time.perf_counter()
        if step != self.total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        done = int(width * step / max(self.total, 1))
        rate = step / max(now - self.t0, 1e-9)
        loss = terms.get("loss", float("nan"))
        self.stream.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {step}/{self.total} "
            f"loss {loss:.4f}  {rate:.0f} steps/s"
        )
        if step == self.total:
            self.stream.write("\n")
        self.stream.flush()


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _cmd_train(args: argparse.Namespace) -> int:
    from .core import hyperparameters as hpm
    from .core.models import get_model_class
    from .core.models.base import NonFiniteLossError
    from .core.training import Session

    if args.steps < 0:
        raise hpm.HyperparameterError("--steps must be >= 0")
    values = hpm.parse_assignments(get_model_class(args.model).Config, args.assignments)
    session = Session(args.model, args.dataset, values, seed=args.seed, device=args.device)
    t0 = time.perf_counter()
    try:
        session.run(args.steps, _Progress(args.steps) if args.steps else None)
    except NonFiniteLossError as e:
        print(f"error: {e}; training stopped", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t0
    metrics = session.evaluate(n=args.eval_samples, record=True)
    if args.out:
        from .core.presets import save_preset

        save_preset(session, args.out)
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "steps": session.step_count,
        "seed": args.seed,
        "device": str(session.device),
        **({"objective": session.objective} if hasattr(session.config, "objective") else {}),
        "seconds": round(seconds, 3),
        "steps_per_s": round(session.step_count / seconds, 2) if seconds > 0 else None,
        **{k: round(v, 5) for k, v in session.last_terms.items()},
        **metrics,
        "hyperparameters": hpm.to_dict(session.config),
    }
    print(json.dumps({k: _json_value(v) for k, v in result.items()}))
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from .core.data import make_dataset
    from .core.device import resolve_device
    from .core.models import get_model_class

    get_model_class(args.model)
    make_dataset(args.dataset)
    resolve_device(args.device)
    from .app.main import launch

    return launch(
        model=args.model,
        dataset=args.dataset,
        seed=args.seed,
        device=args.device,
        paused=args.paused,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for unknown names or bad values)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["gui", *argv]
    args = _parser().parse_args(argv)
    try:
        if args.command == "gui":
            return _cmd_gui(args)
        return _cmd_list(args) if args.command == "list" else _cmd_train(args)
    except ValueError as e:
        # unknown model, dataset, hyperparameter or device, or a model that cannot
        # train on the dataset: every such error subclasses ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
