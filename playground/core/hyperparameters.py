"""Hyperparameter dataclasses: one per model, with ranges, help and liveness per field."""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "HyperparameterError",
    "FieldInfo",
    "hp",
    "with_defaults",
    "fields_info",
    "unused_fields",
    "from_dict",
    "to_dict",
    "replace",
    "parse_assignments",
    "needs_reset",
]


class HyperparameterError(ValueError):
    """A hyperparameter name or value that the model's dataclass does not accept."""


@dataclass(frozen=True)
class FieldInfo:
    """What the app, the CLI and presets need to know about one hyperparameter.

    Attributes:
        name: the dataclass field name, also the ``--set`` key.
        type: ``int``, ``float``, ``bool`` or ``str``.
        default: the default value.
        low, high: inclusive bounds for numbers (``None`` where unbounded).
        log: whether a slider or spin box should move on a log scale.
        choices: the allowed values of a ``str`` field.
        help: one line for tooltips and ``list``.
        live: ``True`` if a change applies between two steps without rebuilding the
            model (a learning rate, a batch size); ``False`` for architecture, which
            needs a reset.
    """

    name: str
    type: type
    default: Any
    low: float | None
    high: float | None
    log: bool
    choices: tuple[str, ...] | None
    help: str
    live: bool


def hp(
    default: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    log: bool = False,
    choices: tuple[str, ...] | None = None,
    help: str = "",
    live: bool = False,
) -> Any:
    """Declare one hyperparameter field of a model's config dataclass.

    Arguments:
        default: the default value (its Python type is the field's type).
        low, high: inclusive bounds, checked by :func:`from_dict`.
        log: a log-scale control in the app.
        choices: allowed values of a string field.
        help: one line shown as a tooltip and by ``python -m playground list``.
        live: applies between steps without a reset (see :class:`FieldInfo`).

    Returns:
        A ``dataclasses.field`` carrying the metadata.
    """
    meta = dict(low=low, high=high, log=log, choices=choices, help=help, live=live)
    return field(default=default, metadata={"playground": meta})


def with_defaults(cls: type, /, **defaults: Any) -> type:
    """A config dataclass that differs from ``cls`` only in the defaults of some fields.

    Each named field keeps its type, bounds, choices, log scale, live flag, help and its
    place in the field order; only its default changes. A model whose hyperparameters are
    a shared config with its paper's defaults writes ``Config = with_defaults(GANConfig,
    n_critic=5)``, or subclasses the result to add fields of its own, instead of
    re-declaring whole fields.

    Arguments:
        cls: a config dataclass (its fields made by :func:`hp`).
        defaults: field name to its new default, parsed and checked as :func:`from_dict`
            checks a value.

    Returns:
        A dataclass subclass of ``cls``, of the same name.

    Raises:
        HyperparameterError: an unknown name, or a default of the wrong type, outside its
            range or not among its choices.
    """
    infos = {i.name: i for i in fields_info(cls)}
    metadata = {f.name: f.metadata for f in dataclasses.fields(cls)}
    spec = []
    for key, value in defaults.items():
        if key not in infos:
            raise HyperparameterError(f"unknown hyperparameter {key!r}; valid: {', '.join(infos)}")
        value = _coerce(infos[key], value)
        spec.append((key, infos[key].type, field(default=value, metadata=metadata[key])))
    new = dataclasses.make_dataclass(cls.__name__, spec, bases=(cls,))
    new.__module__, new.__qualname__ = cls.__module__, cls.__qualname__
    new.__doc__ = cls.__doc__
    return new


def _field_type(cls: type, f: dataclasses.Field) -> type:
    hints = typing.get_type_hints(cls)
    t = hints[f.name]
    if t not in (int, float, bool, str):
        raise TypeError(f"{cls.__name__}.{f.name}: hyperparameters are int, float, bool or str")
    return t


