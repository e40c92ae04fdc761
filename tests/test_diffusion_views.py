"""Diffusion views: the forward / reverse particles and the noised density (core), the image
reverse strip and guided sample grid, and the two widgets (offscreen)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from playground.core.data.base import cell_area
from playground.core.snapshots import Snapshot
from playground.core.snapshots.diffusion import (
    DiffusionProcess,
    ReverseStrip,
    density_steps,
    diffusion_process,
    reverse_strip,
)
from playground.core.snapshots.images import sample_grid
from playground.core.training import Session

TINY = {"hidden": 16, "depth": 1}


def _points(session: Session, n: int) -> torch.Tensor:
    return session.data.sample(n, torch.Generator().manual_seed(11))


@pytest.fixture(scope="module")
def ddpm_moons():
    return Session("ddpm", "moons", {"T": 20, **TINY})


def test_ddpm_forward_and_reverse_share_the_noise_levels(ddpm_moons):
    s = ddpm_moons
    pts = _points(s, 2000)
    p = diffusion_process(s.model, s.data, s.device, pts, {}, particles=2000, resolution=16)
    assert p.kind == "ddpm"
    assert p.forward.shape == p.reverse.shape == (21, 2000, 2)
    assert p.forward.dtype == p.reverse.dtype == np.float32
    assert p.labels[0] == "data" and p.labels[1] == "t = 1" and p.labels[-1] == "t = 20"
    assert p.noise_std.shape == p.signal_scale.shape == (21,)
    np.testing.assert_array_equal(p.forward[0], pts.numpy())
    # forward's last step: sqrt(abar_T) x_0 + sqrt(1 - abar_T) eps is nearly N(0, I)
    last = p.forward[-1]
    assert np.abs(last.mean(0)).max() < 0.08
    assert np.all(np.abs(last.std(0) - 1.0) < 0.06)
    assert p.noise_std[0] == 0.0 and p.signal_scale[0] == 1.0
    assert np.all(np.diff(p.noise_std) > 0) and np.all(np.diff(p.signal_scale) < 0)
    np.testing.assert_allclose(p.noise_std**2 + p.signal_scale**2, 1.0, atol=1e-12)
    # index k of the reverse process is x_k: its start (k = K) is the model's x_T
    g = torch.Generator().manual_seed(1)
    path = s.model.reverse_process(2000, g)
    np.testing.assert_allclose(p.reverse[-1], path[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(p.reverse[0], path[-1].numpy(), atol=1e-6)
    assert p.densities.shape == (len(p.density_steps), 16, 16)
    assert p.density_steps[0] == 0 and p.density_steps[-1] == 20


def test_density_steps_are_evenly_spaced_and_include_both_ends():
    assert density_steps(100).tolist() == list(range(0, 101, 10))
    assert density_steps(3).tolist() == [0, 1, 2, 3]


def test_ddpm_snapshot_is_the_same_twice_and_changes_with_the_weights():
    s = Session("ddpm", "moons", {"T": 20, **TINY})
    pts = _points(s, 100)
    cache: dict = {}
    a = diffusion_process(s.model, s.data, s.device, pts, cache, particles=100, resolution=16)
    b = diffusion_process(s.model, s.data, s.device, pts, cache, particles=100, resolution=16)
    np.testing.assert_array_equal(a.forward, b.forward)
    np.testing.assert_array_equal(a.reverse, b.reverse)
    with torch.no_grad():
        for param in s.model.parameters():
            param.add_(0.1)
    c = diffusion_process(s.model, s.data, s.device, pts, cache, particles=100, resolution=16)
    np.testing.assert_array_equal(a.forward, c.forward)
    assert not np.allclose(a.reverse[0], c.reverse[0])


def test_ncsn_levels_run_from_the_data_to_the_largest_sigma():
    s = Session("ncsn", "moons", {"levels": 3, "steps_per_level": 2, **TINY})
    pts = _points(s, 3000)
    p = diffusion_process(s.model, s.data, s.device, pts, {}, particles=3000, resolution=16)
    sigmas = s.model.sigmas.numpy()  # decreasing: sigma_1 > sigma_2 > sigma_3
    assert p.kind == "ncsn"
    assert p.forward.shape == p.reverse.shape == (4, 3000, 2)
    np.testing.assert_allclose(p.noise_std, [0.0, *sigmas[::-1]], rtol=1e-6)
    np.testing.assert_array_equal(p.signal_scale, 1.0)
    assert p.labels == ("data", f"sigma_3 = {sigmas[2]:.3g}", f"sigma_2 = {sigmas[1]:.3g}",
                        f"sigma_1 = {sigmas[0]:.3g}")  # fmt: skip
    np.testing.assert_array_equal(p.forward[0], pts.numpy())
    for k in range(1, 4):  # x_k - x_0 ~ N(0, std_k^2 I)
        noise = p.forward[k] - p.forward[0]
        np.testing.assert_allclose(noise.std(0), p.noise_std[k], rtol=0.06)
    assert np.isfinite(p.reverse).all()
    # index 0: Tweedie's denoising of the last Langevin state, x + sigma_L^2 s(x, sigma_L)
    last, sigma_min = torch.from_numpy(p.reverse[1]), float(sigmas[-1])
    with torch.no_grad():
        denoised = last + sigma_min**2 * s.model.score(last, sigma_min)
    np.testing.assert_allclose(p.reverse[0], denoised.numpy(), atol=1e-5)
    assert p.density_steps.tolist() == [0, 1, 2, 3]


def _abar_linear(T: int, t: int) -> float:
    """alpha_bar_t of the linear schedule, written out: betas from 1e-4 to 0.02 scaled by
    1000 / T, clipped at 0.999."""
    b1, bT = 1e-4 * 1000 / T, 0.02 * 1000 / T
    betas = [min(b1 + (i - 1) * (bT - b1) / (T - 1), 0.999) for i in range(1, T + 1)]
    return math.prod(1 - b for b in betas[:t])


def test_exact_noised_mixture_density_matches_the_closed_form():
    s = Session("ddpm", "8gaussians", {"T": 20, **TINY})
    pts = _points(s, 50)
    res = 48
    p = diffusion_process(s.model, s.data, s.device, pts, {}, particles=50, resolution=res)
    assert p.density_exact
    i = 5
    t = int(p.density_steps[i])
    abar = _abar_linear(20, t)
    r, std = 4 / 1.414, 0.5 / 1.414
    c = 1 / math.sqrt(2)
    means = [(r * a, r * b) for a, b in
             [(1, 0), (-1, 0), (0, 1), (0, -1), (c, c), (c, -c), (-c, c), (-c, -c)]]  # fmt: skip
    var = abar * std**2 + (1 - abar)
    for row, col in [(0, 0), (20, 31), (24, 24), (40, 7)]:
        x, y = float(p.xs[col]), float(p.ys[row])
        dens = (
            sum(
                math.exp(
                    -((x - math.sqrt(abar) * mx) ** 2 + (y - math.sqrt(abar) * my) ** 2) / (2 * var)
                )
                / (2 * math.pi * var)
                for mx, my in means
            )
            / 8
        )
        assert p.densities[i, row, col] == pytest.approx(math.log(dens), abs=1e-4)
    mass = float(np.exp(p.densities[i].astype(np.float64)).sum()) * cell_area(s.data.box, res)
    assert mass == pytest.approx(1.0, abs=0.02)


def test_monte_carlo_density_is_finite_and_computed_once(ddpm_moons):
    s = ddpm_moons
    pts = _points(s, 50)
    cache: dict = {}
    a = diffusion_process(s.model, s.data, s.device, pts, cache, particles=50, resolution=24)
    assert not a.density_exact and np.isfinite(a.densities).all()
    assert a.densities.dtype == np.float32
    # k = 0 on moons is the exact density; a noised one spreads: its peak is lower
    assert a.densities[0].max() > a.densities[-1].max()
    mass = float(np.exp(a.densities[10].astype(np.float64)).sum()) * cell_area(s.data.box, 24)
    assert mass == pytest.approx(1.0, abs=0.05)
    start = time.perf_counter()
    b = diffusion_process(s.model, s.data, s.device, pts, cache, particles=50, resolution=24)
    assert b.densities is a.densities
    assert time.perf_counter() - start < 1.0


def test_data_without_a_density_is_smoothed_at_step_zero_and_says_so():
    s = Session("ddpm", "pinwheel", {"T": 5, **TINY})
    p = diffusion_process(s.model, s.data, s.device, _points(s, 20), {}, resolution=16)
    assert not s.data.has_log_prob
    assert p.labels[0].startswith("data (density smoothed, std ")
    assert np.isfinite(p.densities).all()


def test_reverse_strip_runs_from_noise_to_the_sample():
    s = Session("ddpm", "digits", {"T": 20, **TINY})
    strip = reverse_strip(s.model, 3, s.device)
    assert strip.images.shape == (6, 10, 8, 8) and strip.images.dtype == np.float32
    assert strip.images.min() >= 0.0 and strip.images.max() <= 1.0
    assert strip.timesteps[0] == 20 and strip.timesteps[-1] == 0
    assert list(strip.timesteps) == sorted(strip.timesteps, reverse=True)
    assert strip.row_labels is None
    # the right column is the model's sample x_0 from the same noise
    x0 = s.model.from_diffusion(s.model.reverse_process(6, torch.Generator().manual_seed(3))[-1])
    np.testing.assert_allclose(strip.images[:, -1], x0[:, 0].numpy(), atol=1e-6)


def test_guided_models_get_one_row_per_class():
    s = Session("ddpm", "digits", {"T": 5, "guidance": "classifier-free", **TINY})
    strip = reverse_strip(s.model, 3, s.device)
    assert strip.row_labels == tuple(f"y = {i}" for i in range(10))
    assert strip.images.shape == (10, 6, 8, 8)  # T + 1 = 6 < 10 columns
    assert "classifier-free guidance, w = 1" in strip.caption
    grid = sample_grid(s.model, s._overlay, 4, s.device)
    assert grid.images.shape == (10, 8, 8, 8)
    assert grid.row_labels == tuple(f"y = {i}" for i in range(10))
    assert "guided to class y" in grid.caption and "classifier-free" in grid.caption
    assert grid.images.min() >= 0.0 and grid.images.max() <= 1.0


def test_unguided_sample_grid_is_unchanged():
    s = Session("ddpm", "digits", {"T": 5, **TINY})
    grid = sample_grid(s.model, s._overlay, 4, s.device)
    assert grid.images.shape[:2] == (6, 8) and grid.row_labels is None


# ------------------------------------------------------------------ views (offscreen)


def _process(K: int = 10, n: int = 30) -> DiffusionProcess:
    rng = np.random.default_rng(0)
    forward = rng.normal(size=(K + 1, n, 2)).astype(np.float32) + np.arange(K + 1)[:, None, None]
    steps = density_steps(K, 5)
    dens = np.stack([np.full((8, 8), -float(k), np.float32) for k in steps])
    dens[:, 0, 0] += 1.0
    return DiffusionProcess(
        forward=forward,
        reverse=-forward,
        labels=("data", *(f"t = {k}" for k in range(1, K + 1))),
        noise_std=np.linspace(0, 1, K + 1),
        signal_scale=np.sqrt(1 - np.linspace(0, 1, K + 1) ** 2),
        densities=dens,
        density_steps=steps,
        density_exact=True,
        xs=np.linspace(-4, 4, 8, dtype=np.float32),
        ys=np.linspace(-4, 4, 8, dtype=np.float32),
        data=forward[0],
        kind="ddpm",
    )


def _snapshot(**kwargs) -> Snapshot:
    return Snapshot(step=0, box=(-4.0, 4.0, -4.0, 4.0), **kwargs)


def test_diffusion_view_slider_redraws_particles_density_and_label(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views.diffusion import DiffusionView

    view = DiffusionView()
    qtbot.addWidget(view)
    d = _process()
    assert not view.accepts(_snapshot(diffusion=None)) and view.accepts(_snapshot(diffusion=d))
    view.show_snapshot(_snapshot(diffusion=d))
    assert view.steps == 10 and view.slider.value() == 0
    np.testing.assert_array_equal(np.stack(view.forward.getData(), 1), d.forward[0])
    view.slider.setValue(7)
    np.testing.assert_array_equal(np.stack(view.forward.getData(), 1), d.forward[7])
    np.testing.assert_array_equal(np.stack(view.reverse.getData(), 1), d.reverse[7])
    assert view.step_label.text().startswith("t = 7") and "noise std 0.70" in view.step_label.text()
    nearest = int(np.argmin(np.abs(d.density_steps - 7)))
    np.testing.assert_array_equal(view.image.image, d.densities[nearest])
    assert f"\u03c0(x | t = {d.density_steps[nearest]})" in view.caption.text()
    # a new snapshot keeps the slider where the user left it
    view.show_snapshot(_snapshot(diffusion=_process()))
    assert view.slider.value() == 7
    view.show_reverse.setChecked(False)
    assert not view.reverse.isVisible() and view.forward.isVisible()
    view.clear()
    assert view.forward.getData()[0].size == 0


def test_play_sweeps_forward_then_stops_and_reverse_plays_backwards(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views.diffusion import DiffusionView

    view = DiffusionView()
    qtbot.addWidget(view)
    view.show_snapshot(_snapshot(diffusion=_process(K=10)))
    view._timer.setInterval(5)  # the test need not wait for the lecture's pace
    view.play.click()
    qtbot.waitUntil(lambda: view.slider.value() >= 3, timeout=5000)
    qtbot.waitUntil(lambda: not view.play.isChecked(), timeout=5000)
    assert view.slider.value() == 10
    view.direction.setCurrentIndex(1)  # reverse: from the noise (K) back to the data
    view.play.click()
    qtbot.waitUntil(lambda: not view.play.isChecked(), timeout=5000)
    assert view.slider.value() == 0


def test_reverse_strip_view_draws_every_image_with_labels(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views.diffusion import ReverseStripView
    from playground.app.views.images import mosaic

    view = ReverseStripView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    strip = ReverseStrip(
        images=rng.random((3, 5, 8, 8), dtype=np.float32),
        timesteps=(20, 15, 10, 5, 0),
        row_labels=("y = 0", "y = 1", "y = 2"),
        caption="rows: guided",
    )
    assert view.accepts(_snapshot(reverse_strip=strip))
    view.show_snapshot(_snapshot(reverse_strip=strip))
    np.testing.assert_array_equal(view.panel.image.image, mosaic(strip.images))
    assert list(view.column_labels) == ["20", "15", "10", "5", "0"]
    assert list(view.panel.labels) == list(strip.row_labels)
    assert view.caption.text() == "rows: guided"
    view.clear()
    assert view.column_labels == () and view.caption.text() == ""
