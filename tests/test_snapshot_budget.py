"""No picture or evaluation holds training or a view hostage: budgets, previews, progress,
cancellation, evaluation beside training, and the status line that says what is shown."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
import torch

from playground.core.sampling.budget import Budget, Cancelled, current, working
from playground.core.snapshots import take_snapshot
from playground.core.training import Session

TIMEOUT = 60_000


def test_the_full_budget_changes_nothing_and_a_quick_one_notes_its_cuts():
    assert not current().quick
    assert current().particles(1000, 250) == 1000 and current().steps(150, "steps", 15) == 150
    quick = Budget(quick=True)
    with working(quick):
        assert current() is quick
        assert quick.particles(1000, 250) == 250
        assert quick.steps(150, "Langevin steps per level", 15) == 20  # 300 steps in all
        assert quick.steps(200, "Langevin steps") == 200  # short enough: whole
    assert not current().quick
    assert quick.notes == ["250 of 1,000 particles", "20 of 150 Langevin steps per level"]


def test_progress_reports_and_stops_a_picture_no_longer_wanted():
    said: list[str] = []
    stop = threading.Event()
    budget = Budget(report=said.append, cancelled=stop.is_set)
    budget.progress("annealed Langevin, level 3 of 15, step", 40, 150)
    assert said == ["annealed Langevin, level 3 of 15, step 40 of 150"]
    stop.set()
    with pytest.raises(Cancelled):
        budget.progress("x", 1, 2)


@pytest.fixture(scope="module")
def ncsn():
    session = Session("ncsn", "gmm82", seed=0)
    session.run(5)
    return session


@pytest.mark.slow  # full NCSN sampling: 1,000 particles x 2,250 steps
def test_a_quick_ncsn_picture_is_a_labelled_preview_and_the_full_one_is_not(ncsn):
    context = ncsn.snapshot_context()
    said: list[str] = []
    with working(Budget(quick=True, report=said.append)):
        quick = take_snapshot(context, ["samples", "curves"], ncsn.step_count)
    assert quick.samples.model.shape == (250, 2)
    assert "250 of 1,000 particles" in quick.previews["samples"]
    assert "Langevin steps per level" in quick.previews["samples"]
    assert "curves" not in quick.previews
    assert any(s.startswith("annealed Langevin, level 15 of 15") for s in said)
    full = take_snapshot(context, ["samples"], ncsn.step_count)
    assert full.samples.model.shape == (1000, 2) and not full.previews
    # previews travel with the snapshot and are dropped for a replaced part
    assert quick.with_parts(samples=full.samples).previews == {}


def test_a_cancelled_sampler_stops_at_its_next_report(ncsn):
    stop = threading.Event()
    calls = []

    def report(text: str) -> None:
        calls.append(text)
        if len(calls) == 3:
            stop.set()

    start = time.perf_counter()
    with working(Budget(report=report, cancelled=stop.is_set)), pytest.raises(Cancelled):
        ncsn.model.sample(1000, torch.Generator().manual_seed(0))
    assert len(calls) == 3 and time.perf_counter() - start < 5.0


def test_cheap_pictures_are_never_previews():
    session = Session("realnvp", "8gaussians", seed=0)
    with working(Budget(quick=True)):
        snap = session.snapshot(["samples", "modes", "density"])
    assert snap.samples.model.shape == (1000, 2) and not snap.previews


def test_a_frozen_copy_evaluates_like_the_session():
    session = Session("realnvp", "moons", seed=3)
    session.run(20)
    frozen = session.frozen_copy()
    assert frozen.evaluate(500) == pytest.approx(session.evaluate(500, record=False))
    before = len(session.history.names())
    session.record_evaluation(7, frozen.evaluate(500))
    assert len(session.history.names()) > before


# ---------------------------------------------------------------------------- in the app
pytest.importorskip("pytestqt")


def show(qtbot, window, name: str) -> None:
    drawn = window.draws[name]
    window.tabs.setCurrentIndex(window.tab_names.index(name))
    qtbot.waitUntil(lambda: window.draws[name] > drawn, timeout=TIMEOUT)


@pytest.mark.slow  # full NCSN sampling: 1,000 particles x 2,250 steps
def test_paused_a_preview_comes_first_then_the_full_picture(qtbot, open_window):
    from playground.app.commands import Reset

    window = open_window("ncsn", "gmm82")
    qtbot.waitUntil(lambda: window.visible_view == "samples", timeout=TIMEOUT)
    generation = window.worker.generation
    drawn: list[tuple[dict, int, str]] = []

    def record(_step: int) -> None:
        if window.frame.generation > generation:
            points = len(window.views["samples"].model.getData()[0])
            drawn.append((dict(window.frame.snapshot.previews), points, window.view_status.text()))

    window.frame_drawn.connect(record)
    window.post(Reset())  # a fresh start, recorded from its first picture
    qtbot.waitUntil(lambda: bool(drawn), timeout=TIMEOUT)
    assert window.visible_view == "samples"
    # the first picture is a preview (a full one takes seconds), and the status line says so
    previews, points, status = drawn[0]
    assert "samples" in previews and points == 250
    assert "picture of step 0" in status and "preview" in status
    qtbot.waitUntil(lambda: not window.frame.snapshot.previews, timeout=TIMEOUT)
    assert len(window.views["samples"].model.getData()[0]) == 1000
    assert "preview" not in window.view_status.text()
    # the full picture is kept: shown again while paused, it is drawn at once, in full
    show(qtbot, window, "score_field")
    start = time.perf_counter()
    show(qtbot, window, "samples")
    assert not window.frame.snapshot.previews and time.perf_counter() - start < 2.0


def test_training_goes_on_while_a_slow_evaluation_runs(qtbot, open_window, monkeypatch):
    from playground.app.commands import Play
    from playground.core.training.frozen import FrozenSession

    real = FrozenSession.evaluate
    during: list[int] = []

    def slow(self, n):
        if during:  # the first evaluation only: closing the window need not wait out another
            return real(self, n)
        worker = window.worker
        start = worker.session.step_count
        time.sleep(1.5)
        during.append(worker.session.step_count - start)
        return real(self, n)

    monkeypatch.setattr(FrozenSession, "evaluate", slow)
    window = open_window("realnvp", "moons")
    window.worker.pacing.eval_seconds = 0.5
    window.worker.pacing.next_evaluation = 0.0
    window.post(Play())
    qtbot.waitUntil(lambda: len(during) >= 1, timeout=TIMEOUT)
    assert during[0] > 10  # steps taken while the evaluation slept
    history = window.worker.session.history
    qtbot.waitUntil(lambda: "heldout_nll" in history.names(), timeout=TIMEOUT)


def test_the_counters_move_while_a_costly_picture_is_computed(qtbot, open_window, monkeypatch):
    from playground.app.commands import Play
    from playground.core.snapshots import PICTURES, samples

    real = samples.picture

    def slow(ctx):
        for i in range(30):
            current().progress("slow sampler, step", i, 30)
            time.sleep(0.1)
        return real(ctx)

    monkeypatch.setitem(PICTURES, "samples", dataclasses.replace(PICTURES["samples"], build=slow))
    window = open_window("realnvp", "moons")
    window.tabs.setCurrentIndex(window.tab_names.index("samples"))
    window.post(Play())
    qtbot.waitUntil(
        lambda: "computing samples: slow sampler" in window.view_status.text(), timeout=TIMEOUT
    )
    first = window.step_label.text()
    qtbot.waitUntil(lambda: window.step_label.text() != first, timeout=TIMEOUT)
    # another tab: the slow picture is stopped, the new one draws
    show(qtbot, window, "density")


def test_lr_one_on_the_default_flow_pauses_with_a_message_not_blank_views(qtbot, open_window):
    from playground.app.commands import Play, SetHyperparameters

    window = open_window("realnvp", "moons")
    qtbot.waitUntil(lambda: window.draws["density"] >= 1, timeout=TIMEOUT)
    window.post(SetHyperparameters({"lr": 1.0}, False))
    window.post(Play())
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=TIMEOUT)
    assert "Training paused" in window.banner.text() and "diverging" in window.banner.text()
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=TIMEOUT)
    # the density view still shows a picture, stamped with its step
    assert window.visible_view == "density" and window.draws["density"] >= 1
    assert "Density: picture of step" in window.view_status.text()
