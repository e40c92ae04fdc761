"""The continuous-latent family: closed forms, bounds, schedules and every variant training."""

import functools
import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models.base import NonFiniteLossError
from playground.core.models.latent.distributions import (
    bernoulli_log_likelihood,
    gaussian_kl_per_dim,
    gaussian_log_likelihood,
    gaussian_log_prob,
    standard_normal_log_prob,
)
from playground.core.models.latent.hvae import HVAE
from playground.core.models.latent.iwae import IWAE
from playground.core.models.latent.priors import PRIORS, make_prior
from playground.core.models.latent.vae import VAE, capacity_at, free_bits_kl, kl_weight

#: the models by their registry names (the lead registers them in ``models/__init__.py``)
MODELS = {"vae": VAE, "iwae": IWAE, "hvae": HVAE}

#: adding a variant = adding a line: (model, hyperparameters)
VARIANTS = [
    ("vae", {}),
    ("vae", {"decoder": "gaussian-fixed"}),
    ("vae", {"prior": "mixture"}),
    ("vae", {"prior": "vamp"}),
    ("vae", {"prior": "flow"}),
    ("vae", {"posterior_flow": "planar"}),
    ("vae", {"posterior_flow": "iaf"}),
    ("iwae", {}),
    ("hvae", {}),
]
PLANE_CASES = [("moons", name, v) for name, v in VARIANTS]
# digits' default decoder is bernoulli; the two Gaussian decoders are added
IMAGE_CASES = [("digits", name, v) for name, v in VARIANTS if v != {"decoder": "gaussian-fixed"}]
IMAGE_CASES += [
    ("digits", "vae", {"decoder": "gaussian"}),
    ("digits", "vae", {"decoder": "gaussian-fixed"}),
    ("shapes", "vae", {}),
]
#: batch sizes of the short runs: the plane's loss starts at the data's marginal (the
#: decoder's data init), and leaving it needs less noisy steps than the images do
SHORT_RUN_BATCH = {"moons": 256, "digits": 64, "shapes": 16}
#: models whose KL is the one-sample estimate log q - log p, so IWAE with k = 1 is the ELBO
MC_KL_CASES = [("vae", {"prior": p}) for p in PRIORS if p != "standard"] + [
    ("vae", {"posterior_flow": f}) for f in ("planar", "iaf")
]


@functools.cache
def dataset(name):
    return make_dataset(name)


