"""EBM: shapes, the score, contrastive divergence on 8gaussians, the replay buffer."""

import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import ALL_DATASETS, make_dataset
from playground.core.models.base import NonFiniteLossError
from playground.core.models.energy import EBM

torch.set_num_threads(1)

SMALL = {"hidden": 32, "depth": 2, "batch_size": 64, "langevin_steps": 10}


def build(dataset: str = "8gaussians", **values) -> EBM:
    data = make_dataset(dataset)
    config = hpm.from_dict(EBM.Config, {**SMALL, **values})
    torch.manual_seed(0)
    model = EBM(config, data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def test_shapes_of_energy_score_and_sample():
    model = build()
    x = torch.randn(7, 2)
    assert model.energy(x).shape == (7,)
    assert model.score(x).shape == (7, 2)
    s = model.sample(11, torch.Generator().manual_seed(0))
    assert s.shape == (11, 2) and torch.isfinite(s).all()
    xmin, xmax, ymin, ymax = model.data.box
    assert (s[:, 0] >= xmin).all() and (s[:, 0] <= xmax).all()
    assert (s[:, 1] >= ymin).all() and (s[:, 1] <= ymax).all()


def test_score_is_minus_the_autograd_gradient_of_the_energy_even_under_no_grad():
    model = build()
    x = torch.randn(9, 2, requires_grad=True)
    (grad,) = torch.autograd.grad(model.energy(x).sum(), x)
    with torch.no_grad():
        score = model.score(x.detach())
    assert torch.allclose(score, -grad, atol=1e-6)
    assert not score.requires_grad


@pytest.mark.slow
def test_short_run_on_8gaussians_lowers_the_energy_of_data():
    model = build(hidden=64, batch_size=128, langevin_steps=20, lr=3e-3)
    g = torch.Generator().manual_seed(2)
    terms = {}
    for _ in range(150):
        terms = model.train_step(model.data.sample(128, g))
    assert set(terms) == {"loss", "energy_data", "energy_negative", "energy_reg", "cd_gap"}
    assert all(torch.isfinite(torch.tensor(v)) for v in terms.values())
    assert terms["cd_gap"] == pytest.approx(terms["energy_negative"] - terms["energy_data"])
    with torch.no_grad():
        e_data = model.energy(model.data.sample(2000, g)).mean()
        e_noise = model.energy(model.uniform(2000, g)).mean()
    assert e_noise - e_data > 1.0, (float(e_data), float(e_noise))
    assert model.negatives.shape == (128, 2)


def test_without_regulariser_no_energy_reg_term():
    model = build(energy_reg=0.0)
    terms = model.train_step(model.data.sample(64, torch.Generator().manual_seed(0)))
    assert "energy_reg" not in terms
    assert terms["loss"] == pytest.approx(terms["energy_data"] - terms["energy_negative"])


def test_replay_buffer_fills_as_a_ring_and_is_kept_in_the_state_dict():
    model = build(buffer_size=150, batch_size=64)
    g = torch.Generator().manual_seed(0)
    assert model.replay_buffer_points().shape == (0, 2)
    fills = []
    for _ in range(4):
        model.train_step(model.data.sample(64, g))
        fills.append(int(model.buffer_fill))
    assert fills == [64, 128, 150, 150]
    assert int(model.buffer_next) == (4 * 64) % 150
    # the last step's negatives sit just before the write position
    pos = (torch.arange(64) + 4 * 64 - 64) % 150
    assert torch.equal(model.replay_buffer[pos], model.negatives)
    state = model.state_dict()
    assert {"replay_buffer", "buffer_fill", "buffer_next", "steps_taken"} <= set(state)
    fresh = build(buffer_size=150, batch_size=64)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.replay_buffer_points(), model.replay_buffer_points())


@pytest.mark.parametrize("reinit_prob", [0.0, 0.3, 1.0])
def test_chains_restart_from_noise_with_the_reinit_probability(reinit_prob):
    model = build(reinit_prob=reinit_prob, buffer_size=500)
    model._write_buffer(torch.full((500, 2), 0.25))
    n = 4000
    x0, from_buffer = model.chain_starts(n, torch.Generator().manual_seed(3))
    frac_noise = 1.0 - from_buffer.double().mean()
    # binomial std at p = 0.3, n = 4000: 0.007
    assert abs(float(frac_noise) - reinit_prob) < 0.03
    assert (x0[from_buffer] == 0.25).all()
    assert not (x0[~from_buffer] == 0.25).all(dim=1).any()


def test_an_empty_buffer_starts_every_chain_from_noise():
    model = build(reinit_prob=0.0)
    _, from_buffer = model.chain_starts(100, torch.Generator().manual_seed(0))
    assert not from_buffer.any()


def test_persistent_chains_start_from_the_last_negatives(monkeypatch):
    # buffer_size == batch_size: the buffer holds exactly the last step's negatives
    model = build(reinit_prob=0.0, buffer_size=64, batch_size=64)
    starts = []
    run = model.run_chains

    def record(x0, n_steps, generator):
        starts.append(x0.clone())
        return run(x0, n_steps, generator)

    monkeypatch.setattr(model, "run_chains", record)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        previous = model.negatives.clone()
        model.train_step(model.data.sample(64, g))
        if previous.numel():
            # every start is one of the previous negatives
            same = (starts[-1][:, None, :] == previous[None, :, :]).all(dim=-1)
            assert same.any(dim=1).all()
    assert len(starts) == 3


def test_nan_batch_raises_and_changes_nothing():
    model = build()
    g = torch.Generator().manual_seed(0)
    model.train_step(model.data.sample(64, g))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt_before = [s["exp_avg"].clone() for s in model.optimizers["model"].state.values()]
    gen_before = model.rng.get_state()
    negatives = model.negatives.clone()
    batch = model.data.sample(64, g)
    batch[3, 0] = float("nan")
    with pytest.raises(NonFiniteLossError):
        model.train_step(batch)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    opt_after = [s["exp_avg"] for s in model.optimizers["model"].state.values()]
    assert all(torch.equal(a, b) for a, b in zip(opt_before, opt_after, strict=True))
    assert torch.equal(model.rng.get_state(), gen_before)
    assert torch.equal(model.negatives, negatives)
    assert int(model.steps_taken) == 1


def test_trains_on_2d_sets_with_a_sampler_only():
    assert EBM.trains_on(ALL_DATASETS["8gaussians"])
    assert EBM.trains_on(make_dataset("moons"))
    assert not EBM.trains_on(ALL_DATASETS["digits"])
    assert not EBM.trains_on(ALL_DATASETS["U1"])
    assert not EBM.trains_on(make_dataset("U1"))


def test_live_hyperparameters_and_lr_decay():
    model = build(lr_decay_steps=10)
    g = torch.Generator().manual_seed(0)
    model.apply_live(
        hpm.replace(model.config, {"langevin_steps": 3, "step_size": 0.02, "batch_size": 32})
    )
    terms = model.train_step(model.data.sample(32, g))
    assert model.negatives.shape == (32, 2) and torch.isfinite(torch.tensor(terms["loss"]))
    for _ in range(10):
        model.train_step(model.data.sample(32, g))
    lr = model.optimizers["model"].param_groups[0]["lr"]
    assert lr == pytest.approx(model.config.lr * 0.02, rel=1e-6)
