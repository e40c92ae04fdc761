"""The Session: seeded runs repeat, snapshots have the views' shapes, changes apply safely."""

import math

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.device import DeviceError
from playground.core.models.base import NonFiniteLossError
from playground.core.training import Session

SMALL = {"batch_size": 64}


def architecture_field(session):
    return next(i for i in hpm.fields_info(session.config) if not i.live and i.type is int)


def test_reset_repeats_a_run_exactly():
    s = Session("realnvp", "moons", SMALL, seed=3)
    first = [s.step()["loss"] for _ in range(5)]
    s.reset()
    assert s.step_count == 0 and len(s.history) == 0
    again = [s.step()["loss"] for _ in range(5)]
    assert first == again
    other = Session("realnvp", "moons", SMALL, seed=4)
    assert [other.step()["loss"] for _ in range(5)] != first


def test_history_records_every_step():
    s = Session("realnvp", "moons", SMALL)
    s.run(7)
    steps, values = s.history.as_arrays()["loss"]
    assert steps.tolist() == list(range(1, 8)) and np.isfinite(values).all()


def test_snapshot_shapes():
    s = Session("realnvp", "moons", SMALL)
    s.run(3)
    snap = s.snapshot(s.available_views, resolution=32)
    assert s.available_views == ["density", "samples", "trajectory", "log_det", "chains", "curves"]
    assert snap.step == 3 and snap.box == s.data.box
    assert snap.density.log_prob.shape == (32, 32) and snap.density.log_prob.dtype == np.float32
    assert np.isfinite(snap.density.log_prob).all()
    assert snap.density.target_log_prob.shape == (32, 32)
    assert snap.samples.model.shape == (1000, 2) and snap.samples.data.shape == (1000, 2)
    layers = len(snap.trajectory.layer_names)
    assert snap.trajectory.grid.shape[0] == layers + 1 and snap.trajectory.grid.shape[-1] == 2
    assert snap.trajectory.forward.shape == (layers + 1, 300, 2)
    assert snap.trajectory.inverse.shape == (layers + 1, 300, 2)
    assert set(snap.curves) >= {"loss"}


def test_samples_use_fixed_noise_between_snapshots():
    s = Session("realnvp", "moons", SMALL)
    a = s.snapshot(["samples"]).samples.model
    b = s.snapshot(["samples"]).samples.model
    np.testing.assert_array_equal(a, b)
    s.run(5)
    assert not np.array_equal(a, s.snapshot(["samples"]).samples.model)


def test_live_change_applies_and_architecture_change_needs_reset():
    s = Session("realnvp", "moons", SMALL)
    s.run(2)
    assert s.set_hyperparameters({"lr": 0.01}) == []
    assert s.model.optimizers["model"].param_groups[0]["lr"] == 0.01 and s.step_count == 2
    arch = architecture_field(s)
    new_value = arch.default + 1 if arch.high is None or arch.default < arch.high else arch.low
    assert s.set_hyperparameters({arch.name: new_value}) == [arch.name]
    assert getattr(s.config, arch.name) == arch.default and s.step_count == 2
    s.set_hyperparameters({arch.name: new_value}, allow_reset=True)
    assert getattr(s.config, arch.name) == new_value and s.step_count == 0
    with pytest.raises(hpm.HyperparameterError):
        s.set_hyperparameters({"lr": -1.0})
    assert s.config.lr == 0.01


def test_non_finite_loss_names_step_and_term_and_changes_nothing(monkeypatch):
    s = Session("realnvp", "moons", SMALL)
    s.run(2)
    before = {k: v.clone() for k, v in s.model.state_dict().items()}
    monkeypatch.setattr(s.data, "sample", lambda n, g: torch.full((n, 2), math.nan))
    with pytest.raises(NonFiniteLossError) as info:
        s.step()
    assert info.value.step == 3 and info.value.term in ("loss", "nll")
    assert "step 3" in str(info.value)
    assert s.step_count == 2
    for k, v in s.model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_objective_follows_the_dataset():
    assert Session("planar", "U1").objective == "reverse_kl"
    assert Session("realnvp", "line").objective == "forward_kl"
    assert Session("realnvp", "U1", {"objective": "reverse_kl"}).objective == "reverse_kl"
    with pytest.raises(ValueError, match="reverse_kl"):
        Session("realnvp", "U1", {"objective": "forward_kl"})


def test_evaluate_reports_the_metrics_of_the_issue():
    s = Session("realnvp", "moons", SMALL)
    m = s.evaluate(n=500)
    assert set(m) == {"nll", "entropy", "nll_gap", "grid_kl", "grid_js", "mmd_p_value"}
    assert math.isclose(m["nll_gap"], m["nll"] - m["entropy"])
    assert s.history.last("nll_gap") == m["nll_gap"]
    assert s.history.last("heldout_nll") == m["nll"] and s.history.last("nll") is None
    r = Session("planar", "U1").evaluate(n=500)
    assert set(r) == {"reverse_kl"} and r["reverse_kl"] > 0


def test_devices():
    s = Session("realnvp", "moons", SMALL, device="cpu")
    s.set_device("cpu")
    assert s.device.type == "cpu"
    with pytest.raises(DeviceError, match="available"):
        Session("realnvp", "moons", device="tpu")


def test_mode_metrics_for_datasets_with_known_modes():
    s = Session("realnvp", "8gaussians", SMALL)
    m = s.evaluate(n=500)
    assert 0 <= m["modes_captured"] <= 8 and 0 <= m["high_quality"] <= 1 and m["mode_kl"] >= 0
    assert "modes" in s.available_views
    coverage = s.snapshot(["modes"]).modes
    assert coverage.counts.shape == (8,) and coverage.means.shape == (8, 2)
    assert "modes" not in Session("realnvp", "moons", SMALL).available_views


def test_models_without_two_networks_have_no_partial_steps():
    s = Session("realnvp", "moons", SMALL)
    assert s.parts == ()
    with pytest.raises(ValueError, match="no 'critic' step"):
        s.step("critic")
    assert s.step_count == 0


def test_energy_models_draw_minus_energy_in_the_density_view():
    s = Session("ebm", "8gaussians", {"hidden": 16, "batch_size": 32, "langevin_steps": 5})
    assert s.available_views[:3] == ["density", "energy", "samples"]
    s.run(2)
    d = s.snapshot(["density"], resolution=8).density
    assert not d.normalized
    pts = torch.stack(torch.meshgrid(torch.as_tensor(d.ys), torch.as_tensor(d.xs), indexing="ij"))
    grid = pts.flip(0).reshape(2, -1).T
    with torch.no_grad():
        expected = -s.model.energy(grid).reshape(8, 8).numpy()
    np.testing.assert_allclose(d.log_prob, expected, atol=1e-5)
    assert Session("realnvp", "moons", SMALL).snapshot(["density"], 8).density.normalized


def test_thinned_history_keeps_its_last_step_and_mean():
    from playground.core.training.history import History

    h = History()
    for i in range(1, 5001):
        h.record(i, {"loss": float(i)})
    steps, values = h.as_arrays(max_points=2000)["loss"]
    assert len(steps) <= 2000 and steps[-1] == 5000
    assert values[-1] == pytest.approx((4999 + 5000) / 2)  # the last, partial bin
    assert values.mean() == pytest.approx(2500.5, rel=1e-3)