def build(name, data="moons", **values):
    """Build a model the way the Session does, with small networks for speed."""
    cls = MODELS[name]
    data = dataset(data)
    values = {**cls.defaults_for(data), "hidden": 32, "batch_size": 64, "lr": 3e-3, **values}
    torch.manual_seed(0)
    model = cls(from_dict(cls.Config, values), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


def batch_of(model, seed=2, n=None):
    return model.data.sample(n or model.config.batch_size, torch.Generator().manual_seed(seed))


def perturb(module, scale=0.2, seed=0):
    """Move every parameter off its initialisation (an IAF layer starts as the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g))


def state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def case_id(case):
    data, name, values = case
    return "-".join([data, name, *(str(v) for v in values.values())])


# ------------------------------------------------------------------ closed forms
def test_analytic_kl_of_two_diagonal_gaussians_matches_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu_q, mu_p = torch.randn(3, generator=g), torch.randn(3, generator=g)
    logvar_q, logvar_p = torch.randn(3, generator=g), torch.randn(3, generator=g)
    analytic = gaussian_kl_per_dim(mu_q, logvar_q, mu_p, logvar_p)
    z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn(200_000, 3, generator=g)
    per_dim = [
        gaussian_log_prob(z[:, j : j + 1], mu_q[j : j + 1], logvar_q[j : j + 1])
        - gaussian_log_prob(z[:, j : j + 1], mu_p[j : j + 1], logvar_p[j : j + 1])
        for j in range(3)
    ]
    samples = torch.stack(per_dim, 1).double()
    se = samples.std(0) / math.sqrt(samples.shape[0])
    assert ((samples.mean(0) - analytic.double()).abs() < 3 * se).all()
    assert gaussian_kl_per_dim(mu_q, logvar_q).shape == (3,)


def test_log_likelihoods_equal_torch_distributions():
    g = torch.Generator().manual_seed(0)
    x, mean, log_std = (torch.randn(5, 2, generator=g) for _ in range(3))
    expected = torch.distributions.Normal(mean, log_std.exp()).log_prob(x).sum(-1)
    assert torch.allclose(gaussian_log_likelihood(x, mean, log_std), expected, atol=1e-5)
    fixed = torch.distributions.Normal(mean, 0.3).log_prob(x).sum(-1)
    assert torch.allclose(gaussian_log_likelihood(x, mean, math.log(0.3)), fixed, atol=1e-5)
    assert torch.allclose(gaussian_log_prob(x, mean, 2 * log_std), expected, atol=1e-5)
    assert torch.allclose(
        standard_normal_log_prob(x), torch.distributions.Normal(0, 1).log_prob(x).sum(-1)
    )
    pixels = (torch.rand(5, 1, 4, 4, generator=g) > 0.5).float()
    logits = torch.randn(5, 1, 4, 4, generator=g)
    bern = torch.distributions.Bernoulli(logits=logits).log_prob(pixels).sum((1, 2, 3))
    assert torch.allclose(bernoulli_log_likelihood(pixels, logits), bern, atol=1e-5)


@pytest.mark.parametrize("kind", PRIORS)
def test_every_prior_is_a_normalised_density_and_samples_from_its_generator(kind):
    torch.manual_seed(0)
    data = dataset("moons")
    prior = make_prior(kind, 2, 5, 2, 16, data)
    perturb(prior, 0.1)
    encoder = torch.nn.Linear(2, 4)

    def encode(u):
        mu, logvar = encoder(u).chunk(2, -1)
        return mu, logvar

    grid = torch.linspace(-8, 8, 321)
    pts = torch.cartesian_prod(grid, grid)
    with torch.no_grad():
        mass = prior.log_prob(pts, encode).exp().sum() * (grid[1] - grid[0]) ** 2
        a = prior.sample(50, torch.Generator().manual_seed(3), encode)
        b = prior.sample(50, torch.Generator().manual_seed(3), encode)
    assert mass.item() == pytest.approx(1.0, abs=0.01)
    assert a.shape == (50, 2) and torch.equal(a, b)


# ---------------------------------------------------------------------- bounds
@pytest.mark.parametrize("name, values", MC_KL_CASES, ids=[str(v) for _, v in MC_KL_CASES])
def test_iwae_with_one_sample_equals_the_elbo_on_the_same_samples(name, values):
    model = build(name, **values)
    perturb(model.posterior_flow, 0.1)
    x = batch_of(model, n=32)
    with torch.no_grad():
        bound = model.iwae_bound(x, 1, torch.Generator().manual_seed(5))
        elbo = model.elbo_terms(x, torch.Generator().manual_seed(5))["elbo"]
    assert torch.allclose(bound, elbo, atol=1e-4)


@pytest.mark.parametrize("name", ["vae", "hvae"])
def test_iwae_with_one_sample_is_the_elbo_in_expectation_with_a_closed_form_kl(name):
    model = build(name)
    x = batch_of(model, n=50).repeat(100, 1)
    with torch.no_grad():
        bound = model.iwae_bound(x, 1, torch.Generator().manual_seed(5))
        terms = model.elbo_terms(x, torch.Generator().manual_seed(5))
    diff = (bound - terms["elbo"]).double()
    assert diff.abs().max() > 1e-3  # the KL estimates differ sample by sample
    assert diff.mean().abs() < 3 * diff.std() / math.sqrt(len(diff))


@pytest.mark.parametrize("name", ["vae", "hvae"])
def test_iwae_bound_does_not_fall_as_k_grows(name):
    model = build(name, "digits")
    perturb(model, 0.3)  # a fixed model whose posterior is far from the true one
    x = model.data.test_images[:300]
    with torch.no_grad():
        bounds = [model.iwae_bound(x, k, torch.Generator().manual_seed(k)) for k in (1, 5, 50)]
    means = [b.double().mean() for b in bounds]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        diff = (hi - lo).double()
        assert diff.mean() > -3 * diff.std() / math.sqrt(len(diff))
    assert means[-1] > means[0] + 1.0
    assert torch.allclose(model.log_prob(x[:10]), model.iwae_bound(x[:10], 100), atol=1e-5)


# -------------------------------------------------------------------- training
@pytest.mark.slow
@pytest.mark.parametrize("case", PLANE_CASES + IMAGE_CASES, ids=case_id)
def test_short_run_is_finite_and_the_loss_falls(case):
    data, name, values = case
    model = build(name, data, batch_size=SHORT_RUN_BATCH[data], **values)
    assert model.family == "latent" and {"density", "samples", "latent"} <= model.capabilities
    g = torch.Generator().manual_seed(2)
    losses = []
    for _ in range(200):
        terms = model.train_step(model.data.sample(model.config.batch_size, g))
        assert {"loss", "elbo", "reconstruction", "kl"} <= set(terms)
        assert all(math.isfinite(v) for v in terms.values())
        losses.append(terms["loss"])
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10
    assert int(model.steps_taken) == 200
    shape = model.event_shape
    x = model.data.sample(6, g)
    with torch.no_grad():
        z = model.sample_prior(4, torch.Generator().manual_seed(0))
        assert z.shape == (4, model.latent_dim)
        assert model.sample(5, torch.Generator().manual_seed(0)).shape == (5, *shape)
        assert model.decode(z).shape == (4, *shape)
        assert model.reconstruct(x).shape == (6, *shape)
        assert model.posterior_mean(x).shape == (6, model.latent_dim)
        assert model.posterior_kl_per_dim(x).shape == (6, model.latent_dim)
        assert model.prior_log_prob(z).shape == (4,)
        log_p = model.log_prob(x, k=20)
    assert log_p.shape == (6,) and torch.isfinite(log_p).all()
    if model.is_image:
        decoded = model.decode(z)
        assert decoded.min() >= 0 and decoded.max() <= 1


POSTERIORS = [("vae", {}), ("vae", {"posterior_flow": "planar"})]
POSTERIORS += [("vae", {"posterior_flow": "iaf"}), ("hvae", {})]


@pytest.mark.parametrize("name, values", POSTERIORS, ids=[f"{n}{v}" for n, v in POSTERIORS])
def test_posterior_sample_log_density_equals_posterior_log_prob(name, values):
    model = build(name, **values)
    if name == "vae":
        perturb(model.posterior_flow, 0.3)
    x = batch_of(model, n=40)
    with torch.no_grad():
        z, log_q = model.posterior_sample(x, torch.Generator().manual_seed(4))
        again = model.posterior_log_prob(z, x)
    assert z.shape == (40, model.latent_dim)
    assert torch.allclose(again, log_q, atol=1e-4)
    with torch.no_grad():
        pairs = model.posterior_log_prob_matrix(z[:5], x[:7])
        rows = [model.posterior_log_prob(z[i : i + 1].expand(7, -1), x[:7]) for i in range(5)]
    assert torch.allclose(pairs, torch.stack(rows), atol=1e-4)
    assert torch.allclose(pairs.diagonal(), log_q[:5], atol=1e-4)


def test_plane_samples_carry_the_decoder_noise():
    model = build("vae", decoder="gaussian-fixed", decoder_std=0.5)
    with torch.no_grad():
        z = model.sample_prior(4000, torch.Generator().manual_seed(0))
        x = model.sample(4000, torch.Generator().manual_seed(0))
        noise = x - model.decode(z)
    assert noise.std().item() == pytest.approx(0.5, rel=0.05)


# ------------------------------------------------------------------- schedules
def test_free_bits_clamp_the_kl_of_each_dimension_from_below():
    kl = torch.tensor([[0.1, 2.0], [0.3, 4.0]])
    assert free_bits_kl(kl, 0.5).item() == pytest.approx(0.5 + 3.0)
    assert free_bits_kl(kl, 0.0).item() == pytest.approx(kl.mean(0).sum().item())
    for values in ({}, {"prior": "mixture"}):
        model = build("vae", free_bits=5.0, beta=1.0, **values)
        terms = model.train_step(batch_of(model))
        assert terms["kl"] < 5.0 * model.latent_dim
        # every dimension is below lambda: the KL term is the constant d * lambda
        assert terms["loss"] == pytest.approx(-terms["reconstruction"] + 10.0, rel=1e-5)


def test_kl_annealing_and_capacity_schedules():
    assert [kl_weight(2.0, 10, t) for t in (0, 5, 10, 20)] == [0.0, 1.0, 2.0, 2.0]
    assert kl_weight(2.0, 0, 0) == 2.0
    assert [capacity_at(25.0, 100, t) for t in (0, 50, 100, 500)] == [0.0, 12.5, 25.0, 25.0]
    assert capacity_at(25.0, 0, 0) == 25.0

    model = build("vae", beta=2.0, kl_anneal_steps=10)
    betas = [model.train_step(batch_of(model, seed=s))["beta"] for s in range(12)]
    assert betas[:3] == pytest.approx([0.0, 0.2, 0.4]) and betas[-1] == 2.0
    reloaded = build("vae", beta=2.0, kl_anneal_steps=10)
    reloaded.load_state_dict(model.state_dict())
    assert reloaded.current_beta() == 2.0  # the schedule survives a preset reload

    model = build("vae", capacity=5.0, capacity_steps=10, gamma=100.0)
    for t in range(4):
        terms = model.train_step(batch_of(model, seed=t))
        assert terms["capacity"] == pytest.approx(0.5 * t)
        expected = -terms["reconstruction"] + 100.0 * abs(terms["kl"] - 0.5 * t)
        assert terms["loss"] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("name", ["vae", "iwae", "hvae"])
def test_a_nan_batch_raises_and_changes_no_parameter(name):
    model = build(name)
    bad = batch_of(model)
    bad[3, 0] = float("nan")
    before = state(model)
    with pytest.raises(NonFiniteLossError):
        model.train_step(bad)  # at step 0: the decoder's data init is skipped as well
    after = state(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    model.train_step(batch_of(model))
    before = state(model)
    with pytest.raises(NonFiniteLossError):
        model.train_step(bad)
    after = state(model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert int(model.steps_taken) == 1


def test_bernoulli_decoder_on_the_plane_is_refused():
    with pytest.raises(ValueError, match="bernoulli"):
        build("vae", decoder="bernoulli")
    with pytest.raises(ValueError, match="latent_dim"):
        build("vae", posterior_flow="iaf", latent_dim=1)


def test_defaults_follow_the_dataset():
    assert VAE.defaults_for(dataset("moons")) == {}
    digits = VAE.defaults_for(dataset("digits"))
    assert digits["decoder"] == "bernoulli" and digits["latent_dim"] == 2
    shapes = HVAE.defaults_for(dataset("shapes"))
    assert shapes["latent_dim"] == 10 and shapes["latent_dim_1"] == 16
