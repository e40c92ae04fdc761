"""The Dirac-GAN (Mescheder et al. 2018, section 2.2): its field's Jacobian at the
equilibrium has the paper's eigenvalues; simultaneous steps spiral out, alternating ones
orbit, R1 converges; held-out ``distance``; the dataset only it trains on; its picture,
view and explain panel."""

from __future__ import annotations

import cmath
import math

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import ALL_DATASETS, make_dataset
from playground.core.models import MODELS
from playground.core.models.base import NonFiniteLossError
from playground.core.models.gans.dirac import DiracGAN, vector_field
from playground.core.training import Session

torch.set_num_threads(1)
#: f'(0) of each loss: 1/2 for f(t) = -log(1 + e^-t), 1 for WGAN's f(t) = t
F_PRIME = {"minimax": 0.5, "non-saturating": 0.5, "wasserstein": 1.0}


def build(**values) -> DiracGAN:
    data = make_dataset("dirac")
    model = DiracGAN(hpm.from_dict(DiracGAN.Config, values), data)
    model.rng = torch.Generator().manual_seed(0)
    model.configure_optimizers()
    return model


def run(model: DiracGAN, steps: int) -> list[float]:
    batch = model.data.sample(model.config.batch_size, model.rng)
    return [model.train_step(batch)["distance"] for _ in range(steps)]


def jacobian_eigenvalues(**settings) -> list[complex]:
    def field(p):
        return torch.stack(vector_field(p[0], p[1], **settings))

    jac = torch.autograd.functional.jacobian(field, torch.zeros(2, dtype=torch.float64))
    return sorted(np.linalg.eigvals(jac.numpy()).tolist(), key=lambda z: (z.real, z.imag))


def close(found: list[complex], expected: list[complex]) -> bool:
    expected = sorted(expected, key=lambda z: (z.real, z.imag))
    return all(abs(a - b) < 1e-9 for a, b in zip(found, expected, strict=True))


# ------------------------------------------------------------------ the paper's maths
@pytest.mark.parametrize("loss", sorted(F_PRIME))
def test_unregularised_eigenvalues_are_plus_minus_i_f_prime(loss):
    fp = F_PRIME[loss]
    assert close(jacobian_eigenvalues(loss=loss), [1j * fp, -1j * fp])


