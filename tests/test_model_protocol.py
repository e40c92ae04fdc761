"""The model protocol of ``models/base.py``: every registered model declares the flags with
their types, implements the methods of the capabilities it declares (and has none of the
others), and runs alone exactly the halves of a step it declares."""

import math

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import ALL_DATASETS, make_dataset
from playground.core.models import MODELS
from playground.core.models.base import (
    CAPABILITIES,
    FINAL_LR_FRACTION,
    GenerativeModel,
    NoiseProcess,
    NonFiniteLossError,
    ScoreLevels,
)
from playground.core.models.diffusion.ddpm import ddpm_field_steps

NAMES = sorted(MODELS)
#: the class-level flags and their types
CLASS_FLAGS = {"discrete_latent": bool, "trajectory_grid": bool}


def build(name: str, dataset: str = "8gaussians", **values) -> GenerativeModel:
    cls = MODELS[name]
    if not cls.fits(ALL_DATASETS[dataset]):  # an image or sequence model: the first it fits
        dataset = next(d for d, dc in ALL_DATASETS.items() if d != "folder" and cls.fits(dc))
    data = make_dataset(dataset)
    config = hpm.from_dict(cls.Config, {**cls.defaults_for(data), **values})
    torch.manual_seed(0)
    model = cls(config, data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def batch(model: GenerativeModel, n: int) -> torch.Tensor:
    return model.data.sample(n, torch.Generator().manual_seed(2))


@pytest.mark.parametrize("name", NAMES)
def test_every_model_declares_the_class_flags(name):
    cls = MODELS[name]
    assert cls.name == name and cls.family and cls.description
    for flag, kind in CLASS_FLAGS.items():
        assert type(getattr(cls, flag)) is kind, flag
    assert isinstance(cls.parts, tuple) and all(isinstance(p, str) for p in cls.parts)
    assert cls.capabilities <= set(CAPABILITIES)


@pytest.mark.parametrize("name", NAMES)
def test_a_declared_capability_is_implemented_and_an_undeclared_one_absent(name):
    cls = MODELS[name]
    for capability, methods in CAPABILITIES.items():
        for method in methods:
            own, default = getattr(cls, method, None), getattr(GenerativeModel, method, None)
            implemented = (
                callable(own)
                and own is not default
                and not getattr(own, "__isabstractmethod__", False)
            )
            assert implemented == (capability in cls.capabilities), f"{method} ({capability})"


@pytest.mark.parametrize("name", NAMES)
def test_every_model_answers_the_protocol_with_the_right_types(name):
    model = build(name)
    assert isinstance(model.needs_data, bool) and isinstance(model.needs_labels, bool)
    assert isinstance(model.has_probability, bool) and isinstance(model.batches_per_step, int)
    assert model.last_acceptance_rate is None
    assert isinstance(model.rng, torch.Generator)
    counter = model.state_dict()["steps_taken"]
    assert counter.shape == () and counter.dtype == torch.long and int(counter) == 0
    if name != "vq-vae":
        assert model.codebook_perplexity(batch(model, 8)) is None

    levels = model.score_levels()
    if levels is not None:
        assert "score" in model.capabilities and isinstance(levels, ScoreLevels)
        n = len(levels.labels)
        assert levels.values.shape == levels.noise_std.shape == levels.signal_scale.shape == (n,)
        assert bool((levels.noise_std > 0).all())
    process = model.noise_process()
    assert (process is not None) == ("process" in model.capabilities)
    if process is not None:
        assert isinstance(process, NoiseProcess) and process.kind in ("ddpm", "ncsn")
        assert process.noise_std.shape == process.signal_scale.shape == (len(process.labels),)
        assert process.noise_std[0] == 0.0 and process.signal_scale[0] == 1.0
        assert bool(np.all(np.diff(process.noise_std) > 0))


def test_an_unknown_capability_is_refused_where_the_class_is_written():
    with pytest.raises(TypeError, match="unknown capabilities \\['densty'\\]"):

        class Typo(GenerativeModel):
            capabilities = frozenset({"densty"})

            def train_step(self, batch):
                return {}


def test_a_gan_trains_its_critic_and_its_generator_alone():
    model = build("gan")
    assert model.parts == ("critic", "generator")
    x = batch(model, model.config.batch_size)
    critic = model.train_part("critic", x)
    generator = model.train_part("generator", x)
    assert {"loss_d", "loss_d_real", "loss_d_fake"} <= set(critic) and "loss_g" not in critic
    assert {"loss_g", "grad_norm_g"} <= set(generator) and "loss_d" not in generator
    assert int(model.steps_taken) == 0  # a half step is not a step
    with pytest.raises(ValueError, match="gan has no 'encoder' step; parts: critic, generator"):
        model.train_part("encoder", x)


def test_a_flow_has_no_parts_and_refuses_one():
    model = build("realnvp", "moons")
    assert model.parts == ()
    with pytest.raises(ValueError, match="realnvp has no 'critic' step; parts: none"):
        model.train_part("critic", batch(model, 16))


def test_the_lr_schedule_is_one_cosine_from_the_step_counter():
    flow = build("realnvp", "moons", lr=1e-2, lr_decay_steps=10)
    assert flow.scheduled_lr() == pytest.approx(1e-2)
    flow.steps_taken.fill_(5)
    flow.apply_lr_schedule()
    half = 1e-2 * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5)
    assert flow.optimizers["model"].param_groups[0]["lr"] == pytest.approx(half)
    # a GAN decays each network's own rate by the same factor
    gan = build("gan", lr_generator=1e-3, lr_critic=4e-3, lr_decay_steps=10)
    gan.steps_taken.fill_(10)
    gan.apply_lr_schedule()
    lrs = {k: o.param_groups[0]["lr"] for k, o in gan.optimizers.items()}
    assert lrs == pytest.approx({"generator": 2e-5, "critic": 8e-5})
    # a model without lr_decay_steps keeps its rate
    vq = build("vq-vae", "moons", lr=2e-3)
    vq.steps_taken.fill_(10_000)
    assert vq.scheduled_lr() == pytest.approx(2e-3)


