"""Langevin chains: targets (exact, flow, EBM, score models), samplers (ULA, MALA, annealed),
restarts and trails, the snapshot, and the view."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.models.energy import EBM
from playground.core.models.latent import VAE
from playground.core.models.score import NCSN, ScoreModel
from playground.core.sampling.chains import ChainSettings, LangevinChains, checkerboard_log_prob
from playground.core.snapshots import Snapshot
from playground.core.snapshots.chains import Chains, chain_options, chain_target, chains_snapshot
from playground.core.training import Session


def build(cls, dataset: str = "8gaussians", **values):
    data = make_dataset(dataset)
    config = hpm.from_dict(cls.Config, {**cls.defaults_for(data), "hidden": 16, **values})
    torch.manual_seed(0)
    model = cls(config, data)
    model.rng = torch.Generator().manual_seed(1)
    return model, data


def run(target, settings, data, frames, seed=0, trail_length=16):
    chains = LangevinChains(seed, trail_length)
    for _ in range(frames):
        chains.advance(target, settings, None, data.box)
    return chains


def autograd_score(log_prob, x):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(log_prob(x).sum(), x)
    return g


@pytest.fixture(scope="module")
def flow_session():
    s = Session("realnvp", "8gaussians", {"batch_size": 64})
    s.run(3)
    return s


# ----------------------------------------------------------------------------- samplers


def test_langevin_on_exact_8gaussians_ends_near_the_modes():
    data = make_dataset("8gaussians")
    target = chain_target(None, data, "exact")
    settings = ChainSettings(source="exact", n_chains=300, steps_per_frame=50, step_size=0.01)
    chains = run(target, settings, data, 6)
    assert chains.steps == 300 and chains.x.shape == (300, 2) and chains.x.dtype == torch.float32
    start = torch.as_tensor(chains.trail()[0])
    near = lambda x: (torch.cdist(x, data.modes).min(1).values < 2 * data.mode_std).float().mean()  # noqa: E731
    assert near(start) < 0.3  # a uniform start on the box (area fraction ~0.2)
    assert near(chains.x) > 0.75  # at equilibrium: 1 - e^-2 = 0.86


def test_mala_acceptance_is_reported_and_falls_as_the_step_grows():
    data = make_dataset("8gaussians")
    target = chain_target(None, data, "exact")
    rates = []
    for step in (0.01, 0.1, 0.5):
        settings = ChainSettings("exact", "mala", step, n_chains=200, steps_per_frame=20)
        rate = run(target, settings, data, 4).acceptance_rate
        assert rate is not None and 0.0 < rate <= 1.0
        rates.append(rate)
    assert rates[0] > rates[1] > rates[2]
    assert rates[0] > 0.9 and rates[2] < 0.6
    plain = run(target, ChainSettings("exact", "langevin"), data, 1)
    assert plain.acceptance_rate is None


def test_annealed_levels_advance_and_sigma_decreases():
    data = make_dataset("8gaussians")
    target = chain_target(None, data, "exact")
    levels = len(target.sigmas)
    settings = ChainSettings(
        "exact", "annealed", 5e-4, n_chains=20, steps_per_frame=10, steps_per_level=10
    )
    chains = LangevinChains(0)
    seen = []
    for _ in range(levels + 3):
        chains.advance(target, settings, None, data.box)
        seen.append((chains.level, chains.sigma))
    assert [lv for lv, _ in seen[:levels]] == list(range(levels))
    sigmas = [s for _, s in seen[:levels]]
    assert all(a > b for a, b in zip(sigmas, sigmas[1:], strict=False))
    # after the last level the chains stay at sigma_L
    assert seen[-1] == (levels - 1, pytest.approx(float(target.sigmas[-1])))
    assert chains.steps == 10 * (levels + 3)


def test_annealed_langevin_recovers_gmm82_weights_that_plain_langevin_misses():
    data = make_dataset("gmm82")
    target = chain_target(None, data, "exact")
    n = 300

    def weight_of_heavy_mode(settings, frames):
        x = run(target, settings, data, frames, seed=3).x
        return float((torch.cdist(x, data.modes).argmin(1) == 0).float().mean())

    plain = weight_of_heavy_mode(ChainSettings("exact", "langevin", 0.1, n, 100), 3)
    annealed = weight_of_heavy_mode(
        ChainSettings("exact", "annealed", 5e-4, n, 100, steps_per_level=60), 6
    )
    assert abs(annealed - 0.8) < 0.1
    assert abs(annealed - 0.8) + 0.15 < abs(plain - 0.8)


def test_non_finite_chains_restart_and_are_counted():
    data = make_dataset("8gaussians")
    target = chain_target(None, data, "exact")
    # eta = 10 on modes of variance 0.125: each step multiplies the distance by ~ -39
    chains = run(target, ChainSettings("exact", step_size=10.0, n_chains=50), data, 60)
    assert chains.restarted_non_finite > 0
    assert torch.isfinite(chains.x).all()
    assert np.isfinite(chains.trail()).all()


# ----------------------------------------------------------------------------- targets


def test_checkerboard_score_is_the_smoothed_boards_finite_and_nonzero_at_an_edge():
    data = make_dataset("checkerboard")
    target = chain_target(None, data, "exact")
    # (0, 1) is the edge between the support square [0, 2]^2 and the empty [-2, 0] x [0, 2]
    x = torch.tensor([[0.02, 1.0], [-0.02, 1.0], [1.0, 1.0], [3.0, -3.0]])
    s = target.score(x)
    assert torch.isfinite(s).all()
    assert s[0, 0] > 1.0 and s[1, 0] > 1.0  # towards the support, on both sides
    assert s[2].abs().max() < 1e-6  # the middle of a square: flat
    assert torch.isfinite(target.log_prob(x)).all()
    # the closed form integrates to 1 and matches the board away from the edges
    g = torch.linspace(-5, 5, 401, dtype=torch.float64)
    gy, gx = torch.meshgrid(g, g, indexing="ij")
    p = checkerboard_log_prob(torch.stack([gx.ravel(), gy.ravel()], 1), 0.05).exp()
    assert float(p.sum() * (g[1] - g[0]) ** 2) == pytest.approx(1.0, abs=1e-3)
    assert float(checkerboard_log_prob(x[2:3], 0.05)) == pytest.approx(float(-np.log(32)))
    assert (
        target.noised_score is not None
        and "annealed" in chain_options(None, data)["exact"]["samplers"]
    )


def test_energy_target_u1_exact():
    data = make_dataset("U1")
    target = chain_target(None, data, "exact")
    x = torch.tensor([[2.0, 0.3], [-1.0, 1.5]])
    expected = autograd_score(lambda y: -data.energy(y), x)
    torch.testing.assert_close(target.score(x), expected, rtol=1e-4, atol=1e-4)
    options = chain_options(None, data)["exact"]
    assert options["samplers"] == ("langevin", "mala")
    assert "data" not in options["starts"]  # no sampler


def test_flow_target_is_autograd_of_its_log_prob(flow_session):
    s = flow_session
    target = chain_target(s.model, s.data, "model")
    x = torch.tensor([[0.5, -1.0], [2.0, 2.0], [-3.0, 0.1]])
    expected = autograd_score(s.model.log_prob, x)
    with torch.no_grad():  # the worker calls it under no_grad
        got = target.score(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    assert target.normalized and "flow" in target.label
    options = chain_options(s.model, s.data)
    assert options["model"]["samplers"] == ("langevin", "mala")
    assert options["exact"]["samplers"] == ("langevin", "mala", "annealed")


def test_ebm_target_is_minus_grad_energy_unnormalised():
    model, data = build(EBM)
    target = chain_target(model, data, "model")
    x = torch.tensor([[0.5, -1.0], [2.0, 2.0]])
    torch.testing.assert_close(target.score(x), autograd_score(lambda y: -model.energy(y), x))
    torch.testing.assert_close(target.log_prob(x), -model.energy(x))
    assert not target.normalized and "EBM" in target.label
    assert "mala" in chain_options(model, data)["model"]["samplers"]


def test_score_model_has_no_density_and_no_mala():
    model, data = build(ScoreModel)
    target = chain_target(model, data, "model")
    assert target.log_prob is None and target.picture is None
    x = torch.randn(5, 2)
    torch.testing.assert_close(target.score(x), model.score(x))
    assert chain_options(model, data)["model"]["samplers"] == ("langevin",)


def test_ncsn_offers_annealed_over_its_sigmas():
    model, data = build(NCSN, "gmm82", levels=4)
    target = chain_target(model, data, "model")
    torch.testing.assert_close(target.sigmas, model.sigmas)
    x = torch.randn(5, 2)
    torch.testing.assert_close(target.noised_score(x, 2.0), model.score(x, 2.0))
    torch.testing.assert_close(target.score(x), model.score(x, float(model.sigmas[-1])))
    assert chain_options(model, data)["model"]["samplers"] == ("langevin", "annealed")
    settings = ChainSettings("model", "annealed", 5e-4, 30, 5, "prior", steps_per_level=2)
    chains = LangevinChains(0)
    chains.advance(target, settings, None, data.box)
    start = torch.as_tensor(chains.trail()[0])
    assert float(start.std()) > 0.5 * float(model.sigmas[0])  # prior N(0, sigma_1^2 I)
    assert chains.level == 2 and chains.sigma == pytest.approx(float(model.sigmas[2]))


def test_vae_is_not_a_source_and_unknown_sources_raise():
    model, data = build(VAE, latent_dim=2)
    with pytest.raises(ValueError, match="latent"):
        chain_target(model, data, "model")
    assert list(chain_options(model, data)) == ["exact"]
    with pytest.raises(ValueError, match="unknown chain source"):
        chain_target(model, data, "nonsense")
    with pytest.raises(ValueError, match="no exact density"):
        chain_target(None, make_dataset("pinwheel"), "exact")


# ----------------------------------------------------------------------------- state


def test_restart_resets_and_repeats_and_trails_are_bounded():
    data = make_dataset("8gaussians")
    target = chain_target(None, data, "exact")
    first = ChainSettings("exact", n_chains=40, steps_per_frame=3, restart=1)
    chains = LangevinChains(7, trail_length=5)
    positions = []
    for _ in range(8):
        chains.advance(target, first, None, data.box)
        positions.append(chains.x.clone())
        assert chains.trail().shape[0] <= 5
    assert chains.trail().shape == (5, 40, 2)
    np.testing.assert_array_equal(chains.trail()[-1], chains.x.numpy())
    chains.advance(target, dataclasses.replace(first, restart=2), None, data.box)
    assert chains.steps == 3 and chains.trail().shape[0] == 2  # the start and one frame
    assert not torch.equal(chains.x, positions[0])
    chains.advance(target, first, None, data.box)  # back to counter 1: the same run again
    torch.testing.assert_close(chains.x, positions[0], rtol=0, atol=0)
    # a new step size continues the chains; a new chain count restarts them
    chains.advance(target, dataclasses.replace(first, step_size=0.02), None, data.box)
    assert chains.steps == 6
    chains.advance(target, dataclasses.replace(first, n_chains=10), None, data.box)
    assert chains.steps == 3 and chains.x.shape == (10, 2)


def test_data_start_begins_at_data_points():
    data = make_dataset("8gaussians")
    target = chain_target(None, data, "exact")
    points = data.sample(50, torch.Generator().manual_seed(0))
    chains = LangevinChains(0)
    chains.advance(target, ChainSettings("exact", n_chains=30, start="data"), points, data.box)
    start = torch.as_tensor(chains.trail()[0])
    assert (start[:, None, :] - points[None]).abs().sum(-1).min(1).values.max() == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"source": "nope"},
        {"sampler": "hmc"},
        {"start": "corner"},
        {"step_size": 0.0},
        {"step_size": 11.0},
        {"step_size": float("nan")},
        {"n_chains": 0},
        {"n_chains": 2001},
        {"steps_per_frame": 0},
        {"steps_per_frame": 1001},
        {"n_chains": 2.5},
        {"restart": -1},
    ],
)
def test_bad_settings_raise(bad):
    with pytest.raises(ValueError):
        ChainSettings(**bad).validated()


def test_mala_on_a_score_model_raises_in_advance():
    model, data = build(ScoreModel)
    target = chain_target(model, data, "model")
    with pytest.raises(ValueError, match="MALA"):
        LangevinChains(0).advance(target, ChainSettings(sampler="mala"), None, data.box)


# ----------------------------------------------------------------------------- snapshot


def test_snapshot_of_a_flow_and_its_fallbacks(flow_session):
    s = flow_session
    state, cache = LangevinChains(0), {}
    c = chains_snapshot(s.model, s.data, s.device, state, ChainSettings(), None, cache)
    assert isinstance(c, Chains)
    assert c.positions.shape == (200, 2) and c.positions.dtype == np.float32
    assert c.trails.shape == (2, 200, 2) and c.trails.dtype == np.float32
    assert c.background.shape == (64, 64) and np.isfinite(c.background).all()
    assert c.xs.shape == (64,) and c.normalized and c.steps == 5
    assert c.chain_mode_weights.shape == (8,) and c.chain_mode_weights.sum() == pytest.approx(1)
    np.testing.assert_allclose(c.target_mode_weights, np.full(8, 1 / 8))
    assert c.options == chain_options(s.model, s.data)
    # annealed is not offered for a flow: the chains run plain Langevin and say so
    c = chains_snapshot(
        s.model, s.data, s.device, state, ChainSettings(sampler="annealed"), None, cache
    )
    assert c.settings.sampler == "langevin" and "annealed not available" in c.background_label
    # the exact picture is computed once
    c1 = chains_snapshot(
        s.model, s.data, s.device, state, ChainSettings(source="exact"), None, cache
    )
    c2 = chains_snapshot(
        s.model, s.data, s.device, state, ChainSettings(source="exact"), None, cache
    )
    assert c1.background is c2.background and c1.background.shape == (96, 96)
    assert c2.steps == 10 and c2.trails.shape[0] == 3


def test_snapshot_of_annealed_gmm82_reports_levels_and_target_weights():
    data = make_dataset("gmm82")
    model, _ = build(ScoreModel, "gmm82")
    settings = ChainSettings("exact", "annealed", 5e-4, 50, 10, steps_per_level=5)
    c = chains_snapshot(model, data, torch.device("cpu"), LangevinChains(0), settings, None, {})
    assert c.levels == 10 and c.level == 1 and c.sigma < 9.0
    np.testing.assert_allclose(c.target_mode_weights, [0.8, 0.2])
    assert c.modes_visited is not None


# ----------------------------------------------------------------------------- view


def _stand_in(chains: Chains, box) -> Snapshot:
    return Snapshot(step=0, box=tuple(box), chains=chains)


def test_view_draws_moves_and_emits(qtbot):
    from playground.app.views.chains import ChainsView

    data = make_dataset("8gaussians")
    model, _ = build(EBM)
    state, cache = LangevinChains(0), {}
    view = ChainsView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    settings = ChainSettings(source="exact", n_chains=120, steps_per_frame=10)
    view.set_settings(settings)
    snap = chains_snapshot(model, data, torch.device("cpu"), state, settings, None, cache)
    assert view.accepts(_stand_in(snap, data.box))
    assert not view.accepts(Snapshot(step=0, box=data.box, chains=None))
    view.show_snapshot(_stand_in(snap, data.box))
    drawn = np.column_stack(view.points.getData())
    assert drawn.shape == (120, 2)
    np.testing.assert_allclose(drawn, snap.positions)
    assert view.trail_items[-1].getData()[0] is not None
    snap2 = chains_snapshot(model, data, torch.device("cpu"), state, settings, None, cache)
    view.show_snapshot(_stand_in(snap2, data.box))
    moved = np.column_stack(view.points.getData())
    assert np.abs(moved - drawn).max() > 1e-3
    # the combos offer what the snapshot allows: an EBM has no annealed sampler
    view.source.setCurrentIndex(view.source.findData("model"))
    assert view.sampler.findData("annealed") == -1 and view.sampler.findData("mala") >= 0

    with qtbot.waitSignal(view.settings_changed, timeout=1000) as blocker:
        view.step.setValue(0.05)
    assert blocker.args[0].step_size == pytest.approx(0.05)
    with qtbot.waitSignal(view.settings_changed, timeout=1000) as blocker:
        view.restart_button.click()
    assert blocker.args[0].restart == settings.restart + 1
    assert view.settings.restart == settings.restart + 1
    view.step.stepBy(1)  # the arrows walk 1, 2, 5 x 10^k
    assert view.step.value() == pytest.approx(0.1)

    mala = ChainSettings(source="exact", sampler="mala", n_chains=50, steps_per_frame=10)
    snap3 = chains_snapshot(model, data, torch.device("cpu"), state, mala, None, cache)
    view.show_snapshot(_stand_in(snap3, data.box))
    assert "acceptance" in view.caption.text() and "%" in view.caption.text()
    assert "modes visited" in view.caption.text()
    view.clear()
    assert len(view.points.getData()[0]) == 0


def test_view_caption_for_annealed_and_two_modes(qtbot):
    from playground.app.views.chains import ChainsView

    data = make_dataset("gmm82")
    model, _ = build(ScoreModel, "gmm82")
    view = ChainsView()
    qtbot.addWidget(view)
    settings = ChainSettings("exact", "annealed", 5e-4, 40, 10, steps_per_level=5)
    view.set_settings(settings)
    snap = chains_snapshot(model, data, torch.device("cpu"), LangevinChains(0), settings, None, {})
    view.show_snapshot(_stand_in(snap, data.box))
    text = view.caption.text()
    assert "sigma = " in text and "level 2 of 10" in text
    assert "(target 0.80 / 0.20)" in text
    assert view.steps_per_level.isVisibleTo(view)
    # switching to plain Langevin swaps in its own step size
    with qtbot.waitSignal(view.settings_changed, timeout=1000) as blocker:
        view.sampler.setCurrentIndex(view.sampler.findData("langevin"))
    assert blocker.args[0].sampler == "langevin" and blocker.args[0].step_size == 0.01


def test_a_ddpm_is_a_plain_score_source_and_an_ncsn_an_annealed_one():
    """A DDPM's levels are steps t that scale the data (x_t = sqrt(abar) x + ...), not the
    sigmas annealed Langevin runs over: its chains follow s(x, t = 1) with plain Langevin."""
    from playground.core.training import Session

    ddpm = Session("ddpm", "8gaussians", {"T": 20, "hidden": 16})
    assert ddpm.chain_options["model"]["samplers"] == ("langevin",)
    ncsn = Session("ncsn", "gmm82", {"hidden": 16})
    assert ncsn.chain_options["model"]["samplers"] == ("langevin", "annealed")
