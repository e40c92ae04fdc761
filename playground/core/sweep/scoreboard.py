"""The scoreboard: every model that trains on a dataset, for the same wall-clock budget, ranked.

The folder it writes is a contract with the app's Scoreboard window: ``scoreboard.json``,
``scoreboard.csv``, ``samples/<model>.safetensors`` and ``scoreboard.png``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .engines import run_all
from .runs import RunSpec
from .table import LOWER_IS_BETTER, better

__all__ = [
    "LOWER_IS_BETTER",
    "RANKING_METRICS",
    "FALLBACK_METRICS",
    "better",
    "models_for",
    "ranking_metrics",
    "rank_rows",
    "run_scoreboard",
]

#: what a scoreboard ranks on, in display order, where the rows have them: ``nll_gap``
#: (exact densities), ``mmd``, the mode metrics (sets with modes), GAN Lab's grid
#: divergences (the plane), FID and precision/recall (images)
RANKING_METRICS = (
    "nll_gap",
    "mmd",
    "modes_captured",
    "high_quality",
    "grid_kl",
    "grid_js",
    "fid",
    "precision",
    "recall",
)
#: an image set's class metrics, ranked on only where no row has any of the above
FALLBACK_METRICS = ("classes_captured", "class_kl")


def models_for(dataset: str) -> list[str]:
    """The models that train on ``dataset`` (a spec), in the registry's order: those whose
    :meth:`~playground.core.models.base.GenerativeModel.fits` accepts it."""
    from ..data import make_dataset
    from ..models import MODELS

    data = make_dataset(dataset)
    return [name for name, cls in MODELS.items() if cls.fits(data)]


def _value(row: dict[str, Any], name: str) -> float | None:
    v = row.get(name)
    if row.get("error") or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def ranking_metrics(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The metrics of :data:`RANKING_METRICS` that some successful row has (else those of
    :data:`FALLBACK_METRICS`), in display order."""
    for names in (RANKING_METRICS, FALLBACK_METRICS):
        have = [m for m in names if any(_value(r, m) is not None for r in rows)]
        if have:
            return have
    return []


def _ranks(values: list[tuple[int, float]], lower: bool) -> dict[int, float]:
    """Row index to its rank (1 = best) among ``values``, ties sharing their mean rank."""
    ordered = sorted(values, key=lambda t: t[1] if lower else -t[1])
    out: dict[int, float] = {}
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1][1] == ordered[i][1]:
            j += 1
        for k in range(i, j + 1):
            out[ordered[k][0]] = (i + j) / 2 + 1
        i = j + 1
    return out


