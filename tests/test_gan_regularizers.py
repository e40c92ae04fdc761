"""R1, R2 and instance noise (Mescheder et al. 2018) as switches of every GAN: the penalty
is gamma/2 E ||grad D||^2, its gradient reaches the critic only, and the critic sees noisy
inputs exactly when the noise is on."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.models import MODELS
from playground.core.models.gans.regularizers import (
    add_instance_noise,
    critic_penalties,
    gradient_norm_penalty,
)

torch.set_num_threads(1)
SMALL = {"hidden": 8, "depth": 1, "batch_size": 16}
GANS = ["gan", "wgan", "wgan-gp", "sngan", "fgan", "infogan"]


def build(name: str, **values):
    cls = MODELS[name]
    data = make_dataset("8gaussians")
    config = hpm.from_dict(cls.Config, {**SMALL, **values})
    torch.manual_seed(0)
    model = cls(config, data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def batch(n: int = 16) -> torch.Tensor:
    return make_dataset("8gaussians").sample(n, torch.Generator().manual_seed(2))


def test_the_penalty_of_a_linear_critic_is_gamma_half_its_squared_weight():
    """D(x) = w.x + b has gradient w everywhere: gamma/2 ||w||^2 = 10/2 * (9 + 16) = 125."""
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, -4.0]]))
        critic.bias.fill_(0.7)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    penalty = gradient_norm_penalty(lambda v: critic(v).squeeze(-1), x, gamma=10.0)
    assert float(penalty.detach()) == pytest.approx(125.0)
    # its gradient in the weight: gamma * w; none in the bias
    penalty.backward()
    torch.testing.assert_close(critic.weight.grad, torch.tensor([[30.0, -40.0]]))
    assert critic.bias.grad is None or float(critic.bias.grad) == 0.0


def test_a_quadratic_critic_gets_the_mean_over_its_points():
    """D(x) = ||x||^2 / 2: grad = x, so the penalty is gamma/2 mean ||x||^2."""
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    penalty = gradient_norm_penalty(lambda v: 0.5 * v.square().sum(1), x, gamma=2.0)
    assert float(penalty.detach()) == pytest.approx((1 + 4 + 2) / 3)


def test_r1_reads_real_and_r2_fake_and_each_only_when_on():
    config = MODELS["gan"].Config(r1=2.0)
    critic = lambda v: v.square().sum(1)  # noqa: E731 - grad 2x: penalty gamma/2 mean 4||x||^2
    real, fake = torch.ones(4, 2), torch.zeros(4, 2)
    terms = critic_penalties(critic, real, fake, config)
    assert set(terms) == {"r1_penalty"} and float(terms["r1_penalty"].detach()) == pytest.approx(
        8.0
    )
    terms = critic_penalties(critic, real, fake, MODELS["gan"].Config(r2=2.0))
    assert set(terms) == {"r2_penalty"} and float(terms["r2_penalty"].detach()) == 0.0
    assert critic_penalties(critic, real, fake, MODELS["gan"].Config()) == {}


def test_the_penalty_moves_the_critic_only():
    """The generator's parameters get no gradient from R1 or R2 (the samples are detached)."""
    model = build("gan", r1=5.0, r2=5.0)
    fake = model.generate(model.sample_latent(8))
    terms = critic_penalties(model.critic_net, batch(8), fake, model.config)
    sum(terms.values()).backward()
    assert all(p.grad is None for p in model.generator_net.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.critic_net.parameters())


@pytest.mark.parametrize("name", GANS)
def test_every_gan_reports_the_penalties_it_has_switched_on(name):
    model = build(name, r1=1.0, r2=0.5)
    terms = model.train_step(batch(16 * model.config.n_critic))
    assert {"r1_penalty", "r2_penalty"} <= set(terms)
    assert all(math.isfinite(terms[k]) and terms[k] >= 0 for k in ("r1_penalty", "r2_penalty"))
    plain = build(name).train_step(batch(16 * model.config.n_critic))
    assert not {"r1_penalty", "r2_penalty"} & set(plain)


def test_the_penalty_is_part_of_the_critic_loss():
    """loss_d = loss_d_real + loss_d_fake + r1_penalty (nothing else switched on)."""
    model = build("gan", r1=3.0)
    terms = model.critic_step(batch())
    total = terms["loss_d_real"] + terms["loss_d_fake"] + terms["r1_penalty"]
    assert terms["loss_d"] == pytest.approx(total, rel=1e-6)


class Recording(nn.Module):
    """A critic that records every input it is given."""

    def __init__(self, critic: nn.Module):
        super().__init__()
        self.inner, self.seen = critic, []

    def features(self, x):
        self.seen.append(x.detach().clone())
        return self.inner.features(x)

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.inner(x)


@pytest.mark.parametrize("std", [0.0, 0.5])
def test_instance_noise_changes_the_critics_inputs_only_when_on(std):
    model = build("gan", instance_noise=std)
    model.critic_net = Recording(model.critic_net)
    x = batch()
    model.rng.manual_seed(5)
    fake = model.generate(model.sample_latent(16)).detach()
    model.rng.manual_seed(5)
    model.critic_step(x)
    real_seen, fake_seen = model.critic_net.seen[:2]
    if std == 0:
        torch.testing.assert_close(real_seen, x)
        torch.testing.assert_close(fake_seen, fake)
    else:
        assert not torch.allclose(real_seen, x) and not torch.allclose(fake_seen, fake)
        # the noise is the size asked for: std 0.5 on 32 numbers
        assert 0.3 < float((real_seen - x).std()) < 0.75
    model.critic_net.seen.clear()
    model.generator_step()
    assert len(model.critic_net.seen) == 1  # the generator's critic call saw noise too (or not)
    model.rng.manual_seed(7)
    assert torch.equal(add_instance_noise(x, 0.0, model.rng), x)


def test_the_switches_are_live_fields_of_every_gan():
    for name in GANS:
        fields = {f.name: f for f in hpm.fields_info(MODELS[name].Config)}
        for key in ("r1", "r2", "instance_noise"):
            assert fields[key].live and fields[key].default == 0.0, (name, key)
