"""Legibility on a projector: captions wrap instead of widening the window, pictures fill
their area, every plane and colour bar says what it shows, presentation mode keeps the
colour bars' ticks, and the score field's target is the noised one."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
import torch

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy  # noqa: E402

from playground.app import theme  # noqa: E402
from playground.app.views import (  # noqa: E402
    VIEWS,
    CriticView,
    CurvesView,
    DensityView,
    ExplorerView,
    ImageGridView,
    LatentSpaceView,
    ReconstructionsView,
    ReverseStripView,
    ScoreFieldView,
    TraversalView,
)
from playground.app.views.critic import ARROW_PEN, ARROW_RIM_PEN  # noqa: E402
from playground.core.data.mixtures import mixture_score  # noqa: E402
from playground.core.snapshots.base import Snapshot  # noqa: E402
from playground.core.snapshots.critic import CriticImage, GeneratorGradients  # noqa: E402
from playground.core.snapshots.density import DensityImage  # noqa: E402
from playground.core.snapshots.diffusion import ReverseStrip  # noqa: E402
from playground.core.snapshots.images import ImageGrid  # noqa: E402
from playground.core.snapshots.latent import Traversal  # noqa: E402
from playground.core.snapshots.latent_space import (  # noqa: E402
    LatentSpace,
    Reconstructions,
    points_box,
)
from playground.core.snapshots.score import CLEAN, EXACT, MONTE_CARLO  # noqa: E402
from playground.core.training import Session  # noqa: E402

#: the view area of a 1366-pixel window beside its side panel
VIEW_WIDTH, VIEW_HEIGHT = 940, 620
LONG = " ".join(["a long caption that must wrap rather than widen the window"] * 8)
#: the attributes that hold a view's captions
CAPTIONS = ("caption", "summary", "legend", "message")
DDPM_SMALL = {"T": 20, "hidden": 16, "depth": 1, "batch_size": 32}
#: the views of this issue (Curves has its own)
MY_VIEWS = [cls for cls in VIEWS if cls is not CurvesView]


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _captions(view) -> list[QLabel]:
    return [getattr(view, n) for n in CAPTIONS if isinstance(getattr(view, n, None), QLabel)]


# ------------------------------------------------------------------------- captions wrap
@pytest.mark.parametrize("cls", MY_VIEWS, ids=lambda c: c.__name__)
def test_a_long_caption_wraps_and_never_widens_the_view(qtbot, cls):
    view = cls()
    qtbot.addWidget(view)
    view.resize(VIEW_WIDTH, VIEW_HEIGHT)
    view.show()
    labels = _captions(view)
    for label in labels:
        assert label.wordWrap(), f"{cls.__name__}: a caption that does not wrap"
        assert label.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored
        label.setText(LONG)
        label.show()
    _settle()
    assert view.minimumSizeHint().width() <= VIEW_WIDTH, cls.__name__
    assert view.width() == VIEW_WIDTH
    for label in labels:
        assert label.width() <= VIEW_WIDTH


def test_ddpm_score_field_keeps_its_t_slider_in_a_1366_window(qtbot, open_window):
    window = open_window("ddpm", "8gaussians")
    window.resize(1366, 768)
    window.tabs.setCurrentIndex(window.tab_names.index("score_field"))
    view = window.views["score_field"]
    qtbot.waitUntil(lambda: window.draws["score_field"] > 0, timeout=30_000)
    view.caption.setText(view.caption.text() + "   " + LONG)
    _settle()
    assert window.width() <= 1366 and window.minimumSizeHint().width() <= 1366
    assert view.slider.isVisible() and view.slider.width() >= 150


# ------------------------------------------------------------- the score field's target
def _grid(xs: np.ndarray, ys: np.ndarray) -> torch.Tensor:
    """The score field's grid points, ``(res * res, 2)``, x varying fastest."""
    gy, gx = torch.meshgrid(torch.as_tensor(ys), torch.as_tensor(xs), indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).double()


def test_ddpm_true_field_at_a_large_t_is_the_noised_mixture_score():
    torch.set_num_threads(1)
    s = Session("ddpm", "8gaussians", DDPM_SMALL)
    f = s.snapshot(["score_field"]).score_field
    assert f.true_is_noised and set(f.true_method) == {EXACT}
    assert f.level_labels[0] == "t = 20"
    abar = float(s.model.schedule.alpha_bars[19])
    x = _grid(f.xs, f.ys)
    means, std = s.data.means.double(), float(s.data.mode_std)
    weights = torch.full((len(means),), 1.0 / len(means), dtype=torch.float64)
    # q_t = sum_k w_k N(sqrt(abar) mu_k, (abar std^2 + 1 - abar) I)
    noised = mixture_score(x, abar**0.5 * means, weights, abar**0.5 * std, (1 - abar) ** 0.5)
    clean = mixture_score(x, means, weights, std)
    true = torch.as_tensor(f.true[0].reshape(-1, 2), dtype=torch.float64)
    np.testing.assert_allclose(true, noised, rtol=1e-4, atol=1e-5)
    assert float((true - clean).norm(dim=1).mean()) > 1.0


