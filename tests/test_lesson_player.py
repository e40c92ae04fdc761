"""The lesson player, offscreen: keys and the progress bar, tab, note, predict-then-reveal,
live runs with their watchdog and fallback recording, compare, File > Open lesson."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QToolBar  # noqa: E402

from playground.app.lesson_playback import check_gif  # noqa: E402
from playground.app.lesson_player import (  # noqa: E402
    current_player,
    open_lesson,
    open_lesson_in,
    play_lesson,
)
from playground.app.lesson_run import Projection  # noqa: E402
from playground.app.recording import write_frames  # noqa: E402
from playground.core.lessons import load_lesson, write_recordings_index  # noqa: E402
from playground.core.models import get_model_class  # noqa: E402
from playground.core.models.base import NonFiniteLossError  # noqa: E402

TIMEOUT = 30_000
#: a small, fast flow: the live steps of these tests take a fraction of a second
SESSION = """
[[step]]
kind = "session"
model = "realnvp"
dataset = "moons"
hyperparameters = { n_layers = 2, hidden = 16, batch_size = 64 }
view = "density"
"""


@pytest.fixture(autouse=True)
def _settings(private_settings):
    return private_settings


def lesson_file(tmp_path, body: str, name: str = "lesson.toml"):
    path = tmp_path / name
    path.write_text(f'title = "Test lesson"\n{SESSION}\n{body}')
    return path


def press(window, key: Qt.Key) -> None:
    """Press ``key`` as the presenter's clicker would: through the window."""
    QTest.keyClick(window.windowHandle(), key)


def steps(window) -> int:
    return window.worker.session.step_count


def start(qtbot, open_window, path):
    """A window playing the lesson at ``path``, its first (session) step answered."""
    window = open_window("realnvp", "moons")
    window.activateWindow()  # the keys are the window's shortcuts: it must be active
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)
    player = play_lesson(window, load_lesson(path))
    qtbot.waitUntil(lambda: player.awaiting is None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.config.n_layers == 2, timeout=TIMEOUT)
    return window, player


def playback_step(player) -> str:
    """The step the caption of the recording on show says the live session stopped at."""
    caption = player.playback.caption.text()
    return caption.rpartition("stopped at step ")[2].rstrip(".").replace(",", "")


def add_recording(lesson, index: int, frames: int = 5) -> None:
    """A small GIF as run step ``index``'s recording, indexed as the builder does."""
    shots = [np.full((60, 80, 3), 40 * k, np.uint8) for k in range(frames)]
    write_frames(shots, lesson.recordings_dir / f"step-{index + 1:02d}.gif", fps=20)
    entry = {"steps": 40, "seconds": 1.5, "frames": frames, "view": "density", "final_step": 40}
    write_recordings_index(lesson, {index: entry})


def test_keys_tab_note_predict_and_the_progress_bar(qtbot, open_window, tmp_path):
    path = lesson_file(
        tmp_path,
        """
[[step]]
kind = "tab"
view = "samples"

[[step]]
kind = "note"
title = "What you see"
text = "The **density** of the flow, in nats."

[[step]]
kind = "predict"
question = "Where will the samples go?"
view = "trajectory"
reveal = "Along both moons."
""",
    )
    window, player = start(qtbot, open_window, path)
    assert player.bar.text == "1 / 4 \u2014 realnvp on moons"
    assert window.visible_view == "density"
    press(window, Qt.Key.Key_PageDown)
    assert player.index == 1 and player.bar.progress.value() == 2
    assert player.bar.text == "2 / 4 \u2014 View: samples"
    assert window.visible_view == "samples"
    press(window, Qt.Key.Key_PageUp)  # back: the session is not rebuilt
    assert player.index == 0 and player.bar.text.startswith("1 / 4")
    assert "not redone going back" in player.notice
    assert window.visible_view == "density"
    press(window, Qt.Key.Key_Right)  # Right is "next" while the lesson runs, not a step
    press(window, Qt.Key.Key_Down)
    assert player.index == 2
    assert window.explain.isVisible()
    assert player.note.markdown == "The **density** of the flow, in nats."
    assert "What you see" in player.note.title.text()
    assert "density" in player.note.text.toPlainText()
    press(window, Qt.Key.Key_PageDown)
    view, card = window.views["trajectory"], player.card
    assert window.visible_view == "trajectory" and player.index == 3
    assert card is not None and card.isVisible() and card.geometry() == view.rect()
    assert view.childAt(view.rect().center()) in (card, *card.findChildren(type(card.question)))
    assert card.question.text() == "Where will the samples go?"
    press(window, Qt.Key.Key_PageDown)  # reveals; the step stays
    assert player.index == 3 and player.revealed and player.card is None
    assert window.banner.text() == "Along both moons." and window.banner.isVisible()
    assert view.childAt(view.rect().center()) is not card
    press(window, Qt.Key.Key_PageDown)  # the last step: it says so
    assert player.index == 3 and "end of the lesson" in player.notice
    press(window, Qt.Key.Key_PageUp)  # back onto the note: the card is gone, the note shown
    assert player.index == 2 and player.card is None and player.note.isVisible()
    assert steps(window) == 0
    press(window, Qt.Key.Key_Escape)  # leave: the bar goes, Right steps training again
    assert current_player(window) is None
    qtbot.waitUntil(lambda: not window.findChildren(QToolBar, "lesson_bar"), timeout=2000)
    press(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.step == 1, timeout=TIMEOUT)


