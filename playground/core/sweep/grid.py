"""A sweep's grid: seeds and swept values from the command line or a TOML spec file."""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runs import RunSpec

__all__ = [
    "parse_seeds",
    "parse_sets",
    "grid",
    "Method",
    "SweepSpec",
    "load_spec",
    "SPECS_DIR",
]

#: the specs shipped with the playground (``--spec locatello`` finds ``locatello.toml``)
SPECS_DIR = Path(__file__).with_name("specs")


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``0-9`` (inclusive), ``0,3,7`` or a mix (``0-2,5``).

    Raises:
        ValueError: an empty list, a part that is not a number or a range, a range that
            runs backwards, or a negative seed.
    """
    seeds: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        lo, sep, hi = part.partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(part)]
        except ValueError:
            raise ValueError(f"--seeds {text!r}: {part!r} is not a seed or a range A-B") from None
        if sep and int(hi) < int(lo):
            raise ValueError(f"--seeds {text!r}: the range {part} runs backwards")
    if not seeds:
        raise ValueError(f"--seeds {text!r}: no seeds")
    return list(dict.fromkeys(seeds))


def parse_sets(assignments: list[str]) -> dict[str, list[str]]:
    """``["beta=1,4,8", "lr=1e-3"]`` to ``{"beta": ["1", "4", "8"], "lr": ["1e-3"]}``.

    Raises:
        ValueError: an assignment without ``=``, an empty key or value, or a key given twice.
    """
    out: dict[str, list[str]] = {}
    for a in assignments:
        key, sep, values = a.partition("=")
        key = key.strip()
        items = [v.strip() for v in values.split(",")]
        if not sep or not key or not all(items):
            raise ValueError(f"--set {a!r}: expected KEY=VALUE[,VALUE...]")
        if key in out:
            raise ValueError(f"--set {key} is given twice; list its values once: {key}=A,B")
        out[key] = items
    return out


def grid(sets: dict[str, list[str]]) -> list[dict[str, str]]:
    """The product of the swept values: ``{"a": ["1", "2"], "b": ["x"]}`` to
    ``[{"a": "1", "b": "x"}, {"a": "2", "b": "x"}]`` (one empty point for no sets)."""
    keys = list(sets)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*sets.values())]


@dataclass(frozen=True)
class Method:
    """One model of a spec file: a name for the table, a model, its fixed and swept values."""

    name: str
    model: str
    fixed: dict[str, str] = field(default_factory=dict)
    sweep: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepSpec:
    """A sweep over several models (a ``.toml`` file, see :func:`load_spec`)."""

    dataset: str
    seeds: list[int]
    steps: int
    methods: list[Method]
    title: str = ""
    metrics: list[str] = field(default_factory=list)

    def runs(self, eval_samples: int = 10_000, threads: int = 1) -> list[RunSpec]:
        """Every run: each method's grid times the seeds, labelled with ``method`` and
        the swept keys."""
        out = []
        for m in self.methods:
            for point in grid(m.sweep):
                for seed in self.seeds:
                    out.append(
                        RunSpec(
                            model=m.model,
                            dataset=self.dataset,
                            hyperparameters={**m.fixed, **point},
                            seed=seed,
                            steps=self.steps,
                            eval_samples=eval_samples,
                            threads=threads,
                            label={"method": m.name, **point},
                        )
                    )
        return out


def _text(v: Any) -> str:
    """A TOML value as a ``--set`` value's text (``true`` for True, as the CLI spells it)."""
    return str(v).lower() if isinstance(v, bool) else str(v)


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep spec: TOML, data only (no code runs).

    The file has ``dataset``, ``seeds`` (``"0-9"`` or a list), ``steps``, optional
    ``title`` and ``metrics`` (the columns the report leads with), and one
    ``[[method]]`` table per model: ``name``, ``model``, ``set`` (fixed hyperparameters)
    and ``sweep`` (key to a list of values). A bare name (``locatello``) is looked up in
    the shipped :data:`SPECS_DIR`.

    Raises:
        ValueError: the file is missing or is not valid TOML, or a key is missing or wrong.
    """
    p = Path(path)
    if not p.exists() and p.suffix == "" and (SPECS_DIR / f"{p.name}.toml").exists():
        p = SPECS_DIR / f"{p.name}.toml"
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        shipped = ", ".join(sorted(f.stem for f in SPECS_DIR.glob("*.toml")))
        raise ValueError(f"--spec {path}: no such file (shipped specs: {shipped})") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"--spec {p}: not valid TOML: {e}") from None
    try:
        seeds = data.get("seeds", [0])
        seeds = parse_seeds(seeds if isinstance(seeds, str) else ",".join(map(str, seeds)))
        methods = [
            Method(
                name=str(m.get("name", m["model"])),
                model=str(m["model"]),
                fixed={k: _text(v) for k, v in m.get("set", {}).items()},
                sweep={
                    k: [_text(x) for x in (v if isinstance(v, list) else [v])]
                    for k, v in m.get("sweep", {}).items()
                },
            )
            for m in data["method"]
        ]
        spec = SweepSpec(
            dataset=str(data["dataset"]),
            seeds=seeds,
            steps=int(data["steps"]),
            methods=methods,
            title=str(data.get("title", "")),
            metrics=[str(x) for x in data.get("metrics", [])],
        )
    except KeyError as e:
        raise ValueError(f"--spec {p}: missing key {e.args[0]!r}") from None
    except (TypeError, AttributeError) as e:
        raise ValueError(f"--spec {p}: {e}") from None
    if not methods:
        raise ValueError(f"--spec {p}: no [[method]] tables")
    return spec