def test_ddpm_on_moons_estimates_the_noised_score_from_samples_and_says_so(qtbot):
    torch.set_num_threads(1)
    s = Session("ddpm", "moons", DDPM_SMALL)
    f = s.snapshot(["score_field"]).score_field
    assert f.true is not None and f.true_method[0] == MONTE_CARLO
    assert np.isfinite(f.true).all()
    # at t = 1 the noise is below the estimate's resolution: moons' exact clean score
    assert f.true_method[-1] == CLEAN and not f.true_is_noised
    # at t = T the noised data is close to N(0, I): its score is close to -x
    x = _grid(f.xs, f.ys).float().numpy()
    true = f.true[0].reshape(-1, 2)
    near = np.linalg.norm(x, axis=1) < 2
    cos = (true[near] * -x[near]).sum(1) / (
        np.linalg.norm(true[near], axis=1) * np.linalg.norm(x[near], axis=1) + 1e-9
    )
    assert float(np.median(cos)) > 0.9
    # the smallest t's field differs: the estimate follows the noise level
    assert not np.allclose(f.true[0], f.true[-1])
    view = ScoreFieldView()
    qtbot.addWidget(view)
    view.show_snapshot(s.snapshot(["score_field"]))
    view.slider.setValue(0)  # t = T
    assert "Monte-Carlo" in view.caption.text()
    assert "noised" in view.true_plot.titleLabel.text
    view.slider.setValue(view.slider.maximum())  # t = 1
    assert "clean data" in view.caption.text() and "clean" in view.true_plot.titleLabel.text


def test_the_score_view_spells_the_cores_method_names():
    from playground.app.views import score as view
    from playground.core.snapshots import score as core

    assert (view.EXACT, view.CLEAN) == (core.EXACT, core.CLEAN)


# -------------------------------------------------------------------------------- critic
def _critic(values: np.ndarray) -> Snapshot:
    axis = np.linspace(-2, 2, values.shape[0], dtype=np.float32)
    rng = np.random.default_rng(0)
    c = CriticImage(
        values=values.astype(np.float32),
        xs=axis,
        ys=axis,
        label="D(x)",
        real=rng.normal(size=(20, 2)).astype(np.float32),
        fake=rng.normal(size=(20, 2)).astype(np.float32),
    )
    g = GeneratorGradients(
        fake=rng.normal(size=(10, 2)).astype(np.float32),
        direction=rng.normal(size=(10, 2)).astype(np.float32),
    )
    return Snapshot(step=1, box=(-2.0, 2.0, -2.0, 2.0), critic=c, gradients=g)


def test_collapsed_critic_is_coloured_over_the_values_present(qtbot):
    view = CriticView()
    qtbot.addWidget(view)
    values = np.random.default_rng(1).uniform(0.45, 0.55, (40, 40))
    view.show_snapshot(_critic(values))
    low, high = (float(v) for v in view.image.levels)
    assert 0.45 <= low < high <= 0.55
    assert tuple(view.bar.levels()) == (low, high)
    assert f"colour range: D(x) from {low:.3g} to {high:.3g}" in view.caption.text()
    axis = view.bar.getAxis("right")
    assert axis.labelText == "D(x)" and not axis.autoSIPrefix  # not "D(x) (x0.001)"


def test_gradient_arrows_are_black_on_a_white_rim(qtbot):
    view = CriticView()
    qtbot.addWidget(view)
    view.arrows_box.setChecked(True)
    view.show_snapshot(_critic(np.full((8, 8), 0.5)))
    assert view.arrow_count == 10
    x, _ = view.arrows.getData()
    rim_x, _ = view.arrow_rims.getData()
    np.testing.assert_array_equal(x, rim_x)
    assert ARROW_PEN.color().name() == "#000000" and ARROW_RIM_PEN.color().name() == "#ffffff"
    assert ARROW_RIM_PEN.widthF() > ARROW_PEN.widthF()
    assert view.arrow_rims.zValue() < view.arrows.zValue()


# --------------------------------------------------------------------- pictures fill area
def _fill(panel) -> float:
    """The larger of the image's width and height fractions of its plot area."""
    vb = panel.plot.getViewBox()
    image = panel.image.sceneBoundingRect()
    area = vb.sceneBoundingRect()
    return max(image.width() / area.width(), image.height() / area.height())