@pytest.mark.parametrize("regularizer", ["r1", "r2"])
@pytest.mark.parametrize("gamma", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("loss", sorted(F_PRIME))
def test_r1_and_r2_eigenvalues_are_the_papers_closed_form(loss, regularizer, gamma):
    fp = F_PRIME[loss]
    root = cmath.sqrt(gamma**2 / 4 - fp**2)
    found = jacobian_eigenvalues(loss=loss, regularizer=regularizer, gamma=gamma)
    assert close(found, [-gamma / 2 + root, -gamma / 2 - root])
    assert all(z.real < 0 for z in found)  # damped: gradient descent converges for small h


def test_instance_noise_damps_a_classifier_loss_but_not_wgan():
    """With noise of std sigma the critic's diagonal entry is 2 f''(0) sigma^2 (f''(0) = -1/4
    for the classifier loss, 0 for WGAN): eigenvalues f'' s^2 +- sqrt(f''^2 s^4 - f'^2)."""
    sigma = 1.5
    a = -0.25 * sigma**2
    root = cmath.sqrt(a**2 - 0.25)
    found = jacobian_eigenvalues(loss="minimax", regularizer="instance-noise", noise_std=sigma)
    assert close(found, [a + root, a - root])
    wgan = jacobian_eigenvalues(loss="wasserstein", regularizer="instance-noise", noise_std=sigma)
    assert close(wgan, [1j, -1j])


@pytest.mark.parametrize("regularizer", ["none", "r1", "r2"])
@pytest.mark.parametrize("loss", sorted(F_PRIME))
def test_a_simultaneous_step_is_h_times_the_field(loss, regularizer):
    """The model's real training step (autograd through G, D and the shared penalties)
    moves (theta, psi) by exactly h v(theta, psi) of the closed field."""
    model = build(loss=loss, regularizer=regularizer, theta0=0.7, psi0=-0.4, lr=0.05)
    v_theta, v_psi = vector_field(
        torch.tensor(0.7, dtype=torch.float64),
        torch.tensor(-0.4, dtype=torch.float64),
        loss,
        regularizer,
    )
    terms = model.train_step(model.data.sample(4, model.rng))
    assert terms["theta"] == pytest.approx(0.7 + 0.05 * float(v_theta.detach()), abs=1e-6)
    assert terms["psi"] == pytest.approx(-0.4 + 0.05 * float(v_psi.detach()), abs=1e-6)


# ------------------------------------------------------------------ training
def test_simultaneous_updates_move_away_from_the_equilibrium():
    distances = run(build(updates="simultaneous"), 250)
    assert distances[-1] > 1.25 and distances[-1] > distances[100] > distances[0] > 1.0


def test_alternating_updates_stay_bounded_near_the_start_radius():
    distances = run(build(updates="alternating"), 300)  # two and a half turns
    assert 0.95 < min(distances) and max(distances) < 1.05


def test_r1_converges():
    distances = run(build(regularizer="r1", gamma=1.0), 250)
    assert distances[-1] < 2e-4 and distances[-1] < distances[150] < distances[50] < 1.0


def test_the_terms_and_wgans_clip():
    model = build(loss="wasserstein", psi0=0.9)
    batch = model.data.sample(4, model.rng)
    terms = model.train_step(batch)
    assert {"loss_d", "loss_g", "theta", "psi", "distance"} <= set(terms)
    assert terms["distance"] == pytest.approx(math.hypot(terms["theta"], terms["psi"]))
    for _ in range(50):
        assert abs(model.train_step(batch)["psi"]) <= 1.0
    r1 = build(regularizer="r1", gamma=2.0, psi0=0.5).train_step(batch)
    assert r1["r1_penalty"] == pytest.approx(0.25) and r1["loss_d"] > r1["r1_penalty"]


def test_instance_noise_is_seeded_and_drawn_from_the_rng():
    a, b = build(regularizer="instance-noise"), build(regularizer="instance-noise")
    assert run(a, 20) == run(b, 20)
    b.rng.manual_seed(99)
    assert run(a, 5) != run(b, 5)


def test_the_halves_of_a_step_move_one_parameter_each():
    model = build(theta0=0.5, psi0=0.5)
    x = model.data.sample(8, model.rng)
    critic = model.train_part("critic", x)
    assert critic["theta"] == 0.5 and critic["psi"] != 0.5 and int(model.steps_taken) == 0
    generator = model.train_part("generator", x)
    assert generator["psi"] == critic["psi"] and generator["theta"] != 0.5


def test_bad_settings_are_refused_with_a_message():
    with pytest.raises(hpm.HyperparameterError, match="gamma=0 is no regulariser"):
        DiracGAN.Config(regularizer="r1", gamma=0.0)
    with pytest.raises(hpm.HyperparameterError, match="noise_std > 0"):
        DiracGAN.Config(regularizer="instance-noise", noise_std=0.0)
    model = build(psi0=0.5)
    with torch.no_grad():
        model.theta.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="loss_d"):
        run(model, 1)
    assert float(model.psi.detach()) == 0.5  # refused before any update


# ------------------------------------------------------------------ session and data
def test_only_the_dirac_gan_trains_on_the_point_mass():
    assert ALL_DATASETS["dirac"].kind == "point"
    for name, cls in MODELS.items():
        assert cls.fits(ALL_DATASETS["dirac"]) == (name == "dirac-gan"), name
    assert not DiracGAN.fits(ALL_DATASETS["moons"])
    with pytest.raises(ValueError, match="gan cannot train on the point mass dirac"):
        Session("gan", "dirac")


def test_heldout_distance_is_the_distance_to_the_equilibrium():
    session = Session("dirac-gan", "dirac", {"updates": "alternating"}, seed=0, device="cpu")
    session.run(30)
    metrics = session.evaluate(record=False)
    assert metrics["distance"] == pytest.approx(session.last_terms["distance"], rel=1e-6)
    assert session.available_views == ["dirac_field", "curves"]