def unused_fields(cls_or_obj: Any) -> tuple[str, ...]:
    """The inherited fields a config declares it does not read (its class attribute
    ``unused_fields``, e.g. DCGAN's ``hidden`` and ``depth``, the MLP GAN's widths): they
    keep their defaults and are neither shown, settable nor saved."""
    return tuple(getattr(cls_or_obj, "unused_fields", ()))


def fields_info(cls_or_obj: Any) -> list[FieldInfo]:
    """The :class:`FieldInfo` of every field of a config dataclass, in declaration order,
    without its :func:`unused_fields`."""
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    out = []
    skip = unused_fields(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        meta = f.metadata.get("playground", {})
        out.append(
            FieldInfo(
                name=f.name,
                type=_field_type(cls, f),
                default=f.default,
                low=meta.get("low"),
                high=meta.get("high"),
                log=meta.get("log", False),
                choices=meta.get("choices"),
                help=meta.get("help", ""),
                live=meta.get("live", False),
            )
        )
    return out


def _coerce(info: FieldInfo, value: Any) -> Any:
    """Convert ``value`` (possibly a string from the command line) and check its range."""
    t = info.type
    try:
        if t is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError(value)
                value = low in ("true", "1", "yes", "on")
            else:
                value = bool(value)
        elif t is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            if isinstance(value, str):
                fv = float(value)
                if not fv.is_integer():
                    raise ValueError(value)
                value = int(fv)
            value = int(value)
        elif t is float:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(value)
        else:
            value = str(value)
    except (TypeError, ValueError):
        raise HyperparameterError(f"{info.name}: expected {t.__name__}, got {value!r}") from None
    if info.choices is not None and value not in info.choices:
        raise HyperparameterError(f"{info.name}: {value!r} is not one of {', '.join(info.choices)}")
    if info.low is not None and value < info.low:
        raise HyperparameterError(f"{info.name}: {value} is below the minimum {info.low}")
    if info.high is not None and value > info.high:
        raise HyperparameterError(f"{info.name}: {value} is above the maximum {info.high}")
    return value


def from_dict(cls: type, values: dict[str, Any] | None = None) -> Any:
    """Build a config dataclass from a partial dict, checking names, types and ranges.

    Arguments:
        cls: the config dataclass.
        values: field name to value; strings are parsed (``"1e-3"``, ``"true"``).

    Returns:
        An instance of ``cls`` with the defaults for every missing field.

    Raises:
        HyperparameterError: an unknown name (the message lists the valid ones), a
            value of the wrong type, outside its range or not among its choices.
    """
    infos = {i.name: i for i in fields_info(cls)}
    kwargs = {}
    for key, value in (values or {}).items():
        if key not in infos:
            raise HyperparameterError(f"unknown hyperparameter {key!r}; valid: {', '.join(infos)}")
        kwargs[key] = _coerce(infos[key], value)
    return cls(**kwargs)


def to_dict(config: Any) -> dict[str, Any]:
    """The config dataclass as a plain JSON-able dict (without its :func:`unused_fields`)."""
    skip = unused_fields(config)
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in skip}


def replace(config: Any, changes: dict[str, Any]) -> Any:
    """A copy of ``config`` with ``changes`` applied and checked (see :func:`from_dict`)."""
    merged = to_dict(config)
    merged.update(changes)
    return from_dict(type(config), merged)


def parse_assignments(cls: type, assignments: list[str]) -> dict[str, Any]:
    """Parse ``["key=value", ...]`` from the command line into checked values.

    Raises:
        HyperparameterError: a malformed assignment, an unknown key or a bad value.
    """
    values: dict[str, Any] = {}
    for a in assignments:
        if "=" not in a:
            raise HyperparameterError(f"expected key=value, got {a!r}")
        key, value = a.split("=", 1)
        values[key.strip()] = value.strip()
    checked = to_dict(from_dict(cls, values))
    return {k: checked[k] for k in values}


def needs_reset(old: Any, new: Any) -> list[str]:
    """Names of the fields that differ between two configs and are not live."""
    live = {i.name: i.live for i in fields_info(old)}
    a, b = to_dict(old), to_dict(new)
    return [k for k in a if a[k] != b[k] and not live[k]]