def rank_rows(rows: Sequence[dict[str, Any]], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Rank the rows: by the mean of their per-metric ranks.

    For each metric, the rows that have a value are ranked (1 = best, as
    :func:`better` says; ties share the mean rank); a row's ``mean_rank`` is the mean of
    its ranks over the metrics it has (a metric a model does not have, such as ``nll_gap``
    for a GAN, neither helps nor hurts it). Rows sort by ``mean_rank``, then by model
    name; a row with no ranked metric comes after those with one, and a failed row
    (``error`` set) last, its metrics set to None.

    Returns:
        New rows, sorted, each with ``rank`` (1, 2, ... distinct) and ``mean_rank``.
    """
    rows = [dict(r) for r in rows]
    for r in rows:
        if r.get("error"):
            for m in metrics:
                r[m] = None
    per: dict[str, dict[int, float]] = {}
    for m in metrics:
        values = [(i, v) for i, r in enumerate(rows) if (v := _value(r, m)) is not None]
        per[m] = _ranks(values, better(m) == "lower")
    for i, r in enumerate(rows):
        mine = [per[m][i] for m in metrics if i in per[m]]
        r["mean_rank"] = round(sum(mine) / len(mine), 3) if mine else None

    def key(item: tuple[int, dict[str, Any]]) -> tuple:
        _, r = item
        failed = bool(r.get("error"))
        unranked = r["mean_rank"] is None
        return (failed, unranked, r["mean_rank"] or 0.0, str(r.get("model")))

    ordered = [r for _, r in sorted(enumerate(rows), key=key)]
    for rank, r in enumerate(ordered, start=1):
        r["rank"] = rank
    return ordered


def _json_safe(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def run_scoreboard(
    dataset: str,
    minutes: float,
    out: str | Path,
    seed: int = 0,
    workers: int = 1,
    address: str | None = None,
    models: Sequence[str] | None = None,
    eval_samples: int = 2000,
    threads: int = 1,
    progress: Callable[[int, int, dict[str, Any]], Any] | None = None,
) -> dict[str, Any]:
    """Train every model that trains on ``dataset`` for ``minutes`` of wall clock each
    (``session.step()`` until the time is up, through :func:`~.engines.run_all`),
    evaluate each, rank them (:func:`rank_rows` on :func:`ranking_metrics`) and write
    the folder ``out``.

    Arguments:
        dataset: a dataset spec (``moons``, ``digits``).
        minutes: the training budget of each model, in minutes of wall clock.
        out: the folder (created): ``scoreboard.json``, ``scoreboard.csv``,
            ``samples/<model>.safetensors`` (float32 ``"samples"``: ``(2000, 2)`` plane
            points or ``(64, C, H, W)`` images in [0, 1]) and ``scoreboard.png``.
        seed: every model's seed.
        workers, address: the engine (see :func:`~.engines.run_all`).
        models: only these (default: every model that fits).
        eval_samples: fresh samples of the held-out metrics.
        threads: torch threads per run.
        progress: ``progress(done, total, row)`` after each model.

    Returns:
        The contents of ``scoreboard.json``.

    Raises:
        ValueError: ``minutes <= 0``, no model trains on ``dataset``, or a name in
            ``models`` does not train on it.
    """
    from safetensors.numpy import save_file

    from ..data import make_dataset
    from .table import write_table

    if not minutes > 0:
        raise ValueError("--minutes must be > 0")
    fit = models_for(dataset)
    if models:
        wrong = [m for m in models if m not in fit]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)} cannot train on {dataset}; the models that do: "
                f"{', '.join(fit)}"
            )
        fit = [m for m in fit if m in models]
    if not fit:
        raise ValueError(f"no model trains on {dataset}")
    kind = "image" if make_dataset(dataset).is_image else "plane"
    specs = [
        RunSpec(
            model=m,
            dataset=dataset,
            seed=seed,
            minutes=minutes,
            eval_samples=eval_samples,
            threads=threads,
            keep_samples=True,
        )
        for m in fit
    ]
    t0 = time.perf_counter()
    rows = run_all(specs, workers=workers, address=address, progress=progress)
    wall = time.perf_counter() - t0
    metrics = ranking_metrics(rows)
    ranked = rank_rows(rows, metrics)
    out = Path(out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    for r in ranked:
        samples = r.get("_samples")
        target = out / "samples" / f"{r['model']}.safetensors"
        if r.get("error") or samples is None:
            target.unlink(missing_ok=True)
        else:
            save_file({"samples": samples.astype("float32")}, str(target))
    head = ["rank", "model", "steps", "seconds", "error", *metrics, "mean_rank"]
    table = [
        {k: _json_safe(r.get(k)) for k in head}
        | {k: _json_safe(v) for k, v in r.items() if k not in head and not k.startswith("_")}
        for r in ranked
    ]
    result = {
        "dataset": dataset,
        "minutes": float(minutes),
        "seed": int(seed),
        "wall_seconds": round(wall, 2),
        "kind": kind,
        "metrics": [{"name": m, "better": better(m)} for m in metrics],
        "ranking": "mean of per-metric ranks (1 = best) over the metrics a model has; "
        "failed runs last",
        "rows": table,
    }
    (out / "scoreboard.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    write_table(table, out / "scoreboard.csv")
    plot_scoreboard(result, out / "scoreboard.png")
    return result


def plot_scoreboard(result: dict[str, Any], path: Path) -> Path:
    """A PNG: the mean rank of each model, then one panel per ranking metric (a bar per
    model, in rank order; failed runs and missing values left out)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = result["rows"]
    names = ["mean_rank"] + [m["name"] for m in result["metrics"]]
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    height = max(2.5, 0.22 * len(rows) + 1.0)
    fig, axes = plt.subplots(
        nrows, cols, figsize=(4.4 * cols, height * nrows), squeeze=False, constrained_layout=True
    )
    labels = [r["model"] for r in rows][::-1]
    for ax, name in zip(axes.flat, names, strict=False):
        values = [r.get(name) for r in rows][::-1]
        ys = [i for i, v in enumerate(values) if v is not None]
        ax.barh(ys, [values[i] for i in ys], color="C0" if name == "mean_rank" else "C1")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        direction = "lower" if name == "mean_rank" else better(name)
        ax.set_title(f"{name} ({direction} is better)", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    fig.suptitle(f"{result['dataset']}: {result['minutes']:g} min per model, seed {result['seed']}")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
