"""The energy, score and diffusion views in the running app: chains that move while training
is paused, controls that reach the worker, the diffusion slider, the EBM's energy view."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from playground.app.commands import Reset, SetChainSettings, SetHyperparameters, Step  # noqa: E402
from playground.app.main_window import MainWindow  # noqa: E402

TIMEOUT = 30_000


def show(qtbot, window: MainWindow, name: str) -> None:
    """Switch to the tab of view ``name`` and wait until the view has drawn a frame."""
    assert name in window.tab_names, window.tab_names
    drawn = window.draws[name]
    window.tabs.setCurrentIndex(window.tab_names.index(name))
    qtbot.waitUntil(lambda: window.draws[name] > drawn, timeout=TIMEOUT)


def test_chains_move_while_training_is_paused(qtbot, open_window):
    window = open_window("realnvp", "8gaussians")
    show(qtbot, window, "chains")
    view = window.views["chains"]
    first = np.array(view.points.getData()[0], copy=True)
    assert len(first) == view.settings.n_chains
    drawn = window.draws["chains"]
    qtbot.waitUntil(lambda: window.draws["chains"] >= drawn + 2, timeout=TIMEOUT)
    assert not window.worker.playing and window.step == 0
    assert not np.array_equal(first, view.points.getData()[0])
    assert window.frame.snapshot.chains.steps > view.settings.steps_per_frame


def test_chain_controls_reach_the_worker_and_restart_the_chains(qtbot, open_window):
    window = open_window("realnvp", "8gaussians")
    show(qtbot, window, "chains")
    view = window.views["chains"]
    view.chains.setValue(50)  # a different number of chains restarts them
    qtbot.waitUntil(
        lambda: (
            window.frame.snapshot.chains is not None
            and window.frame.snapshot.chains.positions.shape == (50, 2)
        ),
        timeout=TIMEOUT,
    )
    assert window.worker.session.chain_settings.n_chains == 50
    assert len(view.points.getData()[0]) == 50
    view.sampler.setCurrentIndex(view.sampler.findData("mala"))
    qtbot.waitUntil(
        lambda: window.frame.snapshot.chains.acceptance_rate is not None, timeout=TIMEOUT
    )
    assert "acceptance" in view.caption.text()
    qtbot.waitUntil(lambda: window.frame.snapshot.chains.steps >= 20, timeout=TIMEOUT)
    view.restart_button.click()
    qtbot.waitUntil(lambda: window.frame.snapshot.chains.steps < 20, timeout=TIMEOUT)
    # a new session keeps the chosen settings
    generation = window.worker.generation
    window.post(Reset())
    qtbot.waitUntil(lambda: window.worker.generation > generation, timeout=TIMEOUT)
    assert window.worker.session.chain_settings.n_chains == 50


def test_a_bad_chain_setting_is_refused_with_a_banner(qtbot, open_window):
    window = open_window("realnvp", "8gaussians")
    good = window.worker.session.chain_settings
    # the chains view sends its settings as a command; the window posts it as it is
    window.views["chains"].command.emit(SetChainSettings(dataclasses.replace(good, step_size=-1.0)))
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=TIMEOUT)
    assert "Chains not changed" in window.banner.text()
    assert window.worker.session.chain_settings == good


def test_diffusion_slider_scrubs_the_particles(qtbot, open_window):
    window = open_window("ddpm", "8gaussians")
    show(qtbot, window, "diffusion")
    view = window.views["diffusion"]
    assert view.steps == window.worker.session.model.T
    view.slider.setValue(0)
    at_data = np.array(view.forward.getData()[0], copy=True)
    view.slider.setValue(view.steps // 2)
    assert not np.array_equal(at_data, view.forward.getData()[0])
    assert "t = " in view.step_label.text()


def test_ebm_energy_view_draws_negatives_and_the_buffer(qtbot, open_window):
    window = open_window("ebm", "8gaussians")
    window.post(SetHyperparameters({"batch_size": 32, "langevin_steps": 5}, False))
    window.post(Step())
    window.post(Step())
    show(qtbot, window, "energy")
    view = window.views["energy"]
    qtbot.waitUntil(lambda: len(view.negatives.getData()[0]) == 32, timeout=TIMEOUT)
    assert len(view.buffer.getData()[0]) == 64
    assert "replay buffer" in view.caption.text()