def test_a_refused_step_puts_the_rng_back():
    model = build("ebm")
    before = model.rng.get_state()
    with pytest.raises(NonFiniteLossError), model.rng_kept_on_failure():
        torch.rand(3, generator=model.rng)
        raise NonFiniteLossError("loss", math.nan)
    assert torch.equal(model.rng.get_state(), before)


def test_a_ddpm_scores_at_ten_steps_with_their_noise_and_signal():
    model = build("ddpm", T=100)
    levels = model.score_levels()
    steps = [100, 89, 78, 67, 56, 45, 34, 23, 12, 1]
    assert ddpm_field_steps(100) == steps and levels.values.tolist() == steps
    assert levels.values.dtype == torch.long and levels.conditional
    assert levels.labels[0] == "t = 100" and levels.labels[-1] == "t = 1"
    abar = model.schedule.alpha_bars.double()[torch.tensor(steps) - 1]
    assert torch.allclose(levels.noise_std.double(), (1 - abar).sqrt(), atol=1e-7)
    assert torch.equal(levels.signal_scale, abar.sqrt())
    assert ddpm_field_steps(4) == [4, 3, 2, 1]


def test_an_ncsn_scores_at_its_sigmas_and_a_denoising_score_at_its_one_sigma():
    ncsn = build("ncsn", levels=5)
    levels = ncsn.score_levels()
    assert torch.equal(levels.values, ncsn.sigmas.float()) and levels.conditional
    assert torch.equal(levels.signal_scale, torch.ones(5))
    assert levels.labels[-1] == "sigma = 0.05"
    dsm = build("score", sigma=0.3).score_levels()
    assert dsm.values.tolist() == pytest.approx([0.3]) and not dsm.conditional
    assert dsm.labels == ("sigma = 0.3",)
    assert build("score", objective="sliced").score_levels() is None
    assert build("ebm").score_levels() is None


def test_noise_processes_of_a_ddpm_and_an_ncsn():
    model = build("ddpm", T=20)
    ddpm, abar = model.noise_process(), model.schedule.alpha_bars.double().numpy()
    assert ddpm.kind == "ddpm" and ddpm.labels[:2] == ["data", "t = 1"] and len(ddpm.labels) == 21
    assert np.allclose(ddpm.signal_scale[1:] ** 2, abar) and ddpm.key == ("ddpm", 20, "linear")
    assert np.allclose(ddpm.noise_std[1:] ** 2, 1 - abar)
    ncsn_model = build("ncsn", levels=3, sigma_max=2.0, sigma_min=0.5)
    ncsn = ncsn_model.noise_process()
    assert ncsn.kind == "ncsn" and ncsn.noise_std.tolist() == pytest.approx([0.0, 0.5, 1.0, 2.0])
    assert ncsn.labels == ["data", "sigma_3 = 0.5", "sigma_2 = 1", "sigma_1 = 2"]
    assert ncsn.signal_scale.tolist() == [1.0] * 4
