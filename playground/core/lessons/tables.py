"""The checks of one table of a lesson file (the lesson, a step, a compare side): each
field read, typed and bounded, every failure one :class:`LessonError` with the same prefix."""

from __future__ import annotations

import difflib
import math
from typing import Any

__all__ = ["LessonError", "MAX_TEXT_CHARS", "Table", "a_repr", "close_match"]

#: the most characters of one text field (a note's text, a question)
MAX_TEXT_CHARS = 20_000


class LessonError(ValueError):
    """A lesson file that cannot be used: one line naming the file, the step (1-based) and
    the field, and what is wrong (``lesson.toml: step 4 (run): steps must be a positive
    integer, got -5``)."""


def a_repr(value: Any) -> str:
    """``repr(value)`` cut to 60 characters (a message quotes what it got, never a page)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def close_match(word: str, valid: list[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of ``valid`` to ``word``, or ``""``."""
    near = difflib.get_close_matches(word, valid, n=1)
    return f"did you mean {near[0]!r}? " if near else ""


class Table:
    """One table of the file (the lesson, a step, a compare side) and where it is, so each
    field's check raises with the same prefix."""

    def __init__(self, where: str, table: Any, allowed: tuple[str, ...]):
        self.where = where
        if not isinstance(table, dict):
            self.fail(f"must be a table, got {a_repr(table)}")
        unknown = [k for k in table if k not in allowed and k != "kind"]
        if unknown:
            self.fail(
                f"unknown field {unknown[0]!r}; {close_match(str(unknown[0]), list(allowed))}"
                f"fields: {', '.join(allowed)}"
            )
        self.table = table

    def fail(self, message: str) -> None:
        """Raise :class:`LessonError` for this table: ``"{where}: {message}"``."""
        raise LessonError(f"{self.where}: {message}")

    def text(self, name: str, *, required: bool = False, max_chars: int = MAX_TEXT_CHARS) -> str:
        """Field ``name``: a string of at most ``max_chars`` (``""`` when absent and not
        ``required``; a required one must not be blank)."""
        value = self.table.get(name)
        if value is None:
            if required:
                self.fail(f"{name} is missing")
            return ""
        if not isinstance(value, str):
            self.fail(f"{name} must be a string, got {a_repr(value)}")
        if required and not value.strip():
            self.fail(f"{name} must not be empty")
        if len(value) > max_chars:
            self.fail(f"{name} has {len(value)} characters, more than {max_chars}")
        return value

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int:
        """Field ``name``: an integer in ``low..high`` (``default`` when absent)."""
        value = self.table.get(name, default)
        if value is None:
            self.fail(f"{name} is missing")
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            what = "a positive integer" if low == 1 else f"an integer in {low}..{high}"
            if low == 1 and isinstance(value, int) and value > high:
                what = f"a positive integer of at most {high:,}"
            self.fail(f"{name} must be {what}, got {a_repr(value)}")
        return value

    def seconds(self, name: str) -> float | None:
        """Field ``name``: seconds in (0, 3600], or ``None`` when absent."""
        value = self.table.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"{name} must be a number of seconds, got {a_repr(value)}")
        if not (math.isfinite(value) and 0 < value <= 3600):
            self.fail(f"{name} must be a number of seconds in (0, 3600], got {a_repr(value)}")
        return float(value)
