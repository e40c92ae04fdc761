"""The catalog: every model and dataset with what it can do, for ``list`` and the app."""

from __future__ import annotations

from typing import Any

from . import hyperparameters as hpm
from .data import ALL_DATASETS
from .device import available_devices
from .models import MODELS

__all__ = ["catalog"]


def catalog() -> dict[str, Any]:
    """Models, datasets, devices, and the datasets each model trains on, as plain data.

    Returns:
        ``models``: name to family, description, capabilities and hyperparameters (type,
        default, choices, bounds, live, help); ``datasets``: name to description, whether
        it is a ``plane`` density or an ``image`` set, has an exact density, a sampler, is
        an energy target, has known modes, its plotting box, and the options its spec
        takes (``folder``: ``path``, ``size``); ``trainable``: model name to the dataset
        names it trains on;
        ``devices``: the device names usable here.
    """
    models = {}
    for name, cls in MODELS.items():
        models[name] = {
            "family": cls.family,
            "description": cls.description,
            "capabilities": sorted(cls.capabilities),
            "hyperparameters": {
                i.name: {
                    "type": i.type.__name__,
                    "default": i.default,
                    **({"choices": list(i.choices)} if i.choices else {}),
                    **({"low": i.low} if i.low is not None else {}),
                    **({"high": i.high} if i.high is not None else {}),
                    "live": i.live,
                    "help": i.help,
                }
                for i in hpm.fields_info(cls.Config)
            },
        }
    datasets = {
        name: {
            "kind": cls.kind,
            "description": cls.description,
            "exact_density": cls.has_log_prob,
            "sampler": cls.can_sample,
            "energy_target": cls.is_energy,
            "known_modes": cls.modes is not None,
            "box": list(cls.box),
            "options": {k: t.__name__ for k, t in getattr(cls, "options", {}).items()},
        }
        for name, cls in ALL_DATASETS.items()
    }
    trainable = {
        m: [d for d, dc in ALL_DATASETS.items() if mc.fits(dc)] for m, mc in MODELS.items()
    }
    return {
        "models": models,
        "datasets": datasets,
        "trainable": trainable,
        "devices": available_devices(),
    }
