"""The discrete-latent VAEs: VQ-VAE's quantiser and losses, the Gumbel-softmax sampler and
schedule, and both models training on the plane, on digits and (conv) on shapes."""

import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models.base import NonFiniteLossError
from playground.core.models.latent.base import NoLatentDensityError
from playground.core.models.latent.gumbel import (
    GumbelVAE,
    gumbel_max_sample,
    gumbel_softmax_sample,
    temperature_schedule,
)
from playground.core.models.latent.vqvae import VQVAE, perplexity, vector_quantize

MODELS = {"vq-vae": VQVAE, "gumbel-vae": GumbelVAE}
_DATA: dict = {}


def dataset(name):
    if name not in _DATA:
        _DATA[name] = make_dataset(name)
    return _DATA[name]


def build(name, data="moons", **values):
    """Build a model the way the Session does (dataset defaults, then ``values``)."""
    cls = MODELS[name]
    data = dataset(data)
    values = {**cls.defaults_for(data), **values}
    torch.manual_seed(0)
    model = cls(from_dict(cls.Config, values), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def batch(model, n=None, seed=2):
    return model.data.sample(n or model.config.batch_size, torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------ VQ-VAE
def test_straight_through_reconstruction_gradient_reaches_the_encoder_not_the_codebook():
    model = build("vq-vae")
    model.elbo_terms(batch(model))["reconstruction"].mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())
    assert model.codebook.grad is None


def test_one_codebook_loss_step_moves_the_used_codes_toward_their_encodings():
    model = build("vq-vae", reset_dead_codes=False)
    x = batch(model)
    with torch.no_grad():
        z_e = model.encoder_outputs(x)
    k = model.quantize(z_e)[2]
    used = torch.zeros(model.config.codebook_size, dtype=torch.bool)
    used[k.unique()] = True
    before = model.codebook.detach().clone()
    model.elbo_terms(x)["codebook"].mean().backward()
    torch.optim.SGD([model.codebook], lr=0.1).step()
    distance = lambda codebook: (z_e - codebook[k]).square().sum(-1).mean()  # noqa: E731
    assert distance(model.codebook.detach()) < 0.9 * distance(before)
    assert torch.equal(model.codebook.detach()[~used], before[~used])


def test_quantisation_returns_the_nearest_code():
    g = torch.Generator().manual_seed(0)
    z, codebook = torch.randn(50, 3, 4, generator=g), torch.randn(10, 4, generator=g)
    z_q, k = vector_quantize(z, codebook)
    expected = torch.cdist(z.reshape(-1, 4), codebook).argmin(1).view(50, 3)
    assert k.shape == (50, 3) and torch.equal(k, expected)
    assert torch.equal(z_q, codebook[expected])


def test_perplexity_is_the_number_of_codes_used_equally():
    assert perplexity(torch.full((16,), 5)).item() == pytest.approx(16.0)
    assert perplexity(torch.tensor([0, 7, 0, 0])).item() == pytest.approx(1.0)
    assert perplexity(torch.tensor([3, 3, 0, 0])).item() == pytest.approx(2.0)
    model = build("vq-vae")
    x = batch(model)
    counts = model.code_usage(x)
    assert counts.shape == (64,) and counts.sum() == x.shape[0] * model.config.positions
    assert 1.0 <= model.codebook_perplexity(x) <= 64.0


def test_vq_kl_is_the_constant_of_a_one_hot_posterior_and_iwae_is_the_elbo():
    model = build("vq-vae", "digits", hidden=32)
    x = batch(model, 8)
    terms = model.elbo_terms(x)
    assert set(terms) >= {"reconstruction", "kl", "elbo", "codebook", "commitment"}
    assert torch.allclose(terms["kl"], torch.full((8,), 8 * math.log(32)))
    assert torch.allclose(terms["elbo"], terms["reconstruction"] - terms["kl"])
    for k in (1, 5):
        assert torch.allclose(model.iwae_bound(x, k), terms["elbo"])
    with pytest.raises(ValueError):
        model.iwae_bound(x, 0)


def test_restarting_dead_codes_raises_the_perplexity():
    perplexities = {}
    for reset in (False, True):
        model = build("vq-vae", reset_dead_codes=reset, dead_after=20, hidden=32)
        g = torch.Generator().manual_seed(2)
        for _ in range(60):
            model.train_step(model.data.sample(128, g))
        perplexities[reset] = model.codebook_perplexity(batch(model, 1000))
        if reset:
            age = model.steps_taken - model.code_last_used
            assert int(age.max()) < 20
    assert perplexities[True] > 2 * perplexities[False]


# ------------------------------------------------------------------ Gumbel-softmax
def test_gumbel_softmax_samples_become_one_hot_as_the_temperature_falls():
    logits = torch.randn(2000, 5, generator=torch.Generator().manual_seed(0))
    top = []
    for tau in (10.0, 1.0, 0.1, 0.01):
        y = gumbel_softmax_sample(logits, tau, torch.Generator().manual_seed(1))
        assert torch.allclose(y.sum(-1), torch.ones(2000))
        top.append(y.max(-1).values.mean().item())
    assert top == sorted(top) and top[0] < 0.4 and top[-1] > 0.99
    # the same noise: the cold relaxation picks the Gumbel-max category
    hard = gumbel_max_sample(logits, torch.Generator().manual_seed(1))
    assert torch.equal(y.argmax(-1), hard.argmax(-1))


def test_gumbel_max_frequencies_match_the_categorical_probabilities():
    p = torch.tensor([0.1, 0.2, 0.3, 0.4])
    n = 20_000
    onehots = gumbel_max_sample(p.log().expand(n, 4), torch.Generator().manual_seed(0))
    assert torch.equal(onehots.sum(-1), torch.ones(n))
    freq = onehots.mean(0)
    se = (p * (1 - p) / n).sqrt()
    assert ((freq - p).abs() < 4 * se).all(), (freq, p)


def test_temperature_schedule_values():
    assert temperature_schedule(0, 1.0, 0.5, 1e-3) == 1.0
    assert temperature_schedule(100, 1.0, 0.5, 1e-3) == pytest.approx(math.exp(-0.1))
    assert temperature_schedule(10_000, 1.0, 0.5, 1e-3) == 0.5
    assert temperature_schedule(500, 2.0, 0.1, 0.0) == 2.0
    model = build("gumbel-vae", hidden=16, anneal_rate=0.01)
    g = torch.Generator().manual_seed(2)
    taus = [model.train_step(model.data.sample(32, g))["temperature"] for _ in range(3)]
    assert taus == pytest.approx([1.0, math.exp(-0.01), math.exp(-0.02)])
    assert model.temperature() == pytest.approx(math.exp(-0.03))


def test_straight_through_decodes_hard_one_hots_and_trains_the_encoder():
    model = build("gumbel-vae", "digits", hidden=32, straight_through=True)
    seen = []
    model.decoder.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    before = [p.detach().clone() for p in model.encoder.parameters()]
    terms = model.train_step(batch(model, 16))
    z = seen[0].detach().view(16, 10, 10)
    assert torch.equal(z.sum(-1), torch.ones(16, 10)) and set(z.unique().tolist()) == {0.0, 1.0}
    assert all(math.isfinite(v) for v in terms.values())
    assert all(
        not torch.equal(b, p) for b, p in zip(before, model.encoder.parameters(), strict=True)
    )


def test_gumbel_kl_is_the_closed_form_categorical_kl_to_uniform():
    model = build("gumbel-vae", "digits", hidden=32)
    logits = torch.log_softmax(torch.randn(6, 10, 10), -1)
    uniform = torch.distributions.Categorical(logits=torch.zeros(10))
    expected = torch.distributions.kl_divergence(
        torch.distributions.Categorical(logits=logits), uniform
    ).sum(1)
    assert torch.allclose(model.kl(logits), expected, atol=1e-5)
    assert torch.allclose(
        model.kl(torch.full((2, 10, 10), -math.log(10))), torch.zeros(2), atol=1e-5
    )


def test_gumbel_iwae_bound_does_not_fall_with_k():
    model = build("gumbel-vae", hidden=32)
    g = torch.Generator().manual_seed(2)
    for _ in range(100):
        model.train_step(model.data.sample(64, g))
    assert model.elbo_terms(batch(model))["kl"].mean() > 1.0  # the latent is in use
    x = batch(model, 200)
    with torch.no_grad():
        elbo = model.elbo_terms(x, torch.Generator().manual_seed(3))["elbo"]
        k1 = model.iwae_bound(x, 1, torch.Generator().manual_seed(4))
        k20 = model.iwae_bound(x, 20, torch.Generator().manual_seed(5))
    assert k1.shape == k20.shape == (200,)
    # one exact sample: the same bound as the ELBO, up to sampling noise
    assert abs(k1.mean() - elbo.mean()) < 0.5
    assert k20.mean() > k1.mean()


# ------------------------------------------------------------------------- both
CASES = [(m, d) for m in MODELS for d in ("moons", "digits")]


@pytest.mark.slow
@pytest.mark.parametrize("name, data", CASES, ids=[f"{m}-{d}" for m, d in CASES])
def test_short_run_is_finite_and_the_loss_falls(name, data):
    model = build(name, data, hidden=64)
    g = torch.Generator().manual_seed(2)
    losses = []
    for _ in range(150):
        terms = model.train_step(model.data.sample(64, g))
        assert all(math.isfinite(v) for v in terms.values())
        losses.append(terms["loss"])
    expected = {"loss", "elbo", "reconstruction", "kl"}
    expected |= {"codebook", "commitment", "perplexity"} if name == "vq-vae" else {"temperature"}
    assert set(terms) == expected
    assert sum(losses[-20:]) < 0.8 * sum(losses[:20])
    assert int(model.steps_taken) == 150


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("data", ["moons", "digits", "shapes"])
def test_shapes_of_the_latent_protocol(name, data):
    values = {"hidden": 32}
    model = build(name, data, **values)
    assert model.discrete_latent and model.family == "latent"
    event = (2,) if data == "moons" else model.data.shape
    x = batch(model, 5)
    if data == "shapes":
        assert model.encoder.is_conv
        before = model.decode(model.posterior_mean(x)).detach()
        g = torch.Generator().manual_seed(2)
        for _ in range(5):
            terms = model.train_step(model.data.sample(16, g))
            assert all(math.isfinite(v) for v in terms.values())
        assert not torch.allclose(model.decode(model.posterior_mean(x)), before)
    d = model.latent_dim
    with torch.no_grad():
        z = model.sample_prior(4, torch.Generator().manual_seed(0))
        assert z.shape == (4, d)
        assert model.decode(z).shape == (4, *event)
        assert model.sample(3, torch.Generator().manual_seed(0)).shape == (3, *event)
        assert model.posterior_mean(x).shape == (5, d)
        assert model.reconstruct(x).shape == (5, *event)
        assert model.log_prob(x, k=3).shape == (5,)
    with pytest.raises(NoLatentDensityError):
        model.posterior_sample(x)
    with pytest.raises(NoLatentDensityError):
        model.prior_log_prob(z)


def test_latent_definitions():
    vq = build("vq-vae", "digits", hidden=32)
    assert vq.latent_dim == vq.config.positions * vq.config.code_dim == 32
    z = vq.sample_prior(6, torch.Generator().manual_seed(0))
    codes = vq.latent_to_codes(z)
    assert codes.shape == (6, 8) and torch.equal(vq.codes_to_latent(codes), z)
    x = batch(vq, 6)
    assert torch.equal(
        vq.posterior_mean(x),
        vq.codes_to_latent(vq.latent_to_codes(vq.encoder_outputs(x).flatten(1))),
    )
    gumbel = build("gumbel-vae", "digits", hidden=32)
    assert gumbel.latent_dim == 100
    z = gumbel.sample_prior(6, torch.Generator().manual_seed(0)).view(6, 10, 10)
    assert torch.equal(z.sum(-1), torch.ones(6, 10)) and set(z.unique().tolist()) == {0.0, 1.0}
    probs = gumbel.posterior_mean(x).view(6, 10, 10)
    assert torch.allclose(probs.sum(-1), torch.ones(6, 10))


@pytest.mark.parametrize("name", MODELS)
def test_samples_on_the_plane_draw_the_decoder_noise_and_images_are_means(name):
    model = build(name, hidden=32)
    with torch.no_grad():
        mean = model.decode(model.sample_prior(4000, torch.Generator().manual_seed(7)))
        x = model.sample(4000, torch.Generator().manual_seed(7))
    assert (x - mean).std().item() == pytest.approx(model.config.sigma, rel=0.05)
    images = build(name, "digits", hidden=32)
    with torch.no_grad():
        means = images.decode(images.sample_prior(4, torch.Generator().manual_seed(7)))
        assert torch.equal(images.sample(4, torch.Generator().manual_seed(7)), means)


@pytest.mark.parametrize("name", MODELS)
def test_a_nan_batch_raises_and_changes_nothing(name):
    model = build(name, "digits", hidden=32)
    g = torch.Generator().manual_seed(2)
    model.train_step(model.data.sample(16, g))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = {
        k: v.clone() for k, v in model.optimizers["model"].state_dict()["state"][0].items()
    }
    bad = model.data.sample(16, g)
    bad[3, 0, 2, 2] = float("nan")
    with pytest.raises(NonFiniteLossError):
        model.train_step(bad)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    after = model.optimizers["model"].state_dict()["state"][0]
    assert all(torch.equal(opt_state[k], v) for k, v in after.items())
