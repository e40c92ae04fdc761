"""Adversarial variational Bayes, the density-ratio trick and the four-points toy."""

from __future__ import annotations

import math

import pytest
import torch

from playground.core.data import IMAGE_DATASETS, make_dataset
from playground.core.data.four_points import TEST_COPIES
from playground.core.models.latent.avb import AVB
from playground.core.models.latent.density_ratio import (
    RatioNet,
    fit_log_ratio,
    logistic_ratio_loss,
)
from playground.core.training import Session

#: tiny networks: each quick test well under a second
TINY = {"hidden": 32, "batch_size": 64}
POINTS = torch.eye(4).reshape(4, 1, 2, 2)


def gaussian_case(dim: int):
    """Samplers of q = N(m, diag(s^2)) and p = N(0, I), and the exact log q/p on a grid
    within 2 standard deviations of p (41 points a side)."""
    m, s = torch.tensor([0.5, -0.3][:dim]), torch.tensor([0.8, 1.2][:dim])

    def draw_q(n, g):
        return m + s * torch.randn(n, dim, generator=g)

    def draw_p(n, g):
        return torch.randn(n, dim, generator=g)

    axis = torch.linspace(-2, 2, 41)
    grid = axis[:, None] if dim == 1 else torch.cartesian_prod(axis, axis)
    log_ratio = (-0.5 * ((grid - m) / s) ** 2 - s.log() + 0.5 * grid**2).sum(1)
    return draw_q, draw_p, grid, log_ratio


def ratio_error(dim: int, steps: int, hidden: int, lr: float) -> float:
    """Mean absolute error (nats) of the learned log q/p on the grid (batches of 256)."""
    torch.manual_seed(0)
    draw_q, draw_p, grid, exact = gaussian_case(dim)
    g = torch.Generator().manual_seed(0)
    net = fit_log_ratio(draw_q, draw_p, dim, g, steps=steps, hidden=hidden, lr=lr)
    with torch.no_grad():
        return float((net(grid) - exact).abs().mean())


def partition_accuracy(model, n: int = 250, k: int = 5) -> float:
    """k-NN accuracy of telling from a posterior sample z which of the four points it
    encodes: neighbours among n samples per point, tested on n fresh ones."""
    x = POINTS.repeat_interleave(n, 0)
    y = torch.arange(4).repeat_interleave(n)
    with torch.no_grad():
        fit, _ = model.posterior_sample(x, torch.Generator().manual_seed(1))
        test, _ = model.posterior_sample(x, torch.Generator().manual_seed(2))
    nearest = torch.cdist(test, fit).topk(k, largest=False).indices
    return float((torch.mode(y[nearest], 1).values == y).float().mean())


# ----------------------------------------------------------------- four points
def test_four_points_are_four_distinct_binary_images_with_labels():
    data = make_dataset("four-points")
    assert "four-points" in IMAGE_DATASETS and data.kind == "image"
    assert data.levels == 2 and data.binarized and data.shape == (1, 2, 2)
    torch.testing.assert_close(data.train_images, POINTS)
    assert data.train_labels.tolist() == [0, 1, 2, 3]
    assert set(data.train_images.unique().tolist()) == {0.0, 1.0}
    assert (data.train_images.sum((1, 2, 3)) == 1).all()
    # the test split: the same four points, each TEST_COPIES times, labelled alike
    assert len(data.test_images) == 4 * TEST_COPIES
    assert torch.unique(data.test_images, dim=0).shape[0] == 4
    torch.testing.assert_close(data.test_images[data.test_labels == 2][0], POINTS[2])
    batch, labels = data.sample_with_labels(400, torch.Generator().manual_seed(0))
    assert torch.equal(batch.flatten(1).argmax(1), labels)
    assert torch.bincount(labels, minlength=4).min() > 60


# ---------------------------------------------------------------- density ratio
def test_the_logistic_loss_is_two_log_two_for_a_blind_classifier():
    zero = torch.zeros(10)
    assert float(logistic_ratio_loss(zero, zero)) == pytest.approx(2 * math.log(2))
    assert float(logistic_ratio_loss(zero + 5, zero - 5)) < 0.02
    assert RatioNet(3, 8, 1)(torch.ones(4, 1, 2), torch.ones(4, 1)).shape == (4,)


def test_the_density_ratio_trick_recovers_log_q_over_p_quick():
    """100 steps in 1D: the learned log-ratio within 0.1 nats of the closed form (0.02-0.05
    over seeds 0-2)."""
    assert ratio_error(1, 100, 32, 1e-2) < 0.1


@pytest.mark.slow
def test_the_density_ratio_trick_recovers_log_q_over_p_in_2d():
    assert ratio_error(2, 2000, 64, 3e-3) < 0.1


def test_fit_log_ratio_refuses_no_steps():
    with pytest.raises(ValueError, match="at least 1"):
        fit_log_ratio(None, None, 1, torch.Generator(), steps=0)


# ------------------------------------------------------------------------ AVB
def test_avb_shapes():
    session = Session("avb", "four-points", TINY, seed=0, device="cpu")
    model = session.model
    assert isinstance(model, AVB) and model.config.latent_dim == 2
    assert model.capabilities == {"density", "samples", "latent"} and model.implicit_posterior
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        assert model.encode(POINTS).shape == (4, 2)
        assert model.posterior_mean(POINTS).shape == (4, 2)
        assert model.decode(torch.zeros(3, 2)).shape == (3, 1, 2, 2)
        assert model.sample(5, g).shape == (5, 1, 2, 2)
        terms = model.elbo_terms(POINTS, g)
        assert {k: v.shape for k, v in terms.items()} == {
            k: (4,) for k in ("reconstruction", "kl", "elbo")
        }
        assert model.iwae_bound(POINTS, 10, g).shape == (4,)
        assert model.log_prob(POINTS, 100, g).shape == (4,)
        nll = model.discrete_nll(POINTS, g)
        # a Bernoulli decoder on binary pixels: a bound on -log P(x), at least log 4 on average
        assert nll.shape == (4,) and float(nll.mean()) >= math.log(4) - 1e-4
    assert model.discrete_likelihood


