"""Samplers chosen per session (`--set sampler=...`): MALA for the EBM, plain Langevin for
NCSN, and clear refusals where a model cannot run a sampler."""

from __future__ import annotations

import json

import pytest
import torch

from playground.cli import main
from playground.core import hyperparameters as hpm
from playground.core.sampling.langevin import langevin
from playground.core.training.session import Session

EBM_SMALL = {"hidden": 32, "depth": 2, "batch_size": 64, "langevin_steps": 5}
NCSN_SMALL = {"hidden": 32, "depth": 1, "levels": 3, "steps_per_level": 10, "batch_size": 64}


# ------------------------------------------------------------------ EBM
def test_ebm_mala_samples_in_the_box_and_reports_its_acceptance_rate():
    session = Session("ebm", "8gaussians", {**EBM_SMALL, "sampler": "mala"})
    session.run(3)
    model = session.model
    assert model.last_acceptance_rate is None
    x = model.sample(200, torch.Generator().manual_seed(0))
    assert x.shape == (200, 2) and torch.isfinite(x).all()
    xmin, xmax, ymin, ymax = session.data.box
    assert (x[:, 0] >= xmin).all() and (x[:, 0] <= xmax).all()
    assert (x[:, 1] >= ymin).all() and (x[:, 1] <= ymax).all()
    assert 0.0 < model.last_acceptance_rate <= 1.0
    # a live switch back: unadjusted, no acceptance rate
    assert session.set_hyperparameters({"sampler": "langevin"}) == []
    model.sample(10, torch.Generator().manual_seed(0))
    assert model.last_acceptance_rate is None


def test_ebm_mala_is_exact_where_unadjusted_langevin_is_biased():
    # E(x) = |x|^2 / 2: the target is N(0, I) (truncated to the box at 4 sigma). At step
    # eta the unadjusted chain's variance is 1 / (1 - eta / 4) = 1.25 at eta = 0.8.
    variances = {}
    for sampler in ("langevin", "mala"):
        session = Session("ebm", "8gaussians", {**EBM_SMALL, "sampler": sampler})
        model = session.model
        model.energy = lambda x: 0.5 * x.square().sum(-1)
        model.apply_live(hpm.replace(model.config, {"step_size": 0.8}))
        x = model.sample(4000, torch.Generator().manual_seed(1))
        variances[sampler] = float(x.var(0).mean())
    # standard error of each variance: about sqrt(2 / 8000) = 0.016
    assert abs(variances["mala"] - 1.0) < 0.07, variances
    assert variances["langevin"] > 1.15, variances


def test_ebm_training_negatives_stay_unadjusted_whatever_the_sampler():
    runs = {}
    for sampler in ("langevin", "mala"):
        session = Session("ebm", "8gaussians", {**EBM_SMALL, "sampler": sampler})
        session.run(3)
        runs[sampler] = session.model.state_dict()
    for key, value in runs["langevin"].items():
        assert torch.equal(value, runs["mala"][key]), key


def test_ebm_refuses_annealed():
    with pytest.raises(hpm.HyperparameterError, match="sampler"):
        Session("ebm", "8gaussians", {**EBM_SMALL, "sampler": "annealed"})


# ------------------------------------------------------------------ NCSN
def test_ncsn_plain_langevin_runs_the_same_total_steps_at_sigma_min():
    session = Session("ncsn", "gmm82", {**NCSN_SMALL, "sampler": "langevin"})
    session.run(2)
    model, c = session.model, session.config
    x = model.sample(50, torch.Generator().manual_seed(0))
    assert x.shape == (50, 2) and torch.isfinite(x).all()
    g = torch.Generator().manual_seed(0)
    x0 = model.uniform_start(50, g)
    sigma_min = float(model.sigmas[-1])
    expected = langevin(lambda y: model.score(y, sigma_min), x0, c.epsilon, 3 * 10, g).x
    assert torch.equal(x, expected)
    assert session.set_hyperparameters({"sampler": "annealed"}) == []
    assert not torch.equal(model.sample(50, torch.Generator().manual_seed(0)), x)


def test_ncsn_refuses_mala_through_the_session_and_changes_nothing():
    with pytest.raises(hpm.HyperparameterError, match="'mala' needs log p"):
        Session("ncsn", "gmm82", {**NCSN_SMALL, "sampler": "mala"})
    session = Session("ncsn", "gmm82", NCSN_SMALL)
    with pytest.raises(ValueError, match="score model learns only grad log p"):
        session.set_hyperparameters({"sampler": "mala"})
    assert session.config.sampler == "annealed" and session.model.config.sampler == "annealed"


def test_score_model_refuses_mala_and_annealed_with_the_reason():
    with pytest.raises(hpm.HyperparameterError, match="'mala' needs log p"):
        Session("score", "8gaussians", {"sampler": "mala"})
    with pytest.raises(hpm.HyperparameterError, match="one level only.*ncsn"):
        Session("score", "8gaussians", {"sampler": "annealed"})


# ------------------------------------------------------------------ CLI
def test_cli_trains_an_ebm_sampled_by_mala(capsys):
    argv = ["train", "ebm", "8gaussians", "--steps", "2", "--set", "sampler=mala"]
    small = [f"--set={k}={v}" for k, v in EBM_SMALL.items()]
    assert main([*argv, *small, "--eval-samples", "200"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["steps"] == 2 and out["hyperparameters"]["sampler"] == "mala"


def test_cli_refuses_mala_for_ncsn_with_exit_code_2(capsys):
    assert main(["train", "ncsn", "gmm82", "--steps", "2", "--set", "sampler=mala"]) == 2
    err = capsys.readouterr().err
    assert "'mala' needs log p" in err
