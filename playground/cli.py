"""Command line: ``python -m playground [gui|list|train|eval|open|record] ...``."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from .checks import check_dataset, check_model, check_train, did_you_mean
from .cli_lessons import add_parsers as add_lesson_parsers
from .cli_lessons import cmd_lesson
from .cli_list import cmd_list
from .cli_presets import (
    check_preset_texts,
    offscreen_without_display,
    one_line,
    read_notes,
    save,
)
from .cli_sweep import add_parsers as add_sweep_parsers
from .cli_sweep import cmd_scoreboard, cmd_sweep

__all__ = ["main"]

COMMANDS = ("gui", "list", "train", "eval", "open", "record", "sweep", "scoreboard", "lesson")
#: torch threads of ``train``, ``eval`` and ``record`` unless ``--threads`` says otherwise:
#: one, as the app's training thread (``app.worker.TORCH_THREADS``)
DEFAULT_THREADS = 1
THREADS_HELP = (
    "torch threads (default: %(default)s, as the app: small models gain nothing from more, "
    "and two runs on a 2-core machine each keep their speed; 0: torch's own default, one "
    "per core)"
)
#: what ``record --out`` writes
RECORD_SUFFIXES = (".gif", ".mp4", ".png")


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
    gui.add_argument(
        "--checkpoint-mb", type=float, default=256, help="memory of the timeline (default: 256)"
    )

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
    tr.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=THREADS_HELP)
    tr.add_argument("--out", default=None, help="save the trained session as a preset here")
    tr.add_argument(
        "--no-optimizer",
        action="store_true",
        help="with --out: leave out the optimizer state (a smaller preset; Play then "
        "continues with fresh optimizers)",
    )
    tr.add_argument("--eval-samples", type=int, default=10_000, help="samples for the metrics")
    tr.add_argument("--title", default=None, help="the preset's title (with --out)")
    tr.add_argument("--description", default=None, help="the preset's one-line description")
    tr.add_argument("--notes", default=None, metavar="FILE", help="markdown copied to notes.md")
    tr.add_argument(
        "--view", default=None, help="the view the preset's preview shows (default: the first)"
    )

    ev = sub.add_parser("eval", help="recompute a preset's metrics; prints them as `train`")
    ev.add_argument("path", help="a preset folder or .dgmpreset bundle")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--eval-samples", type=int, default=10_000, help="samples for the metrics")
    ev.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    ev.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=THREADS_HELP)

    op = sub.add_parser("open", help="open the app on a preset, paused at its trained state")
    op.add_argument("path", help="a preset folder or .dgmpreset bundle")
    op.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")

    rec = sub.add_parser("record", help="train a preset headless and record one view to a file")
    rec.add_argument("path", help="a preset folder or .dgmpreset bundle")
    rec.add_argument("--view", required=True, help="the view to record (density, samples, ...)")
    rec.add_argument("--steps", type=int, required=True, help="training steps to record")
    rec.add_argument("--out", required=True, help="a .gif, .mp4 or .png file")
    rec.add_argument("--fps", type=float, default=None, help="frames per second of the file")
    rec.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    rec.add_argument("--threads", type=int, default=DEFAULT_THREADS, help=THREADS_HELP)
    add_sweep_parsers(sub)
    add_lesson_parsers(sub)
    return p


class _Progress:
    """A progress bar on stderr, redrawn at most 10 times a second, with the model's own
    loss terms (:func:`shown_terms`)."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.t0 = self.last = time.perf_counter()
        self.open = False  # a bar is drawn and its line not ended

    def __call__(self, step: int, terms: dict[str, float]) -> None:
        now = time.perf_counter()
        if step != self.total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        done = int(width * step / max(self.total, 1))
        rate = step / max(now - self.t0, 1e-9)
        shown = "  ".join(f"{k} {terms[k]:.4f}" for k in shown_terms(terms))
        self.stream.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {step}/{self.total} "
            f"{shown}  {rate:.0f} steps/s"
        )
        self.open = step != self.total
        if step == self.total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (training stopped early), so a message starts its own."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def shown_terms(terms: dict[str, float]) -> list[str]:
    """The loss terms a progress line shows: ``loss`` where the model reports it; else
    its top-level losses ``loss_*`` without a further part (a GAN's ``loss_d`` and
    ``loss_g``, not ``loss_d_real``); else its first term; none for no terms."""
    if "loss" in terms:
        return ["loss"]
    top = [k for k in terms if k.startswith("loss_") and "_" not in k[len("loss_") :]]
    return top or list(terms)[:1]


