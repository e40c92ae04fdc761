"""PixelCNN and Gated PixelCNN: causality checked by gradients (PixelCNN's blind spot, Gated
PixelCNN's exact receptive field), probabilities that sum to one, samples that follow the
scores, training on digits, and the Receptive field picture and view."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch import nn

from playground.core import hyperparameters as hpm
from playground.core.hyperparameters import HyperparameterError
from playground.core.models.autoregressive import AutoregressiveModel
from playground.core.models.autoregressive.gated_pixelcnn import GatedPixelCNN
from playground.core.models.autoregressive.pixelcnn import PixelCNN
from playground.core.snapshots import PICTURES, Snapshot
from playground.core.snapshots.receptive_field import ReceptiveField, sensitivities, target_grid
from playground.core.training import Session
from playground.core.training.evaluation import discrete_metrics

TINY_PIXELCNN = {"channels": 8, "blocks": 2, "first_kernel": 3}
TINY_GATED = {"channels": 8, "layers": 2, "kernel": 3, "first_kernel": 3}


class Grid:
    """A stand-in image set of ``h x w`` pixels on ``levels`` levels (``classes`` labels)."""

    kind, can_sample, name = "image", True, "grid"

    def __init__(self, h: int, w: int, levels: int = 2, classes: int = 0):
        self.shape, self.levels = (1, h, w), levels
        self.class_names = tuple(str(i) for i in range(classes)) or None


def build(cls, data, **values):
    torch.manual_seed(0)
    model = cls(hpm.from_dict(cls.Config, values), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model.eval()


def random_images(data: Grid, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(data.levels, (n, *data.shape), generator=g)
    return k.float() / (data.levels - 1)


def dependence(logits_of, x: torch.Tensor) -> torch.Tensor:
    """``(D, D)`` bool: output ``i`` (row) depends on input ``j``, by the gradient of a
    random combination of its logits over the examples of ``x`` (one backward pass: copy
    ``i`` of the examples differentiates output ``i``)."""
    n, d = x.shape[0], x[0].numel()
    xb = x.repeat(d, 1, 1, 1).requires_grad_(True)
    logits = logits_of(xb)
    w = torch.randn(logits.shape[-1], generator=torch.Generator().manual_seed(3))
    out = torch.arange(d).repeat_interleave(n)
    (g,) = torch.autograd.grad((logits[torch.arange(d * n), out] * w).sum(), xb)
    return g.abs().reshape(d, n, d).sum(1) > 0


def before(d: int) -> torch.Tensor:
    """``(D, D)`` bool: ``j < i`` (raster order)."""
    return torch.ones(d, d).tril(-1).bool()


def gated_field(h: int, w: int, first_kernel: int, kernel: int, layers: int) -> torch.Tensor:
    """``(D, D)`` bool: Gated PixelCNN's receptive field in closed form. With ``A =
    first_kernel // 2 + (layers - 1) (kernel // 2)``: the ``A + 1`` rows above within ``A``
    columns either side, and the ``A + 1`` pixels to the left in the row."""
    a = first_kernel // 2 + (layers - 1) * (kernel // 2)
    out = torch.zeros(h * w, h * w, dtype=torch.bool)
    for r, c, rr, cc in itertools.product(range(h), range(w), range(h), range(w)):
        above = 1 <= r - rr <= a + 1 and abs(cc - c) <= a
        left = rr == r and 1 <= c - cc <= a + 1
        out[r * w + c, rr * w + cc] = above or left
    return out


# ------------------------------------------------------------------ causality


def test_pixelcnn_sees_only_the_past_and_has_a_blind_spot():
    data = Grid(6, 6)
    model = build(PixelCNN, data, **TINY_PIXELCNN)
    dep = dependence(model.conditional_logits, random_images(data, 4))
    assert not (dep & ~before(36)).any(), "a pixel sees itself or a later pixel"
    i = 3 * 6 + 2  # pixel (3, 2)
    assert dep[i, i - 1] and dep[i, i - 6], "mask A: the left and upper neighbours are seen"
    # the blind spot: (2, 4), up and two to the right, comes before (3, 2) and is never seen
    assert before(36)[i, 2 * 6 + 4] and not dep[i, 2 * 6 + 4]
    assert int((before(36) & ~dep)[i].sum()) > 0


@pytest.mark.parametrize("conditional", [False, True])
def test_gated_pixelcnn_sees_exactly_its_receptive_field(conditional):
    data = Grid(7, 7, classes=3)
    model = build(GatedPixelCNN, data, conditional=conditional, **TINY_GATED)
    x = random_images(data, 3)
    labels = torch.tensor([0, 1, 2]).repeat(49)
    dep = dependence(lambda v: model.logits_given(v, labels), x)
    assert torch.equal(dep, gated_field(7, 7, 3, 3, 2))
    assert not (dep & ~before(49)).any()


@pytest.mark.parametrize("conditional", [False, True])
def test_gated_pixelcnn_has_no_blind_spot(conditional):
    """Deep enough for a 5 x 5 image, every pixel sees every pixel before it; the class
    mixture's conditionals (what is scored and sampled) too."""
    data = Grid(5, 5, classes=2)
    model = build(
        GatedPixelCNN, data, channels=8, layers=3, first_kernel=5, conditional=conditional
    )
    dep = dependence(model.conditional_logits, random_images(data, 3))
    assert torch.equal(dep, before(25))


