"""Latent models through the Session: views, snapshots and the held-out metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core.metrics.latent import active_units, factor_correlations, mutual_information
from playground.core.snapshots.latent import TRAVERSAL_STEPS
from playground.core.training import Session

SMALL = {"hidden": 32, "batch_size": 32}


def test_vae_on_digits_offers_the_latent_views_and_their_snapshots():
    s = Session("vae", "digits", SMALL, seed=0)
    assert s.available_views == [
        "grid",
        "traversal",
        "reconstructions",
        "latent_space",
        "explorer",
        "curves",
    ]
    s.run(3)
    snap = s.snapshot(s.available_views)
    d = s.config.latent_dim
    t = snap.traversal
    assert t.decoded.shape == (4, min(d, 10), TRAVERSAL_STEPS, 8, 8)
    assert np.all(np.diff(t.kl) <= 1e-6)  # most KL first
    # the middle of each sweep is the anchor's own code: its reconstruction
    rec = s.model.decode(torch.as_tensor(t.codes)).detach()[:, 0].numpy()
    np.testing.assert_allclose(t.decoded[:, 0, TRAVERSAL_STEPS // 2], rec, atol=1e-5)
    r = snap.reconstructions
    assert r.inputs.shape == r.outputs.shape == (16, 8, 8)
    ls = snap.latent_space
    assert ls.points.shape[1] == 2 and ls.labels is not None and len(ls.class_names) == 10
    assert ls.prior.shape == ls.aggregate.shape == (64, 64)
    assert np.isfinite(ls.prior).all() and np.isfinite(ls.aggregate).all()


def test_vae_on_the_plane_has_density_samples_and_2d_traversals():
    s = Session("vae", "moons", SMALL, seed=0)
    views = s.available_views
    assert {"density", "samples", "traversal", "reconstructions", "latent_space"} <= set(views)
    assert "explorer" not in views and "grid" not in views
    snap = s.snapshot(["density", "traversal", "reconstructions"], resolution=16)
    assert snap.density.log_prob.shape == (16, 16)
    assert snap.traversal.decoded.shape[-1] == 2 and snap.traversal.data is not None
    assert snap.reconstructions.inputs.shape[1] == 2


def test_evaluate_prints_the_issue_metrics():
    s = Session("vae", "digits", SMALL, seed=0)
    s.run(5)
    m = s.evaluate(n=800, record=True)
    for key in (
        "elbo",
        "kl",
        "iwae_nll",
        "iwae_nll_1",
        "iwae_nll_10",
        "mutual_info",
        "marginal_kl",
        "active_units",
    ):
        assert key in m and math.isfinite(m[key]), key
    # K = 1 is the ELBO; the bound tightens with K (up to Monte Carlo noise)
    assert m["iwae_nll_10"] <= m["iwae_nll_1"] + 0.5
    assert m["iwae_nll"] <= m["iwae_nll_10"] + 0.5
    curves = s.history.as_arrays()
    assert "test_elbo" in curves and "iwae_nll" in curves


def test_elbo_surgery_splits_the_average_kl():
    s = Session("vae", "digits", SMALL, seed=0)
    s.run(20)
    x = s.data.test_images[:200]
    g = torch.Generator().manual_seed(0)
    average, info, marginal = mutual_information(s.model, x, g)
    assert average == pytest.approx(info + marginal, abs=1e-6)
    # at most log N exactly; at least 0 up to Monte Carlo noise
    assert -0.05 <= info <= math.log(200) + 1e-6
    # the average KL is the mean of log q(z|x) - log p(z): compare with elbo_terms' KL
    with torch.no_grad():
        kl = s.model.elbo_terms(x, torch.Generator().manual_seed(1))["kl"].mean()
    assert average == pytest.approx(float(kl), abs=0.5)


def test_active_units_and_factor_correlations_by_hand():
    class Fixed:
        def __init__(self, codes):
            self.codes = codes

        def posterior_mean(self, x):
            return self.codes

    codes = torch.stack([torch.linspace(-1, 1, 50), torch.full((50,), 0.3)], 1)
    assert active_units(Fixed(codes), None) == 1
    factors = torch.stack([torch.linspace(0, 1, 50), torch.rand(50)], 1)
    r = factor_correlations(Fixed(codes), None, factors)
    assert r.shape == (2, 2) and float(r[0, 0]) == pytest.approx(1.0) and float(r[0, 1]) == 0


def test_shapes_report_factor_r():
    s = Session("vae", "shapes", SMALL, seed=0)
    s.run(2)
    m = s.evaluate(n=400, record=True)
    assert set(m["factor_r"]) == {"shape", "scale", "rotation", "x", "y"}
    assert all(0 <= v <= 1 for v in m["factor_r"].values())
    assert "factor_r_x" in s.history.as_arrays()


@pytest.mark.parametrize("name", ["vq-vae", "gumbel-vae"])
def test_discrete_latents_have_no_traversal(name):
    s = Session(name, "digits", SMALL, seed=0)
    views = s.available_views
    assert "reconstructions" in views and "grid" in views
    assert "traversal" not in views and "latent_space" not in views
    s.run(3)
    m = s.evaluate(n=400, record=False)
    assert math.isfinite(m["elbo"]) and "mutual_info" not in m
    if name == "vq-vae":
        assert m["perplexity"] >= 1
