"""Command line of sweeps and scoreboards: ``sweep`` and ``scoreboard`` (parsing and checks)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from .checks import check_dataset, check_model, check_train

__all__ = ["add_parsers", "cmd_sweep", "cmd_scoreboard", "check_sweep", "markdown_table"]

THREADS_HELP = "torch threads of each run (default: %(default)s; 0: torch's own default)"


def add_parsers(sub: Any) -> None:
    """Add ``sweep`` and ``scoreboard`` to the command line's subparsers ``sub``."""
    sw = sub.add_parser(
        "sweep",
        help="train a grid of seeded runs (seeds x --set values) and write one table",
        description="Train every combination of --seeds and the comma-separated --set "
        "values, each run as `train` does it, and write one table and a plot. With --spec, "
        "the models, values and seeds come from a TOML file (a shipped one by name: "
        "locatello).",
    )
    sw.add_argument("model", nargs="?", help="model name (not with --spec)")
    sw.add_argument("dataset", nargs="?", help="dataset spec (not with --spec)")
    sw.add_argument("--spec", default=None, help="a sweep spec .toml, or a shipped spec's name")
    sw.add_argument("--seeds", default=None, help="0-9, 0,3,7 or a mix (default: 0)")
    sw.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a hyperparameter and its values (repeatable: the grid is their product)",
    )
    sw.add_argument("--steps", type=int, default=None, help="training steps of each run")
    sw.add_argument("--out", default=None, help="the table: .csv, or .parquet with pyarrow")
    sw.add_argument("--plot", default=None, help="a PNG: each metric against the swept value")
    sw.add_argument("--eval-samples", type=int, default=10_000, help="samples for the metrics")
    _engine_arguments(sw)

    sb = sub.add_parser(
        "scoreboard",
        help="train every model of a dataset for the same minutes, evaluate and rank them",
        description="Train every model that trains on DATASET for --minutes of wall clock "
        "each, evaluate each and rank them by the mean of their per-metric ranks; writes "
        "scoreboard.json, scoreboard.csv, samples/ and scoreboard.png to --out.",
    )
    sb.add_argument("dataset")
    sb.add_argument("--minutes", type=float, required=True, help="training minutes per model")
    sb.add_argument("--out", default=None, help="the folder (default: scoreboards/DATASET)")
    sb.add_argument("--seed", type=int, default=0)
    sb.add_argument("--models", default=None, help="only these models, comma-separated")
    sb.add_argument("--eval-samples", type=int, default=2000, help="samples for the metrics")
    _engine_arguments(sb)


def _engine_arguments(p: argparse.ArgumentParser) -> None:
    engine = p.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=int,
        default=1,
        help="local worker processes (default: %(default)s; 0: in this process)",
    )
    engine.add_argument(
        "--address", default=None, help="a Dask scheduler (tcp://host:8786) to run on instead"
    )
    p.add_argument("--threads", type=int, default=1, help=THREADS_HELP)


def _check_live(model: str, dataset: str, assignments: list[str]) -> None:
    """The checks of :func:`check_train` against the live registries (imports torch): for
    a model or a field newer than the generated manifest."""
    from .core import hyperparameters as hpm
    from .core.data import make_dataset
    from .core.models import get_model_class

    cls = get_model_class(model)
    data = make_dataset(dataset)
    if not cls.fits(data):
        raise ValueError(f"{model} cannot train on {dataset}")
    hpm.parse_assignments(cls.Config, assignments)


def _check(model: str, dataset: str, assignments: list[str]) -> None:
    try:
        check_train(model, dataset, assignments)
    except ValueError:
        _check_live(model, dataset, assignments)  # the manifest may be older than the model


def check_sweep(args: argparse.Namespace) -> list[Any]:
    """Every check of ``sweep`` that needs no run, then its runs.

    The names and values are checked against the manifest (no torch) first; a name or
    field it does not know yet is checked against the live registries.

    Returns:
        The runs (:class:`~.core.sweep.RunSpec`), in table order.

    Raises:
        ValueError: a missing or unknown name, a bad value, seed list or engine option.
    """
    from .core.sweep.grid import grid, load_spec, parse_seeds, parse_sets

    if args.workers is not None and args.workers < 0:
        raise ValueError("--workers must be >= 0")
    if args.threads < 0:
        raise ValueError("--threads must be >= 0")
    if args.eval_samples < 1:
        raise ValueError("--eval-samples must be >= 1")
    if args.out and not args.out.endswith((".csv", ".parquet")):
        raise ValueError(f"--out {args.out}: the table must end in .csv or .parquet")
    if args.plot and not args.plot.lower().endswith(".png"):
        raise ValueError(f"--plot {args.plot}: the plot must end in .png")
    if args.spec:
        if args.model or args.dataset or args.assignments:
            raise ValueError("--spec names the models, dataset and values: give no others")
        spec = load_spec(args.spec)
        if args.seeds is not None:
            spec = type(spec)(**{**spec.__dict__, "seeds": parse_seeds(args.seeds)})
        if args.steps is not None:
            spec = type(spec)(**{**spec.__dict__, "steps": args.steps})
        for m in spec.methods:
            for point in grid(m.sweep):
                values = {**m.fixed, **point}
                _check(m.model, spec.dataset, [f"{k}={v}" for k, v in values.items()])
        if spec.steps < 0:
            raise ValueError("--steps must be >= 0")
        return spec.runs(eval_samples=args.eval_samples, threads=args.threads)
    if not args.model or not args.dataset:
        raise ValueError("sweep needs MODEL DATASET, or --spec FILE")
    if args.steps is None or args.steps < 0:
        raise ValueError("--steps N (>= 0) is required without --spec")
    from .core.sweep.runs import RunSpec

    seeds = parse_seeds(args.seeds or "0")
    sets = parse_sets(args.assignments)
    points = grid(sets)
    for point in points:
        _check(args.model, args.dataset, [f"{k}={v}" for k, v in point.items()])
    return [
        RunSpec(
            model=args.model,
            dataset=args.dataset,
            hyperparameters=point,
            seed=seed,
            steps=args.steps,
            eval_samples=args.eval_samples,
            threads=args.threads,
            label=dict(point),
        )
        for point in points
        for seed in seeds
    ]


