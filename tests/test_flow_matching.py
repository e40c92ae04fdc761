"""Flow matching: its paths and couplings, reflow, the sampler's steps, the exact density,
the transport metrics, and a preset round trip."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
import torch

from playground.core.data import NoDensityError, make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.metrics.transport import chord_deviation, straightness, w2, w2_squared
from playground.core.models import MODELS
from playground.core.models.continuous.couplings import (
    conditional_path,
    ot_permutation,
    pairing_cost,
)
from playground.core.presets import load_preset, save_preset
from playground.core.training import Session


def build(dataset: str = "moons", **values):
    cls, data = MODELS["flow-matching"], make_dataset(dataset)
    torch.manual_seed(0)
    model = cls(from_dict(cls.Config, {"hidden": 32, "batch_size": 128, **values}), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def batch(model, n: int = 128, seed: int = 2) -> torch.Tensor:
    return model.data.sample(n, torch.Generator().manual_seed(seed))


def pairs(n: int = 256, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g), 2 * torch.randn(n, 2, generator=g) + 3


# ------------------------------------------------------------------- paths
def test_the_linear_path_interpolates_with_velocity_x1_minus_x0():
    x0, x1 = pairs(64)
    t = torch.rand(64, 1, generator=torch.Generator().manual_seed(3))
    mu, u = conditional_path("linear", x0, x1, t)
    assert torch.allclose(mu, (1 - t) * x0 + t * x1)
    assert torch.equal(u, x1 - x0)
    assert torch.equal(conditional_path("linear", x0, x1, torch.tensor(0.0))[0], x0)
    assert torch.allclose(conditional_path("linear", x0, x1, torch.tensor(1.0))[0], x1)


@pytest.mark.parametrize("path", ["linear", "vp"])
def test_a_paths_velocity_is_its_time_derivative(path):
    x0, x1 = (p.double() for p in pairs(32))
    t = torch.linspace(0.05, 0.95, 32, dtype=torch.float64).view(-1, 1)
    h = 1e-6
    ahead, _ = conditional_path(path, x0, x1, t + h)
    behind, _ = conditional_path(path, x0, x1, t - h)
    _, u = conditional_path(path, x0, x1, t)
    assert torch.allclose((ahead - behind) / (2 * h), u, atol=1e-6)


def test_the_vp_path_ends_at_source_and_data_and_preserves_variance():
    g = torch.Generator().manual_seed(4)
    x0, x1 = torch.randn(100_000, 2, generator=g), torch.randn(100_000, 2, generator=g)
    assert torch.equal(conditional_path("vp", x0, x1, torch.tensor(0.0))[0], x0)
    assert torch.allclose(conditional_path("vp", x0, x1, torch.tensor(1.0))[0], x1, atol=1e-6)
    for t in (0.25, 0.5, 0.75):
        vp = conditional_path("vp", x0, x1, torch.tensor(t))[0]
        assert vp.var(dim=0).tolist() == pytest.approx([1.0, 1.0], abs=0.02)
    # the linear path's middle has half the variance: the VP path is the one that keeps it
    middle = conditional_path("linear", x0, x1, torch.tensor(0.5))[0]
    assert middle.var(dim=0).tolist() == pytest.approx([0.5, 0.5], abs=0.02)
    with pytest.raises(ValueError, match="path must be one of"):
        conditional_path("cosine", x0, x1, torch.tensor(0.5))


def test_the_ot_coupling_is_a_permutation_cheaper_than_the_identity():
    x0, x1 = pairs(256, seed=5)
    perm = ot_permutation(x0, x1)
    assert sorted(perm.tolist()) == list(range(256))
    cost = pairing_cost(x0, x1)
    matched = float(cost[perm, torch.arange(256)].sum())
    assert matched < 0.8 * float(cost.diagonal().sum())
    # it is the optimum: POT's exact transport cost with uniform weights 1/n
    optimum = ot.emd2(ot.unif(256), ot.unif(256), cost.numpy()) * 256
    assert matched == pytest.approx(optimum, rel=1e-9)
    with pytest.raises(ValueError, match="equal"):
        ot_permutation(x0, x1[:10])


# -------------------------------------------------------------- the model
def test_a_step_is_simulation_free_and_ot_pairs_shorten_the_conditional_paths():
    model = build()
    terms = model.train_step(batch(model))
    assert set(terms) == {"loss", "nfe"} and terms["nfe"] == 1.0
    assert math.isfinite(terms["loss"]) and int(model.steps_taken) == 1
    paths = model.conditional_paths(200, torch.Generator().manual_seed(6), 8)
    assert paths.shape == (9, 200, 2)
    straight = (1 - torch.linspace(0, 1, 9).view(-1, 1, 1)) * paths[0] + torch.linspace(
        0, 1, 9
    ).view(-1, 1, 1) * paths[-1]
    assert torch.allclose(paths, straight, atol=1e-5)
    independent = (paths[-1] - paths[0]).square().sum(1).mean()
    ot_model = build(coupling="ot")
    ot_paths = ot_model.conditional_paths(200, torch.Generator().manual_seed(6), 8)
    assert (ot_paths[-1] - ot_paths[0]).square().sum(1).mean() < 0.5 * independent
    with pytest.raises(ValueError, match="steps must be >= 1"):
        model.conditional_paths(4, torch.Generator(), 0)


def test_reflow_pairs_come_from_the_model_and_replace_the_data():
    model = build(reflow_after=2, reflow_pairs=64)
    for _ in range(2):
        assert model.needs_data
        model.train_step(batch(model))
    assert model.reflowing and not model.needs_data and model.reflow_pool is None
    before = {k: v.clone() for k, v in model.field.state_dict().items()}
    # the pairs are drawn with the weights of step 2, before step 3 changes them
    x0 = model.base_sample(64, torch.Generator().manual_seed(0))
    terms = model.train_step(None)
    assert terms["nfe"] > 2  # one evaluation plus the adaptive solve that made the pairs
    pool_x0, pool_x1 = model.reflow_pool
    assert pool_x0.shape == pool_x1.shape == (64, 2)
    model.field.load_state_dict(before)
    assert torch.allclose(model.push(pool_x0), pool_x1, atol=1e-6)
    assert not torch.allclose(pool_x0, x0)  # drawn from the model's rng, not reused
    # the learning rate's cosine starts again with reflow
    model.config = from_dict(type(model.config), {**vars(model.config), "lr_decay_steps": 10})
    model.steps_taken.fill_(2)
    assert model.lr_factor() == 1.0
    model.config = from_dict(type(model.config), {**vars(model.config), "reflow_after": 0})
    assert model.lr_factor() < 0.95
    model.config = from_dict(type(model.config), {**vars(model.config), "reflow_after": 2})
    model.train_step(None)
    assert model.reflow_pool[1] is pool_x1  # the pool is kept between steps


def test_euler_steps_change_the_samples_and_count_their_evaluations():
    model = build(solver="euler")
    for _ in range(3):
        model.train_step(batch(model))
    samples = {}
    for k in (1, 2, 4):
        model.config.solver_steps = k
        samples[k] = model.sample(100, torch.Generator().manual_seed(7))
        assert samples[k].shape == (100, 2) and model.last_nfe == k
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        assert torch.allclose(samples[1], z + model.velocity(z, 0.0), atol=1e-6)
    assert not torch.allclose(samples[1], samples[2], atol=1e-3)
    assert not torch.allclose(samples[2], samples[4], atol=1e-3)


def test_the_density_is_the_odes_whatever_the_sampler():
    model = build(solver="euler", solver_steps=1)
    x = batch(model, 50)
    by_euler_setting = model.log_prob(x)
    assert model.last_nfe > 6  # an adaptive solve, not one Euler step
    model.config.solver = "dopri5"
    assert torch.allclose(by_euler_setting, model.log_prob(x))
    assert torch.allclose(model.log_prob_at(x, 0.0), model.base_log_prob(x))


def test_a_dataset_source_and_one_without_a_density():
    model = build(source="8gaussians")
    z = model.base_sample(1000, torch.Generator().manual_seed(8))
    # 8gaussians sits on a circle of radius 4 / 1.414: no N(0, I) draws
    radius = z.norm(dim=1)
    assert radius.mean().item() == pytest.approx(4 / 1.414, abs=0.1)
    assert torch.allclose(model.base_log_prob(z), make_dataset("8gaussians").log_prob(z))
    assert "density" in model.capabilities
    line = build(source="line")
    assert "density" not in line.capabilities and "samples" in line.capabilities
    assert "density" in MODELS["flow-matching"].capabilities
    with pytest.raises(NoDensityError, match="line"):
        line.base_log_prob(z)


# ---------------------------------------------------------------- metrics
def test_w2_of_a_set_with_itself_is_0_and_of_a_shifted_set_the_shift():
    x = np.random.default_rng(0).normal(size=(300, 2))
    assert w2(x, x) == pytest.approx(0.0, abs=1e-9)
    assert w2(torch.from_numpy(x), x + np.array([3.0, 4.0])) == pytest.approx(5.0, rel=1e-9)
    assert w2_squared(x, x + np.array([3.0, 4.0])) == pytest.approx(25.0, rel=1e-9)
    with pytest.raises(ValueError, match="dimension"):
        w2(x, x[:, :1])


def test_straightness_is_0_for_straight_constant_speed_paths_only():
    s = torch.linspace(0, 1, 11).view(-1, 1, 1)
    x0, x1 = pairs(20)
    line = (1 - s) * x0 + s * x1
    assert straightness(line) == pytest.approx(0.0, abs=1e-10)
    assert chord_deviation(line) == pytest.approx(0.0, abs=1e-10)
    bent = line + torch.sin(math.pi * s) * torch.tensor([0.0, 1.0])
    assert chord_deviation(bent) == pytest.approx(np.mean(np.sin(np.pi * s.numpy()) ** 2), 1e-6)
    assert straightness(bent) > 1.0
    slowed = (1 - s**2) * x0 + s**2 * x1  # straight but not at constant speed
    assert straightness(slowed) > 0.1 and chord_deviation(slowed) > 0.01
    with pytest.raises(ValueError, match="steps"):
        straightness(line[:1])


# ---------------------------------------------------------------- presets
def test_a_preset_keeps_the_source_the_coupling_and_the_flow(tmp_path):
    values = {"source": "8gaussians", "coupling": "ot", "hidden": 32, "solver": "euler"}
    session = Session("flow-matching", "moons", values, seed=3)
    session.run(3)
    path = save_preset(session, tmp_path / "fm")
    loaded = load_preset(path)
    assert loaded.config == session.config and loaded.step_count == 3
    g = lambda: torch.Generator().manual_seed(9)  # noqa: E731
    assert torch.equal(loaded.model.sample(50, g()), session.model.sample(50, g()))
    x = session.data.sample(20, g())
    assert torch.allclose(loaded.model.log_prob(x), session.model.log_prob(x))


# ------------------------------------------------------------------ slow
@pytest.mark.slow
def test_the_loss_falls_and_ot_beats_independent_pairs_at_one_euler_step():
    torch.set_num_threads(1)
    found = {}
    for coupling in ("independent", "ot"):
        values = {"source": "8gaussians", "coupling": coupling, "solver": "euler"}
        session = Session("flow-matching", "moons", {**values, "solver_steps": 1}, seed=0)
        session.run(1500)
        losses = session.history.as_arrays()["loss"][1]
        # crossing independent paths leave the loss a floor: it falls, but not to 0
        assert np.mean(losses[-100:]) < 0.8 * np.mean(losses[:20])
        found[coupling] = {"loss": np.mean(losses[-100:]), **session.evaluate(n=2000)}
    # OT pairs barely cross: their conditional velocities are nearly a field already
    assert found["ot"]["loss"] < 0.2 * found["independent"]["loss"]
    assert found["ot"]["w2"] < 0.5 * found["independent"]["w2"]
    assert found["ot"]["w2"] < 2 * found["ot"]["w2_data"]
