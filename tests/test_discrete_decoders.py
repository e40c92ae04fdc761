"""The VAEs' decoders over an image set's levels: the discretised logistic (PixelCNN++,
section 2.1) and the per-pixel softmax are probabilities of the discrete image, so the
ELBO and the IWAE bound bound a discrete NLL, which held-out evaluation reports in
bits/dim."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.hyperparameters import HyperparameterError, from_dict
from playground.core.models.latent.base import DISCRETE_NLL_K
from playground.core.models.latent.decoders import DecoderLikelihood
from playground.core.models.latent.distributions import (
    categorical_log_likelihood,
    discretized_logistic_log_likelihood,
    discretized_logistic_log_probs,
    level_mean,
)
from playground.core.models.latent.hvae import HVAE
from playground.core.models.latent.iwae import IWAE
from playground.core.models.latent.vae import VAE
from playground.core.training.evaluation import discrete_metrics

DISCRETE = ["categorical", "discretized_logistic"]


def close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """``a`` equals ``b`` elementwise (``torch.testing.assert_close`` costs 3 s to import)."""
    assert a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=rtol), (a, b)


MODELS = {"vae": VAE, "iwae": IWAE, "hvae": HVAE}
_DATA: dict = {}


def dataset(spec: str):
    if spec not in _DATA:
        _DATA[spec] = make_dataset(spec)
    return _DATA[spec]


def build(name="vae", data="digits", **values):
    """A model built as the Session builds it (the dataset's defaults, then ``values``)."""
    cls = MODELS[name]
    data = dataset(data)
    values = {**cls.defaults_for(data), "hidden": 32, **values}
    torch.manual_seed(0)
    model = cls(from_dict(cls.Config, values), data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


# ------------------------------------------------------------------ the likelihoods
def test_the_discretised_logistic_sums_to_one_and_is_the_cdf_difference():
    levels = 17
    g = torch.Generator().manual_seed(0)
    mean = torch.rand(5, 1, 3, 3, generator=g, dtype=torch.float64) * 1.4 - 0.2
    log_scale = torch.rand(5, 1, 3, 3, generator=g, dtype=torch.float64) * 6 - 5
    log_p = discretized_logistic_log_probs(mean, log_scale, levels)
    assert log_p.shape == (5, levels, 1, 3, 3)
    close(log_p.exp().sum(1), torch.ones(5, 1, 3, 3, dtype=torch.float64))
    # F(c + delta) - F(c - delta), the first bin from -inf and the last to +inf
    edges = (torch.arange(levels + 1, dtype=torch.float64) - 0.5) / (levels - 1)
    cdf = torch.sigmoid((edges.view(1, -1, 1, 1, 1) - mean[:, None]) / log_scale[:, None].exp())
    cdf[:, 0], cdf[:, -1] = 0.0, 1.0
    close(log_p.exp(), cdf[:, 1:] - cdf[:, :-1])
    # one image's log-likelihood is the sum of its pixels' levels
    k = torch.randint(levels, (5, 1, 3, 3), generator=g)
    expected = log_p.gather(1, k[:, None]).sum((1, 2, 3, 4))
    got = discretized_logistic_log_likelihood(k / (levels - 1), mean, log_scale, levels)
    close(got, expected)


def test_a_narrow_logistic_far_in_a_tail_keeps_a_finite_log_probability():
    mean, log_scale = torch.full((1, 1, 1, 1), 0.9), torch.full((1, 1, 1, 1), -5.0)
    x = torch.full((1, 1, 1, 1), 0.25)
    value = discretized_logistic_log_likelihood(x, mean, log_scale, 17)
    assert torch.isfinite(value).all() and value.item() < -50


def test_the_categorical_sums_to_one_over_the_levels_and_is_the_softmax():
    levels = 5
    logits = torch.randn(4, levels, 1, 1, generator=torch.Generator().manual_seed(0))
    values = torch.stack(
        [categorical_log_likelihood(torch.full((4, 1, 1, 1), k / (levels - 1)), logits, levels)
         for k in range(levels)], 1
    )  # fmt: skip
    close(values, torch.log_softmax(logits[:, :, 0, 0], 1))
    assert level_mean(logits, levels).shape == (4, 1, 1)


@pytest.mark.parametrize("kind", DISCRETE)
def test_the_decoder_sums_to_one_over_every_image(kind):
    """Every image of 2 pixels on 3 levels: ``sum_x p(x | z) = 1`` for each ``z``."""
    levels = 3
    torch.manual_seed(0)
    decoder = DecoderLikelihood(2, (1, 1, 2), 8, 1, kind, levels)
    images = torch.tensor(list(itertools.product(range(levels), repeat=2)), dtype=torch.float32)
    images = (images / (levels - 1)).view(-1, 1, 1, 2)
    for z in torch.randn(3, 1, 2):
        log_p = decoder.log_prob(images, z.expand(len(images), 2), 1.0)
        assert torch.logsumexp(log_p, 0).item() == pytest.approx(0.0, abs=1e-5)
        # the mean is the expected pixel value
        expected = (log_p.exp()[:, None] * images.view(-1, 2)).sum(0)
        close(decoder.mean(z).view(2), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", DISCRETE)
def test_data_init_starts_the_decoder_at_the_pixels_marginal(kind):
    data = dataset("digits")
    decoder = DecoderLikelihood(2, (1, 8, 8), 16, 1, kind, data.levels)
    x = data.train_images[:500]
    decoder.data_init(x)
    means = decoder.mean(torch.randn(3, 2))
    assert torch.allclose(means[0], means[1])  # z is ignored
    tolerance = 0.02 if kind == "categorical" else 0.12  # the logistic's mean is shifted
    assert (means[0] - x.mean(0)).abs().max() < tolerance


@pytest.mark.parametrize("kind", DISCRETE)
def test_a_discrete_decoder_needs_levels(kind):
    with pytest.raises(HyperparameterError, match="levels"):
        build("vae", "moons", decoder=kind)
    with pytest.raises(HyperparameterError, match="levels"):
        DecoderLikelihood(2, (1, 8, 8), 8, 1, kind, None)


# ------------------------------------------------------------------ the bounds
@pytest.mark.parametrize("name", ["vae", "iwae", "hvae"])
@pytest.mark.parametrize("kind", DISCRETE)
def test_a_discrete_decoder_trains_and_its_bound_is_a_discrete_nll(name, kind):
    model = build(name, decoder=kind)
    x = model.data.sample(64, torch.Generator().manual_seed(2))
    losses = [model.train_step(x)["loss"] for _ in range(15)]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    assert model.discrete_likelihood
    test = model.data.test_examples[:20]
    with torch.no_grad():
        nll = model.discrete_nll(test, torch.Generator().manual_seed(3))
        bound = model.iwae_bound(test, DISCRETE_NLL_K, torch.Generator().manual_seed(3))
    assert nll.shape == (20,)
    close(nll, -bound)
    assert (nll > 0).all()  # -log P of a discrete image is positive


@pytest.mark.slow
def test_the_bound_rises_with_k_from_the_elbo():
    """On one seed, over the test set: ELBO and L_1 below L_10 below L_100 (Burda et al.
    2016, theorem 1), for a model whose posterior is not the prior (trained a little)."""
    model = build(decoder="categorical", hidden=64)
    for step in range(150):
        model.train_step(model.data.sample(128, torch.Generator().manual_seed(step)))
    test = model.data.test_examples
    with torch.no_grad():
        elbo = float(model.elbo_terms(test, torch.Generator().manual_seed(5))["elbo"].mean())
        bounds = [
            float(model.iwae_bound(test, k, torch.Generator().manual_seed(5)).mean())
            for k in (1, 10, 100)
        ]
    assert bounds[0] < bounds[1] < bounds[2] and elbo < bounds[1]
    assert bounds[2] - bounds[0] > 0.1  # nats: the importance weights buy something


def test_a_continuous_density_has_no_discrete_nll_but_bernoulli_on_binary_pixels_has():
    x = dataset("digits").test_examples[:10]
    for kind in ("gaussian", "gaussian-fixed", "bernoulli"):
        model = build(decoder=kind)
        assert not model.discrete_likelihood and model.discrete_nll(x) is None, kind
        assert discrete_metrics(model, model.data, 0, torch.device("cpu")) == {}
    binary = build(data="digits:binarize=true", decoder="bernoulli")
    assert binary.discrete_likelihood
    nll = binary.discrete_nll(binary.data.test_examples[:10], torch.Generator().manual_seed(0))
    assert nll.shape == (10,) and (nll > 0).all()


def test_held_out_evaluation_reports_bits_per_dim():
    model = build(decoder="categorical")
    out = discrete_metrics(model, model.data, 0, torch.device("cpu"))
    # untrained: the decoder ignores z, about the pixels' marginal entropy, below uniform
    assert 0.5 < out["bits_per_dim"] < math.log2(17)


@pytest.mark.slow
@pytest.mark.parametrize("kind", DISCRETE)
def test_a_trained_discrete_vae_beats_the_uniform_coding_of_17_levels(kind):
    from playground.core.training import Session

    session = Session("vae", "digits", {"decoder": kind}, seed=0, device="cpu")
    session.run(500)
    bits = discrete_metrics(session.model, session.data, 0, session.device)["bits_per_dim"]
    assert bits < 0.6 * math.log2(17)  # 4.09 bits/dim is uniform; about 2.2 at 500 steps
