"""MADE as a model of discrete data (binned 2D points, pixels), the K x K grid of a 2D
density, and the conditionals picture and its view (offscreen): the autoregressive property
by gradients, probabilities that sum to one, sampling that agrees with scoring, exact cell
probabilities, training on the plane and on digits, a slider and an animation that redraw."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.data.grid import Grid, cell_probabilities, discrete_entropy
from playground.core.data.images import ImageDataset
from playground.core.models import MODELS
from playground.core.models.autoregressive.made import MADEModel
from playground.core.snapshots import PICTURES
from playground.core.snapshots.conditionals import PixelSampling, PlaneConditionals
from playground.core.training import Session
from playground.core.training.evaluation import discrete_metrics

SMALL = {"hidden": 16, "depth": 1, "batch_size": 64, "lr": 1e-2}


class TinyImages(ImageDataset):
    """Fifty random ``side`` x ``side`` binary images (2 x 2: 16 possible images, few
    enough to sum over)."""

    name = "tiny"

    def __init__(self, side: int = 2):
        self.binarized, self.levels = True, 2
        g = torch.Generator().manual_seed(0)
        self._split((torch.rand(50, 1, side, side, generator=g) > 0.5).float(), None)


def build(data, **values) -> MADEModel:
    torch.manual_seed(0)
    model = MADEModel(hpm.from_dict(MADEModel.Config, {**SMALL, **values}), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def all_cells(model: MADEModel) -> torch.Tensor:
    """Every value of the discrete data, in the data's format: ``(levels ** D, ...)``."""
    k = torch.tensor(list(itertools.product(range(model.levels), repeat=model.dims)))
    return model.from_levels(k)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    torch.set_num_threads(1)


# ------------------------------------------------------------------------------ the grid
def test_the_grid_bins_clamps_and_inverts_with_its_centres():
    grid = Grid((-1.0, 1.0, 0.0, 4.0), 4)
    x = torch.tensor([[-1.0, 0.0], [0.99, 3.99], [-0.49, 1.2], [5.0, -3.0]])
    assert grid.index(x).tolist() == [[0, 0], [3, 3], [1, 1], [3, 0]]
    k = torch.tensor(list(itertools.product(range(4), range(4))))
    assert torch.equal(grid.index(grid.centres(k)), k)
    assert grid.cell_area == pytest.approx(0.5)
    xs, ys = grid.axis_centres()
    assert xs.tolist() == [-0.75, -0.25, 0.25, 0.75] and ys.tolist() == [0.5, 1.5, 2.5, 3.5]


def test_cell_probabilities_of_an_axis_gaussian_match_its_normal_cdfs():
    data = make_dataset("gaussian2d-axis")  # N((2, 3), diag(3, 1)^2) on (-8, 12, -7, 13)
    cells = cell_probabilities(data, 20, cache=False)
    edges_x, edges_y = np.linspace(-8, 12, 21), np.linspace(-7, 13, 21)
    px, py = np.diff(norm.cdf(edges_x, 2, 3)), np.diff(norm.cdf(edges_y, 3, 1))
    exact = np.outer(px, py) / (px.sum() * py.sum())
    np.testing.assert_allclose(cells.probs.numpy(), exact, atol=2e-4)
    assert float(cells.probs.sum()) == pytest.approx(1.0, abs=1e-12)
    h = -(exact[exact > 0] * np.log(exact[exact > 0])).sum()
    assert cells.entropy == pytest.approx(h, abs=2e-3)
    assert cells.outside == pytest.approx(1 - px.sum() * py.sum(), abs=1e-4)
    assert "quadrature" in cells.method


def test_a_density_without_log_prob_is_a_monte_carlo_estimate_of_uniform_cells():
    data = make_dataset("line")  # no exact density: samples only
    cells = cell_probabilities(data, 8, samples=200_000, cache=False)
    assert "Monte Carlo" in cells.method and "200,000" in cells.method
    assert float(cells.probs.sum()) == pytest.approx(1.0)
    assert discrete_entropy(torch.full((4, 4), 1 / 16)) == pytest.approx(math.log(16))
    with pytest.raises(ValueError, match="sum to 1"):
        discrete_entropy(torch.full((4,), 0.3))


