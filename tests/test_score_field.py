"""The score-field view: its snapshot (model and exact noised scores on a grid) and widget."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from playground.core.snapshots.score import ScoreField, score_field
from playground.core.training import Session

NCSN_SMALL = {"hidden": 16, "batch_size": 32, "levels": 3, "steps_per_level": 2}


@pytest.fixture(scope="module")
def ncsn_session():
    torch.set_num_threads(1)
    s = Session("ncsn", "gmm82", NCSN_SMALL)
    s.run(2)
    return s


def _grid(f: ScoreField) -> torch.Tensor:
    gy, gx = torch.meshgrid(torch.as_tensor(f.ys), torch.as_tensor(f.xs), indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).double()


def _noised_gmm82_log_prob(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """log(0.8 N(x; (5, 5), s^2 I) + 0.2 N(x; (-5, -5), s^2 I)), s^2 = 1 + sigma^2."""
    var = 1.0 + sigma**2
    comps = []
    for w, mu in ((0.8, 5.0), (0.2, -5.0)):
        sq = ((x - mu) ** 2).sum(-1)
        comps.append(math.log(w) - sq / (2 * var) - math.log(2 * math.pi * var))
    return torch.logsumexp(torch.stack(comps), 0)


def test_ncsn_field_has_one_level_per_sigma(ncsn_session):
    s = ncsn_session
    f = s.snapshot(["score_field"]).score_field
    assert isinstance(f, ScoreField)
    assert f.model.shape == (3, 21, 21, 2)
    assert f.true is not None and f.true.shape == f.model.shape
    assert f.true_is_noised
    assert f.sigmas.shape == (3,) and np.all(np.diff(f.sigmas) < 0)
    np.testing.assert_allclose(f.sigmas, s.model.sigmas.numpy())
    assert f.xs.shape == (21,) and f.ys.shape == (21,)
    assert f.data is not None and f.data.shape[1] == 2 and 100 <= len(f.data) <= 500
    assert np.isfinite(f.model).all()
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.model = None  # type: ignore[misc]
    # the model's field at level i is s_theta(x, sigma_i)
    x = _grid(f).float()
    with torch.no_grad():
        expected = s.model.score(x, float(f.sigmas[1])).numpy().reshape(21, 21, 2)
    np.testing.assert_allclose(f.model[1], expected, rtol=1e-4, atol=1e-5)


def test_true_noised_score_of_gmm82_matches_autograd(ncsn_session):
    s = ncsn_session
    f = score_field(s.model, s.data, s.device, resolution=11)
    x = _grid(f).requires_grad_(True)
    for i, sigma in enumerate(f.sigmas):
        (grad,) = torch.autograd.grad(_noised_gmm82_log_prob(x, float(sigma)).sum(), x)
        np.testing.assert_allclose(f.true[i].reshape(-1, 2), grad.numpy(), rtol=1e-4, atol=1e-4)
    # noise matters: the largest level's true field differs from the smallest's
    assert not np.allclose(f.true[0], f.true[-1])


def test_score_model_has_one_level():
    torch.set_num_threads(1)
    s = Session("score", "8gaussians", {"hidden": 16, "batch_size": 32})
    s.run(1)
    f = s.snapshot(["score_field"]).score_field
    assert f.model.shape == (1, 21, 21, 2)
    np.testing.assert_allclose(f.sigmas, [s.config.sigma])
    assert f.true is not None and f.true.shape == (1, 21, 21, 2) and f.true_is_noised
    sliced = Session("score", "8gaussians", {"hidden": 16, "objective": "sliced"})
    g = sliced.snapshot(["score_field"]).score_field
    assert g.sigmas is None and g.model.shape == (1, 21, 21, 2)


def test_which_sessions_offer_the_score_field():
    ebm = Session("ebm", "8gaussians", {"hidden": 16, "batch_size": 32, "langevin_steps": 5})
    assert "score_field" in ebm.available_views
    f = ebm.snapshot(["score_field"], resolution=8).score_field
    assert f is not None and f.model.shape == (1, 21, 21, 2)
    assert "score_field" not in Session("realnvp", "moons", {"hidden": 16}).available_views


def test_ddpm_field_has_a_t_slider_and_the_exact_diffused_mixture_score(qtbot):
    """A DDPM's field is s_theta(x_t, t) = -eps_theta / sqrt(1 - abar_t) at ten steps, beside
    the score of the data diffused to t: sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps."""
    from playground.app.views import ScoreFieldView

    s = Session("ddpm", "8gaussians", {"T": 20, "hidden": 16, "depth": 1, "batch_size": 32})
    s.run(2)
    assert "score_field" in s.available_views
    f = s.snapshot(["score_field"]).score_field
    steps = [20, 18, 16, 14, 12, 9, 7, 5, 3, 1]
    assert f.level_labels == tuple(f"t = {t}" for t in steps)
    abar = s.model.schedule.alpha_bars.double()
    np.testing.assert_allclose(f.sigmas, (1 - abar[[t - 1 for t in steps]]).sqrt(), rtol=1e-6)
    assert f.true_is_noised and f.true.shape == (10, 21, 21, 2)
    x = _grid(f)
    i, t = 7, steps[7]
    a = float(abar[t - 1])
    means, std = s.data.means.double(), float(s.data.mode_std)
    log_q = lambda y: torch.logsumexp(  # noqa: E731
        -((y[:, None, :] - a**0.5 * means) ** 2).sum(-1) / (2 * (a * std**2 + 1 - a)), 1
    )
    y = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(log_q(y).sum(), y)
    np.testing.assert_allclose(f.true[i].reshape(-1, 2), expected.numpy(), rtol=1e-4, atol=1e-6)
    with torch.no_grad():
        eps = s.model.epsilon(x.float(), torch.full((len(x),), t))
    np.testing.assert_allclose(
        f.model[i].reshape(-1, 2), (-eps / (1 - a) ** 0.5).numpy(), rtol=1e-4, atol=1e-5
    )
    view = ScoreFieldView()
    qtbot.addWidget(view)
    view.show_snapshot(s.snapshot(["score_field"]))
    assert view.slider.maximum() == 9
    assert view.sigma_label.text().startswith("t = 1 ")
    view.slider.setValue(0)
    assert view.sigma_label.text().startswith("t = 20 ")


# ------------------------------------------------------------------------------- the view
def test_view_draws_arrows_and_the_slider_changes_the_level(qtbot, ncsn_session):
    from playground.app.views import ScoreFieldView

    assert ScoreFieldView.title == "Score field"
    view = ScoreFieldView()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    snap = ncsn_session.snapshot(["score_field"])
    assert view.accepts(snap)
    view.show_snapshot(snap)
    assert view.arrow_count == 21 * 21
    assert view.slider.isVisible() and view.slider.maximum() == 2
    assert not view.true_canvas.isHidden()
    x0, y0 = (np.array(a, copy=True) for a in view.model_arrows.getData())
    t0 = np.array(view.true_arrows.getData()[0], copy=True)
    label0 = view.sigma_label.text()
    assert label0.startswith("sigma = ")
    assert "mean |s_model - s_true|" in view.caption.text()
    view.slider.setValue(0 if view.level != 0 else 1)
    x1, y1 = view.model_arrows.getData()
    assert len(x1) == len(x0)
    assert not (np.array_equal(x0, x1) and np.array_equal(y0, y1))
    assert not np.array_equal(t0, view.true_arrows.getData()[0])
    assert view.sigma_label.text() != label0
    view.clear()
    assert view.arrow_count == 0


def test_view_hides_the_true_plot_and_slider_without_them(qtbot):
    from playground.app.views import ScoreFieldView
    from playground.core.snapshots.base import Snapshot

    view = ScoreFieldView()
    qtbot.addWidget(view)
    view.show()
    xs = np.linspace(-2, 2, 5, dtype=np.float32)
    field = ScoreField(
        xs=xs,
        ys=xs,
        model=np.ones((1, 5, 5, 2), np.float32),
        true=None,
        true_is_noised=False,
        sigmas=None,
        data=None,
    )
    view.show_snapshot(Snapshot(step=1, box=(-2.0, 2.0, -2.0, 2.0), score_field=field))
    assert view.true_canvas.isHidden()
    assert view.slider.isHidden()
    assert view.arrow_count == 25
    assert len(view.model_arrows.getData()[0]) == 25 * 6
    assert "s_true" not in view.caption.text()
