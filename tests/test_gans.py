"""The GAN family: every model trains finitely, and each trick does what its paper says."""

import math

import pytest
import torch
from torch import nn

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models import MODELS
from playground.core.models.base import NonFiniteLossError
from playground.core.models.gans import losses

GANS = ["gan", "wgan", "wgan-gp", "sngan"]
CASES = [("gan", {"loss": loss}) for loss in losses.LOSSES if loss != "wasserstein"] + [
    (name, {}) for name in GANS[1:]
]


def build(name, **values):
    """Build a model the way the Session does, with small networks for speed."""
    cls = MODELS[name]
    values = {"hidden": 32, "depth": 2, "batch_size": 64, **values}
    torch.manual_seed(0)
    model = cls(from_dict(cls.Config, values), make_dataset("8gaussians"))
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def real_batch(model, seed=2):
    n = model.config.batch_size * model.batches_per_step
    return model.data.sample(n, torch.Generator().manual_seed(seed))


def state(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


@pytest.mark.parametrize("name, values", CASES, ids=[f"{n}-{v.get('loss', '')}" for n, v in CASES])
def test_short_run_is_finite_and_moves_the_generator(name, values):
    model = build(name, **values)
    assert model.family == "gan" and {"samples", "critic"} <= model.capabilities
    z = torch.randn(16, model.config.latent_dim, generator=torch.Generator().manual_seed(3))
    before = model.generate(z).detach()
    g = torch.Generator().manual_seed(2)
    for _ in range(30):
        n = model.config.batch_size * model.batches_per_step
        terms = model.train_step(model.data.sample(n, g))
        assert {"loss_d", "loss_g", "grad_norm_g"} <= set(terms)
        assert all(math.isfinite(v) for v in terms.values())
    after = model.generate(z).detach()
    assert after.shape == (16, 2) and (after - before).abs().max() > 1e-4
    x = torch.randn(5, 2)
    assert model.critic(x).shape == (5,)
    assert model.sample(7, torch.Generator().manual_seed(0)).shape == (7, 2)
    direction = model.generator_update_direction(z)
    assert direction.shape == (16, 2) and torch.isfinite(direction).all()


def test_gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared():
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))
    real, fake = torch.randn(10, 2), torch.randn(10, 2)
    eps = torch.rand(10, 1)
    gp = losses.gradient_penalty(lambda x: critic(x).squeeze(-1), real, fake, eps)
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2)
    model = build("wgan-gp", gp_lambda=0.5)
    model.critic_net = nn.Sequential(critic, nn.Flatten(0))
    terms = model.critic_regularizer(real, fake)
    assert terms["gradient_penalty"].item() == pytest.approx(0.5 * 16.0)


def test_gradient_penalty_of_a_nonlinear_critic_matches_autograd_by_hand():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake, eps = torch.randn(6, 2), torch.randn(6, 2), torch.rand(6, 1)
    gp = losses.gradient_penalty(lambda x: net(x).squeeze(-1), real, fake, eps)
    # tanh network: dD/dx = W1ᵀ (w2 ⊙ (1 - tanh²(W1 x + b1)))
    x_hat = eps * real + (1 - eps) * fake
    h = torch.tanh(x_hat @ net[0].weight.T + net[0].bias)
    grad = ((1 - h**2) * net[2].weight) @ net[0].weight
    expected = ((grad.norm(dim=1) - 1) ** 2).mean()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-5)
    gp.backward()
    assert net[0].weight.grad is not None and net[0].weight.grad.abs().sum() > 0


def test_weight_clipping_keeps_every_critic_parameter_in_range():
    model = build("wgan", clip=0.02, lr_critic=1e-2)
    for _ in range(3):
        model.train_step(real_batch(model))
    for p in model.critic_net.parameters():
        assert p.abs().max() <= 0.02 + 1e-7
    assert max(p.abs().max().item() for p in model.critic_net.parameters()) == pytest.approx(0.02)