def test_a_run_step_trains_its_steps_live_and_back_does_not_retrain(qtbot, open_window, tmp_path):
    path = lesson_file(
        tmp_path,
        """
[[step]]
kind = "run"
steps = 60
view = "samples"

[[step]]
kind = "note"
text = "Done."
""",
    )
    window, player = start(qtbot, open_window, path)
    press(window, Qt.Key.Key_PageDown)
    assert window.visible_view == "samples"
    assert "No fallback: no recording of this step was built" in player.notice
    qtbot.waitUntil(lambda: "Trained 60 steps live" in player.notice, timeout=TIMEOUT)
    assert steps(window) == 60 and not player.driver.running
    assert player.playback is None
    qtbot.waitUntil(lambda: window.step == 60, timeout=TIMEOUT)  # the view drew step 60
    press(window, Qt.Key.Key_PageDown)
    press(window, Qt.Key.Key_PageUp)  # back over the run: no training
    assert player.index == 1 and "not redone" in player.notice
    QTest.qWait(300)
    assert steps(window) == 60


def test_a_run_slower_than_its_budget_plays_the_recording(qtbot, open_window, tmp_path):
    path = lesson_file(tmp_path, '[[step]]\nkind = "run"\nsteps = 1000000\nseconds = 0.4\n')
    add_recording(load_lesson(path), 1)
    window, player = start(qtbot, open_window, path)
    assert player.recordings[1].stale is False
    press(window, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: player.playback is not None, timeout=TIMEOUT)
    assert not player.driver.running
    stopped = int(playback_step(player))
    assert 0 < stopped < 1_000_000
    qtbot.waitUntil(lambda: steps(window) == stopped, timeout=TIMEOUT)
    text = window.banner.text()
    assert window.banner.isVisible() and text.startswith("Live training was too slow here")
    assert "playing the recording made when this lesson was built" in text
    playback = player.playback
    assert f"stopped at step {stopped:,}." in playback.caption.text()
    assert playback.isVisible() and playback.geometry() == window.tabs.rect()
    assert playback.movie.frameCount() == 5
    qtbot.waitUntil(lambda: playback.done, timeout=TIMEOUT)  # played once, held at the end
    assert playback.movie.currentFrameNumber() == 4
    QTest.qWait(300)
    assert steps(window) == stopped
    press(window, Qt.Key.Key_PageUp)  # leaving the step takes the recording and banner off
    assert player.playback is None and not window.banner.isVisible()


def test_a_diverging_run_plays_the_recording(qtbot, open_window, tmp_path, monkeypatch):
    path = lesson_file(tmp_path, '[[step]]\nkind = "run"\nsteps = 500\n')
    add_recording(load_lesson(path), 1)
    window, player = start(qtbot, open_window, path)
    cls = get_model_class("realnvp")
    original = cls.train_step

    def diverging(self, batch):
        if int(self.steps_taken) >= 7:
            raise NonFiniteLossError("loss", float("nan"))
        return original(self, batch)

    monkeypatch.setattr(cls, "train_step", diverging)
    press(window, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: player.playback is not None, timeout=TIMEOUT)
    assert steps(window) == 7
    assert window.banner.text().startswith("Live training stopped here (")
    assert "non-finite" in window.banner.text()
    assert "playing the recording" in player.notice