def _json_value(v: Any) -> Any:
    """``v`` as JSON allows it: non-finite floats (also inside dicts and lists) as None."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    return v


def _check_threads(n: int) -> None:
    if n < 0:
        raise ValueError("--threads must be >= 0 (0: torch's own default)")


def _set_threads(n: int) -> None:
    """Pin torch to ``n`` threads in this thread, where the command's work runs (0: leave
    torch's default, which follows OMP_NUM_THREADS or else the number of cores)."""
    _check_threads(n)
    if n > 0:
        import torch

        torch.set_num_threads(n)


def _cmd_train(args: argparse.Namespace) -> int:
    # everything that can be checked without torch first: a typo answers at once
    check_train(args.model, args.dataset, args.assignments)
    if args.steps < 0:
        raise ValueError("--steps must be >= 0")
    _check_threads(args.threads)
    if not args.out:
        given = [f"--{k}" for k in ("title", "description", "notes", "view") if getattr(args, k)]
        if given:
            raise ValueError(f"{', '.join(given)} describe a preset: add --out PATH")
    notes = read_notes(args.notes)
    _set_threads(args.threads)
    import torch

    from .core import hyperparameters as hpm
    from .core.models import get_model_class
    from .core.models.base import NonFiniteLossError
    from .core.training import Session

    if args.out:
        check_preset_texts(args)
    values = hpm.parse_assignments(get_model_class(args.model).Config, args.assignments)
    session = Session(args.model, args.dataset, values, seed=args.seed, device=args.device)
    if args.view is not None and args.view not in session.available_views:
        raise ValueError(
            f"--view {args.view!r}: {args.model} on {args.dataset} shows "
            f"{', '.join(session.available_views)}"
        )
    t0 = time.perf_counter()
    progress = _Progress(args.steps) if args.steps else None
    try:
        session.run(args.steps, progress)
    except NonFiniteLossError as e:  # a DivergingLossError too
        if progress is not None:
            progress.close()
        print(f"error: {e}; training stopped", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t0
    metrics = session.evaluate(n=args.eval_samples, record=True)
    not_saved = save(session, args, notes) if args.out else None
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "steps": session.step_count,
        "seed": args.seed,
        "device": str(session.device),
        "threads": torch.get_num_threads(),
        **({"objective": session.objective} if hasattr(session.config, "objective") else {}),
        "seconds": round(seconds, 3),
        "steps_per_s": round(session.step_count / seconds, 2) if seconds > 0 else None,
        **{k: round(v, 5) for k, v in session.last_terms.items()},
        **metrics,
        "hyperparameters": hpm.to_dict(session.config),
    }
    print(json.dumps({k: _json_value(v) for k, v in result.items()}))
    if not_saved is not None:
        print(f"error: preset not saved to {args.out}: {not_saved}", file=sys.stderr)
        return 2
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .core.presets import load_preset

    if args.eval_samples < 1:
        raise ValueError("--eval-samples must be >= 1")
    _set_threads(args.threads)
    session = load_preset(args.path, device=args.device)
    metrics = session.evaluate(n=args.eval_samples, record=False)
    if args.json:
        result = {
            "model": session.model_name,
            "dataset": session.dataset_name,
            "steps": session.step_count,
            "seed": session.seed,
            **metrics,
        }
        print(json.dumps({k: _json_value(v) for k, v in result.items()}))
        return 0
    for name, value in metrics.items():
        value = _json_value(value)
        print(f"{name} {value if isinstance(value, (int, float)) else json.dumps(value)}")
    return 0


def _check_preset(path: str) -> None:
    """A clear error, before Qt starts, for a path that is not a preset this playground
    can open (see :func:`~.core.presets.read_preset_info`)."""
    from .core.models import MODELS
    from .core.presets import PresetError, read_preset_info

    info = read_preset_info(path)
    if info.model not in MODELS:
        raise PresetError(
            f"{path}: config.json names unknown model {info.model!r}; "
            f"valid: {', '.join(sorted(MODELS))}"
        )


def _cmd_open(args: argparse.Namespace) -> int:
    from .core.device import resolve_device

    _check_display()
    _check_preset(args.path)
    resolve_device(args.device)
    from .app.main import launch

    return launch(preset=str(args.path), device=args.device, paused=True)


