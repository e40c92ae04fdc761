"""Reading what a user types, without torch: a dataset spec ``NAME[:KEY=VALUE,...]``, its
option values, and the "did you mean" of a misspelt name. The data layer builds datasets
from it; the command line checks names with it before torch is imported."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

__all__ = ["did_you_mean", "option_value", "parse_dataset_spec"]


def did_you_mean(name: str, valid: list[str]) -> str:
    """``"did you mean X? "`` for the closest of ``valid`` (difflib, case-insensitive), or
    an empty string when none is close."""
    lowered = {v.lower(): v for v in valid}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=2, cutoff=0.6)
    if not close:
        return ""
    return f"did you mean {' or '.join(lowered[c] for c in close)}? "


def option_value(kind: type, text: Any) -> Any:
    """Parse one dataset option from text (``true``/``false``, ``yes``/``no``, ``1``/``0``
    for booleans; ``kind(text)`` otherwise).

    Raises:
        ValueError: the text does not parse.
    """
    if kind is bool and isinstance(text, str):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, not {text!r}")
    return kind(text)


def parse_dataset_spec(
    spec: str,
    options_of: Mapping[str, Mapping[str, type]],
    error: type[Exception] = ValueError,
) -> tuple[str, dict[str, Any]]:
    """Split a dataset spec ``NAME[:KEY=VALUE[,KEY=VALUE...]]`` into name and options.

    Examples: ``moons``, ``digits:binarize=true``, ``shapes:size=20``,
    ``folder:path=~/faces,size=16``. For a dataset with a ``path`` option a bare value is
    the path (``folder:~/faces``). Option values are parsed to the declared type.

    Arguments:
        spec: what the user typed.
        options_of: dataset name to its declared options (name to type).
        error: the exception class raised.

    Raises:
        error: an unknown name (with a suggestion), an option the dataset does not have,
            or a value that does not parse.
    """
    name, _, rest = spec.partition(":")
    name = name.strip()
    if name not in options_of:
        valid = list(options_of)
        raise error(
            f"unknown dataset {name!r}; {did_you_mean(name, valid)}valid names: {', '.join(valid)}"
        )
    declared = options_of[name]
    options: dict[str, Any] = {}
    if rest:
        items = [rest] if ("=" not in rest and "path" in declared) else rest.split(",")
        for item in items:
            key, eq, value = item.partition("=")
            if not eq:
                key, value = ("path", item) if "path" in declared else (item, "")
            key = key.strip()
            if key not in declared:
                have = ", ".join(declared) or "none"
                raise error(
                    f"dataset {name!r} has no option {key!r}; "
                    f"{did_you_mean(key, list(declared))}its options: {have}"
                )
            try:
                options[key] = option_value(declared[key], value.strip())
            except ValueError as e:
                raise error(f"dataset option {name}:{key}: {e}") from None
    return name, options