def test_avb_encoder_is_implicit_two_noises_two_codes():
    model = Session("avb", "four-points", TINY, seed=0, device="cpu").model
    x = POINTS[:1].repeat(2, 1, 1, 1)
    with torch.no_grad():
        z = model.encode(x)  # one x twice: two noise draws, two codes
        z1 = model.encode(POINTS[:1], torch.Generator().manual_seed(1))
        z2 = model.encode(POINTS[:1], torch.Generator().manual_seed(2))
    assert not torch.allclose(z[0], z[1]) and not torch.allclose(z1, z2)
    with pytest.raises(Exception, match="no Gaussian posterior"):
        model.posterior_kl_per_dim(POINTS)


def test_avb_iwae_with_one_sample_is_its_elbo():
    model = Session("avb", "four-points", TINY, seed=0, device="cpu").model
    with torch.no_grad():
        elbo = model.elbo_terms(POINTS, torch.Generator().manual_seed(3))["elbo"]
        iwae = model.iwae_bound(POINTS, 1, torch.Generator().manual_seed(3))
    torch.testing.assert_close(elbo, iwae)


def test_avb_adversary_alone_learns_to_tell_q_from_p():
    """The adversary's logistic loss falls from 2 log 2 against a fixed encoder."""
    session = Session("avb", "four-points", TINY, seed=0, device="cpu")
    x = session.data.sample(64, torch.Generator().manual_seed(0))
    losses = [session.model.adversary_step(x)["adversary_loss"] for _ in range(60)]
    assert losses[0] == pytest.approx(2 * math.log(2), abs=0.05)
    assert sum(losses[-5:]) / 5 < 1.1


def test_avb_loss_falls_on_a_seeded_short_run():
    session = Session(
        "avb", "four-points", {**TINY, "lr": 1e-2, "adversary_steps": 1}, seed=1, device="cpu"
    )
    history = [session.step() for _ in range(100)]
    assert set(history[0]) == {"loss", "reconstruction", "kl_estimate", "elbo", "adversary_loss"}
    assert all(math.isfinite(v) for h in history for v in h.values())

    def mean(key, part):
        return sum(h[key] for h in part) / len(part)

    assert mean("loss", history[-10:]) < mean("loss", history[:10]) - 0.3
    assert mean("reconstruction", history[-10:]) > mean("reconstruction", history[:10]) + 0.3


def test_avb_latent_view_shows_samples_coloured_by_point():
    session = Session("avb", "four-points", TINY, seed=0, device="cpu")
    assert "latent_space" in session.available_views
    session.step()
    s = session.snapshot(["latent_space"]).latent_space
    assert s.sampled and s.points.shape == (500, 2)
    assert sorted(set(s.labels.tolist())) == [0, 1, 2, 3]
    for label in range(4):  # many distinct samples of each point, not one mean
        pts = s.points[s.labels == label]
        assert len(pts) == TEST_COPIES and pts.std(0).min() > 0
    assert s.aggregate is not None and s.aggregate.shape == s.prior.shape


def test_avb_refuses_the_plane_and_the_vae_keeps_its_means():
    with pytest.raises(ValueError, match="cannot train on"):
        Session("avb", "moons", seed=0, device="cpu")
    vae = Session("vae", "four-points", TINY, seed=0, device="cpu")
    vae.step()
    s = vae.snapshot(["latent_space"]).latent_space
    assert not s.sampled and len(set(map(tuple, s.points.round(5).tolist()))) == 4


@pytest.mark.slow
def test_avb_posteriors_partition_the_plane_where_the_vae_overlaps():
    """Mescheder et al. 2017, figure 2: AVB's four posteriors separate (k-NN accuracy of
    the point from a sample >= 0.95); the VAE's Gaussians overlap (measured, lower)."""
    torch.set_num_threads(1)
    accuracy = {}
    for name in ("avb", "vae"):
        session = Session(name, "four-points", seed=0, device="cpu")
        session.run(1500)
        accuracy[name] = partition_accuracy(session.model)
    assert accuracy["avb"] >= 0.95
    assert accuracy["vae"] < accuracy["avb"]


def test_avb_latent_view_widget_titles_its_points_samples(qtbot):
    from playground.app.views import LatentSpaceView

    session = Session("avb", "four-points", TINY, seed=0, device="cpu")
    session.step()
    view = LatentSpaceView()
    qtbot.addWidget(view)
    view.show_snapshot(session.snapshot(["latent_space"]))
    assert len(view.scatter.data) == 4 * TEST_COPIES
    assert "posterior samples" in view.scatter_plot.titleLabel.text
    assert view.heatmaps_shown


def test_avb_traversal_rows_claim_no_per_dimension_kl():
    """An implicit posterior has no per-dimension KL: the rows say z0, z1 (index order)
    and the caption says why, where a Gaussian VAE's rows carry their KL in nats."""
    from playground.app.views.latent import _kl_texts

    session = Session("avb", "four-points", TINY, seed=0, device="cpu")
    session.run(2)
    avb = session.snapshot(["traversal"]).traversal
    assert _kl_texts(avb) == ["z0", "z1"]
    vae = Session("vae", "four-points", {"latent_dim": 2}, seed=0, device="cpu")
    vae.run(2)
    texts = _kl_texts(vae.snapshot(["traversal"]).traversal)
    assert all("KL" in t for t in texts)
