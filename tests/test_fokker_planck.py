"""The Fokker-Planck picture: the finite-volume solver (mass, positivity, steady state, the
right transient), Langevin and forward-noised particles against it, which sessions offer
it, its budget and cache, and the view's time slider."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core.data import make_dataset
from playground.core.data.mixtures import mixture_parts
from playground.core.sampling.budget import Budget, Cancelled, working
from playground.core.sampling.fokker_planck import (
    CellGrid,
    cell_peclet,
    fokker_planck_generator,
    gridded_target,
    solve_fokker_planck,
)
from playground.core.sampling.fokker_planck_particles import (
    langevin_histograms,
    mixture_score_fn,
    sampling_floor,
    total_variation,
    vp_alpha_bar,
    vp_histograms,
    vp_mixture_cells,
)
from playground.core.snapshots import take_snapshot
from playground.core.snapshots.fokker_planck import (
    QUICK_PARTICLES,
    QUICK_RESOLUTION,
    FokkerPlanck,
    langevin_picture,
)
from playground.core.training import Session


def _log_pi(name: str, cells: int) -> tuple[np.ndarray, CellGrid]:
    data = make_dataset(name)
    grid = CellGrid(data.box, cells)
    log_pi = data.log_prob(grid.centres()).double().numpy().reshape(cells, cells)
    return log_pi, grid


def _uniform(cells: int) -> np.ndarray:
    return np.full((cells, cells), 1.0 / cells**2)


def _mixture(name: str) -> tuple[np.ndarray, np.ndarray, float]:
    means, weights, std = mixture_parts(make_dataset(name))
    return means.numpy(), weights.numpy(), std


# ------------------------------------------------------------------------------- the solver
def test_the_solver_conserves_mass_keeps_p_non_negative_and_reaches_the_target():
    log_pi, grid = _log_pi("8gaussians", 48)
    p = solve_fokker_planck(log_pi, _uniform(48), [0.0, 0.5, 5.0, 20.0], grid.dx, grid.dy)
    assert p.shape == (4, 48, 48)
    np.testing.assert_allclose(p.sum(axis=(1, 2)), 1.0, rtol=0, atol=1e-6)
    assert p.min() >= 0.0
    target = gridded_target(log_pi)
    tv = [total_variation(q, target) for q in p]
    assert tv[0] > 0.6  # uniform on the box is far from the eight modes ...
    assert tv[1] < tv[0] and tv[2] < tv[1]  # ... and the distance falls ...
    assert tv[3] < 0.005  # ... to nothing


def test_the_target_is_the_exact_steady_state_of_the_scheme():
    log_pi, grid = _log_pi("U3", 40)
    generator = fokker_planck_generator(log_pi, grid.dx, grid.dy)
    rates = generator.toarray()
    np.testing.assert_allclose(rates.sum(axis=0), 0.0, atol=1e-9 * np.abs(rates).max())
    off = rates - np.diag(np.diag(rates))
    assert off.min() >= 0.0 and np.count_nonzero(off) == 4 * 40 * 39  # 5-point stencil
    target = gridded_target(log_pi)
    flux = generator @ target.ravel()
    assert np.abs(flux).max() < 1e-12 * np.abs(generator.diagonal()).max() * target.max()
    later = solve_fokker_planck(log_pi, target, [3.0], grid.dx, grid.dy)[0]
    assert total_variation(later, target) < 1e-10


def test_the_transient_matches_the_ornstein_uhlenbeck_closed_form():
    """Langevin dynamics on pi = N(0, I) is the OU process: from the 8gaussians mixture,
    p_t is the mixture with means e^-t mu and variance e^-2t s^2 + 1 - e^-2t."""
    means, weights, std = _mixture("8gaussians")
    grid = CellGrid((-4.0, 4.0, -4.0, 4.0), 64)
    log_pi = -0.5 * grid.centres().square().sum(1).numpy().reshape(64, 64)
    p0, _ = vp_mixture_cells(means, weights, std, 1.0, grid)
    times = [0.1, 0.3, 1.0]
    p = solve_fokker_planck(log_pi, p0 / p0.sum(), times, grid.dx, grid.dy)
    for t, q in zip(times, p, strict=True):
        exact, outside = vp_mixture_cells(means, weights, std, math.exp(-2 * t), grid)
        assert total_variation(q, exact, 0.0, outside) < 0.01, t


def test_the_resolution_check_refuses_modes_narrower_than_a_cell():
    assert cell_peclet(_log_pi("8gaussians", 96)[0]) < 1.0
    assert cell_peclet(_log_pi("ring8", 96)[0]) > 5.0
    assert cell_peclet(_log_pi("checkerboard", 96)[0]) == math.inf  # log p = -inf off the board


def test_solver_and_particles_refuse_bad_input():
    log_pi, grid = _log_pi("gmm82", 8)
    with pytest.raises(ValueError, match="finite"):
        solve_fokker_planck(np.full((8, 8), -np.inf), _uniform(8), [1.0], 1.0, 1.0)
    with pytest.raises(ValueError, match="non-negative"):
        solve_fokker_planck(log_pi, -_uniform(8), [1.0], grid.dx, grid.dy)
    with pytest.raises(ValueError, match="non-decreasing"):
        solve_fokker_planck(log_pi, _uniform(8), [2.0, 1.0], grid.dx, grid.dy)
    with pytest.raises(ValueError, match="step"):
        langevin_histograms(lambda x: x, torch.zeros(3, 2), [1.0], 0.0, grid, torch.Generator())


# ---------------------------------------------------------------------------- the particles
def test_langevin_particles_match_the_fokker_planck_density_up_to_sampling_noise():
    data = make_dataset("gmm82")
    log_pi, grid = _log_pi("gmm82", 24)
    times = [0.0, 1.0, 3.0]
    p = solve_fokker_planck(log_pi, _uniform(24), times, grid.dx, grid.dy)
    rng = torch.Generator().manual_seed(0)
    x0 = torch.rand(4000, 2, generator=rng, dtype=torch.float64) * 18 - 9
    score = mixture_score_fn(*mixture_parts(data))
    hist = langevin_histograms(score, x0, times, 0.02, grid, rng)
    np.testing.assert_allclose(hist.sum(axis=(1, 2)), 1.0)  # reflected: none leaves the box
    floors = np.random.default_rng(0)
    for q, h in zip(p, hist, strict=True):
        assert total_variation(q, h) < sampling_floor(q, 4000, floors) + 0.03


def test_the_mixture_score_is_the_closed_form_one():
    from playground.core.data.mixtures import mixture_score

    parts = mixture_parts(make_dataset("gmm82"))
    x = torch.randn(50, 2, dtype=torch.float64) * 6
    fast, slow = mixture_score_fn(*parts)(x).numpy(), mixture_score(x, *parts).numpy()
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)


def test_the_closed_form_ddpm_marginal_matches_forward_noised_samples():
    from playground.core.models.diffusion.ddpm import DDPM

    data = make_dataset("8gaussians")
    model = DDPM(DDPM.Config(T=50, hidden=8, depth=1), data)
    scale = model.noise_process().signal_scale
    np.testing.assert_allclose(vp_alpha_bar(np.arange(51) / 50, scale), scale**2, rtol=1e-12)
    means, weights, std = _mixture("8gaussians")
    grid = CellGrid(data.box, 16)
    times = [0.0, 0.1, 0.3, 1.0]
    x0 = data.sample(8000, torch.Generator().manual_seed(1))
    hist, outside = vp_histograms(x0, scale, times, grid, torch.Generator().manual_seed(2))
    floors = np.random.default_rng(0)
    for t, h, out in zip(times, hist, outside, strict=True):
        exact, exact_out = vp_mixture_cells(means, weights, std, vp_alpha_bar(t, scale), grid)
        floor = sampling_floor(exact, 8000, floors)
        assert total_variation(exact, h, exact_out, out) < floor + 0.02, t
    # the last frame is nearly N(0, I)
    normal, _ = vp_mixture_cells(np.zeros((1, 2)), np.ones(1), 1.0, 0.0, grid)
    assert (
        total_variation(vp_mixture_cells(means, weights, std, scale[-1] ** 2, grid)[0], normal)
        < 0.01
    )


# ------------------------------------------------------------------ which sessions offer it
@pytest.mark.parametrize(
    "model, dataset, offered",
    [
        ("ncsn", "8gaussians", True),
        ("ebm", "gmm82", True),
        ("ddpm", "8gaussians", True),  # the forward VP SDE, closed form
        ("realnvp", "U1", True),  # an energy target: Langevin is its sampler
        ("score", "ring8", False),  # modes narrower than a cell
        ("ncsn", "moons", False),  # no exact density
        ("ddpm", "moons", False),  # no closed-form p_t
        ("realnvp", "8gaussians", False),  # a flow does not sample by Langevin
        ("gan", "gmm82", False),
    ],
)
def test_the_picture_is_offered_where_langevin_or_a_noising_sde_samples(model, dataset, offered):
    small = {"hidden": 8} if model in ("ncsn", "ebm", "ddpm", "score") else {}
    session = Session(model, dataset, small)
    assert ("fokker_planck" in session.available_views) is offered


# ---------------------------------------------------------------------- budget and cache
def test_a_quick_picture_is_a_noted_preview_computed_once_and_cancellable():
    session = Session("ncsn", "gmm82", {"hidden": 8})
    ctx = session.snapshot_context()
    with working(Budget(quick=True)):
        first = take_snapshot(ctx, ["fokker_planck"], step=0)
        second = take_snapshot(ctx, ["fokker_planck"], step=1)
    fp = first.fokker_planck
    assert isinstance(fp, FokkerPlanck) and fp.kind == "langevin"
    assert fp.density.shape[1:] == (QUICK_RESOLUTION, QUICK_RESOLUTION)
    assert fp.particles == QUICK_PARTICLES
    assert "cells per side" in first.previews["fokker_planck"]
    assert second.fokker_planck is fp  # the cache: the same picture, not recomputed
    fresh = Session("ncsn", "gmm82", {"hidden": 8}).snapshot_context()
    with pytest.raises(Cancelled), working(Budget(quick=True, cancelled=lambda: True)):
        take_snapshot(fresh, ["fokker_planck"], step=0)


# ------------------------------------------------------------------------------- the view
def test_moving_the_time_slider_changes_the_drawn_images_and_caption(qtbot, monkeypatch):
    pytest.importorskip("pytestqt")
    from playground.app.views import FokkerPlanckView, fokker_planck
    from playground.core.snapshots import Snapshot

    monkeypatch.setattr(fokker_planck, "SWEEP_MS", 150)  # Play sweeps in 0.15 s

    data = make_dataset("gmm82")
    fp = langevin_picture(data, resolution=16, particles=300, seed=0, times=np.array([0, 1, 4]))
    view = FokkerPlanckView()
    qtbot.addWidget(view)
    view.show_snapshot(Snapshot(0, data.box, fokker_planck=fp))
    assert view.slider.maximum() == 2 and view.frame == 0
    before = [image.image.copy() for image in view.images]
    caption = view.caption.text()
    view.slider.setValue(2)
    after = [image.image for image in view.images]
    assert not np.array_equal(before[0], after[0])  # p_t moved towards the modes
    assert not np.array_equal(before[1], after[1])  # and so did the particles
    np.testing.assert_array_equal(after[0], fp.density[2])
    assert view.caption.text() != caption and f"{fp.tv[2]:.3f}" in view.caption.text()
    assert view.time_label.text() == "t = 4"
    assert view.images[0].levels[1] == view.images[1].levels[1]  # one colour scale
    view.play.setChecked(True)  # Play from the end starts over
    assert view.frame == 0
    qtbot.waitUntil(lambda: not view.play.isChecked(), timeout=5000)
    assert view.frame == 2