# ---------------------------------------------------------------------- the model itself
@pytest.mark.parametrize("pair", [(0, 0), (1, 0), (2, 1), (3, 2)])
def test_each_output_depends_only_on_the_inputs_before_it_in_the_ordering(pair):
    model = build(TinyImages(4), hidden=40, depth=2, orderings=4, masks=3)
    model.use_pair(*pair)
    order = model.sampling_order().tolist()
    assert sorted(order) == list(range(16)) and (order == list(range(16))) == (pair[0] == 0)
    h = torch.rand(32, 16 * 2, requires_grad=True)
    logits = model.network(h)
    # the degree rule's masks connect output i to exactly the inputs before it (hidden >=
    # D - 1); drawn hidden degrees (mask sets m >= 1) may leave some out
    paths = model.layers[0].mask
    for layer in model.layers[1:]:
        paths = layer.mask @ paths
    reach = paths.reshape(2, 16, 16, 2).sum((0, 3)) > 0  # [output dim, input dim]
    for t, i in enumerate(order):
        (grad,) = torch.autograd.grad(logits[:, i].sum(), h, retain_graph=True)
        seen = set(torch.nonzero(grad.abs().reshape(32, 16, 2).sum((0, 2)) > 0).flatten().tolist())
        assert seen <= set(order[:t]), (pair, t)
        connected = set(torch.nonzero(reach[i]).flatten().tolist())
        assert connected == set(order[:t]) if pair[1] == 0 else connected <= set(order[:t])


def test_probabilities_sum_to_one_over_all_cells_and_all_2x2_images():
    for data in (make_dataset("moons"), TinyImages()):
        model = build(data, bins=4, orderings=3, masks=2, ensemble=6)
        x = all_cells(model)
        assert len(x) == 16
        for training in (True, False):  # one pair; the ensemble of six
            model.train(training)
            with torch.no_grad():
                total = float(model.log_prob_levels(x).exp().sum())
            assert total == pytest.approx(1.0, abs=1e-5), (data.name, training)


def test_the_plane_density_is_the_cell_probability_over_its_area():
    model = build(make_dataset("moons"), bins=4).eval()
    x = all_cells(model)
    area = model.grid.cell_area
    with torch.no_grad():
        log_p = model.log_prob(x)
        np.testing.assert_allclose(log_p, model.log_prob_levels(x) - math.log(area), atol=1e-6)
    assert float((log_p.exp() * area).sum()) == pytest.approx(1.0, abs=1e-5)
    # zero gradient, but a gradient: samplers that differentiate log p still run
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model.log_prob(xg).sum(), xg)
    assert torch.equal(g, torch.zeros_like(x))


@pytest.mark.parametrize("ensemble", [1, 4])
def test_sample_frequencies_match_the_model_probabilities(ensemble):
    model = build(make_dataset("moons"), bins=4, orderings=2, masks=2, ensemble=ensemble).eval()
    with torch.no_grad():
        model.layers[-1].bias.normal_(0, 1.5, generator=torch.Generator().manual_seed(3))
        probs = model.log_prob_levels(all_cells(model)).exp()
    x = model.sample(20_000, torch.Generator().manual_seed(4))
    assert x.shape == (20_000, 2)
    box = model.grid.box
    assert bool(((x[:, 0] >= box[0]) & (x[:, 0] < box[1])).all())
    k = model.to_levels(x)
    freq = torch.bincount(k[:, 0] * 4 + k[:, 1], minlength=16).double() / len(x)
    assert float((freq - probs.double()).abs().max()) < 0.012
    # samples are uniform in their cell, not its centre
    assert len(torch.unique(x[:, 0])) > 1000