def _image_traversal(dims: int) -> Traversal:
    rng = np.random.default_rng(0)
    return Traversal(
        decoded=rng.random((2, dims, 41, 8, 8), dtype=np.float32),
        values=np.linspace(-3, 3, 41, dtype=np.float32),
        dims=np.arange(dims),
        kl=np.linspace(2, 0.1, dims).astype(np.float32),
        anchors=rng.random((2, 8, 8), dtype=np.float32),
        codes=rng.standard_normal((2, dims)).astype(np.float32),
        data=None,
    )


@pytest.mark.parametrize("dims", [2, 8])
def test_traversal_grid_fills_its_plot(qtbot, dims):
    view = TraversalView()
    qtbot.addWidget(view)
    view.resize(VIEW_WIDTH, VIEW_HEIGHT)
    view.show()
    view.show_snapshot(Snapshot(step=1, box=(0, 1, 0, 1), traversal=_image_traversal(dims)))
    _settle()
    assert _fill(view.grid_panel) >= 0.7
    assert _fill(view.anchor_panel) >= 0.7
    assert view.grid_panel.plot.getAxis("left").isVisible()  # the row labels
    assert view.grid_panel.plot.getAxis("top").isVisible()  # the column values


def test_image_views_fill_their_plots(qtbot):
    rng = np.random.default_rng(0)
    cases = [
        (
            ImageGridView(),
            Snapshot(
                step=1,
                box=(0, 1, 0, 1),
                grid=ImageGrid(
                    images=rng.random((6, 8, 8, 8), dtype=np.float32),
                    row_labels=None,
                    data=rng.random((48, 8, 8), dtype=np.float32),
                    caption="samples",
                ),
            ),
            ("model_panel", "data_panel"),
        ),
        (
            ReconstructionsView(),
            Snapshot(
                step=1,
                box=(0, 1, 0, 1),
                reconstructions=Reconstructions(
                    inputs=rng.random((16, 8, 8), dtype=np.float32),
                    outputs=rng.random((16, 8, 8), dtype=np.float32),
                ),
            ),
            ("inputs_panel", "outputs_panel"),
        ),
        (
            ExplorerView(),
            Snapshot(step=1, box=(0, 1, 0, 1), explorer=_image_traversal(3)),
            ("image_panel", "anchor_panel"),
        ),
        (
            ReverseStripView(),
            Snapshot(
                step=1,
                box=(0, 1, 0, 1),
                reverse_strip=ReverseStrip(
                    images=rng.random((4, 6, 8, 8), dtype=np.float32),
                    timesteps=(50, 40, 30, 20, 10, 0),
                    row_labels=None,
                    caption="reverse",
                ),
            ),
            ("panel",),
        ),
    ]
    for view, snapshot, panels in cases:
        qtbot.addWidget(view)
        view.resize(VIEW_WIDTH, VIEW_HEIGHT)
        view.show()
        view.show_snapshot(snapshot)
        _settle()
        for name in panels:
            assert _fill(getattr(view, name)) >= 0.7, (type(view).__name__, name)


