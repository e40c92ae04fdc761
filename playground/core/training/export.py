"""Take a session home: a standalone Python script and a Jupyter notebook that rebuild it."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat

from .. import hyperparameters as hpm
from ..data import ALL_DATASETS
from ..data.points import Points, write_points_csv
from ..files import FileRefusedError
from ..models import get_model_class

__all__ = [
    "SessionRecipe",
    "session_notebook",
    "session_script",
    "write_notebook",
    "write_script",
]


@dataclass(frozen=True)
class SessionRecipe:
    """What rebuilds a session: model name, dataset spec, seed, device, steps reached,
    every hyperparameter (field name to value, as :func:`~.hyperparameters.to_dict` gives)
    and, for a session on the user's 2D points (drawn, imported or ``points:path=``), the
    points themselves (``(n, 2)``; the export writes them as a CSV beside the script).

    The app's GUI thread builds one from the worker's :class:`SessionInfo` (it never
    touches the worker's session); :meth:`of` builds one from a :class:`Session`."""

    model: str
    dataset: str
    seed: int
    steps: int
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    points: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, session: Any) -> SessionRecipe:
        """The recipe of ``session`` (a :class:`~.training.Session`, or a recipe: itself)."""
        if isinstance(session, SessionRecipe):
            return session
        return cls(
            session.model_name,
            session.dataset_name,
            int(session.seed),
            int(session.step_count),
            hpm.to_dict(session.config),
            str(session.device),
            session.data.points if isinstance(session.data, Points) else None,
        )


def _literal(value: Any) -> str:
    """Python source for ``value`` (``float("inf")`` where ``repr`` would give ``inf``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    return repr(value)


def _dict_source(name: str, values: dict[str, Any]) -> str:
    if not values:
        return f"{name} = {{}}"
    lines = [f"    {key!r}: {_literal(value)}," for key, value in values.items()]
    return "\n".join([f"{name} = {{", *lines, "}"])


def _changed(recipe: SessionRecipe) -> dict[str, Any]:
    """The hyperparameters that differ from the model's ``Config`` defaults."""
    defaults = hpm.to_dict(get_model_class(recipe.model).Config())
    return {k: v for k, v in recipe.hyperparameters.items() if defaults.get(k, object()) != v}


def _paper(model: str) -> str:
    """The model's paper: the ``References:`` section of its class docstring, else its
    docstring's first line."""
    doc = inspect.getdoc(get_model_class(model)) or ""
    if "References:" in doc:
        refs = doc.split("References:", 1)[1].strip().split("\n\n")[0]
        return " ".join(line.strip() for line in refs.splitlines())
    return doc.splitlines()[0] if doc else get_model_class(model).description


def _plot_source(recipe: SessionRecipe) -> str:
    """A matplotlib cell that suits the model and the data: samples over the data (plane),
    a grid of sampled images, the model's density, or else the loss curves."""
    caps = get_model_class(recipe.model).capabilities
    kind = ALL_DATASETS[recipe.dataset.split(":", 1)[0]].kind
    head = "import matplotlib.pyplot as plt\n\nrng = torch.Generator().manual_seed(SEED + 100)\n"
    if kind == "plane" and "samples" in caps:
        return head + (
            "with torch.no_grad():\n"
            "    x = session.model.sample(2000, rng).cpu()\n"
            "fig, ax = plt.subplots(figsize=(5, 5))\n"
            "if session.data.can_sample:\n"
            "    real = session.data.sample(2000, rng)\n"
            "    ax.scatter(real[:, 0], real[:, 1], s=2, alpha=0.3, label='data')\n"
            "ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.5, label='model samples')\n"
            "xmin, xmax, ymin, ymax = session.data.box\n"
            "ax.set_xlim(xmin, xmax)\nax.set_ylim(ymin, ymax)\nax.legend()\n"
            "ax.set_title(f'{MODEL} on {DATASET}, step {STEPS}')\nplt.show()"
        )
    if kind == "plane" and "density" in caps:
        return head + (
            "xmin, xmax, ymin, ymax = session.data.box\n"
            "xs, ys = torch.linspace(xmin, xmax, 128), torch.linspace(ymin, ymax, 128)\n"
            "grid = torch.stack(torch.meshgrid(xs, ys, indexing='xy'), -1).reshape(-1, 2)\n"
            "with torch.no_grad():\n"
            "    density = session.model.log_prob(grid.to(session.device)).exp().cpu()\n"
            "plt.imshow(density.reshape(128, 128), origin='lower',\n"
            "           extent=(xmin, xmax, ymin, ymax))\n"
            "plt.title(f'{MODEL} density on {DATASET}, step {STEPS}')\nplt.show()"
        )
    if kind == "image" and "samples" in caps:
        return head + (
            "with torch.no_grad():\n"
            "    x = session.model.sample(16, rng).cpu()\n"
            "c, h, w = session.data.shape\n"
            "images = x.reshape(16, c, h, w).clamp(0, 1).permute(0, 2, 3, 1)\n"
            "fig, axes = plt.subplots(2, 8, figsize=(8, 2))\n"
            "for image, ax in zip(images, axes.flat):\n"
            "    ax.imshow(image.squeeze(-1) if c == 1 else image, cmap='gray')\n"
            "    ax.axis('off')\n"
            "fig.suptitle(f'{MODEL} samples on {DATASET}, step {STEPS}')\nplt.show()"
        )
    return (
        "import matplotlib.pyplot as plt\n\n"
        "for name, (steps, values) in session.history.as_arrays().items():\n"
        "    plt.plot(steps, values, label=name)\n"
        "plt.xlabel('step')\nplt.legend()\nplt.title(f'{MODEL} on {DATASET}')\nplt.show()"
    )


