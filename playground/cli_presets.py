"""What ``train --out`` writes, for :mod:`.cli`: the preview the app draws, the notes read
as every user file is, the preset texts checked before training, and the one line that
says why a preset was not saved."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = [
    "offscreen_without_display",
    "preview",
    "read_notes",
    "check_preset_texts",
    "not_saved_reason",
    "save",
    "one_line",
]


def offscreen_without_display() -> None:
    """Qt draws offscreen when there is no display to draw on (a server, CI)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def preview(session: Any, view: str) -> bytes | None:
    """A PNG of ``view`` drawn by the app, or None (with a warning) without Qt."""
    offscreen_without_display()
    try:
        from .app.preview import render_preview

        png = render_preview(session, view)
    except Exception as e:  # no Qt, no display plugin, a view that failed to draw
        print(f"warning: saving without a preview ({type(e).__name__}: {e})", file=sys.stderr)
        return None
    if not isinstance(png, bytes) or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        print("warning: saving without a preview (the view did not give a PNG)", file=sys.stderr)
        return None
    return png


def read_notes(file: str | None) -> str | None:
    """The ``--notes`` file's text, read as every user file is (a regular UTF-8 file of at
    most 1 MiB: a FIFO or a device is refused at once, never waited on).

    Raises:
        FileRefusedError: (a ValueError) one line naming the file and why.
    """
    if file is None:
        return None
    from .core.files import FileRefusedError, read_text

    try:
        return read_text(file, "notes")
    except FileRefusedError as e:
        raise FileRefusedError(f"--notes {e}") from None


def check_preset_texts(args: argparse.Namespace) -> None:
    """Refuse, before training, a ``--title`` or ``--description`` longer than a preset
    may hold (see :mod:`.core.presets`).

    Raises:
        ValueError: naming the option and the limit.
    """
    from .core import presets

    for option, text, cap in (
        ("--title", args.title, presets.TITLE_MAX_CHARS),
        ("--description", args.description, presets.DESCRIPTION_MAX_CHARS),
    ):
        if text is not None and cap is not None and len(text) > cap:
            raise ValueError(f"{option}: {len(text)} characters, more than the {cap} allowed")


def not_saved_reason(out: str, error: BaseException) -> str:
    """Why saving the preset to ``out`` failed, in words: a path under a file names the
    file; an OSError its system message (``No space left on device``); else the error's
    own message."""
    from pathlib import Path

    path = Path(out)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"{parent} is a file, not a folder"
            break
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return one_line(f"{error.strerror or error}{where}")
    text = one_line(str(error)) or type(error).__name__
    marker = f"{path}: "  # a PresetError's "cannot save preset to PATH: why"
    return text.split(marker, 1)[1] if marker in text else text


def save(session: Any, args: argparse.Namespace, notes: str | None) -> str | None:
    """Save the trained session as a preset at ``--out``; None, or why it was not saved
    (a full disk, a path under a file, a folder that cannot be written)."""
    from safetensors import SafetensorError

    from .core.presets import save_preset

    view = args.view or session.available_views[0]
    png = preview(session, view)
    try:
        save_preset(
            session,
            args.out,
            preview=png,
            notes=notes,
            title=args.title,
            description=args.description,
            view=view,
            optimizer=not args.no_optimizer,
        )
    except (OSError, ValueError, SafetensorError) as e:  # PresetError is a ValueError
        return not_saved_reason(args.out, e)
    return None


def one_line(text: str) -> str:
    """``text`` on one line: its lines joined by ``; ``."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())
