"""The Compare window: the current session beside a model or a preset, one menu bar, a
window that fits the screen, and lock-step play that keeps both sides at one step."""

from __future__ import annotations

import gc
import time
import weakref
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

import torch  # noqa: E402
from PySide6.QtCore import QRect  # noqa: E402

from playground.app.commands import PlayUntil, SetHyperparameters, Step  # noqa: E402
from playground.app.compare import CompareWindow, Side  # noqa: E402
from playground.app.compare_dialog import CompareDialog, compare_options  # noqa: E402
from playground.app.lockstep import LockStep  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402
from playground.core.presets import SHIPPED_PRESETS  # noqa: E402

TIMEOUT = 30_000
SMALL = {"hidden": 32, "batch_size": 64}


def counts(compare: CompareWindow) -> list[int]:
    return [p.worker.session.step_count for p in compare.panes]


# ------------------------------------------------------------------ the schedule
def test_lockstep_targets_wait_for_the_slower_side_and_follow_its_speed():
    schedule = LockStep(round_seconds=0.1, max_increment=50)
    assert schedule.next_target([10, 0], now=0.0) == 1  # the side behind catches up first
    assert schedule.next_target([10, 0], now=0.05) is None  # still training to 1
    # the slower side made 1 step in 0.01 s: 10 steps in a round, but at most doubling
    assert schedule.next_target([10, 1], now=0.01) == 3
    assert schedule.increment == 2
    t, now = 3, 0.01
    for _ in range(10):  # the slower side trains 100 steps/s: 10 steps a round
        now += schedule.increment / 100
        t = schedule.next_target([t, t], now)
    assert schedule.increment == 10 and schedule.largest_increment == 10
    schedule.restart()
    assert schedule.target is None and schedule.increment == 1


def test_play_until_trains_to_the_step_then_stays_paused(qtbot, open_window):
    window = open_window("gan", "ring8")
    worker = window.worker
    worker.post(SetHyperparameters(SMALL, True))
    worker.post(PlayUntil(40))
    qtbot.waitUntil(lambda: worker.session.step_count >= 40, timeout=TIMEOUT)
    qtbot.wait(300)
    assert worker.session.step_count == 40 and not worker.playing
    qtbot.waitUntil(lambda: window.step == 40, timeout=TIMEOUT)  # the picture of step 40
    window.transport.play.click()  # playing on its own: a target below stops it there
    qtbot.waitUntil(lambda: worker.playing, timeout=TIMEOUT)
    worker.post(PlayUntil(0))
    qtbot.waitUntil(lambda: not window.transport.play.isChecked(), timeout=TIMEOUT)
    steps = worker.session.step_count
    qtbot.wait(300)
    assert worker.session.step_count == steps


# ------------------------------------------------------------------ the window
def test_compare_window_plays_pauses_and_steps_both(qtbot, tmp_path):
    compare = CompareWindow(("gan", "ring8", SMALL), ("wgan-gp", "ring8", SMALL), pane=MainWindow)
    qtbot.addWidget(compare)
    compare.resize(1800, 800)
    compare.show()
    compare.start()
    try:
        left, right = compare.panes
        qtbot.waitUntil(
            lambda: all(p.frame is not None and p.info is not None for p in compare.panes),
            timeout=TIMEOUT,
        )
        # the hyperparameters reached both sessions
        qtbot.waitUntil(
            lambda: all(p.worker.session.config.hidden == 32 for p in compare.panes),
            timeout=TIMEOUT,
        )
        assert [p.info.model for p in compare.panes] == ["gan", "wgan-gp"]
        # a view chosen on one side is shown on the other
        left.tabs.setCurrentIndex(left.tab_names.index("critic"))
        assert right.visible_view == "critic"
        for lockstep in (True, False):
            compare.lockstep_action.setChecked(lockstep)
            begin = min(counts(compare))
            compare.play.click()
            qtbot.waitUntil(lambda b=begin: min(counts(compare)) >= b + 5, timeout=TIMEOUT)
            qtbot.waitUntil(lambda: left.step >= 5 and right.step >= 5, timeout=TIMEOUT)
            assert compare.play.text() == "Pause both"
            assert compare.playing == [True, True]
            compare.play.click()
            qtbot.waitUntil(lambda: compare.playing == [False, False], timeout=TIMEOUT)
            assert compare.play.text() == "Play both" and "paused" in compare.state.text()
            steps = counts(compare)
            qtbot.wait(300)
            assert counts(compare) == steps
        compare.step.click()
        qtbot.waitUntil(lambda: counts(compare) == [c + 1 for c in steps], timeout=TIMEOUT)
        compare.grab().save(str(tmp_path / "compare.png"))
    finally:
        assert compare.shutdown()
    assert all(p.worker_thread.thread.isFinished() for p in compare.panes)


