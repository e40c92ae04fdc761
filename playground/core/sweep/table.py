"""A sweep's table (CSV or Parquet) and its plot (each metric against the swept value)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "LOWER_IS_BETTER",
    "better",
    "columns",
    "write_table",
    "read_csv",
    "metric_columns",
    "plot_sweep",
    "summarize",
]

#: metrics where lower is better (the team's contract); every other is better higher
LOWER_IS_BETTER = frozenset(
    {"fid", "grid_kl", "grid_js", "mmd", "nll_gap", "mode_kl", "bits_per_dim", "class_kl"}
)
#: columns that describe a run rather than measure it
RUN_COLUMNS = ("model", "dataset", "seed", "method", "steps", "seconds", "error", "rank")


def better(name: str) -> str:
    """``"lower"`` or ``"higher"``: which way the metric ``name`` improves."""
    return "lower" if name in LOWER_IS_BETTER else "higher"


def columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Every column of ``rows`` in first-seen order, without the private ``_`` keys."""
    cols: dict[str, None] = {}
    for r in rows:
        for k in r:
            if not k.startswith("_"):
                cols.setdefault(k, None)
    return list(cols)


def _cell(v: Any) -> Any:
    return "" if v is None else v


def write_table(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write ``rows`` as a ``.csv`` (empty cells for missing values) or a ``.parquet``.

    Raises:
        ValueError: another suffix, or ``.parquet`` without pyarrow installed.
    """
    path = Path(path)
    cols = columns(rows)
    if path.suffix == ".csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for r in rows:
                w.writerow([_cell(r.get(c)) for c in cols])
        return path
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ValueError(
                f"--out {path}: writing Parquet needs pyarrow (pip install pyarrow); "
                "or write a .csv"
            ) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in cols}), path)
        return path
    raise ValueError(f"--out {path}: the table must end in .csv or .parquet")


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a table :func:`write_table` wrote: numbers as floats, empty cells as None."""

    def value(text: str) -> Any:
        if text == "":
            return None
        try:
            return float(text)
        except ValueError:
            return text

    with Path(path).open(newline="", encoding="utf-8") as f:
        return [{k: value(v) for k, v in r.items()} for r in csv.DictReader(f)]


def metric_columns(rows: Sequence[dict[str, Any]], swept: Sequence[str] = ()) -> list[str]:
    """The measured columns: numeric in some row, neither a run's description nor swept."""
    skip = set(RUN_COLUMNS) | set(swept)
    return [
        c
        for c in columns(rows)
        if c not in skip and any(isinstance(r.get(c), (int, float)) for r in rows)
    ]


def _group(row: dict[str, Any], by: Sequence[str]) -> str:
    return " ".join(f"{k}={row.get(k)}" if k != "method" else str(row.get(k)) for k in by)


def summarize(
    rows: Sequence[dict[str, Any]], metric: str, by: Sequence[str]
) -> list[dict[str, Any]]:
    """Per group of ``by`` (e.g. ``method``): the count of seeds with a value, the mean,
    the standard deviation across seeds (n - 1), the worst and best value and their seeds
    (worst/best as the metric is better lower or higher: ``lower`` for the names in
    :data:`LOWER_IS_BETTER`)."""
    lower = better(metric) == "lower"
    groups: dict[str, list[tuple[float, Any]]] = {}
    for r in rows:
        v = r.get(metric)
        groups.setdefault(_group(r, by), [])
        if isinstance(v, (int, float)) and math.isfinite(v) and not r.get("error"):
            groups[_group(r, by)].append((float(v), r.get("seed")))
    out = []
    for name, vals in groups.items():
        xs = [v for v, _ in vals]
        n = len(xs)
        mean = sum(xs) / n if n else None
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
        ordered = sorted(vals, key=lambda t: t[0], reverse=not lower)
        out.append(
            {
                "group": name,
                "n": n,
                "mean": mean,
                "sd": sd,
                "best": ordered[0] if vals else None,
                "worst": ordered[-1] if vals else None,
            }
        )
    return out


def plot_sweep(
    rows: Sequence[dict[str, Any]],
    path: str | Path,
    swept: Sequence[str],
    metrics: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """A PNG: one panel per metric, the metric against the swept value (the group of
    ``swept`` columns, e.g. ``beta=4`` or ``method``), one point per seed, and the mean
    across seeds as a bar. Failed runs are left out."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    metrics = list(metrics) if metrics else metric_columns(rows, swept)
    metrics = metrics[:12] or ["seconds"]
    groups = list(dict.fromkeys(_group(r, swept) for r in rows)) or [""]
    cols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(
        nrows, cols, figsize=(4.2 * cols, 3.2 * nrows), squeeze=False, constrained_layout=True
    )
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for gi, g in enumerate(groups):
            ys = [
                float(r[metric])
                for r in rows
                if _group(r, swept) == g
                and not r.get("error")
                and isinstance(r.get(metric), (int, float))
                and math.isfinite(r[metric])
            ]
            if ys:
                jitter = [gi + 0.15 * (j / max(len(ys) - 1, 1) - 0.5) for j in range(len(ys))]
                ax.scatter(jitter, ys, s=18, alpha=0.75, color=f"C{gi % 10}")
                ax.hlines(sum(ys) / len(ys), gi - 0.25, gi + 0.25, color="k", lw=1.5)
        ax.set_xticks(range(len(groups)), groups, rotation=20 if len(groups) > 4 else 0)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
