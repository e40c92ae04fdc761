"""The divergence watch on every model: no false alarm at default hyperparameters, and a
quick stop when training diverges at lr = 1.

Run: ``python benchmarks/divergence_watch.py [--steps 1000] [--seeds 0 1 2]
[--only MODEL ...] [--diverge-steps 300]``; about 11 minutes with the defaults on two
shared CPU cores. Results: ``benchmarks/divergence_watch.md``.

For every model of ``playground.core.models.MODELS`` (or those named by ``--only``) and
every seed, on ``moons`` (``digits`` for a model that trains on no 2D density; the
catalog's ``trainable`` list decides), on the CPU with one torch thread:

(a) *normal*: ``Session(model, dataset, {}, seed=s)`` trained ``--steps`` steps with the
    watch on. Recorded: whether it fired (step, message) and its headroom: the largest
    window ratio (a window median over ``max(reference, floor)``) against ``growth``
    (1e4), and the largest single-value ratio (``|value| / max(reference, floor)``)
    against ``absurd`` (1e8). The watch does not expose these ratios, so the script
    replays the watch's rule (same parameters, read from ``session.divergence_watch``)
    over the loss terms of the session's history after the run; the replay's firing step
    is checked against the watch's own (a mismatch is printed and fails the run).
(b) *diverging*: the same with every learning-rate field (``lr``, or ``lr_critic`` and
    ``lr_generator``) at 1.0 (at its high bound where that is below 1, said in the
    table), up to ``--diverge-steps`` steps: the step it stopped at and why (the
    DivergingLossError's message; a NonFiniteLossError, NaN or inf, first; or "bounded"),
    the largest ``|loss term|`` seen and its growth over the term's first value.

Prints two per-seed markdown tables and a per-model summary. Exits 1 if the watch fires on
any normal run, or if any run ends neither by the watch nor by a non-finite loss while a
loss term grew past 1e6 x max(|its first value|, 1) (the floor is the watch's: a term
starting near zero is measured from 1), or if the replayed rule disagrees with the watch.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from playground.core.catalog import catalog  # noqa: E402
from playground.core.models import MODELS  # noqa: E402
from playground.core.models.base import DivergingLossError, NonFiniteLossError  # noqa: E402
from playground.core.training import Session  # noqa: E402
from playground.core.training.history import DivergenceWatch, is_loss_term  # noqa: E402

#: a run that grows this much (over max(|first value|, floor)) must be stopped
MUST_STOP_GROWTH = 1e6
#: the learning rate the diverging runs ask for
DIVERGING_LR = 1.0


# ------------------------------------------------------------------ the rule, replayed
@dataclass
class Replay:
    """The watch's rule replayed over one run's loss terms (no restart after a trip)."""

    window_ratio: float = 0.0  # largest window median / max(reference, floor), at checks
    window_at: tuple[int, str] = (0, "")  # its step and term
    value_ratio: float = 0.0  # largest |value| / max(reference, floor)
    value_at: tuple[int, str] = (0, "")
    fires_at: int | None = None  # the first step at which the rule fires, or None
    fires_term: str = ""


def replay_term(
    steps: np.ndarray, values: np.ndarray, watch: DivergenceWatch
) -> tuple[float, int, float, int, int | None]:
    """The watch's rule (``DivergenceWatch._observe_term``, fresh start) over one term.

    Returns: (largest window ratio, its step, largest value ratio, its step, first firing
    step or None). A window ratio is measured at each check after the first (whose
    reference is still infinite), only with at least ``min_values`` values, as the rule
    judges; the value ratio at every value, the first against the floor alone.
    """
    w, ce = watch.window, watch.check_every
    recent: list[float] = []
    count, best = 0, math.inf
    wr, wr_at, vr, vr_at, fires = 0.0, 0, 0.0, 0, None
    for step, v in zip(steps.tolist(), values.tolist(), strict=True):
        if not math.isfinite(v):  # the non-finite check's business
            continue
        recent.append(v)
        if len(recent) > w:
            recent.pop(0)
        count += 1
        scale = max(0.0 if count == 1 else best, watch.floor)
        ratio = abs(v) / scale
        if ratio > vr:
            vr, vr_at = ratio, step
        if fires is None and abs(v) > watch.absurd * scale:
            fires = step
        if count > ce and count % ce:
            continue
        m = abs(sorted(recent, key=abs)[len(recent) // 2])
        if len(recent) >= watch.min_values and math.isfinite(best):
            ratio = m / max(best, watch.floor)
            if ratio > wr:
                wr, wr_at = ratio, step
            if fires is None and m > watch.growth * max(best, watch.floor):
                fires = step
        best = min(best, m)
    return wr, wr_at, vr, vr_at, fires


def replay(session: Session, watch: DivergenceWatch) -> Replay:
    """:func:`replay_term` over every loss term of ``session.history``."""
    r = Replay()
    for name, (steps, values) in session.history.as_arrays().items():
        if not is_loss_term(name):
            continue
        wr, wr_at, vr, vr_at, fires = replay_term(steps, values, watch)
        if wr > r.window_ratio:
            r.window_ratio, r.window_at = wr, (wr_at, name)
        if vr > r.value_ratio:
            r.value_ratio, r.value_at = vr, (vr_at, name)
        if fires is not None and (r.fires_at is None or fires < r.fires_at):
            r.fires_at, r.fires_term = fires, name
    return r


def growth_and_peak(session: Session, floor: float) -> tuple[float, float, str]:
    """The largest growth of a loss term over max(|its first value|, floor), and the
    largest finite |loss term| with its name."""
    growth, peak, peak_name = 0.0, 0.0, ""
    for name, (_, values) in session.history.as_arrays().items():
        finite = values[np.isfinite(values)]
        if not is_loss_term(name) or finite.size == 0:
            continue
        top = float(np.abs(finite).max())
        growth = max(growth, top / max(abs(float(finite[0])), floor))
        if top > peak:
            peak, peak_name = top, name
    return growth, peak, peak_name


# ------------------------------------------------------------------------- the runs
@dataclass
class Run:
    model: str
    dataset: str
    seed: int
    kind: str  # "normal" or "diverging"
    settings: dict = field(default_factory=dict)
    steps_asked: int = 0
    steps_run: int = 0
    outcome: str = "ran"  # ran | watch | nonfinite | error
    message: str = ""
    replay: Replay = field(default_factory=Replay)
    growth: float = 0.0
    peak: float = 0.0
    peak_term: str = ""
    seconds: float = 0.0
    replay_agrees: bool = True

    @property
    def headroom(self) -> float:
        """How many times larger the worst ratio could grow before the rule fires."""
        w = WATCH.growth / self.replay.window_ratio if self.replay.window_ratio else math.inf
        v = WATCH.absurd / self.replay.value_ratio if self.replay.value_ratio else math.inf
        return min(w, v)

    @property
    def must_have_stopped(self) -> bool:
        """Grew past MUST_STOP_GROWTH and ended neither by the watch nor by a NaN."""
        return self.outcome == "ran" and self.growth > MUST_STOP_GROWTH


WATCH = DivergenceWatch()  # the defaults the Session uses (checked per run below)


def train(model: str, dataset: str, settings: dict, seed: int, steps: int, kind: str) -> Run:
    run = Run(model, dataset, seed, kind, dict(settings), steps)
    t0 = time.perf_counter()
    s = Session(model, dataset, settings, seed=seed, device="cpu")
    watch = s.divergence_watch
    assert watch is not None
    assert (watch.window, watch.check_every, watch.growth, watch.absurd, watch.floor) == (
        WATCH.window, WATCH.check_every, WATCH.growth, WATCH.absurd, WATCH.floor
    )  # fmt: skip
    fired_at = None
    try:
        s.run(steps)
    except DivergingLossError as e:
        run.outcome, run.message, fired_at = "watch", str(e), e.step
    except NonFiniteLossError as e:
        run.outcome, run.message = "nonfinite", str(e)
    except Exception as e:  # noqa: BLE001 - a model failing some other way is a finding
        run.outcome, run.message = "error", f"{type(e).__name__}: {e}"
    run.seconds = time.perf_counter() - t0
    run.steps_run = s.step_count
    run.replay = replay(s, watch)
    run.growth, run.peak, run.peak_term = growth_and_peak(s, watch.floor)
    run.replay_agrees = run.replay.fires_at == fired_at
    return run


def dataset_for(model: str, trainable: dict[str, list[str]]) -> str:
    fits = trainable[model]
    for name in ("moons", "digits"):
        if name in fits:
            return name
    return fits[0]


def diverging_settings(model: str, models: dict) -> tuple[dict, str]:
    """Every learning-rate field at DIVERGING_LR (or its high bound), and a note."""
    settings, notes = {}, []
    for name, info in models[model]["hyperparameters"].items():
        if not (name == "lr" or name.startswith("lr_")) or info["type"] != "float":
            continue
        high = info.get("high")
        value = DIVERGING_LR if high is None or high >= DIVERGING_LR else high
        if value != DIVERGING_LR:
            notes.append(f"{name} high bound {high}")
        settings[name] = value
    return settings, "; ".join(notes)


# ----------------------------------------------------------------------- the tables
def g(x: float) -> str:
    return "-" if x == 0 else f"{x:.3g}"


def normal_row(r: Run) -> str:
    fired = "no" if r.outcome == "ran" else f"**{r.outcome} at {r.steps_run}**: {r.message}"
    wstep, wterm = r.replay.window_at
    vstep, vterm = r.replay.value_at
    return (
        f"| {r.model} | {r.dataset} | {r.seed} | {r.steps_run}/{r.steps_asked} | {fired} | "
        f"{g(r.replay.window_ratio)} ({wterm} @ {wstep}) | "
        f"{g(r.replay.value_ratio)} ({vterm} @ {vstep}) | {r.headroom:.3g} | "
        f"{1000 * r.seconds / max(r.steps_run, 1):.1f} |"
    )


def diverging_row(r: Run, note: str) -> str:
    lrs = ", ".join(f"{k}={v:g}" for k, v in r.settings.items()) + (f" ({note})" if note else "")
    if r.outcome == "ran":
        why = f"bounded: ran {r.steps_run} steps"
    elif r.outcome == "watch":
        why = f"DivergingLossError: {r.message}"
    elif r.outcome == "nonfinite":
        why = f"NonFiniteLossError: {r.message}"
    else:
        why = r.message
    # a non-finite step is not counted: it stopped at the step after the last one run
    stop = {"ran": "-", "watch": str(r.steps_run)}.get(r.outcome, str(r.steps_run + 1))
    return (
        f"| {r.model} | {lrs} | {r.seed} | {stop} | {why} | {g(r.peak)} ({r.peak_term}) | "
        f"{g(r.growth)} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="steps of each normal run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", metavar="MODEL", help="these models only")
    parser.add_argument("--diverge-steps", type=int, default=300, help="steps at lr = 1")
    args = parser.parse_args()
    torch.set_num_threads(1)

    cat = catalog()
    names = args.only or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)}; valid: {', '.join(MODELS)}")

    normal: list[Run] = []
    diverging: list[tuple[Run, str]] = []
    t_all = time.perf_counter()
    for model in names:
        dataset = dataset_for(model, cat["trainable"])
        for seed in args.seeds:
            r = train(model, dataset, {}, seed, args.steps, "normal")
            normal.append(r)
            print(
                f"# {model} {dataset} seed {seed} normal: {r.outcome} {r.steps_run} steps, "
                f"window {g(r.replay.window_ratio)}, value {g(r.replay.value_ratio)}, "
                f"{r.seconds:.0f} s",
                file=sys.stderr, flush=True,
            )  # fmt: skip
        settings, note = diverging_settings(model, cat["models"])
        for seed in args.seeds:
            r = train(model, dataset, settings, seed, args.diverge_steps, "diverging")
            diverging.append((r, note))
            print(
                f"# {model} seed {seed} {settings}: {r.outcome} at {r.steps_run}, "
                f"peak {g(r.peak)}, {r.seconds:.0f} s",
                file=sys.stderr, flush=True,
            )  # fmt: skip

    print(
        f"## (a) normal training, default hyperparameters ({args.steps} steps; "
        f"thresholds: window {WATCH.growth:g}, value {WATCH.absurd:g})\n"
    )
    print(
        "| model | dataset | seed | steps | fired | max window ratio (term @ step) "
        "| max value ratio (term @ step) | headroom | ms/step |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in normal:
        print(normal_row(r))

    print(
        f"\n## (b) diverging: learning rates at {DIVERGING_LR:g}, "
        f"up to {args.diverge_steps} steps\n"
    )
    print("| model | learning rates | seed | stopped at step | why | largest \\|loss\\| | growth |")
    print("|---|---|---|---|---|---|---|")
    for r, note in diverging:
        print(diverging_row(r, note))

    print("\n## per model\n")
    print(
        "| model | normal: fired | worst headroom (seed) | best headroom (seed) "
        "| lr = 1: stopped at (per seed) |"
    )
    print("|---|---|---|---|---|")
    for model in names:
        rs = [r for r in normal if r.model == model]
        ds = [r for r, _ in diverging if r.model == model]
        worst = min(rs, key=lambda r: r.headroom)
        best = max(rs, key=lambda r: r.headroom)
        fired = sum(r.outcome != "ran" for r in rs)
        stops = ", ".join(
            {
                "watch": f"{r.steps_run} (watch)",
                "nonfinite": f"{r.steps_run + 1} (NaN/inf)",
                "ran": "bounded",
            }.get(r.outcome, f"{r.steps_run + 1} (error)")
            for r in ds
        )
        print(
            f"| {model} | {fired}/{len(rs)} | {worst.headroom:.3g} ({worst.seed}) | "
            f"{best.headroom:.3g} ({best.seed}) | {stops} |"
        )

    worst = min(normal, key=lambda r: r.headroom)
    best = max(normal, key=lambda r: r.headroom)
    print(
        f"\nworst headroom: {worst.model} seed {worst.seed}: {worst.headroom:.3g} "
        f"(window {g(worst.replay.window_ratio)} on {worst.replay.window_at[1]}, "
        f"value {g(worst.replay.value_ratio)} on {worst.replay.value_at[1]}); "
        f"best: {best.model} seed {best.seed}: {best.headroom:.3g}; "
        f"{time.perf_counter() - t_all:.0f} s in all"
    )

    failures = []
    for r in normal:
        if r.outcome != "ran":
            failures.append(f"{r.model} seed {r.seed} normal: {r.outcome}: {r.message}")
    for r in normal + [r for r, _ in diverging]:
        if r.must_have_stopped:
            failures.append(
                f"{r.model} seed {r.seed} {r.kind}: grew {r.growth:.3g}-fold and was not stopped"
            )
        if not r.replay_agrees:
            failures.append(
                f"{r.model} seed {r.seed} {r.kind}: the replayed rule fires at "
                f"{r.replay.fires_at}, the watch at {r.steps_run if r.outcome == 'watch' else None}"
            )
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
