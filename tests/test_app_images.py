"""The image views of the desktop app, offscreen: sample grid, interpolation, folder picking."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from playground.app.views import ImageGridView, InterpolationView  # noqa: E402
from playground.app.views.images import GAP, TILE_PIXELS, mosaic  # noqa: E402
from playground.core.snapshots.base import Snapshot  # noqa: E402
from playground.core.snapshots.images import ImageGrid, Interpolation  # noqa: E402

TIMEOUT = 30_000


def test_mosaic_tiles_with_gaps():
    images = np.arange(2 * 3 * 40 * 50, dtype=np.float32).reshape(2, 3, 40, 50)
    out = mosaic(images)
    assert out.shape == (2 * 40 + GAP, 3 * 50 + 2 * GAP)
    np.testing.assert_array_equal(out[:40, :50], images[0, 0])
    np.testing.assert_array_equal(out[40 + GAP :, 2 * (50 + GAP) :], images[1, 2])


def test_mosaic_enlarges_small_tiles_so_the_gaps_stay_thin():
    images = np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8)
    out = mosaic(images)
    k = TILE_PIXELS // 8
    assert out.shape == (2 * 8 * k + GAP, 3 * 8 * k + 2 * GAP)
    np.testing.assert_array_equal(out[: 8 * k : k, : 8 * k : k], images[0, 0])
    np.testing.assert_array_equal(out[8 * k + GAP :: k, 2 * (8 * k + GAP) :: k], images[1, 2])


def test_grid_view_draws_samples_labels_and_data(qtbot):
    view = ImageGridView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    grid = ImageGrid(
        images=rng.random((3, 8, 8, 8), dtype=np.float32),
        row_labels=("c = 0", "c = 1", "c = 2"),
        data=rng.random((24, 8, 8), dtype=np.float32),
        caption="rows: categorical code c",
    )
    view.show_snapshot(Snapshot(step=1, box=(0, 1, 0, 1), grid=grid))
    np.testing.assert_array_equal(view.model_panel.image.image, mosaic(grid.images))
    assert view.model_panel.labels == grid.row_labels
    ticks = view.model_panel.plot.getAxis("left")._tickLevels[0]
    assert [text for _, text in ticks] == list(grid.row_labels)
    assert view.data_panel.image.image.shape == mosaic(grid.images).shape
    assert view.caption.text() == "rows: categorical code c"


def test_interpolation_view_switches_paths(qtbot):
    view = InterpolationView()
    qtbot.addWidget(view)
    linear = np.zeros((4, 10, 8, 8), np.float32)
    inter = Interpolation(linear=linear, slerp=linear + 1, t=np.linspace(0, 1, 10))
    view.show_snapshot(Snapshot(step=1, box=(0, 1, 0, 1), interpolation=inter))
    assert view.path.currentData() == "slerp"
    assert float(view.panel.image.image.max()) == 1.0
    view.path.setCurrentIndex(view.path.findData("linear"))
    assert float(view.panel.image.image[:8, :8].max()) == 0.0


def test_gan_on_digits_window_shows_the_image_views_and_they_evolve(qtbot, open_window):
    window = open_window("gan", "digits")
    assert window.tab_names == ["grid", "interpolation", "curves"]
    view = window.views["grid"]
    qtbot.waitUntil(lambda: view.model_panel.image.image is not None, timeout=TIMEOUT)
    before = np.array(view.model_panel.image.image, copy=True)
    window.transport.play.click()
    qtbot.waitUntil(lambda: window.step >= 30, timeout=TIMEOUT)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: not np.array_equal(before, view.model_panel.image.image), timeout=TIMEOUT
    )
    window.tabs.setCurrentIndex(window.tab_names.index("interpolation"))
    strips = window.views["interpolation"]
    qtbot.waitUntil(lambda: strips.panel.image.image is not None, timeout=TIMEOUT)
    k = TILE_PIXELS // 8  # digits are enlarged k times
    assert strips.panel.image.image.shape == (4 * 8 * k + 3 * GAP, 10 * 8 * k + 9 * GAP)


def test_picking_folder_asks_for_it_and_trains_on_it(qtbot, open_window, tmp_path):
    import imageio.v3 as iio

    for i in range(4):
        iio.imwrite(tmp_path / f"{i}.png", np.full((12, 12), 60 * i, np.uint8))
    window = open_window("gan", "digits")
    asked = []
    window.choose_folder = lambda: asked.append(1) or (str(tmp_path), 12)
    window.session_panel.dataset_chosen.emit("folder")
    spec = f"folder:path={tmp_path},size=12"
    qtbot.waitUntil(lambda: window.info.dataset == spec, timeout=TIMEOUT)
    assert asked == [1]
    combo = window.session_panel.dataset
    assert combo.currentData() == spec
    qtbot.waitUntil(
        lambda: (
            window.frame.snapshot.grid is not None
            and window.frame.snapshot.grid.images.shape[2:] == (12, 12)
        ),
        timeout=TIMEOUT,
    )
    # a cancelled dialog keeps the session
    window.choose_folder = lambda: None
    window.session_panel.dataset_chosen.emit("folder")
    assert window.info.dataset == spec and combo.currentData() == spec


def test_an_empty_folder_is_a_banner_and_keeps_the_session(qtbot, open_window, tmp_path):
    window = open_window("gan", "digits")
    window.choose_folder = lambda: (str(tmp_path), 16)
    window.session_panel.dataset_chosen.emit("folder")
    qtbot.waitUntil(lambda: "no readable PNG or JPEG" in window.banner.text(), timeout=TIMEOUT)
    assert window.info.dataset == "digits"
