"""FactorVAE and beta-TCVAE: the permutation, the discriminator's total correlation, the
KL decomposition's identity, the options' checks, the explain panel's terms, and a loss
that falls on a seeded run of each."""

from __future__ import annotations

import math

import pytest
import torch

from playground.app.explain.disentanglement import factor_vae_objective, vae_or_tcvae_objective
from playground.core.hyperparameters import HyperparameterError
from playground.core.metrics.disentanglement import disentanglement_metrics
from playground.core.models.latent.distributions import gaussian_kl_per_dim
from playground.core.models.latent.factor_vae import (
    discriminator_loss,
    permute_dims,
    tc_discriminator,
    tc_estimate,
)
from playground.core.models.latent.tcvae import tc_decomposition
from playground.core.training import Session

TCVAE = {"kl_split": "beta-tcvae"}
#: small networks on digits: a step is a few milliseconds
SMALL = {"hidden": 32, "batch_size": 64, "lr": 1e-2}
#: steps of the quick discriminator on 2D normals
STEPS = 120


def correlated(n: int, rho: float, g: torch.Generator) -> torch.Tensor:
    """``(n, 2)`` standard normals with correlation ``rho``: TC = -log(1 - rho^2) / 2."""
    a, b = torch.randn(2, n, generator=g)
    return torch.stack([a, rho * a + math.sqrt(1 - rho**2) * b], dim=1)


def test_permuting_keeps_each_marginal_and_breaks_the_dependence():
    g = torch.Generator().manual_seed(0)
    z = correlated(4000, 0.99, g)
    p = permute_dims(z, g)
    assert p.shape == z.shape
    assert torch.equal(p.sort(0).values, z.sort(0).values)  # the same values per column
    assert torch.corrcoef(z.T)[0, 1] > 0.98
    assert abs(float(torch.corrcoef(p.T)[0, 1])) < 0.05


def _trained_tc(rho: float) -> float:
    """The TC estimate of a small discriminator after ``STEPS`` steps on correlated normals."""
    g = torch.Generator().manual_seed(1)
    torch.manual_seed(1)
    d = tc_discriminator(2, 32, 2)
    opt = torch.optim.Adam(d.parameters(), lr=1e-2)
    for _ in range(STEPS):
        loss = discriminator_loss(
            d, correlated(256, rho, g), permute_dims(correlated(256, rho, g), g)
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(tc_estimate(d, correlated(8192, rho, g)))


def test_the_discriminators_tc_is_near_zero_for_independent_and_positive_for_correlated():
    truth = -0.5 * math.log(1 - 0.9**2)  # 0.83 nats
    assert abs(_trained_tc(0.0)) < 0.1
    assert 0.4 * truth < _trained_tc(0.9) < 1.5 * truth


def test_the_decomposition_sums_to_the_one_sample_kl_and_near_the_closed_form():
    g = torch.Generator().manual_seed(2)
    m, d = 1024, 3
    mu = torch.randn(m, d, generator=g)
    logvar = torch.randn(m, d, generator=g) * 0.3 - 1.0
    z = mu + torch.exp(0.5 * logvar) * torch.randn(m, d, generator=g)
    parts = tc_decomposition(z, mu, logvar)
    total = sum(parts.values())
    log_q = -0.5 * ((z - mu) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)
    log_p = -0.5 * (z**2 + math.log(2 * math.pi)).sum(-1)
    assert float(total) == pytest.approx(float((log_q - log_p).mean()), abs=1e-4)  # exactly
    closed = float(gaussian_kl_per_dim(mu, logvar).sum(-1).mean())
    assert float(total) == pytest.approx(closed, abs=0.15)  # the one-sample noise
    # a finite N moves the parts by constants and leaves the sum alone
    with_n = tc_decomposition(z, mu, logvar, dataset_size=10_000)
    assert float(sum(with_n.values())) == pytest.approx(float(total), abs=1e-4)
    shift = math.log(10_000)
    assert float(with_n["mutual_information"] - parts["mutual_information"]) == pytest.approx(
        shift, abs=1e-4
    )
    # independent posterior means: TC small; one mean copied across dimensions: TC large
    tied = mu[:, :1].expand(m, d)
    z_tied = tied + torch.exp(0.5 * logvar) * torch.randn(m, d, generator=g)
    tc_tied = tc_decomposition(z_tied, tied, logvar)["total_correlation"]
    assert float(parts["total_correlation"]) < 0.5 < float(tc_tied)


def test_the_tcvae_option_refuses_a_prior_or_flow_it_cannot_split():
    for bad in ({"prior": "mixture"}, {"posterior_flow": "planar"}, {"capacity": 5.0}):
        with pytest.raises(HyperparameterError, match="beta-tcvae"):
            Session("vae", "moons", {**TCVAE, **bad}, device="cpu")
    with pytest.raises(HyperparameterError, match="latent_dim >= 2"):
        Session("factor-vae", "moons", {"latent_dim": 1}, device="cpu")


def _falling(model: str, values: dict) -> tuple[list[float], dict[str, float]]:
    """30 steps on one fixed batch of digits; the losses and the last terms."""
    session = Session(model, "digits", {**SMALL, **values}, seed=0, device="cpu")
    x = session.data.test_examples[: 64 * session.model.batches_per_step]
    losses, terms = [], {}
    for _ in range(30):
        terms = session.model.train_step(x)
        losses.append(terms["loss"])
    return losses, terms


def test_factor_vae_loss_falls_and_returns_its_terms():
    losses, terms = _falling("factor-vae", {"discriminator_hidden": 32})
    assert {"loss", "reconstruction", "kl", "tc_estimate", "discriminator_loss"} <= set(terms)
    assert sum(losses[-5:]) < sum(losses[:5])
    shown = {line.term for line in factor_vae_objective(None).lines if line.term}
    assert shown <= set(terms)


def test_tcvae_loss_falls_and_its_formula_shows_the_decomposition():
    losses, terms = _falling("vae", TCVAE)
    assert {"mutual_information", "total_correlation", "dimension_kl"} <= set(terms)
    assert sum(losses[-5:]) < sum(losses[:5])
    session = Session("vae", "digits", {**SMALL, **TCVAE}, device="cpu")
    shown = {line.term for line in vae_or_tcvae_objective(session.model.config).lines}
    assert {"mutual_information", "total_correlation", "dimension_kl"} <= shown
    assert "total_correlation" not in {
        line.term for line in vae_or_tcvae_objective(Session("vae", "digits").config).lines
    }


@pytest.mark.slow
def test_factor_vae_and_tcvae_learn_factorised_codes_on_shapes():
    """600 steps (benchmarks/disentanglement.md): the codes carry the factors and the
    total-correlation terms stay small."""
    torch.set_num_threads(1)
    for model, values in (("factor-vae", {}), ("vae", TCVAE)):
        session = Session(model, "shapes", {**values, "lr_decay_steps": 600}, seed=0, device="cpu")
        session.run(600)
        m = disentanglement_metrics(session.model.eval(), session.data, 0, "cpu")
        assert m["factor_vae_score"] > 0.4, (model, m)
        assert m["mig"] > 0.02, (model, m)


def test_the_tcvae_formulas_render():
    pytest.importorskip("matplotlib")
    from playground.app.explain.formulas import formula_png

    config = Session("vae", "moons", TCVAE, device="cpu").config
    for line in vae_or_tcvae_objective(config).lines:
        assert formula_png(line.tex, 13.0, 96.0).startswith(b"\x89PNG\r\n\x1a\n"), line.tex
