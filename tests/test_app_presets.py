"""The app's presets, offscreen: gallery, open, save, recent, presentation mode, keyboard."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.app import theme  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.panels.gallery import FAMILY_ROLE, PATH_ROLE, PresetGallery  # noqa: E402
from playground.core.presets import load_preset, read_preset_info, shipped_presets  # noqa: E402

TIMEOUT = 30_000
ROOT = Path(__file__).resolve().parents[1]
MOONS = ROOT / "presets" / "realnvp-moons"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _private_settings(private_settings):
    """Recent presets and sessions go to ``private_settings``, never the user's."""
    return private_settings


def broken_preset(tmp_path: Path) -> Path:
    """A preset folder whose config.json is not JSON."""
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{ not json")
    return folder


def keys(window: MainWindow, key: Qt.Key) -> None:
    """Press ``key`` as the user would: through the window, to the focused widget."""
    QTest.keyClick(window.windowHandle(), key)


def test_gallery_lists_filters_and_emits_the_double_clicked_preset(qtbot, tmp_path):
    shipped = shipped_presets()
    assert len(shipped) >= 3
    gallery = PresetGallery(extra=[broken_preset(tmp_path)])
    qtbot.addWidget(gallery)
    gallery.show()
    qtbot.waitExposed(gallery)
    items = gallery.items()
    assert len(items) == len(shipped) + 1
    for path, item in zip(shipped, items, strict=False):
        assert item.text().splitlines()[0] == read_preset_info(path).title
        assert item.flags() & Qt.ItemFlag.ItemIsEnabled
        assert not item.icon().isNull()
    broken = items[-1]
    assert not broken.flags() & Qt.ItemFlag.ItemIsEnabled  # greyed, cannot be chosen
    assert "config.json" in broken.toolTip()

    family = items[0].data(FAMILY_ROLE)
    gallery.family.setCurrentText(family)
    visible = gallery.visible_paths()
    assert str(shipped[0]) in visible and str(broken.data(PATH_ROLE)) not in visible
    assert all(i.data(FAMILY_ROLE) == family for i in items if not i.isHidden())
    gallery.family.setCurrentText("all")
    assert len(gallery.visible_paths()) == len(items)

    target = items[1]
    rect = gallery.list.visualItemRect(target)
    with qtbot.waitSignal(gallery.preset_chosen, timeout=2000) as chosen:
        viewport = gallery.list.viewport()
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert chosen.args == [str(shipped[1])]
    assert not gallery.isVisible()


def test_opening_a_shipped_preset_draws_it_paused_at_its_step(qtbot, open_window):
    window = open_window("realnvp", "8gaussians")
    drawn: list[int] = []
    window.frame_drawn.connect(drawn.append)
    start = time.perf_counter()
    window.presets.open_preset(str(MOONS))
    qtbot.waitUntil(lambda: window.presets.last_open_seconds is not None, timeout=TIMEOUT)
    seconds = time.perf_counter() - start
    opened = window.presets.last_open_seconds
    print(f"\nopen {MOONS.name}: click to first drawn view {opened:.3f} s")
    info = read_preset_info(MOONS)
    assert window.step == info.steps == window.worker.session.step_count
    assert drawn[-1] == info.steps
    assert not window.worker.playing and not window.frame.playing
    assert window.transport.play.text() == "Play"
    assert window.info.model == "realnvp" and window.info.dataset == "moons"
    assert info.title in window.windowTitle()
    assert window.presets.last_open_seconds <= seconds
    # the preset's own view comes first; the density it draws is the loaded model's
    assert window.visible_view == (info.view or "density")
    drawn_before = window.draws["density"]
    keys(window, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: window.draws["density"] > drawn_before, timeout=TIMEOUT)
    expected = load_preset(MOONS, device=window.info.device).snapshot(views=["density"])
    drawn_image = window.views["density"].image.image
    np.testing.assert_allclose(drawn_image, expected.density.log_prob, rtol=1e-4, atol=1e-4)
    # and it is remembered in File > Recent presets (in the test's own settings)
    recent = [a.data() for a in window.recent_menu.actions()]
    assert recent == [str(MOONS.resolve())]


def test_a_broken_preset_shows_a_banner_and_keeps_the_session(qtbot, open_window, tmp_path):
    window = open_window("realnvp", "8gaussians")
    window.transport.step.click()
    qtbot.waitUntil(lambda: window.step == 1, timeout=TIMEOUT)
    broken = broken_preset(tmp_path)
    window.presets.open_preset(str(broken))
    qtbot.waitUntil(window.banner.isVisible, timeout=TIMEOUT)
    assert "config.json" in window.banner.text() and "Cannot open preset" in window.banner.text()
    assert window.info.dataset == "8gaussians" and window.worker.session.step_count == 1
    assert window.windowTitle() == "DGM Playground"
    assert window.recent_menu.actions() == []
    window.transport.step.click()  # the session still trains
    qtbot.waitUntil(lambda: window.step == 2, timeout=TIMEOUT)


@pytest.mark.parametrize("name", ["saved", "saved.dgmpreset"])
def test_save_preset_as_writes_a_preview_and_reopens_at_its_step(
    qtbot, open_window, tmp_path, name
):
    window = open_window("realnvp", "moons")
    for expected in (1, 2, 3):
        window.transport.step.click()
        qtbot.waitUntil(lambda expected=expected: window.step == expected, timeout=TIMEOUT)
    path = tmp_path / name
    view = window.views["density"]
    shown = (view.width(), view.height())  # before the "Saved to" banner moves it down
    with qtbot.waitSignal(window.worker.preset_saved, timeout=TIMEOUT):
        window.presets.save_preset_as(str(path), title="Three steps", description="barely trained")
    if path.suffix == ".dgmpreset":
        with zipfile.ZipFile(path) as z:
            preview = z.read("preview.png")
    else:
        preview = (path / "preview.png").read_bytes()
    assert preview.startswith(PNG_SIGNATURE)
    image = QImage.fromData(preview)
    assert (image.width(), image.height()) == shown
    info = read_preset_info(path)
    assert (info.title, info.steps, info.view) == ("Three steps", 3, "density")

    window.transport.reset.click()
    qtbot.waitUntil(lambda: window.step == 0, timeout=TIMEOUT)
    window.presets.open_preset(str(path))
    qtbot.waitUntil(lambda: window.presets.preset is not None and window.step == 3, timeout=TIMEOUT)
    assert "Three steps" in window.windowTitle()
    assert window.presets.recent_presets()[0] == str(path.resolve())


def test_presentation_mode_scales_and_restores_exactly(qtbot, open_window):
    window = open_window("realnvp", "moons")
    window.transport.step.click()  # the curves have a point, the status bar its loss
    qtbot.waitUntil(lambda: window.step == 1, timeout=TIMEOUT)
    density = window.views["density"]
    app = QApplication.instance()
    before = {
        "font": app.font().pointSizeF(),
        "geometry": window.geometry(),
        "iso": density.isocurves[0].pen.widthF(),
        "points": density.scatter.opts["size"],
        "ticks": density.plot.getAxis("left").style["tickFont"].pointSizeF(),
        "map": density.bar.colorMap().name,
    }
    assert before["map"] == "viridis"
    keys(window, Qt.Key.Key_F11)
    assert window.presentation_mode.on and window.presentation_action.isChecked()
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    assert not window.side_panel.isVisible() and window.slim_bar.isVisible()
    assert window.tabs.isVisible()
    assert app.font().pointSizeF() == pytest.approx(before["font"] * 1.5)
    assert density.isocurves[0].pen.widthF() > before["iso"]
    assert density.scatter.opts["size"] > before["points"]
    assert density.plot.getAxis("left").style["tickFont"].pointSizeF() > before["ticks"]
    assert density.bar.colorMap().name == theme.HIGH_CONTRAST_MAP
    assert density.image.getColorMap().name == theme.HIGH_CONTRAST_MAP

    # a view drawn for the first time while presenting is scaled too (its curves are new)
    window.tabs.setCurrentWidget(window.views["curves"])
    qtbot.waitUntil(lambda: window.draws["curves"] > 0, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: bool(curve_pens(window)), timeout=TIMEOUT)

    window.presentation_action.trigger()
    assert not window.presentation_mode.on and not window.presentation_action.isChecked()
    assert not window.windowState() & Qt.WindowState.WindowFullScreen
    assert window.side_panel.isVisible() and not window.slim_bar.isVisible()
    assert app.font().pointSizeF() == before["font"]
    assert window.geometry() == before["geometry"]
    assert density.isocurves[0].pen.widthF() == before["iso"]
    assert density.scatter.opts["size"] == before["points"]
    assert density.plot.getAxis("left").style["tickFont"].pointSizeF() == before["ticks"]
    assert density.bar.colorMap().name == "viridis"
    assert density.image.getColorMap().name == "viridis"


def curve_pens(window: MainWindow) -> list[float]:
    """The pen widths of the curves view's lines."""
    import pyqtgraph as pg

    view = window.views["curves"]
    return [
        item.opts["pen"].widthF()
        for canvas in view.findChildren(pg.GraphicsView)
        for item in canvas.scene().items()
        if isinstance(item, pg.PlotCurveItem) and item.isVisible()
    ]


def test_keyboard_play_step_reset_and_views(qtbot, open_window):
    window = open_window("realnvp", "moons")
    window.activateWindow()
    keys(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.step == 1, timeout=TIMEOUT)
    keys(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.worker.playing and window.step > 1, timeout=TIMEOUT)
    keys(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)
    assert window.transport.play.text() == "Play"
    keys(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: window.step == 0, timeout=TIMEOUT)
    keys(window, Qt.Key.Key_2)
    assert window.tabs.currentIndex() == 1
    keys(window, Qt.Key.Key_1)
    assert window.tabs.currentIndex() == 0

    # typing into the hyperparameter form goes to the form, not to the shortcuts
    editor = window.form.editors["n_layers"]
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    editor.lineEdit().selectAll()
    window.confirm = lambda question: False
    keys(window, Qt.Key.Key_2)
    assert window.tabs.currentIndex() == 0
    assert editor.lineEdit().text().endswith("2")
    keys(window, Qt.Key.Key_Space)
    qtbot.wait(100)
    assert not window.worker.playing


def test_open_from_the_menu_and_the_recent_list(qtbot, open_window, tmp_path):
    copy = tmp_path / "moons-copy"
    shutil.copytree(MOONS, copy)
    gone = tmp_path / "gone"
    shutil.copytree(MOONS, gone)
    window = open_window("realnvp", "8gaussians")
    for path in (gone, copy):
        window.choose_preset = lambda path=path: str(path)
        window.file_menu.actions()[0].trigger()  # Open preset...
        qtbot.waitUntil(
            lambda path=path: window.presets.recent_presets()[:1] == [str(path.resolve())],
            timeout=TIMEOUT,
        )
    shutil.rmtree(gone)  # a preset deleted since: dropped from the list
    window.presets.open_preset(str(MOONS))
    qtbot.waitUntil(lambda: len(window.presets.recent_presets()) == 2, timeout=TIMEOUT)
    assert [a.data() for a in window.recent_menu.actions()] == [
        str(MOONS.resolve()),
        str(copy.resolve()),
    ]
    settings = QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "DGM Playground", "playground"
    )
    assert Path(settings.fileName()).is_relative_to(tmp_path)
    # the gallery lists the recent copy after the shipped presets; choosing it opens it
    window.transport.reset.click()
    qtbot.waitUntil(lambda: window.step == 0, timeout=TIMEOUT)
    gallery = window.presets.open_gallery()
    paths = [str(Path(p).resolve()) for p in gallery.visible_paths()]
    assert paths[-1] == str(copy.resolve()) and str(MOONS.resolve()) in paths[:-1]
    gallery.list.itemDoubleClicked.emit(gallery.items()[-1])
    steps = json.loads((copy / "config.json").read_text())["steps"]
    qtbot.waitUntil(lambda: window.step == steps, timeout=TIMEOUT)
    assert window.presets.recent_presets()[0] == str(copy.resolve()) and not gallery.isVisible()
