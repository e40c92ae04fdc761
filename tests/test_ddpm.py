"""DDPM: the schedules' closed forms against hand-computed values, training, shapes, noise."""

import math

import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.models.base import NonFiniteLossError
from playground.core.models.diffusion import DDPM, NoiseSchedule, cosine_betas, linear_betas

T = 100
S = 0.008


def hand_betas(kind: str) -> list[float]:
    """beta_1..beta_T written out with math only (list index t - 1 holds beta_t)."""
    if kind == "linear":
        # Ho et al.'s 1e-4..0.02 at T = 1000, scaled by 1000 / T: 1e-3..0.2 at T = 100
        b1, bT = 1e-4 * 1000 / T, 0.02 * 1000 / T
        return [b1 + (t - 1) * (bT - b1) / (T - 1) for t in range(1, T + 1)]

    def f(t: float) -> float:
        return math.cos((t / T + S) / (1 + S) * math.pi / 2) ** 2

    return [min(1 - (f(t) / f(0)) / (f(t - 1) / f(0)), 0.999) for t in range(1, T + 1)]


def build(dataset: str = "moons", **values) -> DDPM:
    data = make_dataset(dataset)
    merged = {**DDPM.defaults_for(data), **values}
    config = hpm.from_dict(DDPM.Config, merged)
    torch.manual_seed(0)
    model = DDPM(config, data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_q_xt_given_x0_at_t5_matches_hand_computation(kind):
    betas = hand_betas(kind)
    abar5 = math.prod(1 - b for b in betas[:5])
    sched = NoiseSchedule(T, kind)
    x0 = torch.ones(3, 2, dtype=torch.float64)
    mean, var = sched.q_mean_var(x0, 5)
    assert torch.allclose(mean, torch.full_like(x0, math.sqrt(abar5)), atol=1e-6, rtol=0)
    assert abs(float(var) - (1 - abar5)) < 1e-6
    # a per-row t gives the same numbers
    mean_t, var_t = sched.q_mean_var(x0, torch.full((3,), 5))
    assert torch.allclose(mean_t, mean) and torch.allclose(
        var_t, torch.full((3, 1), 1 - abar5, dtype=torch.float64)
    )


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_posterior_at_t5_matches_hand_computation(kind):
    betas = hand_betas(kind)
    abar4 = math.prod(1 - b for b in betas[:4])
    abar5 = abar4 * (1 - betas[4])
    beta5, alpha5 = betas[4], 1 - betas[4]
    x0, xt = 1.0, 0.3
    want_mean = (
        math.sqrt(abar4) * beta5 / (1 - abar5) * x0
        + math.sqrt(alpha5) * (1 - abar4) / (1 - abar5) * xt
    )
    want_var = (1 - abar4) / (1 - abar5) * beta5
    sched = NoiseSchedule(T, kind)
    mean, var = sched.posterior_mean_var(
        torch.full((1, 2), x0, dtype=torch.float64), torch.full((1, 2), xt, dtype=torch.float64), 5
    )
    assert torch.allclose(mean, torch.full((1, 2), want_mean, dtype=torch.float64), atol=1e-6)
    assert abs(float(var) - want_var) < 1e-6


def test_posterior_at_t1_is_x0_without_noise():
    sched = NoiseSchedule(T, "linear")
    x0, xt = torch.tensor([[0.7, -1.2]]), torch.tensor([[2.0, 3.0]])
    mean, var = sched.posterior_mean_var(x0, xt, 1)
    assert torch.allclose(mean, x0, atol=1e-6) and float(var) == 0.0


def test_cosine_alpha_bar_follows_f_over_f0_and_betas_are_clipped():
    def f(t: float) -> float:
        return math.cos((t / T + S) / (1 + S) * math.pi / 2) ** 2

    sched = NoiseSchedule(T, "cosine")
    want = torch.tensor([f(t) / f(0) for t in range(1, T)], dtype=torch.float64)
    assert torch.allclose(sched.alpha_bars[: T - 1], want, atol=1e-9, rtol=0)
    betas = cosine_betas(T)
    assert float(betas.max()) == pytest.approx(0.999) and float(betas[-1]) == pytest.approx(0.999)


def test_linear_betas_scale_with_T():
    assert linear_betas(1000)[[0, -1]].tolist() == pytest.approx([1e-4, 0.02])
    assert linear_betas(100)[[0, -1]].tolist() == pytest.approx([1e-3, 0.2])
    assert float(linear_betas(10).max()) <= 0.999


def test_t_outside_1_to_T_is_refused():
    sched = NoiseSchedule(10, "linear")
    with pytest.raises(ValueError, match="1..10"):
        sched.q_mean_var(torch.zeros(1, 2), 0)
    with pytest.raises(ValueError, match="1..10"):
        sched.q_mean_var(torch.zeros(1, 2), 11)


@pytest.mark.slow
def test_training_on_moons_lowers_the_loss():
    model = build(hidden=32, depth=2, batch_size=256, T=50)
    data, g = model.data, torch.Generator().manual_seed(2)
    losses = [model.train_step(data.sample(256, g))["loss"] for _ in range(300)]
    first, last = sum(losses[:30]) / 30, sum(losses[-30:]) / 30
    assert last < 0.7 * first
    assert int(model.steps_taken) == 300


def test_shapes_on_the_plane():
    model = build(hidden=16, depth=1, T=10)
    g = torch.Generator().manual_seed(0)
    assert model.sample(7, g).shape == (7, 2)
    assert model.reverse_process(7, g).shape == (11, 7, 2)
    x0 = model.data.sample(7, g)
    path = model.forward_process(x0, g)
    assert path.shape == (11, 7, 2) and torch.equal(path[0], x0)
    z = torch.randn(7, 2, generator=g)
    inverse = model.trajectory(z, "inverse")
    assert inverse.shape == (11, 7, 2) and torch.equal(inverse[0], z)
    assert model.trajectory(x0, "forward").shape == (11, 7, 2)
    assert len(model.layer_names()) == 10
    with pytest.raises(ValueError):
        model.trajectory(z, "sideways")
    # the same generator seed gives the same samples
    a = model.sample(5, torch.Generator().manual_seed(3))
    assert torch.equal(a, model.sample(5, torch.Generator().manual_seed(3)))


def test_shapes_on_digits():
    model = build("digits", hidden=16, depth=1, T=10)
    assert model.config.hidden == 16 and DDPM.defaults_for(model.data)["hidden"] == 256
    g = torch.Generator().manual_seed(0)
    s = model.sample(4, g)
    assert s.shape == (4, 1, 8, 8) and float(s.min()) >= 0.0 and float(s.max()) <= 1.0
    assert model.reverse_process(4, g).shape == (11, 4, 1, 8, 8)
    assert model.forward_process(model.data.sample(4, g), g).shape == (11, 4, 1, 8, 8)
    assert model.trajectory(torch.randn(4, 64, generator=g), "inverse").shape == (11, 4, 64)
    terms = model.train_step(model.data.sample(8, g))
    assert set(terms) == {"loss"} and math.isfinite(terms["loss"])


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_forward_process_ends_near_standard_normal(kind):
    model = build(hidden=8, depth=1, T=T, schedule=kind)
    g = torch.Generator().manual_seed(4)
    xT = model.forward_process(model.data.sample(20_000, g), g)[-1]
    assert xT.mean(0).abs().max() < 0.03
    assert (xT.var(0) - 1).abs().max() < 0.05


def test_nan_batch_raises_and_changes_nothing():
    model = build(hidden=16, depth=1, T=10)
    g = torch.Generator().manual_seed(0)
    model.train_step(model.data.sample(64, g))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt_before = [s["exp_avg"].clone() for s in model.optimizers["model"].state.values()]
    gen_before = model.rng.get_state()
    batch = model.data.sample(64, g)
    batch[3, 0] = float("nan")
    with pytest.raises(NonFiniteLossError) as err:
        model.train_step(batch)
    assert err.value.term == "loss"
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    opt_after = [s["exp_avg"] for s in model.optimizers["model"].state.values()]
    assert all(torch.equal(a, b) for a, b in zip(opt_before, opt_after, strict=True))
    assert torch.equal(model.rng.get_state(), gen_before)
    assert int(model.steps_taken) == 1


def test_ddpm_through_the_session_views_and_sample_metrics():
    from playground.core.training import Session

    s = Session("ddpm", "gmm82", {"hidden": 32, "batch_size": 64, "T": 20}, seed=0)
    assert s.available_views == [
        "samples", "diffusion", "sde_ode", "trajectory", "score_field", "chains",
        "fokker_planck", "modes", "curves",
    ]  # fmt: skip
    s.run(3)
    snap = s.snapshot(["samples", "trajectory", "diffusion"])
    assert snap.diffusion.forward.shape == snap.diffusion.reverse.shape == (21, 400, 2)
    assert snap.samples.model.shape == (1000, 2)
    assert snap.trajectory.inverse.shape[0] == 21  # x_T ... x_0
    m = s.evaluate(n=1000, record=True)
    assert {"mmd", "mmd_data", "mode_weights", "modes_captured"} <= set(m)
    assert len(m["mode_weights"]) == 2 and abs(sum(m["mode_weights"]) - 1) < 1e-9
    curves = s.history.as_arrays()
    assert "mode_weights_0" in curves and "mmd" in curves
    images = Session("ddpm", "digits", {"hidden": 32, "batch_size": 16, "T": 10}, seed=0)
    assert images.available_views == ["grid", "reverse_strip", "curves"]
    images.run(2)
    assert images.snapshot(["grid"]).grid.images.shape[2:] == (8, 8)


def _guided(guidance, **values):
    from playground.core.data import make_dataset
    from playground.core.hyperparameters import from_dict
    from playground.core.models.diffusion import DDPM

    cfg = from_dict(DDPM.Config, {"T": 5, "hidden": 16, "depth": 1, "guidance": guidance, **values})
    torch.manual_seed(0)
    model = DDPM(cfg, make_dataset("8gaussians"))
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def test_classifier_free_guidance_combines_conditional_and_null_predictions():
    model = _guided("classifier-free", guidance_scale=2.0)
    assert model.n_classes == 8 and model.needs_labels
    x, t, y = torch.randn(6, 2), torch.full((6,), 3), torch.arange(6)
    null = torch.full((6,), 8)
    with torch.no_grad():
        expected = 3.0 * model.epsilon(x, t, y) - 2.0 * model.epsilon(x, t, null)
        assert torch.allclose(model.guided_epsilon(x, t, y), expected, atol=1e-6)


def test_classifier_guidance_shifts_the_mean_by_scale_beta_grad_log_p():
    model = _guided("classifier", guidance_scale=3.0)
    xT, y = torch.randn(5, 2), torch.tensor([0, 1, 2, 3, 4])
    plain = model.reverse_from(xT, torch.Generator().manual_seed(3))
    guided = model.reverse_from(xT, torch.Generator().manual_seed(3), y)
    xg = xT.clone().requires_grad_(True)
    tt = torch.full((5,), model.T)
    (grad,) = torch.autograd.grad(model.classifier_log_prob(xg, tt, y).sum(), xg)
    beta_T = float(model.schedule.betas[-1])
    torch.testing.assert_close(guided[1] - plain[1], 3.0 * beta_T * grad, atol=1e-5, rtol=1e-4)


def test_guided_training_uses_labels_and_reports_the_classifier_loss():
    from playground.core.training import Session

    s = Session("ddpm", "8gaussians", {"T": 5, "hidden": 16, "guidance": "classifier"})
    terms = s.run(3)
    assert "classifier_loss" in terms and math.isfinite(terms["classifier_loss"])
    m = s.evaluate(n=500, record=False)
    assert 0.0 <= m["guidance_accuracy"] <= 1.0
    with pytest.raises(ValueError, match="guidance needs a labelled dataset"):
        Session("ddpm", "moons", {"guidance": "classifier-free"})