def test_weights_alone_rebuild_the_model_masks_follow_from_the_config():
    data = TinyImages(4)
    model = build(data, hidden=24, orderings=3, masks=3, ensemble=5)
    model.train_step(data.sample(16, torch.Generator().manual_seed(5)))
    assert model.pair == (0, 0)
    saved = model.state_dict()
    assert not any(key.endswith("mask") or key == "order" for key in saved)
    again = MADEModel(model.config, data)
    again.load_state_dict(saved)
    x = data.test_images
    with torch.no_grad():
        torch.testing.assert_close(again.eval().discrete_nll(x), model.eval().discrete_nll(x))


def test_bad_bins_are_refused_with_a_clear_message():
    with pytest.raises(hpm.HyperparameterError, match="bins"):
        Session("made", "moons", {"bins": 2})


def test_made_on_images_has_no_plane_density_and_takes_their_levels():
    digits = build(make_dataset("digits"))
    assert digits.levels == 17 and digits.event_shape == (1, 8, 8)
    assert "density" not in digits.capabilities and "density" in MADEModel.capabilities
    assert PICTURES["conditionals"].needs == ("autoregressive",)
    assert MODELS["made"] is MADEModel and MADEModel.family == "autoregressive"


# ------------------------------------------------------------------------------- training
def test_the_loss_falls_on_a_seeded_run_on_the_plane_and_evaluates():
    session = Session("made", "moons", {**SMALL, "bins": 16, "orderings": 2}, seed=0)
    first = session.step()["loss"]
    session.run(59)
    assert session.last_terms["loss"] < first - 0.5
    assert session.last_terms["bits_per_dim"] == pytest.approx(
        session.last_terms["nll"] / (2 * math.log(2))
    )
    metrics = session.evaluate(n=2000, record=False)
    assert math.isfinite(metrics["nll"]) and metrics["nll_gap"] > 0
    assert "conditionals" in session.available_views and "density" in session.available_views
    # the model rests on the natural order between steps
    assert session.model.sampling_order().tolist() == [0, 1]


@pytest.mark.parametrize("dataset", ["digits", "digits:binarize=true"])
def test_made_trains_on_digits_and_reports_bits_per_dim(dataset):
    session = Session("made", dataset, {**SMALL, "hidden": 32}, seed=0)
    session.run(3)
    assert all(math.isfinite(v) for v in session.last_terms.values())
    levels = 17 if dataset == "digits" else 2
    if dataset == "digits":  # the whole held-out evaluation once (its classifier costs)
        bpd = session.evaluate(n=200, record=False)["bits_per_dim"]
    else:
        bpd = discrete_metrics(session.model.eval(), session.data, 0, session.device)
        bpd = bpd["bits_per_dim"]
    assert 0 < bpd < 1.5 * math.log2(levels)
    assert "conditionals" in session.available_views and "density" not in session.available_views


# ------------------------------------------------------------------------------ the picture
@pytest.fixture(scope="module")
def plane_picture() -> tuple[PlaneConditionals, MADEModel]:
    session = Session("made", "moons", {**SMALL, "bins": 8}, seed=0)
    session.run(30)
    return session.snapshot(["conditionals"]).conditionals, session.model


