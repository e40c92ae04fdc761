"""Previews, recordings (headless and from the window), the Record dialog (the Compare
window: tests/test_compare.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

import imageio.v3 as iio  # noqa: E402

from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.panels.record_dialog import RecordDialog  # noqa: E402
from playground.app.preview import build_view, draw_view, render_preview  # noqa: E402
from playground.app.recording import (  # noqa: E402
    Recording,
    WindowRecorder,
    pixmap_array,
    plot_area,
    record_headless,
    view_frame,
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


def test_a_frame_is_the_plot_area_with_the_title_and_step_burnt_in(qapp):
    widget = build_view(small_session(), "density", (400, 300))
    try:
        draw_view(small_session(), widget)
        area = plot_area(widget)
        assert area == widget.canvas.geometry()  # the pictures, not the row of controls
        assert area.height() < widget.height()
        plain = pixmap_array(widget.grab(area))
        frame = view_frame(widget, 1234)
        assert frame.shape == plain.shape == (area.height(), area.width(), 3)
        header = np.any(frame != plain, axis=(1, 2))
        assert header[:10].all() and not header[60:].any()  # a strip at the top, only
        strip = frame[: int(np.argmin(header))]
        assert len(np.unique(strip.reshape(-1, 3), axis=0)) > 2  # text on the band
        assert not np.array_equal(view_frame(widget, 1235)[: len(strip)], strip)  # the step
    finally:
        widget.close()
        widget.deleteLater()


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
    area = plot_area(view)  # the view's pictures with a header strip, not its controls
    assert image.shape[:2] == (area.height(), area.width()) and area.height() < view.height()
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
    # while recording the choices read as text, not as greyed-out editors
    assert dialog.rows.currentIndex() == 1 and dialog.summary["file"].isEnabled()
    assert dialog.summary["file"].text() == str(tmp_path / "dialog.gif")
    assert dialog.summary["length"].text() == "10 training steps"
    qtbot.waitUntil(lambda: dialog.recording is not None, timeout=TIMEOUT)
    assert dialog.recording.path == tmp_path / "dialog.gif"  # the suffix follows the format
    assert iio.imread(dialog.recording.path, index=None).shape[0] > 1
    assert not window.transport.play.isChecked()
    assert dialog.bar.value() == dialog.bar.maximum()
    assert dialog.rows.currentIndex() == 0 and dialog.start_button.isEnabled()


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