# ------------------------------------------------------------------ probabilities

MODELS_2x2 = [
    (PixelCNN, TINY_PIXELCNN, 2),
    (PixelCNN, TINY_PIXELCNN, 3),
    (GatedPixelCNN, TINY_GATED, 2),
    (GatedPixelCNN, {**TINY_GATED, "conditional": True}, 2),
]


@pytest.mark.parametrize("cls, values, levels", MODELS_2x2)
def test_the_probabilities_of_every_image_sum_to_one(cls, values, levels):
    data = Grid(2, 2, levels, classes=2)
    model = build(cls, data, **values)
    k = torch.tensor(list(itertools.product(range(levels), repeat=4)))
    with torch.no_grad():
        log_p = model.log_prob_levels(model.from_levels(k))
    assert len(k) == levels**4
    assert float(torch.logsumexp(log_p.double(), 0)) == pytest.approx(0.0, abs=1e-5)
    assert torch.allclose(model.discrete_nll(model.from_levels(k)), -log_p)


@pytest.mark.parametrize("cls, values, levels", MODELS_2x2[:1] + MODELS_2x2[3:])
def test_samples_follow_the_probabilities(cls, values, levels):
    data = Grid(2, 2, levels, classes=2)
    model = build(cls, data, **values)
    k = torch.tensor(list(itertools.product(range(levels), repeat=4)))
    with torch.no_grad():
        p = model.log_prob_levels(model.from_levels(k)).exp().double()
        n = 20_000
        drawn = model.to_levels(model.sample(n, torch.Generator().manual_seed(5)))
    index = (drawn * torch.tensor([levels**3, levels**2, levels, 1])).sum(1)
    freq = torch.bincount(index, minlength=len(k)).double() / n
    assert (freq - p).abs().max() < 4 * math.sqrt(0.25 / n)


def test_row_by_row_sampling_makes_the_base_class_draws():
    data = Grid(4, 5, 3)
    model = build(PixelCNN, data, **TINY_PIXELCNN)
    fast = model.sample(16, torch.Generator().manual_seed(9))
    slow = AutoregressiveModel.sample(model, 16, torch.Generator().manual_seed(9))
    assert fast.shape == (16, 1, 4, 5) and torch.equal(fast, slow)


def test_a_conditional_model_samples_its_label():
    data = Grid(3, 3, 2, classes=3)
    model = build(GatedPixelCNN, data, conditional=True, sample_label=2, **TINY_GATED)
    assert model.needs_labels and model.n_classes == 3
    g = torch.Generator().manual_seed(0)
    labels = model.labels_to_sample(5, g)
    assert labels.tolist() == [2] * 5
    x = model.sample_class(4, 1, g)
    assert x.shape == (4, 1, 3, 3) and set(x.unique().tolist()) <= {0.0, 1.0}
    model.config.sample_label = 3
    with pytest.raises(HyperparameterError, match="sample_label 3"):
        model.sample(2, g)


def test_a_conditional_models_sample_grid_has_a_row_per_class():
    session = Session("gated-pixelcnn", "digits", {"conditional": True, "channels": 8, "layers": 2})
    grid = session.snapshot(["grid"]).grid
    assert grid.images.shape[:2] == (10, 8)
    assert grid.row_labels[:2] == ("y = 0", "y = 1")
    assert grid.caption == "rows: samples of class y"


def test_bad_hyperparameters_are_refused():
    with pytest.raises(HyperparameterError, match="first_kernel must be odd"):
        build(PixelCNN, Grid(4, 4), first_kernel=4)
    with pytest.raises(HyperparameterError, match="kernel must be odd"):
        build(GatedPixelCNN, Grid(4, 4), kernel=2)
    with pytest.raises(HyperparameterError, match="no labels"):
        build(GatedPixelCNN, Grid(4, 4), conditional=True)


# ------------------------------------------------------------------ training


def test_the_loss_falls_on_a_seeded_run():
    s = Session("pixelcnn", "digits:binarize=true", {**TINY_PIXELCNN, "lr": 1e-2}, seed=0)
    terms = [s.step()["nll"] for _ in range(30)]
    assert np.mean(terms[-5:]) < np.mean(terms[:5]) - 5.0
    assert set(s.last_terms) == {"loss", "nll", "bits_per_dim"}
    assert s.last_terms["bits_per_dim"] == pytest.approx(s.last_terms["nll"] / (64 * math.log(2)))


@pytest.mark.parametrize(
    "model, dataset, values",
    [
        ("pixelcnn", "digits:binarize=true", TINY_PIXELCNN),
        ("gated-pixelcnn", "digits", TINY_GATED),
        ("gated-pixelcnn", "digits", {**TINY_GATED, "conditional": True}),
    ],
)
def test_sessions_train_and_report_test_bits_per_dim(model, dataset, values):
    s = Session(model, dataset, {**values, "batch_size": 32}, seed=0)
    s.run(3)
    assert s.model.needs_labels == values.get("conditional", False)
    bpd = discrete_metrics(s.model, s.data, s.seed, s.device)["bits_per_dim"]
    uniform = math.log2(s.data.levels)
    assert 0.0 < bpd < 1.5 * uniform
    assert "receptive_field" in s.available_views and "grid" in s.available_views


@pytest.mark.slow
def test_evaluate_records_test_bits_per_dim():
    s = Session("gated-pixelcnn", "digits", {**TINY_GATED, "conditional": True}, seed=0)
    s.run(20)
    metrics = s.evaluate()
    assert metrics["bits_per_dim"] < math.log2(17)
    assert 0.0 <= metrics["guidance_accuracy"] <= 1.0
    assert "test_bits_per_dim" in s.history.as_arrays()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["pixelcnn", "gated-pixelcnn"])
def test_a_short_run_beats_uniform_coding_by_far(model):
    s = Session(model, "digits", {"lr_decay_steps": 300}, seed=0)
    s.run(300)
    bpd = discrete_metrics(s.model, s.data, s.seed, s.device)["bits_per_dim"]
    assert bpd < 0.6 * math.log2(17)


# ------------------------------------------------------------------ the picture


class CausalSequence(AutoregressiveModel):
    """A test double of a sequence model: ``p(x_t | x_{t-3}, .., x_{t-1})`` by a causal
    convolution over the level's embedding (not differentiable in ``x``), 4 levels."""

    name, data_kinds = "causal-sequence", ("sequence",)

    def __init__(self, length: int):
        super().__init__(None, None)
        self.levels, self.event_shape = 4, (1, length)
        torch.manual_seed(0)
        self.embed = nn.Embedding(4, 6)
        self.conv = nn.Conv1d(6, 4, 3)

    def conditional_logits(self, x):
        h = self.embed(self.to_levels(x)).transpose(1, 2)
        return self.conv(nn.functional.pad(h, (3, -1))).transpose(1, 2)


def test_the_sensitivities_of_a_sequence_model_by_perturbation():
    model = CausalSequence(20)
    x = model.from_levels(torch.randint(4, (3, 20), generator=torch.Generator().manual_seed(0)))
    sens, method = sensitivities(model, x, target_grid((20,)))
    assert method == "perturbation" and sens.shape == (20, 20)
    field = ReceptiveField(
        "sequence", (20,), np.arange(20), sens.numpy(), np.arange(20), x[0, 0].numpy(), 3,
        method,
    )  # fmt: skip
    assert field.reach(15) == 3 and field.reach(1) == 1 and field.reach(0) == 0
    assert (
        (sens > 0).numpy() == np.tri(20, k=-1, dtype=bool) & ~np.tri(20, k=-4, dtype=bool)
    ).all()


