"""Continuous normalizing flows (``cnf``, ``ffjord``): the trace, the density, the ODE's
round trip, the adjoint's gradients, the learned time, the regularisers, NFE, presets."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.autograd.functional import jacobian

from playground.cli import main
from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.models import MODELS
from playground.core.models.continuous import (
    TimeMLP,
    exact_divergence,
    hutchinson_divergence,
    solve,
)
from playground.core.models.continuous.ode import draw_probe
from playground.core.presets import load_preset, save_preset
from playground.core.training import Session

#: small and quick: every quick test builds one of these
SMALL = {"hidden": 16, "depth": 2}


def build(name: str, seed: int = 0, **values):
    """A ``name`` model on moons with ``values``, its rng seeded, optimisers made."""
    cls = MODELS[name]
    config = hpm.from_dict(cls.Config, {**SMALL, **values})
    torch.manual_seed(seed)
    model = cls(config, make_dataset("moons"))
    model.rng = torch.Generator().manual_seed(seed + 1)
    model.configure_optimizers()
    return model


def moons(n: int, seed: int = 2) -> torch.Tensor:
    return make_dataset("moons").sample(n, torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------ the trace
def test_the_exact_trace_is_the_trace_of_autograds_jacobian():
    torch.manual_seed(0)
    field = TimeMLP(2, 16, 2).double()
    x = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(0.3, dtype=torch.float64)
    div = exact_divergence(field(t, x), x, create_graph=False)
    for i in range(len(x)):
        jac = jacobian(lambda p: field(t, p[None])[0], x[i].detach())
        assert div[i].item() == pytest.approx(torch.trace(jac).item(), abs=1e-12)


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_hutchinsons_estimate_is_unbiased(probe):
    """The mean of ``e^T J e`` over 2,000 probes is within 3 standard errors of ``tr J``."""
    torch.manual_seed(0)
    field = TimeMLP(2, 16, 2).double()
    n, k = 4, 2000
    x0 = torch.randn(n, 2, dtype=torch.float64)
    x = x0.repeat(k, 1).requires_grad_(True)
    fx = field(0.5, x)
    e = draw_probe(probe, x.shape, torch.Generator().manual_seed(3)).double()
    estimates = hutchinson_divergence(fx, x, e, create_graph=False).reshape(k, n)
    xe = x0.clone().requires_grad_(True)
    exact = exact_divergence(field(0.5, xe), xe, create_graph=False)
    mean, se = estimates.mean(0), estimates.std(0) / math.sqrt(k)
    assert bool((se > 0).all())
    assert bool(((mean - exact).abs() <= 3 * se).all()), (mean, exact, se)


# ---------------------------------------------------------------------- the density
@pytest.mark.parametrize(
    ("name", "values"),
    [("cnf", {}), ("ffjord", {"integration_time": 0.5, "learn_integration_time": False})],
)
def test_log_prob_integrates_to_one_on_a_grid(name, values):
    model = build(name, **values)
    with torch.no_grad():  # an untrained field is nearly still: make it move the mass
        model.field.net[-1].weight.mul_(8.0)
    side = torch.linspace(-6.0, 6.0, 97)
    xx, yy = torch.meshgrid(side, side, indexing="xy")
    grid = torch.stack([xx.flatten(), yy.flatten()], dim=1)
    cell = float(side[1] - side[0]) ** 2
    with torch.no_grad():
        log_p = model.log_prob(grid)
    assert log_p.shape == (len(grid),)
    assert float(log_p.exp().sum() * cell) == pytest.approx(1.0, abs=2e-2)
    # not the base: the field moved the mass
    assert float((log_p - model.base_log_prob(grid)).abs().max()) > 0.5


def test_sample_then_log_prob_is_the_ode_run_backwards():
    model = build("cnf", solver="dopri5", rtol=1e-7, atol=1e-7)
    with torch.no_grad():
        model.field.net[-1].weight.mul_(8.0)
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(5))
    x = model.ode_path(z, 0.0, 1.0, 1)[-1]
    assert float((x - z).abs().max()) > 0.1
    torch.testing.assert_close(model.ode_path(x, 1.0, 0.0, 1)[-1], z, atol=1e-3, rtol=0)
    # forwards: log p_1(x) = log p_0(z) - int_0^1 tr(df/dx) dt along the path from z
    c0 = torch.zeros(len(z))
    times = torch.tensor([0.0, 1.0])
    with torch.no_grad():
        _, c = solve(model.dynamics, (z, c0), times, "dopri5", rtol=1e-7, atol=1e-7)
    torch.testing.assert_close(model.log_prob(x), model.base_log_prob(z) - c[-1], atol=1e-3, rtol=0)
    # sample draws its base points from the generator and moves them the same way
    rng = torch.Generator().manual_seed(5)
    torch.testing.assert_close(model.sample(64, rng), x, atol=1e-5, rtol=0)


def test_log_prob_is_differentiable_in_x_for_langevin_chains():
    model = build("cnf").double()
    with torch.no_grad():
        model.field.net[-1].weight.mul_(8.0)
    x = moons(8).double().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.log_prob(x).sum(), x)
    h = 1e-5
    with torch.no_grad():
        for i in range(2):
            step = torch.zeros_like(x)
            step[:, i] = h
            fd = (model.log_prob(x + step) - model.log_prob(x - step)) / (2 * h)
            torch.testing.assert_close(grad[:, i], fd, atol=1e-6, rtol=1e-5)


def test_the_training_nll_is_the_density_the_pictures_show():
    """The training solve (normalised time) and ``log_prob`` (the base class's, in ``t``)
    give the same density with the same fixed-step solver."""
    model = build("cnf")
    x = moons(128)
    with torch.no_grad():
        _, terms = model.objective(x)
        log_p = model.log_prob(x)
    assert float(terms["nll"]) == pytest.approx(float(-log_p.mean()), abs=1e-5)


# ----------------------------------------------------------------------- the adjoint
def _gradients(model, x, adjoint: bool) -> tuple[float, list[torch.Tensor]]:
    model.config = hpm.replace(model.config, {"adjoint": adjoint})
    model.rng.manual_seed(9)  # the same Hutchinson probe
    model.zero_grad(set_to_none=True)
    loss, _ = model.objective(x)
    loss.backward()
    return float(loss.detach()), [p.grad.clone() for p in model.parameters()]


def test_the_adjoints_gradients_equal_backpropagation_through_the_solver():
    """FFJORD with a learned T and both regularisers: the same loss, and the gradient of
    every parameter (T's too) allclose, from the adjoint's backward solve."""
    model = build(
        "ffjord",
        solver="dopri5",
        rtol=1e-9,
        atol=1e-9,
        kinetic_energy=0.1,
        jacobian_frobenius=0.1,
        integration_time=0.7,
    ).double()
    x = moons(32).double()
    loss_bp, grads_bp = _gradients(model, x, adjoint=False)
    loss_adj, grads_adj = _gradients(model, x, adjoint=True)
    backward = model.training_dynamics.nfe - model.last_nfe
    assert backward > 0  # the adjoint solved backwards
    assert loss_adj == pytest.approx(loss_bp, rel=1e-9)
    assert len(grads_bp) == len(list(model.parameters())) == 1 + 2 * (SMALL["depth"] + 1)
    for a, b in zip(grads_adj, grads_bp, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)
    assert float(grads_bp[-1].abs()) > 0  # raw T (the last parameter) has a gradient


# ----------------------------------------------------------- ffjord's hyperparameters
def test_a_learned_integration_time_moves_and_a_fixed_one_does_not():
    learned = build("ffjord", lr=1e-2, integration_time=0.5)
    fixed = build("ffjord", lr=1e-2, integration_time=0.5, learn_integration_time=False)
    assert float(learned.end_time().detach()) == pytest.approx(0.5)
    x = moons(64)
    for _ in range(3):
        terms = learned.train_step(x)
        assert "integration_time" not in fixed.train_step(x)
    assert terms["integration_time"] == pytest.approx(float(learned.end_time().detach()))
    assert abs(terms["integration_time"] - 0.5) > 1e-3
    assert float(fixed.end_time()) == pytest.approx(0.5, abs=1e-7)
    assert "integration_time.raw" in dict(learned.named_parameters())
    assert "integration_time.raw" in dict(fixed.named_buffers())


def _objective(model, x, **weights) -> dict[str, float]:
    """The objective's loss and terms as floats, with ``weights`` set and the same probe."""
    model.config = hpm.replace(model.config, weights)
    model.rng.manual_seed(4)
    with torch.no_grad():  # the dynamics still differentiate the field inside
        loss, terms = model.objective(x)
    return {"loss": float(loss), **{k: float(v) for k, v in terms.items()}}


def test_the_regularisers_are_finite_positive_and_weighted_into_the_loss():
    x = moons(64)
    model = build("ffjord")
    both = _objective(model, x, kinetic_energy=0.5, jacobian_frobenius=0.25)
    kinetic, frobenius = both["kinetic_energy"], both["jacobian_frobenius"]
    assert 0 < kinetic < math.inf and 0 < frobenius < math.inf
    plain = _objective(model, x, kinetic_energy=0.0, jacobian_frobenius=0.0)
    assert set(plain) == {"loss", "nll"} and plain["loss"] == plain["nll"]
    assert plain["nll"] == pytest.approx(both["nll"], abs=1e-6)  # the same path and probe
    assert both["loss"] - plain["loss"] == pytest.approx(0.5 * kinetic + 0.25 * frobenius)
    heavier = _objective(model, x, kinetic_energy=2.0)
    assert heavier["loss"] - plain["loss"] == pytest.approx(2.0 * kinetic, rel=1e-5)
    values = build("ffjord", kinetic_energy=0.5).train_step(x)
    assert list(values)[:2] == ["loss", "nll"] and values["loss"] > values["nll"]


def test_a_wrong_probe_or_a_missing_batch_is_refused():
    with pytest.raises(hpm.HyperparameterError):
        build("ffjord", probe="uniform")
    with pytest.raises(ValueError, match="data batches"):
        build("cnf").train_step(None)


# --------------------------------------------------------------------------- the NFE
def test_the_nfe_of_a_step_is_reported():
    x = moons(64)
    terms = build("cnf", solver="rk4", solver_steps=5).train_step(x)
    assert terms["nfe"] == 20.0  # four evaluations per rk4 step
    assert "nfe_backward" not in terms and "integration_time" not in terms
    terms = build("ffjord", solver="dopri5", rtol=1e-4, atol=1e-4, adjoint=True).train_step(x)
    assert terms["nfe"] >= 8 and terms["nfe_backward"] >= 8


def test_train_prints_nfe(capsys):
    argv = ["train", "cnf", "moons", "--steps", "2", "--eval-samples", "500"]
    assert main([*argv, "--set", "hidden=16", "--set", "depth=2"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["nfe"] == 32.0 and math.isfinite(result["nll_gap"])


def test_a_cnf_preset_round_trips(tmp_path):
    session = Session("cnf", "moons", SMALL, seed=3, device="cpu")
    session.run(2)
    loaded = load_preset(save_preset(session, tmp_path / "cnf"), device="cpu")
    assert loaded.model_name == "cnf" and loaded.step_count == 2
    x = moons(32)
    torch.testing.assert_close(loaded.model.log_prob(x), session.model.log_prob(x))
    session.run(1)
    loaded.run(1)
    assert loaded.last_terms["nfe"] == session.last_terms["nfe"]


# ---------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_a_seeded_cnf_learns_moons():
    session = Session("cnf", "moons", seed=0, device="cpu")
    before = session.evaluate(n=2000, record=False)["nll_gap"]
    session.run(400)
    after = session.evaluate(n=2000, record=False)["nll_gap"]
    assert after < 0.3 < before, (before, after)
