"""Score models: the objectives' identities, training on 8gaussians, shapes, bad batches."""

import math

import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.models.base import NonFiniteLossError
from playground.core.models.score import (
    NCSN,
    ScoreModel,
    ScoreNet,
    denoising_score_matching,
    denoising_target,
    implicit_score_matching,
    sliced_score_matching,
)


def build(cls, dataset: str = "8gaussians", **values):
    data = make_dataset(dataset)
    config = hpm.from_dict(cls.Config, {**cls.defaults_for(data), **values})
    torch.manual_seed(0)
    model = cls(config, data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model, data


def fixed_net() -> ScoreNet:
    torch.manual_seed(3)
    net = ScoreNet(2, 32, 2).double()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def test_sliced_matches_implicit_in_expectation():
    net = fixed_net()
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    ism = float(implicit_score_matching(net, x)["loss"].detach())
    g = torch.Generator().manual_seed(5)
    draws = torch.tensor(
        [
            float(sliced_score_matching(net, x, g, "gaussian", 20)["loss"].detach())
            for _ in range(300)
        ],
        dtype=torch.float64,
    )
    se = float(draws.std()) / math.sqrt(len(draws))
    assert abs(float(draws.mean()) - ism) < 4 * se + 1e-9, (float(draws.mean()), ism, se)


def test_implicit_trace_is_the_jacobians():
    net = fixed_net()
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    want = (
        sum(torch.trace(torch.autograd.functional.jacobian(net, xi[None])[0, :, 0, :]) for xi in x)
        / 5
    )
    assert abs(float(implicit_score_matching(net, x)["trace"].detach()) - float(want)) < 1e-10


def test_denoising_target_and_zero_loss_for_the_target_score():
    x = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    x_noisy = torch.tensor([[1.2, -2.4], [0.5, 0.1]])
    want = torch.tensor([[-0.2, 0.4], [0.0, -0.1]]) / 0.25
    assert torch.allclose(denoising_target(x, x_noisy, 0.5), want)
    # a "score" that knows the clean x is exactly the target: the loss is 0
    sigma, clean = 0.3, torch.randn(50, 2, generator=torch.Generator().manual_seed(7))
    loss = denoising_score_matching(
        lambda xt: -(xt - clean) / sigma**2, clean, sigma, torch.Generator().manual_seed(8)
    )["loss"]
    assert float(loss) < 1e-8


def mean_loss(model, data, steps: int, g: torch.Generator) -> list[float]:
    return [model.train_step(data.sample(256, g))["loss"] for _ in range(steps)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("objective", "extra"),
    [
        ("implicit", {}),
        ("sliced", {"projection": "gaussian"}),
        ("sliced", {"projection": "rademacher", "projections": 2}),
        ("denoising", {"sigma": 0.3}),
    ],
)
def test_every_objective_lowers_the_loss(objective, extra):
    model, data = build(ScoreModel, objective=objective, **extra)
    losses = mean_loss(model, data, 150, torch.Generator().manual_seed(2))
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-20:]) / 20 < sum(losses[:20]) / 20 - 0.05


@pytest.mark.slow
def test_ncsn_lowers_the_loss_and_shapes():
    model, data = build(NCSN)
    losses = mean_loss(model, data, 150, torch.Generator().manual_seed(2))
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-20:]) / 20 < 0.85 * sum(losses[:20]) / 20
    x = torch.zeros(7, 2)
    assert model.score(x).shape == (7, 2)
    assert model.score(x, 1.0).shape == (7, 2)
    assert model.score(x, torch.full((7,), 0.5)).shape == (7, 2)
    # None is the smallest level
    assert torch.equal(model.score(x), model.score(x, float(model.sigmas[-1])))
    fast = hpm.replace(model.config, {"steps_per_level": 3})
    model.apply_live(fast)
    s = model.sample(11, torch.Generator().manual_seed(0))
    assert s.shape == (11, 2) and torch.isfinite(s).all()


def test_score_model_shapes_and_samplers():
    model, _ = build(ScoreModel, sampler_steps=5)
    assert model.score(torch.zeros(4, 2)).shape == (4, 2)
    a = model.sample(9, torch.Generator().manual_seed(0))
    assert a.shape == (9, 2) and torch.isfinite(a).all()
    # one noise level: "annealed" is refused, pointing to ncsn
    with pytest.raises(ValueError, match="ncsn"):
        model.apply_live(hpm.replace(model.config, {"sampler": "annealed"}))
    with pytest.raises(ValueError, match="mala"):
        model.apply_live(hpm.replace(model.config, {"sampler": "mala"}))
    with pytest.raises(ValueError, match="mala"):
        build(ScoreModel, sampler="mala")


def test_ncsn_sigma_max_follows_the_box():
    assert NCSN.defaults_for(make_dataset("gmm82"))["sigma_max"] == 9.0
    model, _ = build(NCSN, "gmm82", levels=4)
    assert model.sigmas.shape == (4,)
    assert abs(float(model.sigmas[0]) - 9.0) < 1e-5


@pytest.mark.parametrize(
    ("cls", "values"),
    [(ScoreModel, {"objective": o}) for o in ("implicit", "sliced", "denoising")] + [(NCSN, {})],
)
def test_nan_batch_raises_and_changes_nothing(cls, values):
    model, data = build(cls, **values)
    model.train_step(data.sample(64, torch.Generator().manual_seed(0)))
    params = [p.detach().clone() for p in model.parameters()]
    opt_state = {
        k: v.clone() for k, v in model.optimizers["model"].state_dict()["state"][0].items()
    }
    gen = model.rng.get_state()
    steps = int(model.steps_taken)
    batch = data.sample(64, torch.Generator().manual_seed(1))
    batch[3, 0] = float("nan")
    with pytest.raises(NonFiniteLossError):
        model.train_step(batch)
    assert all(torch.equal(p, q) for p, q in zip(params, model.parameters(), strict=True))
    after = model.optimizers["model"].state_dict()["state"][0]
    assert all(torch.equal(v, after[k]) for k, v in opt_state.items())
    assert torch.equal(gen, model.rng.get_state())
    assert int(model.steps_taken) == steps


@pytest.mark.parametrize("cls", [ScoreModel, NCSN])
def test_trains_on_rejects_images_and_energy_targets(cls):
    assert not cls.trains_on(make_dataset("digits"))
    assert not cls.trains_on(make_dataset("U1"))
    assert cls.trains_on(make_dataset("gmm82"))


@pytest.mark.parametrize("name", ["score", "ncsn"])
def test_score_models_through_the_session(name):
    from playground.core.training import Session

    fast = {"steps_per_level": 2, "levels": 3} if name == "ncsn" else {"sampler_steps": 5}
    s = Session(name, "gmm82", {"hidden": 16, "batch_size": 32, **fast}, seed=0)
    process = ["diffusion", "sde_ode"] if name == "ncsn" else []
    assert s.available_views == [
        "samples", *process, "score_field", "chains", "fokker_planck", "modes", "curves"
    ]  # fmt: skip
    s.run(3)
    assert s.snapshot(["samples"]).samples.model.shape == (1000, 2)
    m = s.evaluate(n=500, record=True)
    assert {"mmd", "mmd_data", "mode_weights", "modes_captured"} <= set(m)
