"""Test setup: Qt runs offscreen (no display needed), torch on one thread per test thread."""

import gc
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

# the models under test are tiny: one intra-op thread is as fast as two, and on a loaded
# 2-core machine two threads per process stall each other (tests then take minutes)
torch.set_num_threads(1)

#: how long a GUI test waits for the worker (ms): generous, for a loaded machine
WINDOW_TIMEOUT_MS = 30_000


def pytest_runtest_setup(item: pytest.Item) -> None:
    """At the first test of each module: collect, then freeze what survives (gc.freeze).

    The imported modules (torch, Qt, pyqtgraph, the catalog: ~250k objects) live for the whole
    run, yet every full collection walks them again: ~0.2 s each, and an open window collects
    fully every few seconds (``GuiThreadCollector``, the ``open_window`` teardown), about 15%
    of a GUI test's CPU. Frozen, they are skipped; objects a test makes are collected as before.
    """
    module = item.nodeid.partition("::")[0]
    if module != _frozen_at.get("module"):
        _frozen_at["module"] = module
        gc.collect()
        gc.freeze()


#: the test module at whose start the survivors were last frozen
_frozen_at: dict[str, str] = {}


@pytest.fixture
def open_window(qtbot):
    """Open app windows (paused by default); stop and join every worker at teardown.

    A test module may override the defaults by redefining this fixture on top of it.
    """
    from playground.app.main_window import MainWindow

    windows: list[MainWindow] = []

    def open_(model: str = "realnvp", dataset: str = "8gaussians", paused: bool = True):
        window = MainWindow(model, dataset, paused=paused)
        qtbot.addWidget(window)
        window.resize(1000, 700)
        window.show()
        window.start()
        windows.append(window)
        qtbot.waitUntil(
            lambda: window.frame is not None and window.info is not None,
            timeout=WINDOW_TIMEOUT_MS,
        )
        return window

    yield open_
    # a QThread left running aborts the whole pytest process
    for window in windows:
        assert window.shutdown()
        assert window.worker_thread.thread.isFinished()
    # collect the closed windows now, with no thread running: left to a later, random
    # collection inside some paint event, their Qt objects of finished threads crashed the run
    windows.clear()
    gc.collect()


@pytest.fixture
def private_settings(tmp_path):
    """Recent presets and sessions go to an INI file under ``tmp_path``, never the user's
    settings (a test module makes it autouse through a fixture of its own)."""
    from PySide6.QtCore import QSettings

    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder
