"""The VQ-VAE's second stage (van den Oord et al. 2017, sections 3.3 and 4.1): a PixelCNN
prior over the code map, trained on the batch's codes from ``prior_start`` on and sampled
in raster order; and the code usage picture and view of the capability ``codebook``."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models.base import CAPABILITIES
from playground.core.models.latent.code_prior import (
    PixelCNNCodePrior,
    UniformCodePrior,
    code_grid,
)
from playground.core.models.latent.vqvae import VQVAE
from playground.core.snapshots import PICTURES
from playground.core.snapshots.code_usage import MAPS, PRIOR_MAPS, CodeUsage, usage_perplexity

_DATA: dict = {}


def dataset(spec: str):
    if spec not in _DATA:
        _DATA[spec] = make_dataset(spec)
    return _DATA[spec]


def build(data="digits", **values):
    """A VQ-VAE built as the Session builds it, small."""
    data = dataset(data)
    values = {**VQVAE.defaults_for(data), "hidden": 32, "prior": "pixelcnn", **values}
    values.setdefault("prior_channels", 16)
    torch.manual_seed(0)
    model = VQVAE(from_dict(VQVAE.Config, values), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def batch(model, seed=2, n=64):
    return model.data.sample(n, torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------ the prior
def test_code_grids():
    assert [code_grid(m) for m in (1, 7, 8, 16, 12)] == [(1, 1), (1, 7), (2, 4), (4, 4), (3, 4)]


def test_the_prior_sums_to_one_over_every_code_map():
    """A 2 x 2 map of 2 codes: the 16 maps' probabilities sum to one."""
    torch.manual_seed(0)
    prior = PixelCNNCodePrior(2, 4, 8, 1)
    maps = torch.tensor(list(itertools.product(range(2), repeat=4)))
    with torch.no_grad():
        assert torch.logsumexp(prior.log_prob(maps), 0).item() == pytest.approx(0.0, abs=1e-5)
    uniform = UniformCodePrior(2, 4)
    assert torch.logsumexp(uniform.log_prob(maps), 0).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("positions", [8, 16])
def test_each_conditional_sees_only_the_codes_before_it(positions):
    """The gradient of the logits at position i reaches the inputs at positions < i only."""
    torch.manual_seed(0)
    k = 3
    prior = PixelCNNCodePrior(k, positions, 8, 2)
    h, w = prior.grid
    x = torch.rand(1, k, h, w, requires_grad=True)
    out = prior.net(x).flatten(2)  # (1, K, M)
    for i in range(positions):
        (grad,) = torch.autograd.grad(out[0, :, i].sum(), x, retain_graph=True)
        seen = grad.abs().sum(1).flatten() > 0
        assert not seen[i:].any(), f"position {i} sees itself or a later code"
        assert seen[:i].all(), f"position {i} misses an earlier code"


def test_the_prior_trains_only_from_prior_start():
    model = build(prior_start=3)
    before = {k: v.clone() for k, v in model.prior.state_dict().items()}
    terms = [model.train_step(batch(model, seed)) for seed in range(3)]
    after = model.prior.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before), "the prior moved early"
    assert "prior_nll" in terms[0] and terms[0]["prior_nll"] == pytest.approx(terms[0]["kl"])
    model.train_step(batch(model, 3))
    assert not torch.equal(before["net.first.weight"], model.prior.state_dict()["net.first.weight"])
    assert "prior_nll" not in build(prior="uniform").train_step(batch(model))


def test_the_prior_loss_falls_on_the_code_maps_of_digits():
    """The prior's NLL of a fixed set of code maps falls on a seeded run (Adam, 30 steps)."""
    model = build()
    with torch.no_grad():
        codes = model.code_indices(batch(model, n=256)).flatten(1)
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.prior.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = -model.prior.log_prob(codes).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 2.0, losses  # nats per code map


def test_the_elbo_is_the_reconstruction_plus_the_prior_log_probability():
    model = build()
    x = batch(model)
    with torch.no_grad():
        terms = model.elbo_terms(x)
        codes = model.code_indices(x).flatten(1)
        log_prior = model.prior.log_prob(codes)
    assert torch.allclose(terms["kl"], -log_prior, atol=1e-5)
    assert torch.allclose(terms["elbo"], terms["reconstruction"] + log_prior, atol=1e-4)
    uniform = build(prior="uniform")
    kl = uniform.elbo_terms(x)["kl"]
    assert torch.allclose(kl, torch.full_like(kl, 8 * math.log(32)))
    assert list(dict(uniform.named_parameters())) == [
        n for n in dict(model.named_parameters()) if not n.startswith("prior.")
    ]


def test_samples_decode_code_maps_drawn_from_the_prior():
    model = build()
    for seed in range(5):
        model.train_step(batch(model, seed))
    codes = model.sample_codes(6, torch.Generator().manual_seed(3))
    assert codes.shape == (6, 2, 4) and codes.dtype == torch.long
    assert int(codes.min()) >= 0 and int(codes.max()) < 32
    again = model.sample_codes(6, torch.Generator().manual_seed(3))
    assert torch.equal(codes, again)  # every draw from the generator
    with torch.no_grad():
        images = model.decode_codes(codes)
        samples = model.sample(6, torch.Generator().manual_seed(3))
    assert images.shape == samples.shape == (6, 1, 8, 8)
    assert torch.allclose(images, samples)
    assert float(samples.min()) >= 0.0 and float(samples.max()) <= 1.0


def test_the_codebook_capability():
    assert CAPABILITIES["codebook"] == (
        "code_usage",
        "code_indices",
        "sample_codes",
        "decode_codes",
    )
    assert "codebook" in VQVAE.capabilities
    model = build(prior="uniform")
    x = batch(model)
    maps = model.code_indices(x)
    assert maps.shape == (64, 2, 4)
    counts = model.code_usage(x)
    assert torch.equal(counts, torch.bincount(maps.flatten(), minlength=32))


# ------------------------------------------------------------------ the picture
def test_usage_perplexity():
    assert usage_perplexity(np.array([5, 0, 0])) == pytest.approx(1.0)
    assert usage_perplexity(np.array([3, 3, 3, 3])) == pytest.approx(4.0)
    assert usage_perplexity(np.zeros(4)) == 0.0


def _session(prior="pixelcnn", data="digits"):
    from playground.core.training import Session

    values = {"hidden": 32, "prior": prior, "prior_start": 0, "prior_channels": 16}
    return Session("vq-vae", data, values, seed=0, device="cpu")


def test_the_picture_counts_the_test_codes_and_draws_maps_of_both():
    session = _session()
    session.run(5)
    assert "code_usage" in session.available_views
    assert PICTURES["code_usage"].needs == ("codebook",)
    u = session.snapshot(["code_usage"]).code_usage
    assert isinstance(u, CodeUsage) and u.codebook_size == 32
    test = session.data.test_images
    assert int(u.counts.sum()) == len(test) * 8
    assert u.perplexity == pytest.approx(session.model.codebook_perplexity(test), rel=1e-5)
    assert u.prior_share.sum() == pytest.approx(1.0)
    assert 1.0 <= u.prior_perplexity <= 32.0 and u.prior == "pixelcnn"
    assert u.test_maps.shape == u.sample_maps.shape == (MAPS, 2, 4)
    assert u.test_images.shape == u.sample_images.shape == (MAPS, 8, 8)
    with torch.no_grad():
        assert np.array_equal(u.test_maps, session.model.code_indices(test[:MAPS]).numpy())
    assert PRIOR_MAPS >= 100


def test_on_the_plane_there_are_no_maps_and_other_models_have_no_picture():
    session = _session(data="moons")
    session.run(2)
    u = session.snapshot(["code_usage"]).code_usage
    assert u.test_maps is None and u.sample_images is None and u.codebook_size == 64
    from playground.core.training import Session

    assert "code_usage" not in Session("vae", "digits", device="cpu").available_views
    assert "code_usage" not in Session("gumbel-vae", "digits", device="cpu").available_views


# ------------------------------------------------------------------ the view
def test_the_view_draws_and_redraws(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views import VIEW_CLASSES
    from playground.app.views.code_usage import CodeUsageView

    assert VIEW_CLASSES["code_usage"] is CodeUsageView
    session = _session()
    session.run(3)
    view = CodeUsageView()
    qtbot.addWidget(view)
    view.resize(900, 650)
    view.show()
    first = session.snapshot(["code_usage"])
    assert view.accepts(first)
    view.show_snapshot(first)
    u = first.code_usage
    assert np.allclose(view.heights, u.counts / u.counts.sum())
    assert (
        "perplexity" in view.summary.text() and f"of {u.codebook_size} codes" in view.summary.text()
    )
    shown = [item for item in view.test_panel.numbers if item.isVisible()]
    assert len(shown) == MAPS * 8
    assert {item.toPlainText() for item in shown} <= {str(c) for c in u.test_maps.flatten()}
    assert view.prior_panel.image.image.shape[2] == 3  # the maps in their codes' colours

    session.run(10)
    second = session.snapshot(["code_usage"])
    view.show_snapshot(second)
    assert not np.allclose(view.heights, u.counts / u.counts.sum())  # it follows training
    assert view.summary.text() != "" and view.test_panel.plot.isVisible()

    view.clear()
    assert len(view.heights) == 0 and view.summary.text() == ""
    plane = _session(data="moons")
    plane.run(1)
    view.show_snapshot(plane.snapshot(["code_usage"]))
    assert len(view.heights) == 64 and not view.test_panel.plot.isVisible()


def test_the_explain_panel_shows_the_prior_term():
    pytest.importorskip("matplotlib")
    from playground.app.explain.objectives import objective_for

    session = _session(data="moons")
    session.run(1)
    objective = objective_for("vq-vae", session.model.config)
    terms = {line.term for line in objective.lines if line.term}
    assert "prior_nll" in terms and terms <= set(session.last_terms)
    uniform = objective_for("vq-vae", None)
    assert "prior_nll" not in {line.term for line in uniform.lines}