def test_train_prints_the_distance_and_refuses_other_models(capsys):
    """Needs the manifest regenerated with dirac-gan (``python -m playground.checks --write``)."""
    import json

    from playground.cli import main

    assert main(["train", "dirac-gan", "dirac", "--steps", "20", "--set", "regularizer=r1"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 < out["distance"] < 1 and out["hyperparameters"]["regularizer"] == "r1"
    assert main(["train", "wgan", "dirac", "--steps", "1"]) == 2
    assert "wgan cannot train on the point mass dirac" in capsys.readouterr().err


@pytest.fixture(scope="module")
def session():
    s = Session("dirac-gan", "dirac", {"regularizer": "r1"}, seed=0, device="cpu")
    s.run(20)
    return s


def test_the_picture_holds_the_field_and_the_trajectory(session):
    f = session.snapshot(["dirac_field"]).dirac_field
    assert f.starts.shape == f.field.shape == (17 * 17, 2)
    assert f.trajectory.shape == (22, 2)  # start, 20 steps, now
    np.testing.assert_allclose(f.trajectory[0], [1.0, 0.0])
    np.testing.assert_allclose(
        f.point, [session.last_terms["theta"], session.last_terms["psi"]], atol=1e-6
    )
    assert f.box == (-2.0, 2.0, -2.0, 2.0) and f.clip is None and f.regularizer == "r1"
    # R1 damps psi: at (0, 1) the field points down
    i = int(np.argmin(np.linalg.norm(f.starts - [0.0, 1.0], axis=1)))
    assert f.field[i, 1] < 0


def test_the_view_draws_arrows_and_the_path_grows(qtbot, session):
    pytest.importorskip("pytestqt")
    from playground.app.views.dirac_field import DiracFieldView

    view = DiracFieldView()
    qtbot.addWidget(view)
    view.show_snapshot(session.snapshot(["dirac_field"]))
    assert view.arrow_count == 17 * 17 and len(view.arrows.xData) == 6 * 17 * 17
    before = view.path.xData.copy()
    assert "distance to (0, 0)" in view.headline.text() and "R1 (γ = 1)" in view.caption.text()
    session.run(5)
    view.show_snapshot(session.snapshot(["dirac_field"]))
    assert len(view.path.xData) == len(before) + 5
    assert f"step {session.step_count}" in view.headline.text()
    view.clear()
    assert view.arrow_count == 0 and view.headline.text() == ""


def test_the_explain_panel_shows_the_regulariser_only_when_on():
    pytest.importorskip("matplotlib")
    from playground.app.explain.adversarial import gan_objective
    from playground.app.explain.objectives import objective_for

    plain = objective_for("dirac-gan", DiracGAN.Config())
    assert {"loss_d", "loss_g", "distance"} <= {line.term for line in plain.lines}
    assert "r1_penalty" not in {line.term for line in plain.lines}
    r1 = objective_for("dirac-gan", DiracGAN.Config(regularizer="r1", gamma=1.0))
    assert "r1_penalty" in {line.term for line in r1.lines}
    assert any("λ = -0.5 ± 0" in line.note for line in r1.lines)
    gan = MODELS["gan"].Config
    assert "r1_penalty" not in {line.term for line in gan_objective("gan", gan()).lines}
    on = gan_objective("gan", gan(r1=10.0, r2=1.0, instance_noise=0.1))
    terms = [line.term for line in on.lines]
    assert terms.index("r1_penalty") == terms.index("loss_d_fake") + 1 and "r2_penalty" in terms
    assert on.lines[0].tex.endswith("+ R_1 + R_2") and "Mescheder" in on.source
    assert any("instance noise" in line.note for line in on.lines)


@pytest.mark.slow  # a whole window: about 10 s
def test_the_window_offers_the_dirac_tab_and_its_path_grows_while_playing(qtbot, open_window):
    pytest.importorskip("pytestqt")
    window = open_window("dirac-gan", "dirac")
    assert window.tab_names == ["dirac_field", "curves"] and window.info.datasets == ["dirac"]
    view = window.views["dirac_field"]  # the first tab: on show from the start
    qtbot.waitUntil(lambda: view.field is not None, timeout=30_000)
    before = len(view.path.xData)
    window.transport.play.click()
    qtbot.waitUntil(lambda: window.step >= 30, timeout=30_000)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=30_000)
    qtbot.waitUntil(lambda: len(view.path.xData) > before + 20, timeout=30_000)
    assert view.arrow_count == 17 * 17
