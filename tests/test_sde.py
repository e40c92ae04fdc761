"""SDE samplers of the diffusion and score models (Song et al. 2021): the VP and VE SDEs,
Euler-Maruyama on the reverse SDE, the probability-flow ODE and its likelihood, DDIM, the
per-session sampler choice and the "SDE vs ODE" picture and view."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.data.mixtures import mixture_parts
from playground.core.data.quadrature import gaussian_mixture_log_prob
from playground.core.metrics.samples import mmd2
from playground.core.models.diffusion.samplers import vp_sde
from playground.core.models.diffusion.schedules import NoiseSchedule
from playground.core.sampling.budget import Budget, Cancelled, working
from playground.core.sampling.ddim import ddim_path, ddim_sigma, ddim_timesteps
from playground.core.sampling.divergence import exact_divergence
from playground.core.sampling.probability_flow import (
    probability_flow_log_prob,
    probability_flow_sample,
)
from playground.core.sampling.sde import VESDE, VPSDE, forward_euler_maruyama
from playground.core.snapshots import Snapshot
from playground.core.snapshots.sde_ode import sde_vs_ode
from playground.core.training import Session

DATA = make_dataset("8gaussians")
MEANS, WEIGHTS, MODE_STD = mixture_parts(DATA)
DDPM_TINY = {"hidden": 16, "depth": 1, "batch_size": 32, "T": 20, "sampling_steps": 4}
NCSN_TINY = {"hidden": 16, "depth": 1, "batch_size": 32, "levels": 3, "sampling_steps": 4}


def mixture_score(x: torch.Tensor, scale: float, std: float) -> torch.Tensor:
    """The exact score of 8gaussians noised to ``scale x_0 + std eps``: each component is
    ``N(scale mu_c, (scale^2 s^2 + std^2) I)``, so ``s(x) = sum_c r_c(x) (m_c - x) / v``."""
    x64, means = x.double(), scale * MEANS
    v = (scale * MODE_STD) ** 2 + std**2
    r = torch.softmax(WEIGHTS.log() - torch.cdist(x64, means).square() / (2 * v), -1)
    return ((r @ means - x64) / v).to(x.dtype)


def exact_score_fn(sde):
    def score(x, t):
        scale, std = sde.marginal(t)
        return mixture_score(x, float(scale), float(std))

    return score


def noised_log_prob(sde, x, t):
    scale, std = (float(v) for v in sde.marginal(t))
    width = math.sqrt((scale * MODE_STD) ** 2 + std**2)
    return gaussian_mixture_log_prob(x, scale * MEANS, WEIGHTS.log(), width)


def data_pair(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return DATA.sample(n, g), DATA.sample(n, g)


# ------------------------------------------------------------------ the SDEs
def test_vp_sde_hits_the_ddpm_schedule_at_every_step_and_its_beta_is_positive():
    schedule = NoiseSchedule(50, "linear")
    vp = VPSDE(schedule.alpha_bars)
    steps = torch.arange(1, 51, dtype=torch.float64)
    np.testing.assert_allclose(
        vp.log_alpha_bar(steps / 50).exp(), schedule.alpha_bars.numpy(), rtol=1e-12
    )
    t = torch.linspace(0, 1, 501, dtype=torch.float64)
    beta = vp.beta(t)
    assert (beta >= 0).all()
    # beta = -d log abar / dt: compare with a finite difference
    h = 1e-6
    fd = (vp.log_alpha_bar(t[1:-1] - h) - vp.log_alpha_bar(t[1:-1] + h)) / (2 * h)
    np.testing.assert_allclose(beta[1:-1], fd, rtol=1e-4, atol=1e-6)
    # near step k beta is about T log(1 / alpha_k) (~ T beta_k for small betas: Song et
    # al.'s limit of DDPM)
    assert abs(float(vp.beta(24.5 / 50)) / (-50 * math.log(float(schedule.alphas[24]))) - 1) < 0.02


@pytest.mark.parametrize("kind", ["vp", "ve"])
def test_forward_euler_maruyama_has_the_closed_form_marginal_std(kind):
    g = torch.Generator().manual_seed(0)
    n, var0 = 4000, 0.25
    x0 = 0.5 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    if kind == "vp":
        sde = VPSDE(NoiseSchedule(100, "linear").alpha_bars)
        start = x0
    else:
        sde = VESDE(0.05, 5.0)
        start = x0 + 0.05 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    times = torch.linspace(0, 1, 201, dtype=torch.float64)
    path = forward_euler_maruyama(sde, start, times, g)
    for i in (50, 100, 200):
        scale, std = (float(v) for v in sde.marginal(times[i]))
        expected = math.sqrt(scale**2 * var0 + std**2)
        # Euler-Maruyama's bias is O(dt); the sampling error of a std is ~0.8%
        assert abs(float(path[i].std()) / expected - 1) < 0.04, (i, kind)


def test_exact_divergence_is_the_trace_of_the_jacobian():
    x = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    a = torch.tensor([[1.5, -0.3], [0.7, 0.2]], dtype=torch.float64)

    def field(z):
        return torch.tanh(z @ a) * z.square().sum(-1, keepdim=True)

    div = exact_divergence(field(x), x, create_graph=False)
    for i in range(5):
        jac = torch.autograd.functional.jacobian(field, x[i : i + 1].detach())[0, :, 0, :]
        assert float(div[i]) == pytest.approx(float(jac.trace()), abs=1e-10)


# ------------------------------------------------------------------ probability flow
@pytest.mark.parametrize("kind", ["vp", "ve"])
def test_probability_flow_with_the_exact_score_maps_the_prior_to_the_mixture(kind):
    sde = VPSDE(NoiseSchedule(100, "linear").alpha_bars) if kind == "vp" else VESDE(0.02, 6.0)
    g = torch.Generator().manual_seed(1)
    x1 = sde.prior_sample((800, 2), g, torch.zeros((), dtype=torch.float64))
    x = probability_flow_sample(sde, exact_score_fn(sde), x1, 25)[-1]
    data_a, data_b = data_pair(800, 2)
    floor, fit, start = mmd2(data_a, data_b), mmd2(x, data_a), mmd2(x1, data_a)
    # the data-vs-data floor is ~1e-3 (n = 800); the prior itself is far off
    assert fit < max(3 * abs(floor), 3e-3), (fit, floor)
    assert start > 10 * max(fit, 3e-3), (start, fit)


def test_probability_flow_likelihood_is_the_noised_mixture_density():
    sde = VPSDE(NoiseSchedule(100, "linear").alpha_bars)
    g = torch.Generator().manual_seed(3)
    x0 = DATA.sample(64, g).double()
    scale, std = (float(v) for v in sde.marginal(sde.t_end))
    x = scale * x0 + std * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    log_p = probability_flow_log_prob(
        sde, exact_score_fn(sde), x, lambda z: -0.5 * z.square().sum(-1) - math.log(2 * math.pi)
    )
    exact = noised_log_prob(sde, x, sde.t_end)
    # abar(1) = 4e-5: the N(0, I) prior is the noised mixture to ~1e-4 nats
    assert (log_p - exact).abs().max() < 1e-2, (log_p - exact).abs().max()


# ------------------------------------------------------------------ DDIM
def exact_ddpm(T: int = 50) -> Session:
    """A DDPM on 8gaussians whose eps_theta is the exact noise of the noised mixture."""
    session = Session("ddpm", "8gaussians", {**DDPM_TINY, "T": T})
    model, vp = session.model, vp_sde(session.model)

    def epsilon(x, t, y=None):
        scale, std = (float(v) for v in vp.marginal(float(t[0]) / model.T))
        return -std * mixture_score(x, scale, std)

    model.epsilon = epsilon
    return session


def test_ddim_sigma_at_eta_one_is_the_ddpm_posterior_variance():
    s = NoiseSchedule(30, "cosine")
    abar = s.alpha_bars
    for t in (2, 10, 29):
        var = s.posterior_mean_var(torch.zeros(1, 2), torch.zeros(1, 2), t)[1]
        sigma = ddim_sigma(abar[t - 1], abar[t - 2], 1.0)
        assert float(sigma**2) == pytest.approx(float(var), rel=1e-6)
    assert ddim_timesteps(100, 10) == [100, 89, 78, 67, 56, 45, 34, 23, 12, 1]
    assert ddim_timesteps(5, 50) == [5, 4, 3, 2, 1]


def test_ddim_with_eta_one_matches_ancestral_sampling_in_distribution():
    session = exact_ddpm()
    model, n = session.model, 800
    ancestral = model.sample(n, torch.Generator().manual_seed(4))
    model.apply_live(
        hpm.replace(model.config, {"sampler": "ddim", "eta": 1.0, "sampling_steps": 50})
    )
    ddim = model.sample(n, torch.Generator().manual_seed(5))
    data_a, data_b = data_pair(n, 6)
    floor = max(abs(mmd2(data_a, data_b)), 1e-3)
    assert mmd2(ddim, ancestral) < 3 * floor
    assert mmd2(ddim, data_a) < 3 * floor
    # the test can fail: the same sample shrunk by 40% is far off
    assert mmd2(0.6 * ddim, ancestral) > 10 * floor


def test_ddim_with_eta_zero_is_deterministic_given_the_noise():
    abar = NoiseSchedule(40).alpha_bars
    xT = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))

    def eps_fn(x, t):
        scale, std = (float(v) for v in VPSDE(abar).marginal(float(t[0]) / 40))
        return -std * mixture_score(x, scale, std)

    a = ddim_path(abar, eps_fn, xT, 10, 0.0, torch.Generator().manual_seed(1))
    b = ddim_path(abar, eps_fn, xT, 10, 0.0, torch.Generator().manual_seed(2))
    assert a.shape == (11, 50, 2)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    c = ddim_path(abar, eps_fn, xT, 10, 1.0, torch.Generator().manual_seed(1))
    d = ddim_path(abar, eps_fn, xT, 10, 1.0, torch.Generator().manual_seed(2))
    assert not torch.allclose(c[-1], d[-1])
    with pytest.raises(ValueError, match="eta"):
        ddim_path(abar, eps_fn, xT, 10, 1.5, torch.Generator())


# ------------------------------------------------------------------ sessions
CHOICES = [
    ("ddpm", DDPM_TINY, {"sampler": "ddim", "eta": 0.5}),
    ("ddpm", DDPM_TINY, {"sampler": "reverse-sde"}),
    ("ddpm", DDPM_TINY, {"sampler": "probability-flow"}),
    ("ncsn", NCSN_TINY, {"sampler": "reverse-sde"}),
    ("ncsn", NCSN_TINY, {"sampler": "probability-flow"}),
]


@pytest.mark.parametrize(("model", "small", "values"), CHOICES)
def test_each_new_sampler_runs_through_a_session(model, small, values):
    session = Session(model, "moons", {**small, **values})
    session.run(1)
    x = session.model.sample(40, torch.Generator().manual_seed(0))
    assert x.shape == (40, 2) and torch.isfinite(x).all()
    # progress is reported and a picture no longer wanted stops the sampler
    reports: list[str] = []
    with working(Budget(report=reports.append)):
        session.model.sample(5, torch.Generator().manual_seed(0))
    assert reports
    with working(Budget(cancelled=lambda: True)), pytest.raises(Cancelled):
        session.model.sample(5, torch.Generator().manual_seed(0))


def test_defaults_are_unchanged_and_the_sampler_is_live():
    session = Session("ddpm", "moons", DDPM_TINY)
    model = session.model
    assert model.config.sampler == "ancestral" and session.config.sampling_steps == 4
    assert Session("ncsn", "moons", NCSN_TINY).config.sampler == "annealed"
    x = model.sample(30, torch.Generator().manual_seed(0))
    # ancestral sampling is Ho's algorithm 2 on the same noise as before
    expected = model.reverse_process(30, torch.Generator().manual_seed(0))[-1]
    torch.testing.assert_close(x, expected, rtol=0, atol=0)
    assert session.set_hyperparameters({"sampler": "ddim", "sampling_steps": 3}) == []
    path_end = model.sample(30, torch.Generator().manual_seed(0))
    assert not torch.allclose(path_end, x)
    with pytest.raises(hpm.HyperparameterError):
        Session("ddpm", "moons", {**DDPM_TINY, "eta": 2.0})


def test_a_quick_budget_cuts_the_steps_and_says_so():
    session = Session("ddpm", "moons", {**DDPM_TINY, "sampler": "reverse-sde"})
    session.set_hyperparameters({"sampling_steps": 1000})
    quick = Budget(quick=True)
    with working(quick):
        session.model.sample(5, torch.Generator().manual_seed(0))
    assert quick.notes == ["300 of 1,000 reverse-SDE steps"]


# ------------------------------------------------------------------ the picture
@pytest.mark.parametrize(("model", "small"), [("ddpm", DDPM_TINY), ("ncsn", NCSN_TINY)])
def test_sde_vs_ode_picture_starts_both_from_the_same_noise(model, small):
    session = Session(model, "moons", small)
    assert "sde_ode" in session.snapshot(["sde_ode"]).views
    d = session.snapshot(["sde_ode"]).sde_ode
    assert d.sde.shape == d.ode.shape == (5, 300, 2) and d.kind == model
    np.testing.assert_array_equal(d.sde[-1], d.ode[-1])  # the common start
    assert not np.allclose(d.sde[0], d.ode[0])
    assert d.times[0] == 0 and d.times[-1] == 1 and (np.diff(d.times) >= 0).all()
    assert (np.diff(d.noise_std) > 0).all()
    assert d.noise_std[0] == 0 and d.labels[0].endswith("(denoised)")
    again = sde_vs_ode(session.model, 300, 4, session.seed + 11, None)
    np.testing.assert_array_equal(again.ode, d.ode)  # fixed noise: only training moves it


def test_sde_vs_ode_is_offered_to_plane_diffusion_models_only():
    assert "sde_ode" not in Session("score", "moons", {"hidden": 16}).snapshot(["sde_ode"]).views


# ------------------------------------------------------------------ the view
def _picture(K: int = 6, n: int = 10):
    from playground.core.snapshots.sde_ode import SDEvsODE

    rng = np.random.default_rng(0)
    times = np.linspace(0, 1, K + 1)
    return SDEvsODE(
        sde=rng.normal(size=(K + 1, n, 2)).astype(np.float32),
        ode=rng.normal(size=(K + 1, n, 2)).astype(np.float32),
        times=times,
        noise_std=np.sqrt(times),
        labels=tuple(["t = 0 (denoised)"] + [f"t = {10 * t:.1f}" for t in times[1:]]),
        data=rng.normal(size=(20, 2)).astype(np.float32),
        kind="ddpm",
    )


def test_sde_ode_view_slider_moves_the_particles(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views.sde_ode import SDEvsODEView

    view = SDEvsODEView()
    qtbot.addWidget(view)
    d = _picture()
    snap = Snapshot(step=0, box=(-4.0, 4.0, -4.0, 4.0), sde_ode=d)
    assert view.accepts(snap)
    view.show_snapshot(snap)
    assert view.steps == 6 and view.slider.value() == 6  # the noise first

    def drawn(i):
        return np.stack(view.particles[i].getData(), 1)

    np.testing.assert_array_equal(drawn(0), d.sde[6])
    view.slider.setValue(2)
    np.testing.assert_array_equal(drawn(0), d.sde[2])
    np.testing.assert_array_equal(drawn(1), d.ode[2])
    assert view.time_label.text().startswith(d.labels[2])
    assert "same noise" in view.caption.text()
    view.show_snapshot(Snapshot(step=1, box=(-4.0, 4.0, -4.0, 4.0), sde_ode=_picture()))
    assert view.slider.value() == 2  # a new snapshot keeps the slider
    view._timer.setInterval(5)
    view.play.click()
    qtbot.waitUntil(lambda: not view.play.isChecked(), timeout=5000)
    assert view.slider.value() == 0
    view.clear()
    assert view.particles[0].getData()[0].size == 0


@pytest.mark.slow
@pytest.mark.parametrize("model", ["ddpm", "ncsn"])
def test_sde_vs_ode_tab_draws_in_the_running_app(qtbot, open_window, model):
    pytest.importorskip("pytestqt")
    window = open_window(model, "moons")
    assert "sde_ode" in window.tab_names
    drawn = window.draws["sde_ode"]
    window.tabs.setCurrentIndex(window.tab_names.index("sde_ode"))
    qtbot.waitUntil(lambda: window.draws["sde_ode"] > drawn, timeout=60_000)
    view = window.views["sde_ode"]
    assert view.steps >= 1 and view.slider.value() == view.steps
    start = np.stack(view.particles[1].getData(), 1).copy()
    view.slider.setValue(0)
    assert not np.array_equal(start, np.stack(view.particles[1].getData(), 1))
