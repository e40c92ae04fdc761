"""The app under faults: a worker that does not stop, a view that fails to draw, choices
made faster than the worker answers, divergence messages, windows that must be freed."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from playground.app import worker_thread  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402
from playground.core.models.base import NonFiniteLossError  # noqa: E402
from playground.core.training import Session  # noqa: E402

TIMEOUT = 30_000

#: a child process: the app (``launch``) whose fourth training step blocks for an hour;
#: once the step blocks it closes the window, and prints when
BLOCKED_STEP_APP = textwrap.dedent(
    """
    import sys, threading, time
    import torch
    torch.set_num_threads(1)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from playground.core.training import Session

    blocked = threading.Event()
    original = Session.step

    def step(self, part=None):
        if self.step_count >= 3:
            blocked.set()
            time.sleep(3600)
        return original(self, part)

    Session.step = step
    from playground.app.main import launch

    app = QApplication(sys.argv[:1])

    def close_when_blocked():
        windows = [w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"]
        if blocked.is_set() and windows:
            print(f"closing {time.time()}", flush=True)
            windows[0].close()
        else:
            QTimer.singleShot(20, close_when_blocked)

    QTimer.singleShot(20, close_when_blocked)
    sys.exit(launch("realnvp", "moons"))
    """
)


def count(type_name: str) -> int:
    """How many live objects of a class named ``type_name`` the collector tracks."""
    return sum(1 for o in gc.get_objects() if type(o).__name__ == type_name)


def test_closing_while_a_step_blocks_exits_at_once_without_abort():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", BLOCKED_STEP_APP],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    ended = time.time()
    assert "Destroyed while thread" not in out.stderr, out.stderr
    assert out.returncode == 0, out.stderr
    closing = [line for line in out.stdout.splitlines() if line.startswith("closing ")]
    assert closing, out.stdout + out.stderr
    # closing waits two seconds for the worker, then the process ends at once
    assert ended - float(closing[0].split()[1]) < 15


def test_a_normal_close_joins_the_worker_without_abandoning_it(qtbot, open_window):
    window = open_window(paused=False)
    qtbot.waitUntil(lambda: window.worker.session.step_count > 5, timeout=TIMEOUT)
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < worker_thread.STOP_TIMEOUT_MS / 1000
    assert window.worker_thread.thread.isFinished() and not window.worker_thread.abandoned
    assert not window.worker._snapshotter.is_alive()
    assert window.worker_thread not in worker_thread.abandoned()


def test_a_view_that_fails_to_draw_shows_a_banner_and_training_goes_on(
    qtbot, open_window, monkeypatch
):
    from playground.app.views.density import DensityView

    def overflow(self, snapshot):
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(DensityView, "show_snapshot", overflow)
    window = open_window(paused=False)
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT)
    text = window.banner.text()
    assert window.views["density"].title in text and "OverflowError" in text
    assert "\n" not in text
    at_banner = window.worker.session.step_count
    qtbot.waitUntil(lambda: window.worker.session.step_count > at_banner + 20, timeout=TIMEOUT)
    assert window.worker.playing and window.frame.playing


def test_a_model_then_a_dataset_chosen_at_once_train_together(qtbot, open_window, tmp_path):
    window = open_window("realnvp", "8gaussians", paused=False)
    # replacing the trained session asks (yes here) and keeps a copy: in tmp_path
    window.confirm = lambda question: True
    window.presets.guard.folder = tmp_path
    window.settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    qtbot.waitUntil(lambda: window.worker.session.step_count > 5, timeout=TIMEOUT)
    panel = window.session_panel
    panel.model.setCurrentIndex(panel.model.findData("glow"))
    panel.model.activated.emit(panel.model.currentIndex())
    # the user's choice is shown at once: glow's datasets, before the worker answers
    names = [panel.dataset.itemData(i) for i in range(panel.dataset.count())]
    assert names == panel.datasets_for("glow")
    assert panel.model.currentData() == "glow"
    panel.dataset.setCurrentIndex(panel.dataset.findData("moons"))
    panel.dataset.activated.emit(panel.dataset.currentIndex())
    qtbot.waitUntil(
        lambda: (window.info.model, window.info.dataset) == ("glow", "moons"), timeout=TIMEOUT
    )
    qtbot.wait(300)
    session = window.worker.session
    assert (session.model_name, session.dataset_name) == ("glow", "moons")
    assert (panel.model.currentData(), panel.dataset.currentData()) == ("glow", "moons")
    assert window.choice.chosen is None


def test_the_dataset_list_after_a_model_choice_is_that_models(qtbot, open_window):
    window = open_window("realnvp", "U1")
    panel = window.session_panel
    assert "U1" in panel.datasets_for("realnvp") and "U1" not in panel.datasets_for("gan")
    panel.model.setCurrentIndex(panel.model.findData("gan"))
    panel.model.activated.emit(panel.model.currentIndex())
    names = [panel.dataset.itemData(i) for i in range(panel.dataset.count())]
    assert names == panel.datasets_for("gan")
    assert panel.dataset.currentData() == names[0]  # U1 is not one of them
    qtbot.waitUntil(lambda: window.info.model == "gan", timeout=TIMEOUT)
    assert window.info.dataset == names[0]


def test_the_divergence_banner_shows_the_errors_own_message(qtbot, open_window, monkeypatch):
    class Diverging(NonFiniteLossError):
        def _message(self) -> str:
            return f"loss_g diverged at step {self.step}: it grew to {self.value:g}"

    original = Session.step

    def step(self, part=None):
        if self.step_count >= 4:
            raise Diverging("loss_g", 1e9, self.step_count + 1)
        return original(self, part)

    monkeypatch.setattr(Session, "step", step)
    window = open_window(paused=False)
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT)
    text = window.banner.text()
    assert "loss_g diverged at step 5: it grew to 1e+09" in text
    assert "non-finite" not in text and "'loss'" not in text
    assert not window.worker.playing


def test_closed_main_windows_are_freed(qtbot):
    qtbot.wait(10)  # earlier tests' windows: deleted and collected first
    gc.collect()
    before = {name: count(name) for name in ("MainWindow", "TrainingWorker", "Session")}
    for _ in range(2):  # a leak of one window per cycle shows as +2; each cycle costs ~2 s
        window = MainWindow("realnvp", "moons", paused=False)
        try:
            window.show()
            window.start()
            qtbot.waitUntil(lambda w=window: w.frame is not None and w.step > 2, timeout=TIMEOUT)
        finally:
            window.close()
        assert window.worker_thread.thread.isFinished()
        del window
        qtbot.wait(10)  # the closed window is deleted (WA_DeleteOnClose)
    gc.collect()
    after = {name: count(name) for name in before}
    assert all(after[name] <= before[name] for name in before), (before, after)
