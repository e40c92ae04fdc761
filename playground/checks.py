"""Checks the command line runs before it imports torch: names, dataset specs, values.

An unknown model, dataset or ``--set`` value should answer at once, not after the seconds
that importing torch takes. The names, and each model's hyperparameter fields with their
types, bounds and choices, are read from :mod:`playground.manifest`, a generated,
torch-free copy of the registries (``playground.core.models``, ``playground.core.data``,
``playground.core.hyperparameters``, as ``playground.core.catalog`` reports them).
Regenerate it after adding a model, a dataset or a hyperparameter field, or changing a
field's type, bounds or choices::

    python -m playground.checks --write     # rewrite playground/manifest.py
    python -m playground.checks --check     # exit 1 if it differs from the registries

(``tests/test_checks.py`` fails while it is stale.) Defaults and help texts are not in the
manifest: they do not decide what is valid, so changing them needs no regeneration.
"""

from __future__ import annotations

import dataclasses
import pprint
import sys
from pathlib import Path
from typing import Any

from .core.specs import did_you_mean, parse_dataset_spec

__all__ = [
    "did_you_mean",
    "check_model",
    "check_dataset",
    "check_assignments",
    "check_train",
    "build_manifest",
    "render_manifest",
    "MANIFEST_PATH",
    "main",
]

#: the generated manifest's source file
MANIFEST_PATH = Path(__file__).with_name("manifest.py")
_TYPES = {"int": int, "float": float, "bool": bool, "str": str}
_KIND_WORDS = {
    "image": "image set",
    "plane": "2D density",
    "sequence": "sequence set",
    "point": "point mass",
}


def _manifest() -> Any:
    from . import manifest

    return manifest


def check_model(name: str) -> None:
    """Raise ``ValueError`` (the message suggests a close name and lists the valid ones)
    when ``name`` is not a registered model."""
    models = _manifest().MODELS
    if name not in models:
        valid = sorted(models)
        raise ValueError(
            f"unknown model {name!r}; {did_you_mean(name, valid)}valid: {', '.join(valid)}"
        )


def check_dataset(spec: str) -> str:
    """Check a dataset spec ``NAME[:KEY=VALUE,...]``: its name, its option names and their
    values, as ``playground.core.data.parse_dataset_spec`` does, without torch.

    Returns:
        The dataset's name.

    Raises:
        ValueError: an unknown name (with a suggestion), option or value.
    """
    datasets = _manifest().DATASETS
    options_of = {
        name: {k: _TYPES[kind] for k, kind in info["options"].items()}
        for name, info in datasets.items()
    }
    name, _ = parse_dataset_spec(spec, options_of)
    return name


def _config_class(model: str) -> type:
    """A stand-in for the model's config dataclass: its fields' types, bounds and choices
    (every default None), for ``hyperparameters.parse_assignments``."""
    from .core import hyperparameters as hpm

    fields = []
    for key, f in _manifest().MODELS[model]["hyperparameters"].items():
        choices = f.get("choices")
        meta = hpm.hp(
            None,
            low=f.get("low"),
            high=f.get("high"),
            choices=tuple(choices) if choices is not None else None,
        )
        fields.append((key, _TYPES[f["type"]], meta))
    return dataclasses.make_dataclass(f"{model}_config", fields)


def check_assignments(model: str, assignments: list[str]) -> None:
    """Check ``--set KEY=VALUE`` assignments of ``model`` (a known name): the keys, the
    types, bounds and choices, with the messages of ``hyperparameters.parse_assignments``.
    Checks between fields (the model's own ``__post_init__``) come later, with torch.

    Raises:
        HyperparameterError: a malformed assignment, an unknown key (with a suggestion)
            or a bad value.
    """
    from .core import hyperparameters as hpm

    keys = list(_manifest().MODELS[model]["hyperparameters"])
    for a in assignments:
        key = a.split("=", 1)[0].strip()
        if "=" in a and key not in keys:
            raise hpm.HyperparameterError(
                f"unknown hyperparameter {key!r}; {did_you_mean(key, keys)}valid: {', '.join(keys)}"
            )
    hpm.parse_assignments(_config_class(model), assignments)


def check_train(model: str, dataset: str, assignments: list[str]) -> None:
    """Everything about ``train MODEL DATASET --set ...`` that can be checked without
    torch: the names, whether the model trains on the dataset, the ``--set`` values.

    Raises:
        ValueError: the first problem found (the message says what and what is valid).
    """
    check_model(model)
    name = check_dataset(dataset)
    m = _manifest()
    if name not in m.MODELS[model]["trains_on"]:
        kind = m.DATASETS[name]["kind"]
        fits = [d for d in m.MODELS[model]["trains_on"] if m.DATASETS[d]["kind"] == kind]
        words = _KIND_WORDS[kind]
        raise ValueError(
            f"{model} cannot train on the {words} {name}"
            + (f"; it trains on: {', '.join(fits)}" if fits else f"; it trains on no {words}")
        )
    check_assignments(model, assignments)


# ------------------------------------------------------------------ the manifest itself
def build_manifest() -> dict[str, Any]:
    """The manifest as the live registries give it (imports torch): ``models`` (name to
    ``hyperparameters``: field to type and, where set, low, high, choices; ``trains_on``:
    dataset names) and ``datasets`` (name to ``kind``, ``plane`` or ``image``, and
    ``options``: option name to type)."""
    from .core.catalog import catalog

    cat = catalog()
    keep = ("type", "low", "high", "choices")
    models = {
        name: {
            "hyperparameters": {
                key: {k: f[k] for k in keep if k in f} for key, f in m["hyperparameters"].items()
            },
            "trains_on": list(cat["trainable"][name]),
        }
        for name, m in cat["models"].items()
    }
    datasets = {
        name: {"kind": d["kind"], "options": dict(d["options"])}
        for name, d in cat["datasets"].items()
    }
    return {"models": models, "datasets": datasets}


def render_manifest(manifest: dict[str, Any]) -> str:
    """The source of ``playground/manifest.py`` for ``manifest`` (see :func:`build_manifest`)."""

    def literal(value: Any) -> str:
        return pprint.pformat(value, width=88, sort_dicts=False)

    return (
        '"""Generated by ``python -m playground.checks --write`` from the registries: do not\n'
        "edit. The model and dataset names, each model's hyperparameter fields (type, bounds,\n"
        "choices) and the datasets it trains on, for the command line's checks before torch\n"
        'is imported (see :mod:`playground.checks`)."""\n\n'
        f"MODELS = {literal(manifest['models'])}\n\n"
        f"DATASETS = {literal(manifest['datasets'])}\n"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m playground.checks --write | --check``: rewrite the manifest from the
    registries, or exit 1 (saying so) when it differs from them."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m playground.checks", description=main.__doc__)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite playground/manifest.py")
    mode.add_argument("--check", action="store_true", help="exit 1 if it is stale")
    args = p.parse_args(argv)
    text = render_manifest(build_manifest())
    current = MANIFEST_PATH.read_text(encoding="utf-8") if MANIFEST_PATH.exists() else ""
    if args.write:
        if text != current:
            MANIFEST_PATH.write_text(text, encoding="utf-8")
        print(f"{MANIFEST_PATH}: {'rewritten' if text != current else 'up to date'}")
        return 0
    if text != current:
        print(f"{MANIFEST_PATH} is stale: run python -m playground.checks --write")
        return 1
    print(f"{MANIFEST_PATH}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
