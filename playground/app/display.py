"""Whether Qt can open a window here; torch-free and Qt-free, so the command line asks it
before starting either (``python -m playground`` without a display would otherwise abort
inside Qt)."""

from __future__ import annotations

import os
import sys

__all__ = ["missing_display_message"]


def missing_display_message(
    environ: dict[str, str] | None = None, platform: str | None = None
) -> str | None:
    """One sentence on why Qt cannot open a window here, or None when it can (as far as
    the environment says).

    On Linux and the BSDs a window needs an X server (``DISPLAY``) or a Wayland compositor
    (``WAYLAND_DISPLAY``); without either Qt aborts while starting. ``QT_QPA_PLATFORM``
    set to anything but ``xcb`` or ``wayland`` (``offscreen``, ``vnc``, ``eglfs``) needs
    neither.

    Arguments:
        environ: the environment (default: ``os.environ``).
        platform: ``sys.platform`` (default: this one).
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if qpa == "":
        ok = x11 or wayland
    elif qpa == "xcb":
        ok = x11
    elif qpa.startswith("wayland"):
        ok = wayland
    else:
        return None
    if ok:
        return None
    if qpa == "":
        what = "neither DISPLAY nor WAYLAND_DISPLAY is set"
    else:
        needed = "DISPLAY" if qpa == "xcb" else "WAYLAND_DISPLAY"
        what = f"QT_QPA_PLATFORM={qpa} but {needed} is not set"
    return (
        f"error: no display to open the window on ({what}); start an X server "
        "(e.g. `Xvfb :99 &` and `export DISPLAY=:99`) or run without a window with "
        "QT_QPA_PLATFORM=offscreen."
    )