def test_lockstep_keeps_both_sides_within_one_increment(qtbot):
    # a WGAN-GP step is five critic updates: free, the GAN beside it runs several times faster
    compare = CompareWindow(("gan", "ring8", SMALL), ("wgan-gp", "ring8", SMALL), pane=MainWindow)
    qtbot.addWidget(compare)
    compare.resize(1400, 700)
    compare.show()
    compare.start()
    try:
        qtbot.waitUntil(
            lambda: all(p.frame is not None and p.info is not None for p in compare.panes),
            timeout=TIMEOUT,
        )
        qtbot.waitUntil(
            lambda: all(p.worker.session.config.hidden == 32 for p in compare.panes),
            timeout=TIMEOUT,
        )
        assert compare.lockstep  # on by default
        compare.play.click()
        # watched for 1.5 s at least, and until each side has 10 steps (on a loaded machine,
        # longer): every gap on the way stays within the largest increment
        gaps, start = [], time.perf_counter()
        while time.perf_counter() < start + 1.5 or min(counts(compare)) < 10:
            assert time.perf_counter() < start + TIMEOUT / 1000, counts(compare)
            qtbot.wait(40)
            left, right = counts(compare)
            gaps.append(abs(left - right))
            assert gaps[-1] <= compare.schedule.largest_increment
        assert min(counts(compare)) >= 10
        assert "step" in compare.state.text() and "lock-step" in compare.state.text()
        compare.play.click()
        qtbot.waitUntil(lambda: compare.playing == [False, False], timeout=TIMEOUT)
        left, right = counts(compare)
        assert left == right  # both stopped at the last target
        # both pictures show that step
        qtbot.waitUntil(lambda: [p.step for p in compare.panes] == [left, left], timeout=TIMEOUT)
    finally:
        assert compare.shutdown()


def test_compare_window_needs_one_dataset(qapp):
    with pytest.raises(ValueError, match="one dataset"):
        CompareWindow(("gan", "ring8"), ("wgan-gp", "grid25"), pane=MainWindow)
    with pytest.raises(ValueError, match="wgan-gp-grid25.*grid25"):
        CompareWindow(
            ("gan", "ring8"), Side.of_preset(SHIPPED_PRESETS / "wgan-gp-grid25"), pane=MainWindow
        )


def test_the_window_fits_the_screen_with_one_menu_bar(qtbot):
    compare = CompareWindow(("gan", "ring8"), ("wgan-gp", "ring8"), pane=MainWindow)
    qtbot.addWidget(compare)
    compare.show()
    # one window (two panes: ~2 s to build) fitted to each screen in turn, which also checks
    # that a window folded for a small screen unfolds again on a large one
    for width, height, folded in [(1366, 768, True), (1920, 1080, False), (1024, 768, True)]:
        screen = QRect(0, 0, width, height)
        arrangement = compare.fit_screen(screen)
        qtbot.wait(50)
        assert screen.contains(compare.frameGeometry()), (width, height)
        assert compare.size().width() <= width and compare.size().height() <= height
        assert ("folded" in arrangement) == folded, (width, height)
        assert all(p.side_panel.isVisible() != folded for p in compare.panes)
        assert compare.side_panels_action.isChecked() != folded
        # each pane's pictures get room: at least 400 px wide
        assert all(p.tabs.width() >= 400 for p in compare.panes), (width, height)
    # one menu bar: the window's, with File > Close (Ctrl+W)
    assert compare.menuBar().isVisible()
    assert not any(p.menuBar().isVisible() for p in compare.panes)
    assert compare.close_action.shortcut().toString() == "Ctrl+W"
    compare.stack_action.setChecked(True)
    assert compare.splitter.orientation().name == "Vertical"
    compare.close_action.trigger()
    assert not compare.isVisible()


