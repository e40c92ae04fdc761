"""The continuous-time pictures: the ODE flow at any time s, flow matching's learned and
conditional paths with Euler samples, and the solver's cost per step (core), and their
three widgets (offscreen): the sliders move what is drawn, the NFE curve grows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core.data.base import box_grid
from playground.core.models import MODELS
from playground.core.models.continuous import ContinuousFlow
from playground.core.sampling.budget import Budget, working
from playground.core.snapshots import PICTURES, Snapshot
from playground.core.snapshots.ode_flow import (
    ARROW_RESOLUTION,
    FIELD_TIMES,
    GRID_LINES,
    GRID_POINTS,
    PARTICLES,
    PATH_STEPS,
    QUICK_DENSITY_RESOLUTION,
    QUICK_DENSITY_TIMES,
    QUICK_GRID_LINES,
    QUICK_PARTICLES,
    ode_flow,
)
from playground.core.snapshots.paths import EULER_STEPS, euler_samples, straightness
from playground.core.snapshots.paths import PATH_STEPS as PATHS_STEPS
from playground.core.snapshots.solver_cost import solver_cost
from playground.core.training import Session

SMALL = {"hidden": 16, "depth": 1, "batch_size": 64, "lr": 1e-2}


class Tiny(ContinuousFlow):
    """A continuous flow trained by regression on straight paths (cheap), recording a
    growing ``nfe`` and a wall time per step like a CNF's history."""

    name = "tiny-ode"

    def train_step(self, batch):
        self.apply_lr_schedule()
        x0 = torch.randn(batch.shape[0], 2, generator=self.rng)
        s = torch.rand(batch.shape[0], generator=self.rng)
        xs = (1 - s[:, None]) * x0 + s[:, None] * batch
        loss = (self.field(s, xs) - (batch - x0)).square().sum(1).mean()
        values = self.optimize(loss, {})
        self.steps_taken += 1
        values["nfe"] = 20.0 + 2.0 * float(self.steps_taken)
        values["step_seconds"] = 0.01 * float(self.steps_taken)
        return values


class TinyPaths(Tiny):
    """A test double of flow matching: conditional paths are straight lines from base
    draws to data draws."""

    name = "tiny-paths"
    capabilities = Tiny.capabilities | {"paths"}

    def conditional_paths(self, n, rng, steps):
        x0 = self.base_sample(n, rng)
        x1 = self.data.sample(n, rng).to(x0)
        s = torch.linspace(0.0, 1.0, steps + 1)[:, None, None]
        return (1 - s) * x0 + s * x1


@pytest.fixture(scope="module")
def sessions():
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(MODELS, Tiny.name, Tiny)
        mp.setitem(MODELS, TinyPaths.name, TinyPaths)
        tiny = Session(Tiny.name, "moons", SMALL, seed=1)
        tiny.run(30)
        paths = Session(TinyPaths.name, "moons", SMALL, seed=2)
        paths.run(30)
        yield tiny, paths


@pytest.fixture(scope="module")
def flow(sessions):
    return sessions[0].snapshot(["ode_flow"]).ode_flow


# ------------------------------------------------------------------------ the pictures
def test_each_picture_is_offered_only_for_models_with_its_capability(sessions):
    tiny, paths = sessions
    assert PICTURES["ode_flow"].needs == ("ode",) and PICTURES["paths"].needs == ("paths",)
    assert {"ode_flow", "solver_cost"} <= set(tiny.available_views)
    assert "paths" not in tiny.available_views
    # flow matching trains without a solver: its paths, not a solver cost
    assert {"ode_flow", "paths"} <= set(paths.available_views)
    assert "solver_cost" not in paths.available_views
    realnvp = Session("realnvp", "moons", {"hidden": 8, "n_layers": 2})
    assert not {"ode_flow", "paths", "solver_cost"} & set(realnvp.available_views)


