"""Previews, recordings (headless and from the window), the Record dialog, the Compare window."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import imageio.v3 as iio  # noqa: E402

from playground.app.compare import CompareWindow  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.panels.record_dialog import RecordDialog  # noqa: E402
from playground.app.preview import render_preview  # noqa: E402
from playground.app.recording import (  # noqa: E402
    Recording,
    WindowRecorder,
    record_headless,
    write_frames,
)
from playground.core.training import Session  # noqa: E402

TIMEOUT = 30_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def small_session() -> Session:
    return Session("realnvp", "moons", {"hidden": 16})


def png_shape(data: bytes) -> tuple[int, ...]:
    assert data.startswith(PNG_SIGNATURE)
    return iio.imread(data, extension=".png").shape


def test_render_preview_draws_a_png_of_the_asked_size(qapp):
    session = small_session()
    assert png_shape(render_preview(session, "density", (320, 240)))[:2] == (240, 320)
    # the default view is the first tab the app shows: density for a flow
    default = render_preview(session)
    assert png_shape(default)[:2] == (480, 640)
    assert default == render_preview(session, "density")
    assert session.step_count == 0


def test_render_preview_refuses_a_view_the_session_does_not_offer(qapp):
    session = small_session()
    for view in ("critic", "no-such-view"):
        with pytest.raises(ValueError, match=view):
            render_preview(session, view)


def test_record_headless_gif_shows_training_progress(qapp, tmp_path):
    session = small_session()
    calls: list[tuple[int, int]] = []
    out = tmp_path / "moons.gif"
    rec = record_headless(
        session,
        "density",
        out,
        steps=20,
        frames=5,
        size=(320, 240),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert isinstance(rec, Recording) and rec.path == out and rec.steps == 20
    assert session.step_count == 20
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == rec.frames > 1
    assert frames.shape[1:3] == (240, 320)
    assert not np.array_equal(frames[0], frames[-1])  # the density moved
    assert calls[-1][0] == calls[-1][1] == rec.frames
    assert [name for name in tmp_path.iterdir()] == [out]  # no temporary file left


def test_record_headless_png_mp4_and_a_bad_suffix(qapp, tmp_path):
    session = small_session()
    png = record_headless(session, "samples", tmp_path / "s.png", steps=4, size=(200, 150))
    assert iio.imread(png.path).shape[:2] == (150, 200)
    # odd sizes are padded to even ones for H.264
    mp4 = record_headless(
        session, "samples", tmp_path / "s.mp4", steps=6, frames=3, size=(201, 151)
    )
    assert mp4.path.stat().st_size > 0
    video = iio.imread(mp4.path, plugin="FFMPEG", index=None)
    assert video.shape[0] >= 2 and video.shape[1:3] == (152, 202)
    before = session.step_count
    with pytest.raises(ValueError, match="suffix"):
        record_headless(session, "samples", tmp_path / "s.avi", steps=4)
    assert session.step_count == before
    assert not (tmp_path / "s.avi").exists()
    with pytest.raises(ValueError, match="exactly one"):
        record_headless(session, "samples", tmp_path / "t.gif", steps=4, seconds=1.0)
    with pytest.raises(ValueError):
        write_frames([], tmp_path / "empty.gif", 10.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.mp4", "s.png"]


@pytest.mark.skipif(
    not hasattr(MainWindow, "frame_drawn"),
    reason="WindowRecorder follows MainWindow.frame_drawn, which this MainWindow lacks",
)
def test_window_recorder_writes_a_gif_of_training(qtbot, open_window, tmp_path):
    window = open_window("realnvp", "moons")
    out = tmp_path / "window.gif"
    recorder = WindowRecorder(window, out, steps=10)
    progress: list[tuple[int, int]] = []
    recorder.progress.connect(lambda done, total: progress.append((done, total)))
    recorder.start()
    with qtbot.waitSignal(recorder.finished, timeout=TIMEOUT) as finished:
        window.transport.play.click()
    rec = finished.args[0]
    assert rec.path == out and rec.frames > 1 and rec.steps >= 10
    assert iio.imread(out, index=None).shape[0] == rec.frames
    assert progress[-1] == (10, 10)
    window.transport.play.click()


def test_record_dialog_saves_the_current_view_as_png(qtbot, open_window, tmp_path):
    window = open_window("realnvp", "moons")
    dialog = RecordDialog(window)
    qtbot.addWidget(dialog)
    target = tmp_path / "view"
    dialog.ask_path = lambda suffix: str(target) + suffix
    dialog.format.setCurrentIndex(dialog.format.findData(".png"))
    dialog.browse.click()
    assert dialog.path.text() == str(target) + ".png"
    dialog.start_button.click()
    written = tmp_path / "view.png"
    assert dialog.recording is not None and dialog.recording.path == written
    view = window.tabs.currentWidget()
    image = iio.imread(written)
    assert image.shape[:2] == (view.height(), view.width())
    assert image.std() > 0  # a drawn view, not a blank
    assert str(written) in dialog.message.text()


@pytest.mark.skipif(
    not hasattr(MainWindow, "frame_drawn"),
    reason="WindowRecorder follows MainWindow.frame_drawn, which this MainWindow lacks",
)
def test_record_dialog_gif_by_steps_plays_then_pauses_again(qtbot, open_window, tmp_path):
    window = open_window("realnvp", "moons")
    dialog = RecordDialog(window)
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData(".gif"))
    dialog.steps.setValue(10)
    dialog.path.setText(str(tmp_path / "dialog.png"))
    assert "Start presses Play" in dialog.note.text()
    dialog.start_button.click()
    assert window.transport.play.isChecked()
    qtbot.waitUntil(lambda: dialog.recording is not None, timeout=TIMEOUT)
    assert dialog.recording.path == tmp_path / "dialog.gif"  # the suffix follows the format
    assert iio.imread(dialog.recording.path, index=None).shape[0] > 1
    assert not window.transport.play.isChecked()
    assert dialog.bar.value() == dialog.bar.maximum()


def test_compare_window_plays_pauses_and_steps_both(qtbot, tmp_path):
    small = {"hidden": 32, "batch_size": 64}
    compare = CompareWindow(("gan", "ring8", small), ("wgan-gp", "ring8", small), pane=MainWindow)
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
        compare.play.click()
        qtbot.waitUntil(lambda: left.step >= 5 and right.step >= 5, timeout=TIMEOUT)
        assert compare.play.text() == "Pause both"
        compare.play.click()
        qtbot.waitUntil(lambda: compare.playing == [False, False], timeout=TIMEOUT)
        assert compare.play.text() == "Play both" and "paused" in compare.state.text()
        counts = [p.worker.session.step_count for p in compare.panes]
        qtbot.wait(300)
        assert [p.worker.session.step_count for p in compare.panes] == counts
        compare.step.click()
        qtbot.waitUntil(
            lambda: [p.worker.session.step_count for p in compare.panes] == [c + 1 for c in counts],
            timeout=TIMEOUT,
        )
        compare.grab().save(str(tmp_path / "compare.png"))
    finally:
        assert compare.shutdown()
    assert all(p.worker_thread.thread.isFinished() for p in compare.panes)


def test_compare_window_needs_one_dataset(qapp):
    with pytest.raises(ValueError, match="one dataset"):
        CompareWindow(("gan", "ring8"), ("wgan-gp", "grid25"), pane=MainWindow)


def test_the_file_menu_opens_record_and_compare(qtbot, open_window):
    window = open_window("realnvp", "moons")
    texts = [a.text() for a in window.file_menu.actions()]
    assert any("Record" in t for t in texts) and any("Compare" in t for t in texts)
    dialog = window.presets.open_record_dialog()
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    window.choose_compare_model = lambda models: "maf" if "maf" in models else None
    window.presets.compare_chosen()
    (compare,) = window.presets.tool_windows
    qtbot.waitUntil(lambda: all(p.info is not None for p in compare.panes), timeout=30_000)
    assert [p.info.model for p in compare.panes] == ["realnvp", "maf"]
    assert {p.info.dataset for p in compare.panes} == {"moons"}
    assert window.shutdown()
    assert all(p.worker_thread.thread.isFinished() for p in compare.panes)
    compare.close()
