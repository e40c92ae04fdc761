"""MIG and the FactorVAE score: near 1 for an encoder that is the factors, low for a mixed
one or noise; and the held-out pair for a latent model on shapes."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import pytest
import torch

import playground.core.metrics.disentanglement as dis
from playground.core.data.images import Shapes, draw_factors
from playground.core.metrics.disentanglement import (
    discrete_mutual_information,
    discretize,
    factor_vae_score,
    mig,
    mig_per_factor,
)
from playground.core.training import Session


@pytest.fixture
def factors() -> torch.Tensor:
    return draw_factors(1000, torch.Generator().manual_seed(0))


def _rotation(seed: int = 0) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(seed)))
    return q


def test_discrete_mutual_information_of_a_code_with_itself_is_its_entropy():
    a = torch.arange(1000) % 4
    assert discrete_mutual_information(a, a) == pytest.approx(math.log(4), abs=1e-9)
    b = torch.randint(4, (100_000,), generator=torch.Generator().manual_seed(1))
    c = torch.randint(4, (100_000,), generator=torch.Generator().manual_seed(2))
    assert 0.0 <= discrete_mutual_information(b, c) < 1e-3
    bins = discretize(torch.tensor([[0.0, 1.0], [0.5, 1.0], [1.0, 1.0]]), 20)
    assert bins.tolist() == [[0, 0], [10, 0], [19, 0]]  # a constant column is all 0


def test_mig_of_the_factors_themselves_is_near_one_and_of_a_rotation_low(factors):
    per_factor = mig_per_factor(factors, factors)
    assert per_factor.shape == (5,)
    assert float(per_factor.min()) > 0.9
    standard = (factors - factors.mean(0)) / factors.std(0)
    mixed = mig(standard @ _rotation(), factors)
    noise = mig(torch.randn(1000, 10, generator=torch.Generator().manual_seed(3)), factors)
    assert mixed < 0.35 and noise < 0.05
    # a permutation and a monotone rescaling of the latents change nothing
    shuffled = torch.cat([factors[:, [3, 0, 4, 1, 2]] * 7.0, torch.zeros(1000, 1)], dim=1)
    assert mig(shuffled, factors) == pytest.approx(mig(factors, factors), abs=1e-9)
    with pytest.raises(ValueError, match="MIG needs"):
        mig(factors[:, :1], factors)


def test_the_factorvae_score_is_one_for_the_factors_and_chance_for_noise():
    g = torch.Generator().manual_seed(4)
    assert factor_vae_score(lambda f: f, draw_factors, 5, g, 20, 50, 50) == 1.0
    noise = factor_vae_score(
        lambda f: torch.randn(len(f), 10, generator=g), draw_factors, 5, g, 20, 200, 200
    )
    assert abs(noise - 0.2) < 0.1
    # every latent collapsed: nothing votes
    assert factor_vae_score(lambda f: torch.zeros(len(f), 4), draw_factors, 5, g, 5, 5, 5) == 0.0


def test_heldout_disentanglement_of_a_latent_model_on_shapes_and_none_elsewhere(monkeypatch):
    monkeypatch.setattr(dis, "HELDOUT_BATCH", 5)
    monkeypatch.setattr(dis, "HELDOUT_VOTES", 5)
    monkeypatch.setattr(Shapes, "n_test", 100)  # rendering the 1,000 test images takes 2 s
    session = Session("vae", "shapes", {"hidden": 16}, device="cpu")
    m = dis.disentanglement_metrics(session.model.eval(), session.data, 0, "cpu")
    assert set(m) == {"mig", "factor_vae_score"}
    assert all(0.0 <= v <= 1.0 for v in m.values())
    no_factors = SimpleNamespace(test_factors=None)
    assert dis.disentanglement_metrics(session.model, no_factors, 0, "cpu") == {}


@pytest.mark.slow
def test_a_trained_vae_reports_mig_and_factor_vae_score_in_its_heldout_metrics():
    """Held-out evaluation (what ``train`` prints) has both keys; they cost under ~3 s."""
    torch.set_num_threads(1)
    session = Session("vae", "shapes", {"beta": 4.0, "lr_decay_steps": 600}, device="cpu")
    session.run(600)
    t0 = time.process_time()
    own = dis.disentanglement_metrics(session.model.eval(), session.data, 0, "cpu")
    assert time.process_time() - t0 < 3.0
    m = session.evaluate()
    assert m["mig"] == pytest.approx(own["mig"]) and 0.02 < m["mig"] <= 1.0
    assert 0.4 < m["factor_vae_score"] <= 1.0