def test_the_target_grid_thins_large_data():
    assert torch.equal(target_grid((8, 8)), torch.arange(64))
    grid = target_grid((64, 64))
    assert len(grid) <= 400 and int(grid[1]) == 4 and int(grid[16]) == 4 * 64
    assert len(target_grid((4096,))) <= 400


def test_the_picture_shows_pixelcnns_blind_spot_and_not_gated_pixelcnns():
    assert PICTURES["receptive_field"].needs == ("autoregressive",)
    blind = {}
    for name, values in (("pixelcnn", TINY_PIXELCNN), ("gated-pixelcnn", {"layers": 4})):
        s = Session(name, "digits:binarize=true", {**values, "channels": 8}, seed=0)
        s.run(2)
        field = s.snapshot(["receptive_field"]).receptive_field
        assert field.kind == "image" and field.shape == (8, 8) and field.method == "gradient"
        assert field.sensitivity.shape == (64, 64) and field.examples == 4
        assert (field.sensitivity[np.triu_indices(64)] == 0).all(), "a pixel sees the future"
        blind[name] = int(field.unseen_past(5 * 8 + 2).sum())
    assert blind["pixelcnn"] > 0 and blind["gated-pixelcnn"] == 0
    assert "receptive_field" not in Session("realnvp", "moons").available_views


# ------------------------------------------------------------------ the view


def test_the_view_redraws_for_a_new_target_pixel(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views import VIEW_CLASSES
    from playground.app.views.receptive_field import FLOOR, ReceptiveFieldView

    assert VIEW_CLASSES["receptive_field"] is ReceptiveFieldView
    s = Session("pixelcnn", "digits:binarize=true", {**TINY_PIXELCNN, "channels": 8}, seed=0)
    s.run(2)
    snap = s.snapshot(["receptive_field"])
    view = ReceptiveFieldView()
    qtbot.addWidget(view)
    view.show()
    assert view.accepts(snap)
    view.show_snapshot(snap)
    assert view.target == 5 * 8 + 2 and view.row_box.value() == 5 and view.col_box.value() == 2
    first = view.map.image.image.copy()
    assert first.shape == (8, 8) and first.max() == 0.0 and first.min() >= FLOOR
    assert len(view.map.unseen.data) > 0 and "cannot see" in view.caption.text()
    view.row_box.setValue(7)
    view.col_box.setValue(6)
    assert view.target == 7 * 8 + 6
    assert not np.array_equal(view.map.image.image, first)
    assert "(7, 6)" in view.caption.text()
    assert view.map.frame.rect().x() == 6 and view.map.frame.rect().y() == 7
    view._clicked_pixel((1, 0))
    assert view.target == 8 and view.row_box.value() == 1 and view.col_box.value() == 0
    view.show_snapshot(s.snapshot(["receptive_field"]))
    assert view.target == 8, "a new snapshot keeps the chosen pixel"
    view.clear()
    assert view.target is None


def test_the_view_draws_a_sequence_and_its_reach(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views.receptive_field import ReceptiveFieldView

    model = CausalSequence(30)
    x = model.from_levels(torch.randint(4, (2, 30), generator=torch.Generator().manual_seed(0)))
    sens, method = sensitivities(model, x, target_grid((30,)))
    field = ReceptiveField(
        "sequence", (30,), np.arange(30), sens.numpy(), np.arange(30), x[0, 0].numpy(), 2,
        method,
    )  # fmt: skip
    view = ReceptiveFieldView()
    qtbot.addWidget(view)
    view.show()
    view.show_snapshot(Snapshot(4, (0.0, 1.0, -1.0, 1.0), receptive_field=field))
    assert view.target == 29 and view.sequence_controls.isVisibleTo(view)
    assert not view.image_controls.isVisibleTo(view)
    assert view.curve.reach.getRegion() == (29 - 3 - 0.5, 29 - 0.5)
    view.step_box.setValue(10)
    assert view.curve.lines[1].value() == 10 and "t = 10 sees the 3 steps" in view.caption.text()