def test_missing_or_stale_recordings_keep_training_live_and_say_so(qtbot, open_window, tmp_path):
    body = '[[step]]\nkind = "run"\nsteps = 1000000\nseconds = 0.3\n'
    path = lesson_file(tmp_path, body)
    add_recording(load_lesson(path), 1)
    path.write_text(path.read_text().replace("hidden = 16", "hidden = 17"))  # now stale
    window, player = start(qtbot, open_window, path)
    assert player.recordings[1].stale
    press(window, Qt.Key.Key_PageDown)
    assert "No fallback: this step's recording is stale" in player.notice
    qtbot.waitUntil(lambda: "too slow" in player.notice, timeout=TIMEOUT)
    assert "training goes on live" in player.notice and player.playback is None
    at = steps(window)
    qtbot.waitUntil(lambda: steps(window) > at + 5, timeout=TIMEOUT)
    assert player.driver.running
    press(window, Qt.Key.Key_R)  # Reset during the run: the run stops there
    qtbot.waitUntil(lambda: not player.driver.running, timeout=TIMEOUT)
    assert "reset or replaced during the run" in player.notice
    press(window, Qt.Key.Key_PageUp)
    press(window, Qt.Key.Key_PageDown)  # forward again: the run starts again
    assert player.driver.running
    press(window, Qt.Key.Key_Escape)  # leaving the lesson stops the run (the player goes)
    seen = [steps(window)]

    def settled() -> bool:  # the round in progress ends (slow on a loaded machine)
        QTest.qWait(300)
        seen.append(steps(window))
        return seen[-1] == seen[-2]

    qtbot.waitUntil(settled, timeout=TIMEOUT)
    QTest.qWait(500)
    assert steps(window) == seen[-1] and not window.worker.playing


def test_compare_opens_two_panes_and_closes_them_on_leaving(qtbot, open_window, tmp_path):
    path = lesson_file(
        tmp_path,
        """
[[step]]
kind = "compare"
left = { model = "realnvp", dataset = "moons" }
right = { model = "maf", dataset = "moons" }
view = "samples"

[[step]]
kind = "note"
text = "Two flows."
""",
    )
    window, player = start(qtbot, open_window, path)
    press(window, Qt.Key.Key_PageDown)
    tool = player.compare
    assert tool is not None and tool in window.presets.tool_windows
    qtbot.waitUntil(lambda: all(p.info is not None for p in tool.panes), timeout=TIMEOUT)
    assert [p.info.model for p in tool.panes] == ["realnvp", "maf"]
    qtbot.waitUntil(lambda: all(p.visible_view == "samples" for p in tool.panes), timeout=TIMEOUT)
    qtbot.waitUntil(tool.isActiveWindow, timeout=TIMEOUT)
    QTest.keyClick(tool.windowHandle(), Qt.Key.Key_PageDown)  # the clicker works there too
    assert player.index == 2 and player.compare is None
    qtbot.waitUntil(lambda: not window.presets.tool_windows, timeout=TIMEOUT)
    # File > Open lesson… plays another lesson: the one on show is left first
    assert "Open &lesson\u2026" in [a.text() for a in window.file_menu.actions()]
    again = open_lesson_in(window, str(path))
    assert current_player(window) is again and again.index == 0 and not player.active


def test_open_lesson_refuses_a_bad_file_with_one_message(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(f'title = "x"\n{SESSION}\n[[step]]\nkind = "run"\nsteps = -5\n')
    assert open_lesson(path) == 2
    err = capsys.readouterr().err.strip()
    assert "step 2 (run): steps" in err and "-5" in err and len(err.splitlines()) == 1


def test_projection_and_gif_header_checks(tmp_path):
    projection = Projection(steps=1000, budget=10.0, warmup=1.0, window=1.0)
    assert projection.update(0.5, 50) is None  # warming up
    assert projection.update(2.0, 200) == pytest.approx(2.0 + 800 / 100)  # 100 steps/s
    assert not projection.over_budget
    assert projection.update(3.0, 220) == pytest.approx(3.0 + 780 / 20)
    assert projection.over_budget
    assert Projection(10, None).update(2.0, 10) == 2.0
    assert math.isinf(Projection(10, 1.0).update(1.0, 0))
    gif = tmp_path / "a.gif"
    write_frames([np.zeros((30, 40, 3), np.uint8)], gif, fps=10)
    assert (check_gif(gif).width(), check_gif(gif).height()) == (40, 30)
    huge = tmp_path / "huge.gif"
    huge.write_bytes(b"GIF89a" + (60000).to_bytes(2, "little") * 2 + b"\0" * 20)
    with pytest.raises(ValueError, match="claims 60000x60000 pixels"):
        check_gif(huge)
    (tmp_path / "not.gif").write_bytes(b"PNG....")
    with pytest.raises(ValueError, match="not a GIF"):
        check_gif(tmp_path / "not.gif")
