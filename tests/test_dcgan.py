"""DCGAN: convolutional networks sized to each image set, the GAN switches, the refusals."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from playground.core.hyperparameters import HyperparameterError
from playground.core.models import MODELS
from playground.core.models.gans.dcgan import DCGAN, PENALTY_FIELDS
from playground.core.models.gans.dcgan_networks import ConvCritic, conv_layout
from playground.core.training import Session

TINY = {"channels": 4, "batch_size": 8, "latent_dim": 4}


def _session(dataset: str = "digits", **values) -> Session:
    return Session("dcgan", dataset, {**TINY, **values}, seed=0, device="cpu")


def test_the_pyramid_starts_at_four_by_four_where_the_side_halves():
    assert conv_layout(8, 4) == (4, [4, 8])
    assert conv_layout(16, 4) == (4, [4, 8, 16])
    assert conv_layout(20, 4) == (5, [4, 8, 16])
    assert conv_layout(7, 4) == (7, [4])
    assert conv_layout(2, 4) == (2, [4])  # four-points: no transposed convolution
    assert conv_layout(64, 4)[1][-1] == 32  # widths stop at 8 C


@pytest.mark.parametrize(("dataset", "side"), [("digits", 8), ("shapes", 16)])
def test_samples_are_images_in_the_unit_interval(dataset, side):
    s = _session(dataset)
    assert s.model.event_shape == (1, side, side)
    x = s.model.sample(5, torch.Generator().manual_seed(1)).detach()
    assert x.shape == (5, 1, side, side)
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert s.model.critic(x).shape == (5,)
    assert any(isinstance(m, nn.ConvTranspose2d) for m in s.model.generator_net.modules())


def test_the_critic_has_batch_norm_on_every_layer_but_the_first():
    critic = _session().model.critic_net
    layers = list(critic.body)
    assert isinstance(layers[0], nn.Conv2d) and isinstance(layers[1], nn.LeakyReLU)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in critic.modules()) == 1  # 8 -> 4
    assert not any(isinstance(m, nn.BatchNorm2d) for m in ConvCritic(1, 8, 4, "none").modules())
    assert any(isinstance(m, nn.GroupNorm) for m in ConvCritic(1, 8, 4, "layer").modules())


def test_packed_images_are_stacked_as_channels():
    s = _session("shapes", pack=3)
    assert s.model.critic_net.body[0].in_channels == 3
    x = s.data.sample(7, torch.Generator().manual_seed(0))
    packed = s.model.pack_samples(x)
    assert packed.shape == (2, 3, 16, 16)
    torch.testing.assert_close(packed[1, 0], x[3, 0])
    assert s.model.critic_net(packed).shape == (2,)
    assert s.model.critic(x).shape == (7,)
    assert all(math.isfinite(v) for v in s.run(2).values())


def test_a_few_steps_have_finite_losses_and_move_the_generator():
    s = _session()
    g = torch.Generator().manual_seed(3)
    before = s.model.sample(6, g).detach()
    terms = s.run(3)
    assert {"loss_d", "loss_d_real", "loss_d_fake", "loss_g", "grad_norm_g"} <= set(terms)
    assert all(math.isfinite(v) for v in terms.values())
    after = s.model.sample(6, torch.Generator().manual_seed(3)).detach()
    assert (after - before).abs().max() > 1e-4
    assert "grid" in s.available_views and "interpolation" in s.available_views


@pytest.mark.parametrize(
    "values",
    [
        {"loss": "minimax"},
        {"loss": "least-squares"},
        {"loss": "hinge"},
        {"label_smoothing": 0.2},
        {"feature_matching": True},
        {"minimax_steps": 2},
        {"historical_averaging": 1.0, "lr_decay_steps": 10},
    ],
)
def test_the_gan_switches_train_it(values):
    terms = _session(**values).run(2)
    assert all(math.isfinite(v) for v in terms.values())


def test_label_smoothing_changes_the_critics_real_loss():
    a = _session().model
    b = _session(label_smoothing=0.3).model
    x = a.data.sample(8, torch.Generator().manual_seed(0))
    a.train_part("critic", x)
    b.train_part("critic", x)
    real = a.critic_net(a.pack_samples(x))
    assert a.critic_loss(real, real)[1] != b.critic_loss(real, real)[1]


def test_plane_and_sequence_data_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="dcgan cannot train on"):
        Session("dcgan", "moons", TINY)
    assert not MODELS["dcgan"].fits(Session("gan", "moons", {"batch_size": 8}).data)
    with pytest.raises(ValueError, match="needs an image set"):
        DCGAN(DCGAN.Config(), Session("gan", "moons", {"batch_size": 8}).data)


def _penalties() -> list[str]:
    fields = DCGAN.Config.__dataclass_fields__
    penalties = [f for f in PENALTY_FIELDS if f in fields]
    if not penalties:
        pytest.skip("GANConfig has no per-sample penalty field yet")
    return penalties


def test_batch_norm_is_refused_with_a_per_sample_penalty():
    for penalty in _penalties():
        with pytest.raises(HyperparameterError, match="batch norm"):
            DCGAN.Config(**{penalty: 1.0})
        assert getattr(DCGAN.Config(**{penalty: 1.0}, critic_norm="layer"), penalty) == 1.0
    s = _session()
    with pytest.raises(HyperparameterError, match="set critic_norm to layer or none"):
        s.set_hyperparameters({_penalties()[0]: 1.0})


def test_the_gan_penalties_and_instance_noise_reach_it():
    values = {p: 1.0 for p in _penalties()}
    if "instance_noise" in DCGAN.Config.__dataclass_fields__:
        values["instance_noise"] = 0.1
    terms = _session(critic_norm="layer", **values).run(2)
    assert all(math.isfinite(v) for v in terms.values())
    assert {f"{p}_penalty" for p in _penalties()} <= set(terms)


@pytest.mark.slow
def test_digits_cover_the_classes():
    s = Session("dcgan", "digits", seed=0, device="cpu")
    assert s.config.lr_generator == s.config.lr_critic == 1e-3  # the digits' rates
    s.run(1000)
    assert s.evaluate(record=False)["classes_captured"] >= 8


def test_dcgan_hides_the_mlp_widths_it_does_not_read():
    """``hidden`` and ``depth`` are the MLP GAN's: DCGAN neither shows, takes nor saves them."""
    from playground.core import hyperparameters as hpm
    from playground.core.models import get_model_class

    cls = get_model_class("dcgan").Config
    names = [f.name for f in hpm.fields_info(cls)]
    assert "channels" in names and "hidden" not in names and "depth" not in names
    with pytest.raises(hpm.HyperparameterError, match="hidden"):
        hpm.parse_assignments(cls, ["hidden=64"])
    assert "hidden" not in hpm.to_dict(cls())
    assert "hidden" in [f.name for f in hpm.fields_info(get_model_class("gan").Config)]