def _cmd_record(args: argparse.Namespace) -> int:
    from .core.presets import load_preset

    if args.steps < 0:
        raise ValueError("--steps must be >= 0")
    if not args.out.lower().endswith(RECORD_SUFFIXES):
        raise ValueError(f"--out {args.out}: the file must end in {', '.join(RECORD_SUFFIXES)}")
    if args.fps is not None and args.fps <= 0:
        raise ValueError("--fps must be > 0")
    _set_threads(args.threads)
    session = load_preset(args.path, device=args.device)
    if args.view not in session.available_views:
        raise ValueError(
            f"--view {args.view!r}: {session.model_name} on {session.dataset_name} shows "
            f"{', '.join(session.available_views)}"
        )
    offscreen_without_display()
    from .app.recording import record_headless

    kwargs = {} if args.fps is None else {"fps": args.fps}
    progress = _progress_printer(sys.stderr)
    result = record_headless(
        session, args.view, args.out, steps=args.steps, progress=progress, **kwargs
    )
    steps = getattr(result, "steps", args.steps)
    print(json.dumps({"out": str(result.path), "frames": result.frames, "steps": steps}))
    return 0


def _progress_printer(stream: Any) -> Any:
    """``progress(done, total)`` for ``record``: ``recording: frame done/total`` on
    ``stream`` (stderr: stdout keeps the one JSON line), one line rewritten in place on a
    terminal, a line per frame otherwise (a log, a CI job)."""
    tty = stream.isatty()

    def progress(done: int, total: int) -> None:
        text = f"recording: frame {done}/{total}"
        if tty:
            stream.write(f"\r{text}" + ("\n" if done >= total else ""))
        else:
            stream.write(text + "\n")
        stream.flush()

    return progress


class _NoDisplayError(Exception):
    """Qt would abort: no display to open a window on (the message says what to do)."""


def _check_display() -> None:
    from .app.display import missing_display_message  # Qt-free

    message = missing_display_message()
    if message:
        raise _NoDisplayError(message)


def _cmd_gui(args: argparse.Namespace) -> int:
    check_model(args.model)  # before torch: a typo answers at once
    check_dataset(args.dataset)
    if not args.checkpoint_mb > 0:  # NaN too
        raise ValueError(f"--checkpoint-mb must be > 0, got {args.checkpoint_mb}")
    _check_display()
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
        checkpoint_mb=args.checkpoint_mb,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line: ``gui`` (the default), ``list``, ``train``, ``eval``, ``open``
    or ``record`` (``python -m playground COMMAND --help`` for each).

    Arguments:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Names, dataset specs and ``--set`` values are checked before torch is imported
    (against :mod:`playground.manifest`), so a typo answers at once.

    Returns:
        The exit code, with a one-line message on stderr for 1 and 2:

        - 0: done.
        - 1: training stopped by a non-finite or a diverging loss (the message names
          the step and the term); nothing is printed on stdout, nothing is saved.
        - 2: an unknown command, model, dataset or view; a bad value; a user file that is
          refused or cannot be read (``--notes``, a preset for ``eval``, ``open``,
          ``record``); a window that cannot open for want of a display; or, for
          ``train --out``, a preset that could not be saved (a full disk, a path under a
          file): the run's JSON is printed on stdout all the same, and the message says
          what was not saved and why.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        # a word where the command goes is a command, not the app's first argument
        print(
            f"error: unknown command {argv[0]!r}; {did_you_mean(argv[0], list(COMMANDS))}"
            f"the commands: {', '.join(COMMANDS)} (python -m playground --help)",
            file=sys.stderr,
        )
        return 2
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["gui", *argv]
    args = _parser().parse_args(argv)
    commands = {
        "gui": _cmd_gui,
        "list": cmd_list,
        "train": _cmd_train,
        "eval": _cmd_eval,
        "open": _cmd_open,
        "record": _cmd_record,
        "sweep": cmd_sweep,
        "scoreboard": cmd_scoreboard,
        "lesson": cmd_lesson,
    }
    try:
        return commands[args.command](args)
    except _NoDisplayError as e:
        print(e, file=sys.stderr)
        return 2
    except ValueError as e:
        # unknown model, dataset, hyperparameter or device, a model that cannot train
        # on the dataset, a user file refused (FileRefusedError) or a preset that cannot
        # be opened (PresetError): every such error subclasses ValueError
        print(f"error: {one_line(str(e)) or type(e).__name__}", file=sys.stderr)
        return 2
    except OSError as e:
        # a user file that could not be read or written in a way nothing above foresaw
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{one_line(e.strerror or str(e))}", file=sys.stderr)
        return 2