def _printer(stream: Any = None) -> Any:
    stream = sys.stderr if stream is None else stream

    def progress(done: int, total: int, row: dict[str, Any]) -> None:
        label = " ".join(f"{k}={v}" for k, v in row.items() if k in ("model", "seed", "method"))
        status = f"error: {row['error']}" if row.get("error") else f"{row.get('steps')} steps"
        stream.write(f"[{done}/{total}] {label} {status} ({row.get('seconds')} s)\n")
        stream.flush()

    return progress


def cmd_sweep(args: argparse.Namespace) -> int:
    """``sweep``: run the grid, write the table (``--out``, else CSV on stdout) and plot.

    Returns 0, or 1 when every run failed (each failure is an ``error`` row).
    """
    specs = check_sweep(args)
    from .core.sweep.engines import run_all
    from .core.sweep.table import plot_sweep, write_table

    t0 = time.perf_counter()
    rows = run_all(specs, workers=args.workers, address=args.address, progress=_printer())
    swept = list(dict.fromkeys(k for s in specs for k in s.label))
    for r in rows:
        r.pop("_traceback", None)
    if args.out:
        write_table(rows, args.out)
    else:
        import csv

        from .core.sweep.table import columns

        w = csv.writer(sys.stdout)
        cols = columns(rows)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    if args.plot:
        from .core.sweep.grid import load_spec
        from .core.sweep.table import metric_columns

        found = metric_columns(rows, swept)
        first = [m for m in load_spec(args.spec).metrics if m in found] if args.spec else []
        metrics = first + [m for m in found if m not in first]
        plot_sweep(rows, args.plot, swept or ["model"], metrics=metrics)
    failed = sum(1 for r in rows if r.get("error"))
    print(
        f"{len(rows)} runs in {time.perf_counter() - t0:.1f} s, {failed} failed"
        + (f"; table {args.out}" if args.out else "")
        + (f"; plot {args.plot}" if args.plot else ""),
        file=sys.stderr,
    )
    return 1 if rows and failed == len(rows) else 0


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        return f"{v:.4g}"
    return str(v)


def markdown_table(result: dict[str, Any]) -> str:
    """A scoreboard (the contents of ``scoreboard.json``) as a markdown table."""
    metrics = [m["name"] for m in result["metrics"]]
    arrows = {m["name"]: "↓" if m["better"] == "lower" else "↑" for m in result["metrics"]}
    head = ["rank", "model", "steps", *(f"{m} {arrows[m]}" for m in metrics), "mean rank"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["rows"]:
        cells = [r["rank"], r["model"], r["steps"], *(r.get(m) for m in metrics)]
        cells.append(r.get("mean_rank") if not r.get("error") else f"error: {r['error']}")
        lines.append("| " + " | ".join(_fmt(c) for c in cells) + " |")
    return "\n".join(lines)


def cmd_scoreboard(args: argparse.Namespace) -> int:
    """``scoreboard``: the checks first (names, budget), then the runs; prints the ranked
    table as markdown."""
    check_dataset(args.dataset)
    if not args.minutes > 0:
        raise ValueError("--minutes must be > 0")
    if args.workers < 0 or args.threads < 0 or args.eval_samples < 1:
        raise ValueError("--workers and --threads must be >= 0, --eval-samples >= 1")
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    for m in models or []:
        try:
            check_model(m)
        except ValueError:
            _check_live(m, args.dataset, [])
    from .core.sweep.scoreboard import run_scoreboard

    out = args.out or f"scoreboards/{args.dataset.replace(':', '_')}"
    result = run_scoreboard(
        args.dataset,
        args.minutes,
        out,
        seed=args.seed,
        workers=args.workers,
        address=args.address,
        models=models,
        eval_samples=args.eval_samples,
        threads=args.threads,
        progress=_printer(),
    )
    print(markdown_table(result))
    print(f"wall {result['wall_seconds']:.0f} s; written to {out}", file=sys.stderr)
    return 0
