"""What a preset's ``config.json`` and ``history.json`` may hold, checked after
:mod:`.files` has read them within their size and depth caps: the schema version, a model
that is a registered name, counters in range, texts within their lengths, and a history of
at most so many ``[step, value]`` points. Every refusal is a one-line :class:`PresetError`
naming the file."""

from __future__ import annotations

import math
from typing import Any

from .models import MODELS
from .preset_files import PresetError, one_line, parse_json
from .training.history import History

__all__ = [
    "SCHEMA_VERSION",
    "HISTORY_MAX_POINTS",
    "HISTORY_MAX_LOADED_POINTS",
    "HISTORY_MAX_TOTAL_POINTS",
    "HISTORY_MAX_CURVES",
    "MAX_STEPS",
    "SEED_RANGE",
    "TITLE_MAX_CHARS",
    "DESCRIPTION_MAX_CHARS",
    "NAME_MAX_CHARS",
    "DATASET_MAX_CHARS",
    "PNG_SIGNATURE",
    "PREVIEW_MAX_PIXELS",
    "check_preview",
    "check_config",
    "check_model",
    "check_history",
]

#: bumped whenever the layout of ``config.json`` changes incompatibly
SCHEMA_VERSION = 1

#: each metric curve is saved averaged down to at most this many points (a small preset)
HISTORY_MAX_POINTS = 2000
#: a loaded history may hold at most this many points a curve (ten times what is saved),
#: this many curves, and this many points in all (checked before it is parsed)
HISTORY_MAX_LOADED_POINTS = 10 * HISTORY_MAX_POINTS
HISTORY_MAX_CURVES = 100
HISTORY_MAX_TOTAL_POINTS = 200_000
#: the step counts a preset may name (its own and its history's), both ends included
MAX_STEPS = 10**12
#: the seeds a preset may name, both ends included: a signed 64-bit integer (torch's seeds)
SEED_RANGE = (-(2**63), 2**63 - 1)
#: the longest title and description a preset may have (the gallery shows them): longer
#: ones are refused, on saving and on reading
TITLE_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 2000
#: the longest model, family, view and curve names, and dataset spec (a folder: path)
NAME_MAX_CHARS = 100
DATASET_MAX_CHARS = 4096
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the largest preview a preset may hold, in pixels (its header is checked before any
#: decoder sees it: a small PNG may claim 13000 x 13000 pixels, 676 MB decoded)
PREVIEW_MAX_PIXELS = 4096 * 4096


def _short(value: Any, n: int = 60) -> str:
    """``value`` on one line, cut to about ``n`` characters (a hostile value may be a
    megabyte long, or an integer of thousands of digits)."""
    if _is_int(value) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    text = one_line(repr(value))
    return text if len(text) <= n else text[: n - 3] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_config(cfg: Any, where: str) -> dict[str, Any]:
    """A config.json's content, checked: a dict of the known schema version whose model
    is a registered name (nothing is ever imported), whose fields have their types, whose
    step count lies in ``0..MAX_STEPS`` and seed in :data:`SEED_RANGE`, and whose texts
    are no longer than their caps.

    Raises:
        PresetError: naming ``where`` and the problem.
    """
    if not isinstance(cfg, dict) or cfg.get("schema_version") != SCHEMA_VERSION:
        version = cfg.get("schema_version") if isinstance(cfg, dict) else None
        raise PresetError(
            f"{where}: unknown schema version {_short(version)} "
            f"(this playground reads {SCHEMA_VERSION})"
        )
    for key, cap in (("model", NAME_MAX_CHARS), ("dataset", DATASET_MAX_CHARS)):
        if key not in cfg:
            raise PresetError(f"{where}: missing field '{key}'")
        if not isinstance(cfg[key], str):
            raise PresetError(f"{where}: field '{key}' is not a name: {_short(cfg[key])}")
        if len(cfg[key]) > cap:
            raise PresetError(
                f"{where}: field '{key}' is {len(cfg[key])} characters, more than {cap}"
            )
    if not isinstance(cfg.get("hyperparameters", {}), dict):
        raise PresetError(f"{where}: field 'hyperparameters' is not an object")
    for key, (low, high) in (("steps", (0, MAX_STEPS)), ("seed", SEED_RANGE)):
        value = cfg.get(key, 0)
        if not _is_int(value):
            raise PresetError(f"{where}: field '{key}' is not an integer: {_short(value)}")
        if not low <= value <= high:
            raise PresetError(f"{where}: field '{key}' is {_short(value)}, outside {low}..{high}")
    for key, cap in (
        ("title", TITLE_MAX_CHARS),
        ("description", DESCRIPTION_MAX_CHARS),
        ("family", NAME_MAX_CHARS),
    ):
        value = cfg.get(key, "")
        if not isinstance(value, str):
            raise PresetError(f"{where}: field '{key}' is not text: {_short(value)}")
        if len(value) > cap:
            raise PresetError(
                f"{where}: field '{key}' is {len(value)} characters, more than the {cap} "
                "a preset may have"
            )
    view = cfg.get("view")
    if view is not None and (not isinstance(view, str) or len(view) > NAME_MAX_CHARS):
        raise PresetError(f"{where}: field 'view' is not a view name: {_short(view)}")
    return cfg


def check_model(cfg: dict[str, Any], where: str) -> None:
    """Model names are looked up in the registry only: ``"os:system"`` or a module path is
    an unknown model, never an import."""
    if cfg["model"] not in MODELS:
        raise PresetError(
            f"{where}: unknown model {cfg['model']!r}; valid: {', '.join(sorted(MODELS))}"
        )


def check_history(raw: bytes, where: str) -> History:
    """A history.json's bytes as a :class:`History`, checked: before parsing, at most
    about :data:`HISTORY_MAX_TOTAL_POINTS` points (counted from its commas, so nothing
    larger is ever built); then an object of at most :data:`HISTORY_MAX_CURVES` curves,
    each a list of at most :data:`HISTORY_MAX_LOADED_POINTS` ``[step, value]`` pairs whose
    step is an integer in ``0..MAX_STEPS`` and whose value is a number or null.

    Raises:
        PresetError: naming ``where`` and the problem.
    """
    if raw.count(b",") > 2 * HISTORY_MAX_TOTAL_POINTS + HISTORY_MAX_CURVES:
        raise PresetError(
            f"{where}: more than {HISTORY_MAX_TOTAL_POINTS} points (a preset saves at most "
            f"{HISTORY_MAX_POINTS} a curve)"
        )
    data = parse_json(raw, where)
    if not isinstance(data, dict):
        raise PresetError(
            f"{where}: not a metric history (a JSON {type(data).__name__}, not an object of curves)"
        )
    if len(data) > HISTORY_MAX_CURVES:
        raise PresetError(
            f"{where}: {len(data)} curves, more than the {HISTORY_MAX_CURVES} a preset may hold"
        )
    history = History()
    for name, pairs in data.items():
        if len(name) > NAME_MAX_CHARS:
            raise PresetError(f"{where}: a curve name of {len(name)} characters")
        if not isinstance(pairs, list):
            raise PresetError(
                f"{where}: not a metric history (curve {name!r} is not a list of points)"
            )
        if len(pairs) > HISTORY_MAX_LOADED_POINTS:
            raise PresetError(
                f"{where}: curve {name!r} has {len(pairs)} points, more than the "
                f"{HISTORY_MAX_LOADED_POINTS} a preset may hold (it saves {HISTORY_MAX_POINTS})"
            )
        for i, pair in enumerate(pairs):
            if not isinstance(pair, list) or len(pair) != 2:
                raise PresetError(
                    f"{where}: not a metric history (curve {name!r}, point {i} is "
                    f"{_short(pair)}, not [step, value])"
                )
            step, value = pair
            if not _is_int(step) or not 0 <= step <= MAX_STEPS:
                raise PresetError(
                    f"{where}: curve {name!r}, point {i}: step {_short(step)} is not a step "
                    f"count in 0..{MAX_STEPS}"
                )
            if value is None:
                value = math.nan
            elif _is_int(value) or isinstance(value, float):
                try:
                    value = float(value)
                except OverflowError:
                    value = math.inf
            else:
                raise PresetError(
                    f"{where}: curve {name!r}, point {i}: value {_short(value)} is not a number"
                )
            history.record(step, {name: value})
    return history


def check_preview(data: bytes, where: str) -> bytes:
    """A ``preview.png``'s bytes, checked without decoding them: the PNG signature, then
    the width and height its ``IHDR`` chunk states (bytes 16 to 24, big-endian; PNG
    specification, section 11.2.2), at most :data:`PREVIEW_MAX_PIXELS` in all.

    Raises:
        PresetError: naming ``where``: not a PNG, or larger than the cap.
    """
    if data[:8] != PNG_SIGNATURE or len(data) < 24 or data[12:16] != b"IHDR":
        raise PresetError(f"{where}: not a PNG image")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if width * height > PREVIEW_MAX_PIXELS:
        raise PresetError(
            f"{where}: a preview of {width} x {height} pixels, more than the "
            f"{PREVIEW_MAX_PIXELS} a preset may show"
        )
    return data