def test_the_plane_picture_is_the_models_joint_marginal_and_conditionals(plane_picture):
    c, model = plane_picture
    assert c.first == 0 and c.joint.shape == (8, 8) and c.conditional.shape == (8, 8)
    np.testing.assert_allclose(c.conditional.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(c.joint, c.marginal[:, None] * c.conditional, atol=1e-7)
    model.eval()
    with torch.no_grad():
        exact = model.log_prob_levels(all_cells(model)).exp().reshape(8, 8).numpy()
    np.testing.assert_allclose(c.joint, exact, atol=1e-6)
    assert c.target_joint.sum() == pytest.approx(1.0, abs=1e-5) and "quadrature" in c.target_method


@pytest.fixture(scope="module")
def pixel_picture() -> tuple[PixelSampling, MADEModel]:
    session = Session("made", "digits:binarize=true", {**SMALL, "hidden": 32}, seed=0)
    session.run(3)
    return session.snapshot(["conditionals"]).conditionals, session.model


def test_the_pixel_picture_keeps_each_pixels_predictive_distribution(pixel_picture):
    p, model = pixel_picture
    assert p.order.shape == (64,) and p.probs.shape == (64, 2) and p.image.shape == (8, 8)
    np.testing.assert_allclose(p.probs.sum(1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(p.image.reshape(-1), p.chosen.astype(np.float32))
    # the last pixel's distribution is the model's conditional given all the others
    model.eval()
    with torch.no_grad():
        logits = model.conditional_logits(torch.as_tensor(p.image)[None, None])
    last = int(p.order[-1])
    np.testing.assert_allclose(p.probs[-1], logits[0, last].softmax(-1).numpy(), atol=1e-6)


# ------------------------------------------------------------------------------- the view
def test_the_slider_redraws_the_conditional_bars(qtbot, plane_picture):
    pytest.importorskip("pytestqt")
    from playground.app.views.conditionals import ConditionalsView
    from playground.core.snapshots import Snapshot

    view = ConditionalsView()
    qtbot.addWidget(view)
    c, _ = plane_picture
    view.show_snapshot(Snapshot(30, (-2.0, 3.0, -1.5, 2.0), conditionals=c))
    assert view.slider.maximum() == 7 and view.slider.value() == int(np.argmax(c.marginal))
    view.slider.setValue(2)
    before = np.array(view.plane.conditional.bars.opts["height"], copy=True)
    np.testing.assert_allclose(before, c.conditional[2])
    view.slider.setValue(5)
    after = np.array(view.plane.conditional.bars.opts["height"])
    np.testing.assert_allclose(after, c.conditional[5])
    assert not np.allclose(before, after)
    assert "bin a = 5" in view.plane.slider_label.text()


def test_the_animation_draws_one_pixel_per_frame(qtbot, pixel_picture):
    pytest.importorskip("pytestqt")
    from playground.app.views.conditionals import ConditionalsView
    from playground.app.views.conditionals_pixels import UNDRAWN_RGB, frame_image
    from playground.core.snapshots import Snapshot

    view = ConditionalsView()
    qtbot.addWidget(view)
    p, _ = pixel_picture
    view.show_snapshot(Snapshot(3, (0.0, 1.0, 0.0, 1.0), conditionals=p))
    assert view.pixels.frame == 63  # the finished sample first

    def undrawn() -> int:
        return int((view.pixels.image.image == np.array(UNDRAWN_RGB)).all(-1).sum())

    assert undrawn() == 0
    view.pixels.restart.click()
    assert view.play.isChecked() and view.pixels.frame == 0 and undrawn() == 63
    view.play.setChecked(False)  # Pause: the frame stays
    view.pixels.sweep.advance()
    assert view.pixels.frame == 1 and undrawn() == 62
    np.testing.assert_array_equal(view.pixels.image.image, frame_image(p, 1))
    np.testing.assert_allclose(view.pixels.bars.opts["height"], p.probs[1])
    view.play.setChecked(True)
    qtbot.waitUntil(lambda: view.pixels.frame >= 4, timeout=5000)


@pytest.mark.slow  # a whole window: 10-20 s to start on the shared machine
def test_the_window_offers_and_draws_the_conditionals_tab_for_made(qtbot, open_window):
    window = open_window("made", "moons")
    assert "conditionals" in window.tab_names
    window.tabs.setCurrentIndex(window.tab_names.index("conditionals"))
    qtbot.waitUntil(lambda: window.draws["conditionals"] > 0, timeout=30_000)
    view = window.views["conditionals"]
    assert view.plane.last is not None and view.slider.maximum() == 31
