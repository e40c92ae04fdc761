"""The app's entry point: show the window first, then build the session and train."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from . import theme
from .commands import SetCheckpointBudget
from .display import missing_display_message
from .main_window import MainWindow
from .qt_util import quiet_platform_notices
from .window_geometry import place_window, remember_geometry
from .worker_thread import exit_if_abandoned

__all__ = ["launch", "make_app", "QUIT_AFTER_ENV"]

#: benchmarks set this to ``shown`` (or ``frame``): the app prints ``shown <epoch seconds>``
#: (or ``frame <epoch seconds>``) once the window is exposed (or has drawn a snapshot), then quits
QUIT_AFTER_ENV = "PLAYGROUND_QUIT_AFTER"


def make_app(argv: list[str] | None = None) -> QApplication | None:
    """The running ``QApplication`` (or a new one), named and themed; ``None``, with one
    sentence on stderr, where there is no display to open a window on (Qt would abort).

    Arguments:
        argv: Qt's command-line arguments (default: the program name only)."""
    if QApplication.instance() is None:
        no_display = missing_display_message()
        if no_display:
            print(no_display, file=sys.stderr)
            return None
    app = QApplication.instance() or QApplication(list(argv) if argv else sys.argv[:1])
    app.setApplicationName("DGM Playground")
    theme.apply(app)
    quiet_platform_notices()
    return app


def launch(
    model: str = "realnvp",
    dataset: str = "moons",
    seed: int = 0,
    device: str = "auto",
    paused: bool = False,
    argv: list[str] | None = None,
    preset: str | None = None,
    checkpoint_mb: float | None = None,
) -> int:
    """Open the playground window and run the Qt event loop.

    The window is shown before torch is imported; the worker thread then builds the
    session and, unless ``paused``, starts training at once.

    Arguments:
        model, dataset, seed, device: the first session.
        paused: open without training.
        argv: Qt's command-line arguments (default: the program name only).
        preset: a preset folder or ``.dgmpreset`` bundle to open (paused) once the
            worker has started; the first session then starts paused too.
        checkpoint_mb: the timeline's memory budget in MiB (default: 256).

    Returns:
        The event loop's exit code; 2, with one sentence on stderr, where there is no
        display to open the window on (Qt would abort). Where closing the window had to
        abandon a worker thread that did not stop (a blocked step or read), the process
        ends here with that code (:func:`~.worker_thread.exit_if_abandoned`): Qt would
        abort it while destroying the running thread.
    """
    app = make_app(argv)
    if app is None:
        return 2
    paused = paused or preset is not None
    window = MainWindow(model, dataset, seed=seed, device=device, paused=paused)
    if checkpoint_mb is not None:
        window.post(SetCheckpointBudget(int(checkpoint_mb * 2**20)))
    place_window(window, window.settings)
    remember_geometry(window, window.settings)
    window.show()
    QTimer.singleShot(0, window.start)
    if preset is not None:  # queued: the worker opens it right after its first session
        QTimer.singleShot(0, lambda: window.presets.open_preset(str(preset)))
    app.aboutToQuit.connect(window.shutdown)
    quit_after = os.environ.get(QUIT_AFTER_ENV, "")
    if quit_after:
        _quit_when(app, window, quit_after)
    return exit_if_abandoned(app.exec())


def _quit_when(app: QApplication, window: MainWindow, event: str) -> None:
    """Poll for the window being exposed (or a first drawn frame), print the time, quit."""
    timer = QTimer(window)
    timer.setInterval(5)

    def check() -> None:
        handle = window.windowHandle()
        exposed = handle is not None and handle.isExposed()
        done = exposed if event == "shown" else exposed and sum(window.draws.values()) > 0
        if done:
            timer.stop()
            print(f"{event} {time.time():.6f}", flush=True)
            window.close()
            app.quit()

    timer.timeout.connect(check)
    timer.start()
