"""Typed worker commands (app/commands.py) and the signal blocker (app/qt_util.py)."""

from __future__ import annotations

import dataclasses

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QSpinBox  # noqa: E402

from playground.app import commands  # noqa: E402
from playground.app.commands import Command, Play, SavePreset, SetSeed, Step  # noqa: E402
from playground.app.qt_util import signals_blocked  # noqa: E402
from playground.app.worker import TrainingWorker  # noqa: E402

COMMANDS = [
    cls
    for cls in vars(commands).values()
    if isinstance(cls, type) and issubclass(cls, Command) and cls is not Command
]


def test_commands_are_frozen_values():
    assert Step() == Step(None) != Step("critic")
    with pytest.raises(dataclasses.FrozenInstanceError):
        SetSeed(3).seed = 4
    assert "preview" not in repr(SavePreset("a.dgmpreset", b"\x89PNG" * 1000))


def test_the_worker_handles_every_command_and_refuses_anything_else(qapp):
    worker = TrainingWorker("realnvp", "moons", playing=False)
    assert set(worker._handlers) == set(COMMANDS) - {commands.Quit}
    worker.post(Play())
    with pytest.raises(TypeError, match="not a worker command"):
        worker.post("play")


def test_the_commands_before_the_first_session_are_declared_per_type():
    early = {cls.__name__ for cls in COMMANDS if not cls.needs_session}
    assert early == {
        "Play",
        "Pause",
        "SlowMotion",
        "Rebuild",
        "SetViews",
        "SetChainSettings",
        "OpenPreset",
        "StartFrom",
        "SetCheckpointBudget",
        "Quit",
    }


def test_signals_blocked_blocks_inside_and_restores_after(qtbot):
    a, b = QSpinBox(), QSpinBox()
    qtbot.addWidget(a)
    qtbot.addWidget(b)
    seen: list[int] = []
    a.valueChanged.connect(seen.append)
    b.valueChanged.connect(seen.append)
    with signals_blocked(a, b):
        a.setValue(1)
        b.setValue(2)
        assert a.signalsBlocked() and b.signalsBlocked()
    assert seen == [] and not a.signalsBlocked() and not b.signalsBlocked()
    a.setValue(3)
    assert seen == [3]


def test_signals_blocked_restores_the_previous_state_even_on_an_exception(qtbot):
    a, b = QSpinBox(), QSpinBox()
    qtbot.addWidget(a)
    qtbot.addWidget(b)
    b.blockSignals(True)  # blocked before: stays blocked
    with pytest.raises(RuntimeError), signals_blocked(a, b):
        with signals_blocked(a):  # nested blocks unwind in order
            pass
        assert a.signalsBlocked()
        raise RuntimeError("mid-update")
    assert not a.signalsBlocked() and b.signalsBlocked()


def test_garbage_is_collected_on_the_gui_thread_while_a_window_is_open(open_window):
    """While a window's worker threads run, automatic collection is off (it would free Qt
    wrappers on the training thread) and the GUI thread collects on a timer; after the last
    window shuts down, automatic collection is back."""
    import gc

    from playground.app.qt_util import GuiThreadCollector

    window = open_window("realnvp", "moons")
    assert GuiThreadCollector.active() and not gc.isenabled()
    assert window.shutdown()
    assert gc.isenabled() and not GuiThreadCollector.active()
    assert window.shutdown()  # a second shutdown (close after quit) changes nothing
    assert gc.isenabled()
