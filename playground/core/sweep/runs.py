"""One run of a sweep: a picklable description, and the function a worker calls on it."""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunSpec", "run_one", "SAMPLE_N"]

#: samples a scoreboard keeps per model: plane points, images (the scoreboard contract)
SAMPLE_N = {"plane": 2000, "image": 64}


@dataclass(frozen=True)
class RunSpec:
    """What one run trains, as ``python -m playground train`` would.

    Arguments:
        model: a model name.
        dataset: a dataset spec (``moons``, ``shapes:size=20``).
        hyperparameters: ``--set`` assignments, key to its text (``{"beta": "4"}``).
        seed: the session's seed.
        steps: training steps (``session.run(steps)``); ignored when ``minutes`` is set.
        minutes: a wall-clock budget instead of a step count: ``session.step()`` until
            this many minutes (of this run's own time) have passed.
        eval_samples: fresh samples of the held-out metrics (``session.evaluate(n)``).
        threads: torch threads in the worker (0: torch's own default).
        keep_samples: also return the model's samples (:data:`SAMPLE_N` of them) for a
            scoreboard.
        label: extra columns copied into the row (the swept values, a method's name).
    """

    model: str
    dataset: str
    hyperparameters: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    steps: int = 0
    minutes: float | None = None
    eval_samples: int = 10_000
    threads: int = 1
    keep_samples: bool = False
    label: dict[str, Any] = field(default_factory=dict)


def _scalar(v: Any) -> float | None:
    """A metric as a table cell: a finite float, or None (NaN, infinite); lists and dicts
    (``mode_weights``, ``factor_r``) are not cells."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    return None


def _samples(session: Any, n_by_kind: dict[str, int]) -> Any:
    """``(n, 2)`` plane points or ``(n, C, H, W)`` images in [0, 1], float32 numpy, from
    the model's sampler (seeded from the session's seed); None if it has no sampler."""
    import torch

    model, data = session.model, session.data
    if "samples" not in model.capabilities:
        return None
    kind = "image" if data.is_image else "plane"
    g = torch.Generator(device=session.device).manual_seed(session.seed + 11)
    model.eval()
    with torch.no_grad():
        x = model.sample(n_by_kind[kind], g).float().cpu()
    if kind == "image":
        x = x.clamp(0.0, 1.0)
    return x.numpy()


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Train and evaluate one run; never raises for the run's own failures.

    Builds a :class:`~playground.core.training.Session` (``spec``'s model, dataset,
    hyperparameters, seed), trains ``spec.steps`` steps (or ``spec.minutes`` of wall
    clock, one ``session.step()`` at a time) and evaluates it as ``train`` does.

    Returns:
        The row: ``model``, ``dataset``, ``seed``, the ``label`` columns, ``steps`` (taken),
        ``seconds`` (training wall time), ``error`` (None, or ``"Type: message"`` when
        the session could not be built, training diverged or raised, or evaluation
        failed; the metrics are then absent) and each scalar metric (a float, None where
        not finite); with ``keep_samples``, ``"_samples"``: a float32 numpy array, or
        None.
    """
    import torch

    if spec.threads > 0:
        torch.set_num_threads(spec.threads)
    from ..hyperparameters import parse_assignments
    from ..models import get_model_class
    from ..training import Session

    row: dict[str, Any] = {
        "model": spec.model,
        "dataset": spec.dataset,
        "seed": spec.seed,
        **spec.label,
        "steps": 0,
        "seconds": 0.0,
        "error": None,
    }
    session = None
    t0 = time.perf_counter()
    try:
        assignments = [f"{k}={v}" for k, v in spec.hyperparameters.items()]
        values = parse_assignments(get_model_class(spec.model).Config, assignments)
        session = Session(spec.model, spec.dataset, values, seed=spec.seed, device="cpu")
        t0 = time.perf_counter()
        if spec.minutes is None:
            session.run(spec.steps)
        else:
            budget = 60.0 * spec.minutes
            while time.perf_counter() - t0 < budget:
                session.step()
        row["seconds"] = round(time.perf_counter() - t0, 3)
        row["steps"] = session.step_count
        metrics = session.evaluate(n=spec.eval_samples, record=False)
        for k, v in metrics.items():
            if k not in row:
                cell = _scalar(v)
                if cell is not None or isinstance(v, (int, float)):
                    row[k] = cell
        if spec.keep_samples:
            row["_samples"] = _samples(session, SAMPLE_N)
    except Exception as e:  # noqa: BLE001 (a failed run is a row, the others go on)
        row["seconds"] = round(time.perf_counter() - t0, 3)
        row["steps"] = session.step_count if session is not None else 0
        text = str(e).strip().splitlines()
        row["error"] = f"{type(e).__name__}: {text[0] if text else ''}".strip()
        row["_traceback"] = traceback.format_exc(limit=4)
    return row