def test_the_ode_flow_stores_paths_field_and_density_at_their_times(sessions, flow):
    k = PATH_STEPS + 1
    assert flow.times.shape == (k,) and flow.times[0] == 0 and flow.times[-1] == 1
    assert flow.particles.shape == (k, PARTICLES, 2)
    assert flow.grid.shape == (k, 2 * GRID_LINES, GRID_POINTS, 2)
    assert flow.field.shape == (FIELD_TIMES, ARROW_RESOLUTION**2, 2)
    assert flow.density.shape == (FIELD_TIMES, 32, 32) and flow.density.dtype == np.float32
    np.testing.assert_array_equal(flow.density_times, flow.field_times)
    assert flow.nfe > 0 and np.isfinite(flow.density).all()
    model = sessions[0].model
    # the grid starts regular and the last particles are the model's samples from them
    assert np.allclose(flow.grid[0, 0, :, 1], flow.grid[0, 0, 0, 1])
    z = torch.as_tensor(flow.particles[0])
    end = model.ode_path(z, 0.0, 1.0, 1)[-1].numpy()
    np.testing.assert_allclose(flow.particles[-1], end, atol=1e-4)
    # arrows: dx/ds at the arrow grid; the density at s = 0 is the base's N(0, I)
    arrows = box_grid(flow.box, ARROW_RESOLUTION)[0]
    np.testing.assert_allclose(flow.field[4], model.velocity(arrows, 0.5).detach(), atol=1e-5)
    pts = box_grid(flow.box, 32)[0]
    np.testing.assert_allclose(flow.density[0].ravel(), model.base_log_prob(pts), rtol=1e-5)
    np.testing.assert_allclose(
        flow.density[-1].ravel()[::97], model.log_prob(pts[::97]), rtol=1e-4, atol=1e-4
    )
    # the plane holds the data box and the base's span (N(0, I): +-3)
    box = sessions[0].data.box
    assert flow.box[0] <= min(box[0], -3.0) and flow.box[3] >= max(box[3], 3.0)


def test_a_quick_budget_draws_fewer_particles_and_density_frames(sessions):
    tiny = sessions[0]
    tiny.snapshot_context().target_cache.clear()  # no frames to reuse
    with working(Budget(quick=True)):
        quick = tiny.snapshot(["ode_flow", "paths"])
    f = quick.ode_flow
    assert f.particles.shape[1] == QUICK_PARTICLES < PARTICLES
    assert f.grid.shape[1] == 2 * QUICK_GRID_LINES < 2 * GRID_LINES
    assert f.density.shape == (QUICK_DENSITY_TIMES, QUICK_DENSITY_RESOLUTION, 20)
    assert f.density_times[0] == 0 and f.density_times[-1] == 1
    assert quick.previews["ode_flow"] == (
        "150 of 400 particles; 3 of 9 density times on a 20 x 20 grid"
    )
    with working(Budget(quick=True)):
        p = sessions[1].snapshot(["paths"]).paths
    assert p.learned.shape[1] == p.euler.shape[1] == QUICK_PARTICLES


def test_a_preview_reuses_the_last_density_frames_and_says_of_which_step(sessions):
    tiny = sessions[1]
    model, box, cache = tiny.model, tiny.data.box, {}
    first = ode_flow(model, box, tiny.device, 3, cache, particles=10, density_times=3)
    tiny.run(1)
    # a preview within its share of the time: the frames of the step before
    again = ode_flow(model, box, tiny.device, 3, cache, particles=10, density_share=1e-9)
    assert again.step == first.step + 1 and again.density_step == first.step
    assert again.density is first.density and len(again.density_times) == 3
    assert not np.array_equal(again.particles, first.particles)
    # not across a change of the config (the density depends on the solver settings)
    tiny.set_hyperparameters({"rtol": 1e-4})
    other = ode_flow(model, box, tiny.device, 3, cache, particles=10, density_share=1e-9)
    tiny.set_hyperparameters({"rtol": 1e-5})
    assert other.density_step == other.step and other.density is not first.density
    # the full picture recomputes them, and the next full one of the same weights reuses
    full = ode_flow(model, box, tiny.device, 3, cache, particles=10, resolution=8)
    assert full.density_step == full.step and full.density.shape == (FIELD_TIMES, 8, 8)
    same = ode_flow(model, box, tiny.device, 3, cache, particles=10, resolution=8)
    assert same.density is full.density


def test_straightness_is_zero_for_lines_and_the_mean_squared_chord_deviation():
    s = np.linspace(0.0, 1.0, 5)
    line = np.stack([np.stack([s, 2 * s], 1)] * 3, 1)  # (5, 3, 2): three equal lines
    assert straightness(line, s) == pytest.approx(0.0, abs=1e-15)
    # a half circle from (1, 0) to (-1, 0): the chord is the x axis, the deviation sin(pi s)
    arc = np.stack([np.cos(np.pi * s), np.sin(np.pi * s)], 1)[:, None, :]
    expected = np.mean(np.sin(np.pi * s) ** 2 + (np.cos(np.pi * s) - (1 - 2 * s)) ** 2)
    assert straightness(arc, s) == pytest.approx(expected)
    with pytest.raises(ValueError):
        straightness(line, s[:4])


class _Rotation:
    """dx/ds = A x, a rotation by pi/2 over [0, 1]: Euler's error shrinks like 1/N."""

    def velocity(self, x, s):
        return torch.stack([-x[:, 1], x[:, 0]], 1) * (math.pi / 2)