def test_latent_panels_zoom_to_the_points_and_name_their_axes(qtbot):
    rng = np.random.default_rng(2)
    points = (0.5 * rng.standard_normal((200, 2))).astype(np.float32)
    xmin, xmax, ymin, ymax = points_box(points)
    assert xmin <= points[:, 0].min() and points[:, 0].max() <= xmax and xmax - xmin < 5
    res = 16
    s = LatentSpace(
        points=points,
        labels=None,
        class_names=None,
        dims=np.array([0, 1]),
        prior=-rng.random((res, res), dtype=np.float32),
        aggregate=-rng.random((res, res), dtype=np.float32),
        xs=np.linspace(xmin, xmax, res, dtype=np.float32),
        ys=np.linspace(ymin, ymax, res, dtype=np.float32),
    )
    view = LatentSpaceView()
    qtbot.addWidget(view)
    view.resize(VIEW_WIDTH, VIEW_HEIGHT)
    view.show()
    view.show_snapshot(Snapshot(step=1, box=(-4.0, 4.0, -4.0, 4.0), latent_space=s))
    _settle()
    for plot in view.plots:
        (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
        # the range holds the points' box and, the aspect locked, fills one side with it
        assert x0 <= xmin + 1e-6 and x1 >= xmax - 1e-6 and y0 <= ymin + 1e-6
        assert min(x1 - x0 - (xmax - xmin), y1 - y0 - (ymax - ymin)) < 0.1
        assert plot.getAxis("bottom").labelText == "z0"
        assert plot.getAxis("left").labelText == "z1"
    for panel in (view.prior, view.aggregate):
        vb = panel.getViewBox()
        image, area = panel.sceneBoundingRect(), vb.sceneBoundingRect()
        assert max(image.width() / area.width(), image.height() / area.height()) >= 0.7
    assert view.bar.getAxis("right").labelText


# ------------------------------------------------------------- axis titles, colour bars
def _plots(view) -> list[pg.PlotItem]:
    out = []
    for canvas in view.findChildren(pg.GraphicsView):
        out += [i for i in canvas.scene().items() if isinstance(i, pg.PlotItem)]
    return out


@pytest.mark.parametrize("cls", MY_VIEWS, ids=lambda c: c.__name__)
def test_planes_name_their_axes_and_colour_bars_their_quantity(qtbot, cls):
    view = cls()
    qtbot.addWidget(view)
    for item in _plots(view):
        if isinstance(item, pg.ColorBarItem):
            assert item.getAxis("right").labelText, f"{cls.__name__}: an unlabelled colour bar"
        elif item.getAxis("bottom").isVisible():  # image panels hide theirs
            assert item.getAxis("bottom").labelText, cls.__name__
            assert item.getAxis("left").labelText, cls.__name__


def _density(normalized: bool = True, estimate: str = "") -> Snapshot:
    axis = np.linspace(-2, 2, 32, dtype=np.float32)
    log_p = -(axis[None, :] ** 2 + axis[:, None] ** 2).astype(np.float32) * 3
    d = DensityImage(
        log_prob=log_p,
        xs=axis,
        ys=axis,
        target_log_prob=None,
        data=None,
        normalized=normalized,
        estimate=estimate,
    )
    return Snapshot(step=1, box=(-2.0, 2.0, -2.0, 2.0), density=d)


def test_density_caption_and_bar_follow_the_model_family(qtbot):
    view = DensityView()
    qtbot.addWidget(view)
    view.show_snapshot(_density(estimate="IWAE estimate of log p(x) (K = 16)"))
    assert "IWAE estimate of log p(x) (K = 16)" in view.caption.text()
    assert "Z unknown" not in view.caption.text()
    assert view.bar.getAxis("right").labelText == "log p(x) [nats]"
    assert view.plot.getAxis("bottom").labelText == "x1"
    view.show_snapshot(_density(normalized=False))
    assert "Z unknown" in view.caption.text()
    assert view.bar.getAxis("right").labelText == "-E(x) [nats]"


def test_a_vae_density_picture_is_an_iwae_estimate():
    torch.set_num_threads(1)
    s = Session("vae", "8gaussians", {"hidden": 16, "batch_size": 32})
    d = s.snapshot(["density"], resolution=16).density
    assert d.normalized and d.estimate.startswith("IWAE estimate of log p(x) (K = ")


def _tick_texts(axis: pg.AxisItem) -> list[str]:
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _, _, text in specs[2]]


def test_presentation_mode_keeps_the_colour_bar_ticks(qtbot):
    view = DensityView()
    qtbot.addWidget(view)
    view.resize(VIEW_WIDTH, VIEW_HEIGHT)
    view.show()
    view.show_snapshot(_density())
    _settle()
    axis = view.bar.getAxis("right")
    before = _tick_texts(axis)
    assert len(before) >= 4 and any(len(t) >= 3 for t in before)  # "-10" among them
    style = theme.Presentation()
    style.apply(view)
    _settle()
    view.grab()
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(
        theme.FONT_POINTS * theme.PRESENTATION_FONT_SCALE
    )
    assert _tick_texts(axis) == before
    style.restore()
    assert math.isclose(axis.style["tickFont"].pointSizeF(), theme.FONT_POINTS)


def test_presentation_widens_a_fixed_width_colour_bar_and_restores_it(qtbot):
    bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False)
    canvas = pg.GraphicsLayoutWidget()
    qtbot.addWidget(canvas)
    canvas.addItem(bar)
    axis = bar.getAxis("right")
    width = axis.fixedWidth
    assert width is not None
    style = theme.Presentation()
    style.apply(canvas)
    assert axis.fixedWidth == pytest.approx(width * theme.PRESENTATION_FONT_SCALE)
    style.restore()
    assert axis.fixedWidth == width


def test_chains_controls_wrap_instead_of_widening_the_view(qtbot):
    """At projector font sizes the chains view's controls wrap onto more rows: the view
    never asks for more width than a 1366 px screen's view column has."""
    from playground.app.views.chains import ChainsView

    view = ChainsView()
    qtbot.addWidget(view)
    font = view.font()
    font.setPointSizeF(20.0)  # a projector size (not relative: other tests change the app font)
    view.setFont(font)
    view.resize(500, 600)
    view.show()
    qtbot.waitExposed(view)
    assert view.minimumSizeHint().width() <= 500
    rows = {w.mapTo(view, w.rect().topLeft()).y() for w in (view.source, view.steps_per_frame)}
    assert len(rows) == 2  # wrapped: the first control and the last are on different rows