#: the CSV file of a points session's points, beside the script (``{stem}``: its name)
POINTS_FILE = "{stem}_points.csv"


def _dataset_source(recipe: SessionRecipe, points_file: str, script: bool) -> str:
    """The ``DATASET = ...`` lines: the spec, or for a points session its CSV file beside
    the script (``__file__``'s folder) or the notebook (its working folder)."""
    if recipe.points is None:
        return f"DATASET = {recipe.dataset!r}"
    where = f"Path(__file__).with_name({points_file!r})" if script else f"Path({points_file!r})"
    return (
        f"# the session's {len(recipe.points)} 2D points, in the CSV file beside this "
        f"{'script' if script else 'notebook'}\n"
        f"POINTS_CSV = {where}\nDATASET = f'points:path={{POINTS_CSV}}'"
    )


def _cells(
    recipe: SessionRecipe, points_file: str = "session_points.csv", script: bool = False
) -> list[tuple[str, str]]:
    """The notebook's cells as ``(kind, source)``, kind ``markdown`` or ``code``; the
    script is the code cells but the plot, in order. A points session reads its points
    from ``points_file`` (see :func:`_dataset_source`)."""
    r = recipe
    if r.points is not None:
        r = replace(r, dataset=Points.name)
    changed = _changed(r)
    model_cls = get_model_class(r.model)
    return [
        (
            "markdown",
            f"# {r.model} on {r.dataset}\n\n{model_cls.description}\n\n"
            f"**Paper:** {_paper(r.model)}\n\n"
            f"Exported from DGM Playground at step {r.steps} (seed {r.seed}). Running every "
            "cell rebuilds the session through the core API, trains it headless to the "
            "same step and prints its held-out metrics. Live hyperparameter changes made "
            "mid-run are not replayed: the cells use the final values.",
        ),
        ("markdown", "Imports, and one CPU thread, as the playground's commands train."),
        (
            "code",
            "import json\n"
            + ("from pathlib import Path\n" if r.points is not None else "")
            + "\nimport torch\n\nfrom playground.core.training import Session\n\n"
            "torch.set_num_threads(1)",
        ),
        (
            "markdown",
            "The session: model, dataset, seed, steps reached and hyperparameters "
            "(those changed from the defaults, then all of them).",
        ),
        (
            "code",
            f"MODEL = {r.model!r}\n{_dataset_source(r, points_file, script)}\nSEED = {r.seed}\n"
            f"STEPS = {r.steps}\nDEVICE = {r.device!r}\n\n"
            "# changed from the model's defaults\n"
            f"{_dict_source('CHANGED', changed)}\n\n"
            "# every hyperparameter, the defaults included\n"
            f"{_dict_source('HYPERPARAMETERS', r.hyperparameters)}\n\n"
            "session = Session(MODEL, DATASET, HYPERPARAMETERS, seed=SEED, device=DEVICE)",
        ),
        ("markdown", "Train to the exported step."),
        ("code", "session.run(STEPS)"),
        ("markdown", "Held-out metrics (nats), as `python -m playground train` prints them."),
        ("code", "metrics = session.evaluate()\nprint(json.dumps(metrics))"),
        ("markdown", "A picture of what the model learned."),
        ("plot", _plot_source(r)),
    ]