def test_euler_samples_converge_to_the_exact_flow():
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    out = euler_samples(_Rotation(), z, (1, 8, 128))
    exact = torch.tensor([[0.0, 1.0], [-2.0, 0.0]])  # rotated by pi/2
    np.testing.assert_allclose(out[0], z + _Rotation().velocity(z, 0.0))
    errors = (out - exact).norm(dim=2).mean(dim=1)
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.03


def test_the_paths_picture_compares_learned_and_conditional_paths(sessions):
    p = sessions[1].snapshot(["paths"]).paths
    k = PATHS_STEPS + 1
    assert p.learned.shape == p.conditional.shape == (k, 400, 2)
    assert p.conditional_straightness == pytest.approx(0.0, abs=1e-9)  # straight lines
    assert p.straightness == pytest.approx(straightness(p.learned, p.times))
    assert p.straightness > 0
    assert tuple(p.euler_steps) == EULER_STEPS and p.euler.shape == (len(EULER_STEPS), 400, 2)
    # the base draws are shared: Euler from learned[0] ends near the solver's samples
    assert p.euler_error[-1] < p.euler_error[0] and p.euler_error[-1] < 0.05
    assert p.sampler == "dopri5"
    # the learned paths are the accurate ODE: its end is the model's dopri5 samples
    end = sessions[1].model.ode_path(torch.as_tensor(p.learned[0]), 0.0, 1.0, 1)[-1]
    np.testing.assert_allclose(p.learned[-1], end.numpy(), atol=1e-3)


def test_solver_cost_reads_nfe_and_time_from_the_history(sessions):
    tiny = sessions[0]
    c = tiny.snapshot(["solver_cost"]).solver_cost
    assert len(c.steps) == tiny.step_count and np.all(np.diff(c.nfe) > 0)
    assert c.nfe[-1] == 20 + 2 * tiny.step_count  # Tiny's made-up growing NFE
    assert len(c.nfe_backward) == 0 and c.adjoint is None
    np.testing.assert_array_equal(c.cost_nfe, c.nfe)
    np.testing.assert_allclose(c.seconds, 0.01 * c.steps)
    assert c.memory_mb is None and "not measured on the CPU" in c.memory_note
    # an adjoint run: backward NFE only at its steps, flags from them, summed NFE
    arrays = {
        "nfe": (np.arange(1, 5), np.array([10.0, 12, 14, 16])),
        "nfe_backward": (np.array([3, 4]), np.array([20.0, 22])),
        "step_seconds": (np.arange(1, 5), np.array([0.1, 0.1, 0.3, 0.3])),
    }
    c = solver_cost(arrays, {"solver": "dopri5", "adjoint": True}, "cuda")
    assert list(c.adjoint_flags) == [False, False, True, True]
    np.testing.assert_allclose(c.cost_nfe, [10, 12, 14, 16])  # not every step had a backward
    late = {k: (s[s >= 3], v[s >= 3]) for k, (s, v) in arrays.items()}
    c = solver_cost(late, {"adjoint": True})
    np.testing.assert_allclose(c.cost_nfe, [34, 38])
    assert "not recorded" in solver_cost(arrays, {}, "cuda").memory_note


def test_a_real_cnf_records_backward_nfe_with_the_adjoint():
    if "cnf" not in MODELS:
        pytest.skip("cnf is not registered")
    s = Session("cnf", "moons", {**SMALL, "solver": "euler", "solver_steps": 2, "adjoint": True})
    s.run(2)
    assert {"ode_flow", "solver_cost"} <= set(s.available_views)
    c = s.snapshot(["solver_cost"]).solver_cost
    assert list(c.steps) == [1, 2] and np.all(c.nfe > 0) and np.all(c.nfe_backward > 0)
    assert c.adjoint is True and c.solver == "euler"


@pytest.fixture(scope="module")
def sourced():
    """A real flow-matching model from a source set with no exact density (``line``)."""
    if "flow-matching" not in MODELS:
        pytest.skip("flow-matching is not registered")
    return Session("flow-matching", "moons", {**SMALL, "source": "line"})


def test_real_flow_matching_offers_paths_and_a_flow_without_density(sourced):
    assert {"ode_flow", "paths"} <= set(sourced.available_views)
    assert "solver_cost" not in sourced.available_views
    snap = sourced.snapshot(["ode_flow", "paths"])
    f, p = snap.ode_flow, snap.paths
    assert f.density.shape == (0, 32, 32) and len(f.density_times) == 0
    assert f.particles.shape == (PATH_STEPS + 1, PARTICLES, 2)
    # the line source: every base draw on the diagonal x2 = x1 in [-2.5, 2.5]
    np.testing.assert_array_equal(f.particles[0, :, 0], f.particles[0, :, 1])
    assert f.grid[0].min() == -2.5 and f.grid[0].max() == 2.5
    assert p.conditional_straightness == pytest.approx(0.0, abs=1e-9)  # the linear path
    assert p.sampler == "euler, 16 steps"