# ------------------------------------------------------------------ from the main window
def weights(session) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in session.model.state_dict().items()}


def test_the_left_side_is_the_current_session(qtbot, open_window, tmp_path):
    window = open_window("gan", "ring8")
    window.post(SetHyperparameters({**SMALL, "lr_generator": 7e-4}, True))
    for _ in range(6):
        window.post(Step())
    qtbot.waitUntil(lambda: window.worker.session.step_count == 6, timeout=TIMEOUT)
    main = window.worker.session
    compare = window.presets.compare_with("wgan-gp")
    folder = compare.folder
    left, right = compare.panes
    qtbot.waitUntil(lambda: left.presets.preset is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: right.info is not None and left.frame is not None, timeout=TIMEOUT)
    assert not window.worker.playing  # the session goes on in the compare window
    session = left.worker.session
    assert session.step_count == 6 and left.info.model == "gan"
    assert session.config.lr_generator == 7e-4 and session.config.hidden == 32
    assert all(torch.equal(v, weights(main)[k]) for k, v in weights(session).items())
    for name, opt in main.model.optimizers.items():  # Adam's moments carry over
        state = opt.state_dict()["state"]
        copied = session.model.optimizers[name].state_dict()["state"]
        assert state and all(torch.equal(state[0][k], copied[0][k]) for k in state[0])
    assert session.history.to_json() == main.history.to_json()  # the curves carry over
    assert right.info.model == "wgan-gp" and right.worker.session.step_count == 0
    assert str(folder) not in " ".join(window.presets.recent_presets())
    compare.close()
    assert not folder.exists()


def test_compare_with_a_preset_on_the_same_dataset(qtbot, open_window):
    window = open_window("gan", "ring8")
    options = compare_options("ring8", window.worker.catalog["trainable"])
    assert {"gan", "wgan-gp"} <= set(options)
    names = [Path(o).name for o in options if "/" in o]
    assert names == ["gan-ring8", "gan-ring8-pack4"]
    dialog = CompareDialog("gan", "ring8", options)
    qtbot.addWidget(dialog)
    texts = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert any(t.startswith("gan-ring8-pack4") and "step" in t for t in texts)

    # a preset that trained on other data: a clear message, no window
    window.choose_compare_model = lambda options: str(SHIPPED_PRESETS / "wgan-gp-grid25")
    window.presets.compare_chosen()
    assert window.presets.tool_windows == []
    assert "grid25" in window.banner.text() and "ring8" in window.banner.text()

    # the notes of gan-ring8 say "compare with gan-ring8-pack4"
    window.choose_compare_model = lambda options: next(o for o in options if "pack4" in o)
    window.presets.compare_chosen()
    (compare,) = window.presets.tool_windows
    right = compare.panes[1]
    qtbot.waitUntil(lambda: right.presets.preset is not None, timeout=TIMEOUT)
    assert right.worker.session.config.pack == 4
    assert right.worker.session.step_count == right.presets.preset.steps > 0
    assert "gan-ring8-pack4" in compare.windowTitle()
    compare.close()


def test_a_closed_compare_window_is_forgotten_and_deleted(qtbot, open_window):
    window = open_window("realnvp", "moons")
    compare = window.presets.compare_with("maf")
    destroyed: list[object] = []
    compare.destroyed.connect(lambda *_: destroyed.append(True))
    panes = list(compare.panes)
    # the left pane has opened the copy of the session (a close mid-load may take longer)
    qtbot.waitUntil(lambda: not compare.both.waiting, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: all(p.frame is not None for p in panes), timeout=TIMEOUT)
    ref = weakref.ref(compare)
    compare.close()
    assert window.presets.tool_windows == []
    assert all(p.worker_thread.thread.isFinished() for p in panes)
    compare = panes = None  # the last references
    qtbot.waitUntil(lambda: bool(destroyed), timeout=5_000)
    gc.collect()
    assert ref() is None