def test_spectral_norm_keeps_every_critic_layer_near_unit_norm():
    model = build("sngan", lr_critic=1e-2)
    for _ in range(20):
        model.train_step(real_batch(model))
    linears = [m for m in model.critic_net.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3
    with torch.no_grad():
        for layer in linears:
            sigma = torch.linalg.matrix_norm(layer.weight, 2).item()
            assert sigma == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("name", GANS)
def test_each_step_changes_only_its_own_network(name):
    model = build(name)
    batch = real_batch(model)[: model.config.batch_size]
    c0, g0 = state(model.critic_net), state(model.generator_net)
    model.critic_step(batch)
    c1, g1 = state(model.critic_net), state(model.generator_net)
    assert changed(c0, c1) and not changed(g0, g1)
    model.generator_step(batch)
    c2, g2 = state(model.critic_net), state(model.generator_net)
    # spectral norm's power-iteration vector (a buffer) may move; no parameter does
    params = {k for k, _ in model.critic_net.named_parameters()}
    assert not (changed(c1, c2) & params) and changed(g1, g2)


def test_train_step_runs_n_critic_then_n_generator_steps(monkeypatch):
    model = build("gan", n_critic=3, n_generator=2)
    assert model.batches_per_step == 3
    sizes, calls = [], []
    critic_step, generator_step = model.critic_step, model.generator_step
    monkeypatch.setattr(model, "critic_step", lambda b: (sizes.append(len(b)), critic_step(b))[1])
    monkeypatch.setattr(
        model, "generator_step", lambda b: (calls.append(len(b)), generator_step(b))[1]
    )
    model.train_step(real_batch(model))
    assert sizes == [64, 64, 64] and len(calls) == 2


def test_pacgan_critic_sees_packed_samples_and_any_batch_size():
    model = build("gan", pack=4, batch_size=30)
    assert model.critic_net.body[0].in_features == 8
    terms = model.train_step(real_batch(model))
    assert math.isfinite(terms["loss_d"])
    assert model.pack_samples(torch.randn(30, 2)).shape == (7, 8)
    assert model.critic(torch.randn(5, 2)).shape == (5,)
    with pytest.raises(ValueError, match="pack"):
        build("gan", pack=4, batch_size=3)


def test_label_smoothing_moves_the_real_target():
    logits = torch.tensor([2.0, -1.0])
    fake = torch.tensor([0.0])
    _, real0, _ = losses.classifier_critic_loss(logits, fake, 0.0)
    _, real1, _ = losses.classifier_critic_loss(logits, fake, 0.2)
    bce = nn.functional.binary_cross_entropy_with_logits
    assert real0.item() == pytest.approx(bce(logits, torch.ones(2)).item())
    assert real1.item() == pytest.approx(bce(logits, torch.full((2,), 0.8)).item())
    assert real1.item() != pytest.approx(real0.item())


def test_feature_matching_replaces_the_generator_loss():
    model = build("gan", feature_matching=True)
    batch = real_batch(model)[:64]
    z = model.sample_latent(64)
    fake = model.generate(z)
    with torch.no_grad():
        expected = losses.feature_matching_loss(
            model.critic_net.features(batch), model.critic_net.features(fake)
        )
        value = model._generator_objective(fake, batch)
        plain = model.generator_loss(model.critic_net(fake))
    assert value.item() == pytest.approx(expected.item()) and value.item() != pytest.approx(
        plain.item()
    )
    assert math.isfinite(model.generator_step(batch)["loss_g"])


def test_historical_average_is_zero_at_first_and_grows_once_parameters_move():
    model = build("gan", historical_averaging=1.0)
    assert model.historical_average("critic").item() == 0.0
    assert model.historical_average("generator").item() == 0.0
    batch = real_batch(model)[:64]
    terms = model.critic_step(batch)
    assert terms["historical_average_d"] == 0.0
    model.critic_step(batch)
    terms = model.generator_step(batch)
    assert terms["historical_average_g"] == 0.0
    assert model.historical_average("critic").item() > 0
    assert model.generator_step(batch)["historical_average_g"] > 0


def test_minimax_gradient_vanishes_when_the_critic_rejects_fakes():
    norms = {}
    for loss in ("minimax", "non-saturating"):
        model = build("gan", loss=loss)
        with torch.no_grad():
            model.critic_net.head.bias.fill_(-15.0)
        norms[loss] = model.generator_step(real_batch(model)[:64])["grad_norm_g"]
    assert norms["minimax"] < 1e-4 * norms["non-saturating"]


def test_minimax_steps_use_the_minimax_loss_first_then_the_non_saturating_one():
    model = build("gan", minimax_steps=2)
    logits = torch.tensor([-3.0, 0.5, 2.0])
    minimax, non_saturating = (
        losses.minimax_generator_loss(logits),
        losses.non_saturating_generator_loss(logits),
    )
    batch = real_batch(model)
    seen = []
    for _ in range(3):
        seen.append(float(model.generator_loss(logits)))
        model.train_step(batch)
    assert seen == pytest.approx([float(minimax)] * 2 + [float(non_saturating)])


def test_minimax_steps_need_the_non_saturating_loss():
    from playground.core.hyperparameters import HyperparameterError

    with pytest.raises(HyperparameterError, match="loss=non-saturating"):
        build("gan", loss="hinge", minimax_steps=10)


def test_update_direction_leaves_gradients_and_optimizers_alone():
    model = build("wgan-gp")
    model.train_step(real_batch(model))
    grads = {k: None if p.grad is None else p.grad.clone() for k, p in model.named_parameters()}
    opt_state = [dict(s) for s in model.optimizers["generator"].state.values()]
    model.generator_update_direction(torch.randn(10, 2))
    for k, p in model.named_parameters():
        assert (grads[k] is None and p.grad is None) or torch.equal(grads[k], p.grad)
    assert [dict(s) for s in model.optimizers["generator"].state.values()].__len__() == len(
        opt_state
    )


def test_live_changes_set_rates_and_rebuild_only_a_changed_optimizer():
    model = build("gan")
    model.train_step(real_batch(model))
    critic_opt = model.optimizers["critic"]
    new = from_dict(
        type(model.config),
        {**vars(model.config), "lr_critic": 1e-3, "beta1": 0.1, "optimizer_generator": "sgd"},
    )
    model.apply_live(new)
    assert model.optimizers["critic"] is critic_opt
    assert critic_opt.param_groups[0]["lr"] == 1e-3
    assert critic_opt.param_groups[0]["betas"] == (0.1, 0.999)
    assert isinstance(model.optimizers["generator"], torch.optim.SGD)
    model.train_step(real_batch(model))


@pytest.mark.parametrize("name", GANS)
def test_nan_batch_raises_and_changes_nothing(name):
    model = build(name)
    before = state(model)
    batch = real_batch(model)
    batch[0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError):
        model.critic_step(batch[: model.config.batch_size])
    params = {k for k, _ in model.named_parameters()}
    assert not (changed(before, state(model)) & params)


def test_lr_decay_ends_at_two_percent_and_constant_rates_stay():
    model = build("gan", lr_decay_steps=4, n_critic=1)
    for _ in range(6):
        model.train_step(real_batch(model))
    assert model.optimizers["critic"].param_groups[0]["lr"] == pytest.approx(0.02 * 2e-4)
    assert model.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(0.02 * 2e-4)
    constant = build("gan")
    constant.train_step(real_batch(constant))
    assert constant.optimizers["critic"].param_groups[0]["lr"] == 2e-4


def test_discriminator_probability_only_for_classifier_losses():
    x = torch.randn(4, 2)
    p = build("gan", loss="minimax").discriminator_probability(x)
    assert p.shape == (4,) and ((p > 0) & (p < 1)).all()
    with pytest.raises(ValueError, match="not probabilities"):
        build("wgan").discriminator_probability(x)
