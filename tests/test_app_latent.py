"""The latent-model views of the desktop app, offscreen, on synthetic snapshots."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from playground.app.views import (  # noqa: E402
    ExplorerView,
    LatentSpaceView,
    ReconstructionsView,
    TraversalView,
)
from playground.app.views.images import mosaic  # noqa: E402
from playground.app.views.latent import traversal_columns
from playground.app.views.latent_space import LABEL_COLORS  # noqa: E402
from playground.core.snapshots.base import Snapshot  # noqa: E402
from playground.core.snapshots.latent import Traversal
from playground.core.snapshots.latent_space import LatentSpace, Reconstructions

ANCHORS, DIMS, STEPS, H, W = 4, 3, 41, 8, 8
BOX = (-4.0, 4.0, -4.0, 4.0)


def image_traversal(seed: int = 0) -> Traversal:
    rng = np.random.default_rng(seed)
    return Traversal(
        decoded=rng.random((ANCHORS, DIMS, STEPS, H, W), dtype=np.float32),
        values=np.linspace(-3, 3, STEPS, dtype=np.float32),
        dims=np.array([3, 0, 5]),
        kl=np.array([1.24, 0.5, 0.01], np.float32),
        anchors=rng.random((ANCHORS, H, W), dtype=np.float32),
        codes=rng.standard_normal((ANCHORS, 6)).astype(np.float32),
        data=None,
    )


def plane_traversal() -> Traversal:
    rng = np.random.default_rng(1)
    return Traversal(
        decoded=rng.standard_normal((ANCHORS, 2, STEPS, 2)).astype(np.float32),
        values=np.linspace(-3, 3, STEPS, dtype=np.float32),
        dims=np.array([1, 0]),
        kl=np.array([2.0, 1.0], np.float32),
        anchors=rng.standard_normal((ANCHORS, 2)).astype(np.float32),
        codes=rng.standard_normal((ANCHORS, 2)).astype(np.float32),
        data=rng.standard_normal((300, 2)).astype(np.float32),
    )


def latent_space(with_heatmaps: bool = True, labels: bool = True) -> LatentSpace:
    rng = np.random.default_rng(2)
    res = 16
    axis = np.linspace(-3, 3, res, dtype=np.float32)
    return LatentSpace(
        points=rng.standard_normal((50, 2)).astype(np.float32),
        labels=rng.integers(0, 10, 50) if labels else None,
        class_names=tuple(f"digit {i}" for i in range(10)) if labels else None,
        dims=np.array([4, 2]),
        prior=-rng.random((res, res), dtype=np.float32) if with_heatmaps else None,
        aggregate=-2 * rng.random((res, res), dtype=np.float32) if with_heatmaps else None,
        xs=axis,
        ys=axis,
    )


def snap(**parts) -> Snapshot:
    return Snapshot(step=1, box=BOX, **parts)


def test_views_skip_snapshots_without_their_part(qtbot):
    rng = np.random.default_rng(4)
    r = Reconstructions(
        inputs=rng.random((16, H, W), dtype=np.float32),
        outputs=rng.random((16, H, W), dtype=np.float32),
    )
    # each view, a snapshot with its part, and what it drew from it
    cases = [
        (TraversalView, {"traversal": image_traversal()}, lambda v: v.grid_panel.image.image),
        (ReconstructionsView, {"reconstructions": r}, lambda v: v.outputs_panel.image.image),
        (LatentSpaceView, {"latent_space": latent_space()}, lambda v: v.scatter.getData()[0]),
        (ExplorerView, {"explorer": image_traversal()}, lambda v: v.image_panel.image.image),
    ]
    for cls, part, drawn in cases:
        view = cls()
        qtbot.addWidget(view)
        view.show_snapshot(snap())  # nothing to draw yet: no error, still blank
        assert drawn(view) is None or len(drawn(view)) == 0, cls.__name__
        view.show_snapshot(snap(**part))
        before = np.array(drawn(view), copy=True)
        assert before.size > 0, cls.__name__
        # without its part (the explorer: without an image traversal) the view keeps its picture
        skipped = [snap()] + ([snap(explorer=plane_traversal())] if cls is ExplorerView else [])
        for empty in skipped:
            if hasattr(view, "accepts"):  # the main window counts no draw for these
                assert not view.accepts(empty)
            view.show_snapshot(empty)
            np.testing.assert_array_equal(drawn(view), before, err_msg=cls.__name__)
        view.clear()
        assert drawn(view) is None or len(drawn(view)) == 0, cls.__name__


def test_traversal_grid_is_the_mosaic_of_columns_with_kl_labels(qtbot):
    view = TraversalView()
    qtbot.addWidget(view)
    t = image_traversal()
    view.show_snapshot(snap(traversal=t))
    cols = traversal_columns(STEPS)
    assert len(cols) == 9
    np.testing.assert_array_equal(view.grid_panel.image.image, mosaic(t.decoded[0][:, cols]))
    labels = list(view.grid_panel.labels)
    assert labels == ["z3  KL 1.24", "z0  KL 0.50", "z5  KL 0.01"]
    columns = list(view.column_labels)
    assert columns[0] == "-3" and columns[1] == "-2.25" and columns[4] == "0"
    assert columns[5] == "0.75" and columns[-1] == "3"
    np.testing.assert_array_equal(view.anchor_panel.image.image, t.anchors[0])

    assert view.anchor.count() == ANCHORS
    view.anchor.setCurrentIndex(2)
    np.testing.assert_array_equal(view.grid_panel.image.image, mosaic(t.decoded[2][:, cols]))
    np.testing.assert_array_equal(view.anchor_panel.image.image, t.anchors[2])


def test_traversal_labels_follow_new_kl(qtbot):
    view = TraversalView()
    qtbot.addWidget(view)
    view.show_snapshot(snap(traversal=image_traversal(0)))
    t = image_traversal(1)
    t = Traversal(**{**t.__dict__, "kl": np.array([3.0, 2.0, 1.0], np.float32)})
    view.show_snapshot(snap(traversal=t))
    assert view.grid_panel.labels[0] == "z3  KL 3.00"


def test_plane_traversal_draws_one_curve_per_dimension(qtbot):
    view = TraversalView()
    qtbot.addWidget(view)
    t = plane_traversal()
    view.show_snapshot(snap(traversal=t))
    assert view.stack.currentWidget() is view.plane_canvas
    assert view.sweep_count == 2
    x, y = view.sweeps[0].getData()
    np.testing.assert_allclose(np.stack([x, y], 1), t.decoded[0, 0])
    names = [label.text for _, label in view.legend.items]
    assert names == ["data", "z1", "z0", "anchor"]
    assert len(view.data.data) == 300
    np.testing.assert_allclose(view.anchor_mark.data["x"], t.anchors[0, :1])
    view.anchor.setCurrentIndex(3)
    x, _ = view.sweeps[1].getData()
    np.testing.assert_allclose(x, t.decoded[3, 1, :, 0])


def test_reconstructions_draw_inputs_and_outputs(qtbot):
    view = ReconstructionsView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(3)
    r = Reconstructions(
        inputs=rng.random((16, H, W), dtype=np.float32),
        outputs=rng.random((16, H, W), dtype=np.float32),
    )
    view.show_snapshot(snap(reconstructions=r))
    np.testing.assert_array_equal(
        view.inputs_panel.image.image, mosaic(r.inputs.reshape(2, 8, H, W))
    )
    np.testing.assert_array_equal(
        view.outputs_panel.image.image, mosaic(r.outputs.reshape(2, 8, H, W))
    )

    points = Reconstructions(
        inputs=rng.standard_normal((200, 2)).astype(np.float32),
        outputs=rng.standard_normal((200, 2)).astype(np.float32),
    )
    view.show_snapshot(snap(reconstructions=points))
    assert view.stack.currentWidget() is view.plane_canvas
    assert len(view.inputs.data) == 200 and len(view.outputs.data) == 200
    x, y = view.pairs.getData()
    assert len(x) == 400
    np.testing.assert_allclose([x[0], y[0], x[1], y[1]], [*points.inputs[0], *points.outputs[0]])


def test_latent_space_scatter_by_label_and_shared_heatmaps(qtbot):
    view = LatentSpaceView()
    qtbot.addWidget(view)
    view.show()
    s = latent_space()
    view.show_snapshot(snap(latent_space=s))
    assert len(view.scatter.data) == 50
    colors = [b.color().name() for b in view.scatter.data["brush"]]
    assert colors == [LABEL_COLORS[int(v)].name() for v in s.labels]
    assert "digit 3" in view.legend.text() or 3 not in s.labels
    np.testing.assert_array_equal(view.prior.image, s.prior)
    np.testing.assert_array_equal(view.aggregate.image, s.aggregate)
    assert view.prior.levels.tolist() == view.aggregate.levels.tolist() == list(view.levels)
    assert view.levels == (0.0 - 12.0, 0.0)
    assert view.scatter_plot.getAxis("bottom").labelText == "z4"
    assert view.aggregate_plot.getAxis("left").labelText == "z2"
    assert view.heatmaps_shown

    view.show_snapshot(snap(latent_space=latent_space(with_heatmaps=False, labels=False)))
    assert not view.heatmaps_shown
    assert all(b is None for b in view.scatter.data["brush"])  # one brush for all points
    assert view.legend.isHidden()
    again = latent_space()
    view.show_snapshot(snap(latent_space=again))
    assert view.heatmaps_shown
    np.testing.assert_array_equal(view.prior.image, again.prior)


def test_explorer_slider_indexes_the_traversal(qtbot):
    view = ExplorerView()
    qtbot.addWidget(view)
    t = image_traversal()
    view.show_snapshot(snap(explorer=t))
    assert view.slider.value() == 0
    np.testing.assert_array_equal(view.image_panel.image.image, t.decoded[0, 0, 20])
    assert view.value_label.text() == "z3 = mu + 0.00"
    assert view.dim.itemText(0) == "z3  KL 1.24"

    view.slider.setValue(9)
    np.testing.assert_array_equal(view.image_panel.image.image, t.decoded[0, 0, 29])
    assert view.value_label.text() == "z3 = mu + 1.35"
    view.dim.setCurrentIndex(1)
    view.anchor.setCurrentIndex(2)
    view.slider.setValue(-20)
    np.testing.assert_array_equal(view.image_panel.image.image, t.decoded[2, 1, 0])
    assert view.value_label.text() == "z0 = mu - 3.00"

    # a new snapshot whose dims come in another order keeps the chosen dimension (z0)
    t2 = Traversal(**{**image_traversal(1).__dict__, "dims": np.array([0, 3, 5])})
    view.show_snapshot(snap(explorer=t2))
    assert view.dim.currentData() == 0
    np.testing.assert_array_equal(view.image_panel.image.image, t2.decoded[2, 0, 0])
    assert not view.accepts(snap(explorer=plane_traversal()))


def test_main_window_offers_the_latent_views(qtbot):
    from playground.app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    names = list(window.views)
    assert {"traversal", "reconstructions", "latent_space", "explorer"} <= set(names)
    assert names.index("interpolation") < names.index("traversal") < names.index("curves")
    window.close()


def test_vae_window_traversal_and_reconstructions_update_and_slider_moves(qtbot, open_window):
    window = open_window("vae", "digits")
    assert window.tab_names[:5] == [
        "grid",
        "traversal",
        "reconstructions",
        "latent_space",
        "explorer",
    ]
    timeout = 30_000

    def show(name):
        window.tabs.setCurrentIndex(window.tab_names.index(name))
        qtbot.waitUntil(lambda: window.frame.snapshot.step == window.step, timeout=timeout)

    show("traversal")
    grid = window.views["traversal"]
    qtbot.waitUntil(lambda: window.draws["traversal"] > 0, timeout=timeout)
    before = np.array(grid.grid_panel.image.image, copy=True)
    show("reconstructions")
    recon = window.views["reconstructions"]
    qtbot.waitUntil(lambda: window.draws["reconstructions"] > 0, timeout=timeout)
    recon_before = np.array(recon.outputs_panel.image.image, copy=True)
    window.transport.play.click()
    qtbot.waitUntil(lambda: window.step >= 60, timeout=timeout)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=timeout)
    qtbot.waitUntil(
        lambda: not np.array_equal(recon_before, recon.outputs_panel.image.image), timeout=timeout
    )
    show("traversal")
    qtbot.waitUntil(
        lambda: not np.array_equal(before, grid.grid_panel.image.image), timeout=timeout
    )

    show("explorer")
    explorer = window.views["explorer"]
    qtbot.waitUntil(lambda: window.draws["explorer"] > 0, timeout=timeout)
    middle = np.array(explorer.image_panel.image.image, copy=True)
    explorer.slider.setValue(explorer.slider.maximum())
    assert not np.array_equal(middle, explorer.image_panel.image.image)