def session_script(session: Any, points_file: str = "session_points.csv") -> str:
    """A standalone Python script that rebuilds ``session`` through the core API
    (:class:`~.training.Session` with its model, dataset spec, seed, device and every
    hyperparameter), trains it headless with one thread to the step it reached and prints
    :meth:`Session.evaluate`'s held-out metrics (nats) as one JSON line.

    The script reproduces the session exactly when it was trained from its seed with no
    live changes (same code path: :meth:`Session.run`). Live hyperparameter changes made
    mid-run (a learning rate moved while training) are not replayed, since
    :attr:`Session.history` records loss terms and metrics, not settings: the script
    trains every step with the final values. A GAN's lone critic or generator
    half-steps are not replayed either. A session opened from a preset is retrained
    from its seed. A session on the user's 2D points reads them from ``points_file``
    beside the script (:func:`write_script` writes it).

    Arguments:
        session: a :class:`~.training.Session` or a :class:`SessionRecipe`.
        points_file: the CSV file of a points session's points, beside the script.

    Raises:
        UnknownModelError: the model is not in the registry.
    """
    r = SessionRecipe.of(session)
    shown = Points.name if r.points is not None else r.dataset
    doc = (
        f'"""Rebuild a DGM Playground session: {r.model} on {shown}, seed {r.seed}, '
        f"{r.steps} steps.\n\nTrains headless and prints the held-out metrics (nats) as JSON. "
        "Live hyperparameter\nchanges made mid-run are not replayed: every step uses the "
        'final values.\n"""'
    )
    code = [src for kind, src in _cells(r, points_file, script=True) if kind == "code"]
    return "\n\n".join([doc, *code]) + "\n"


def session_notebook(
    session: Any, points_file: str = "session_points.csv"
) -> nbformat.NotebookNode:
    """The script of :func:`session_script` as a Jupyter notebook (nbformat 4): markdown
    cells naming the model, its paper and what each cell does, the code split into cells,
    and a matplotlib cell that plots samples (or the density, or the loss curves).

    Arguments:
        session: a :class:`~.training.Session` or a :class:`SessionRecipe`.
        points_file: as for :func:`session_script` (the notebook's working folder).
    """
    nb = nbformat.v4.new_notebook()
    for kind, src in _cells(SessionRecipe.of(session), points_file):
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _write_points(recipe: SessionRecipe, path: Path) -> str:
    """Write a points session's points beside ``path`` as :data:`POINTS_FILE`; its name."""
    name = POINTS_FILE.format(stem=path.stem)
    if recipe.points is not None:
        try:
            write_points_csv(path.with_name(name), recipe.points)
        except FileRefusedError as e:
            raise OSError(str(e)) from None
    return name


def write_script(session: Any, path: str | Path) -> Path:
    """Write :func:`session_script` to ``path``; returns the path. A session on the
    user's points also gets ``NAME_points.csv`` beside it (:data:`POINTS_FILE`), which
    the script reads: copy both to take it home.

    Raises:
        OSError: a file cannot be written (the folder is missing or read-only).
    """
    path = Path(path)
    recipe = SessionRecipe.of(session)
    name = _write_points(recipe, path)
    path.write_text(session_script(recipe, name), encoding="utf-8")
    return path


def write_notebook(session: Any, path: str | Path) -> Path:
    """Write :func:`session_notebook` to ``path`` (``.ipynb``); returns the path. A
    session on the user's points also gets ``NAME_points.csv`` beside it (as
    :func:`write_script`); the notebook reads it from its working folder.

    Raises:
        OSError: a file cannot be written (the folder is missing or read-only).
    """
    path = Path(path)
    recipe = SessionRecipe.of(session)
    text = nbformat.writes(session_notebook(recipe, _write_points(recipe, path)))
    path.write_text(text, encoding="utf-8")
    return path