# ------------------------------------------------------------------------ the views
pytest.importorskip("pytestqt")


def _snap(**parts) -> Snapshot:
    return Snapshot(step=1, box=(-4.0, 4.0, -4.0, 4.0), **parts)


def test_the_time_slider_moves_the_particles_grid_and_field(qtbot, flow):
    from playground.app.views.ode_flow import TIME_TICKS, OdeFlowView

    view = OdeFlowView()
    qtbot.addWidget(view)
    view.show_snapshot(_snap(ode_flow=flow))
    assert view.time == 1.0  # it opens on the data
    np.testing.assert_allclose(view.particles.data["x"], flow.particles[-1, :, 0])
    view.slider.setValue(0)
    np.testing.assert_allclose(view.particles.data["x"], flow.particles[0, :, 0])
    arrows0, grid0 = view.arrows.xData.copy(), view.grid.yData.copy()
    image0 = view.image.image.copy()
    view.slider.setValue(TIME_TICKS // 2 + TIME_TICKS // 80)  # halfway between two stored times
    i = PATH_STEPS // 2
    np.testing.assert_allclose(
        view.particles.data["y"], 0.5 * (flow.particles[i, :, 1] + flow.particles[i + 1, :, 1])
    )
    assert not np.allclose(view.arrows.xData, arrows0)
    assert not np.allclose(view.grid.yData, grid0)
    assert not np.array_equal(view.image.image, image0)
    assert "s = 0.51" in view.time_label.text() and "log p_s at s = 0.5" in view.caption.text()
    view.show_field.setChecked(False)
    view.show_density.setChecked(False)
    assert not view.arrows.isVisible() and not view.image.isVisible()


def test_a_flow_without_density_draws_no_shading_and_says_why(qtbot, sourced):
    from playground.app.views.ode_flow import OdeFlowView

    view = OdeFlowView()
    qtbot.addWidget(view)
    view.show_snapshot(_snap(ode_flow=sourced.snapshot(["ode_flow"]).ode_flow))
    view.slider.setValue(100)
    assert not view.image.isVisible() and not view.bar.isVisible()
    assert not view.show_density.isEnabled() and "no exact density" in view.caption.text()
    assert len(view.particles.data) == PARTICLES


def test_play_sweeps_the_time_backwards_and_stops(qtbot, flow):
    from playground.app.views.ode_flow import TIME_TICKS, OdeFlowView

    view = OdeFlowView()
    qtbot.addWidget(view)
    view.show_snapshot(_snap(ode_flow=flow))
    view.direction.setCurrentIndex(1)  # data -> base
    view._timer.setInterval(1)
    seen = []
    view.slider.valueChanged.connect(seen.append)
    view.play.setChecked(True)
    qtbot.waitUntil(lambda: not view.play.isChecked(), timeout=5000)
    assert view.slider.value() == 0 and seen[0] < TIME_TICKS and np.all(np.diff(seen) < 0)


def test_the_steps_slider_changes_the_euler_samples(qtbot, sessions):
    from playground.app.views.paths import PathsView

    p = sessions[1].snapshot(["paths"]).paths
    view = PathsView()
    qtbot.addWidget(view)
    view.show_snapshot(_snap(paths=p))
    assert view.euler_steps == 4
    np.testing.assert_allclose(view.euler.data["x"], p.euler[2, :, 0])
    view.slider.setValue(0)
    assert view.euler_steps == 1 and "N = 1 step" in view.steps_label.text()
    np.testing.assert_allclose(view.euler.data["x"], p.euler[0, :, 0])
    assert view.conditional_plot.titleLabel.text.endswith("straightness 0")
    assert f"straightness {p.straightness:.3g}" in view.learned_plot.titleLabel.text


def test_the_nfe_curve_grows_after_more_steps(qtbot, sessions):
    from playground.app.views.solver_cost import SolverCostView

    tiny = sessions[0]
    view = SolverCostView()
    qtbot.addWidget(view)
    view.show_snapshot(_snap(solver_cost=tiny.snapshot(["solver_cost"]).solver_cost))
    before = view.forward.xData.copy()
    latest = f"{20 + 2 * tiny.step_count} forward evaluations"
    assert len(before) == tiny.step_count and latest in view.caption.text()
    tiny.run(2)
    view.show_snapshot(_snap(solver_cost=tiny.snapshot(["solver_cost"]).solver_cost))
    assert (
        len(view.forward.xData) == len(before) + 2
        and view.forward.yData[-1] == 20 + 2 * tiny.step_count
    )
    assert len(view.time_points[False].data) == tiny.step_count  # no adjoint: backprop
    assert view.time_message.textItem.toPlainText() == ""
    assert "not measured on the CPU" in view.caption.text()
