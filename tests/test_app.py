"""The desktop app, offscreen: training, transport, hyperparameters, views, errors, teardown."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from playground.app.main_window import MainWindow  # noqa: E402
from playground.core.models import get_model_class  # noqa: E402
from playground.core.models.base import NonFiniteLossError  # noqa: E402

TIMEOUT = 30_000


def density(window: MainWindow) -> np.ndarray:
    """A copy of the density view's image array."""
    return np.array(window.views["density"].image.image, copy=True)


def steps(window: MainWindow) -> int:
    """The worker's step count (an int read across threads)."""
    return window.worker.session.step_count


def train(qtbot, window: MainWindow, n: int) -> None:
    """Play until ``n`` steps are drawn, then pause and wait for the paused frame."""
    window.transport.play.click()
    qtbot.waitUntil(lambda: window.step >= n, timeout=TIMEOUT)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)


def test_default_window_opens_and_trains(qtbot, open_window):
    window = open_window("realnvp", "moons")
    assert window.info.model == "realnvp" and window.info.dataset == "moons"
    assert window.step == 0
    before = density(window)

    def rate() -> float:
        """The speed label's steps/s while playing (-1 when it shows something else)."""
        number, _, unit = window.speed_label.text().partition(" ")
        return float(number.replace(",", "")) if unit == "steps/s" else -1.0

    window.transport.play.click()
    qtbot.waitUntil(lambda: window.step >= 50 and rate() > 0, timeout=TIMEOUT)
    assert window.frame.playing
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)
    assert window.speed_label.text() == "paused"
    assert window.step >= 50
    assert not np.array_equal(before, density(window))
    assert "loss" in window.terms_label.text()


def test_pause_stops_the_step_count(qtbot, open_window):
    window = open_window(paused=False)
    qtbot.waitUntil(lambda: steps(window) > 5, timeout=TIMEOUT)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.worker.playing, timeout=TIMEOUT)
    paused_at = steps(window)
    qtbot.wait(400)
    assert steps(window) == paused_at
    assert window.transport.play.text() == "Play"


def test_single_step_advances_by_exactly_one(qtbot, open_window):
    window = open_window()
    for expected in (1, 2):
        window.transport.step.click()
        qtbot.waitUntil(lambda expected=expected: window.step == expected, timeout=TIMEOUT)
    qtbot.wait(200)
    assert steps(window) == 2 and window.step == 2


def test_reset_returns_to_step_zero_and_the_initial_image(qtbot, open_window):
    window = open_window()
    initial = density(window)
    train(qtbot, window, 20)
    assert not np.array_equal(initial, density(window))
    window.transport.reset.click()
    qtbot.waitUntil(lambda: window.step == 0 and window.frame.generation == 2, timeout=TIMEOUT)
    np.testing.assert_array_equal(density(window), initial)


def test_non_finite_loss_pauses_and_names_step_and_term(qtbot, open_window, monkeypatch):
    cls = get_model_class("realnvp")
    original = cls.train_step

    def diverging(self, batch):
        if int(self.steps_taken) >= 7:
            raise NonFiniteLossError("loss", float("nan"))
        return original(self, batch)

    monkeypatch.setattr(cls, "train_step", diverging)
    window = open_window(paused=False)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=TIMEOUT)
    text = window.banner.text()
    assert "step 8" in text and "non-finite" in text
    assert str(NonFiniteLossError("loss", float("nan"), 8)) in text  # the error's own words
    assert "step 8" in window.statusBar().currentMessage()
    assert not window.worker.playing and not window.transport.play.isChecked()
    assert steps(window) == 7


def test_live_learning_rate_change_keeps_training(qtbot, open_window):
    window = open_window(paused=False)
    window.confirm = lambda question: pytest.fail(f"a live change asked: {question}")
    qtbot.waitUntil(lambda: steps(window) > 10, timeout=TIMEOUT)
    generation = window.worker.generation
    lr = window.config.lr / 2
    window.form.editors["lr"].setValue(lr)
    qtbot.waitUntil(lambda: window.worker.session.config.lr == lr, timeout=TIMEOUT)
    at_change = steps(window)
    qtbot.waitUntil(lambda: steps(window) > at_change + 10, timeout=TIMEOUT)
    assert window.worker.generation == generation
    assert window.form.value("lr") == lr


def test_architecture_change_asks_then_resets(qtbot, open_window):
    window = open_window()
    train(qtbot, window, 5)
    questions: list[str] = []
    layers = window.config.n_layers
    window.confirm = lambda q: questions.append(q) or False
    window.form.editors["n_layers"].setValue(layers + 2)
    assert "n_layers" in questions[0] and "rebuilds the model" in questions[0]
    assert window.form.value("n_layers") == layers  # said no: the form reverts
    qtbot.wait(200)
    assert window.worker.session.config.n_layers == layers and steps(window) >= 5

    window.confirm = lambda q: questions.append(q) or True
    window.form.editors["n_layers"].setValue(layers + 2)
    qtbot.waitUntil(lambda: window.worker.session.config.n_layers == layers + 2, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.step == 0, timeout=TIMEOUT)
    assert len(questions) == 2 and steps(window) == 0


def test_bad_value_is_refused_with_a_message(qtbot, open_window):
    window = open_window()
    lr = window.config.lr
    window.form.editors["lr"].setValue(5.0)
    assert window.banner.isVisible() and "lr" in window.banner.text()
    assert "maximum" in window.banner.text()
    assert window.form.value("lr") == pytest.approx(lr)
    qtbot.wait(100)
    assert window.worker.session.config.lr == lr


def test_model_change_rebuilds_and_filters_datasets(qtbot, open_window):
    window = open_window()
    panel = window.session_panel
    assert "U1" in panel.datasets_for("realnvp")
    panel.model.setCurrentIndex(panel.model.findData("glow"))
    panel.model.activated.emit(panel.model.currentIndex())
    qtbot.waitUntil(lambda: window.info.model == "glow", timeout=TIMEOUT)
    assert window.info.dataset == "8gaussians"
    assert "n_blocks" in window.form.editors
    names = [panel.dataset.itemData(i) for i in range(panel.dataset.count())]
    assert names == panel.datasets_for("glow")


def test_trajectory_slider_changes_the_drawn_points(qtbot, open_window):
    window = open_window()
    view = window.views["trajectory"]
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: view._last is not None, timeout=TIMEOUT)
    train(qtbot, window, 10)
    layers = window.config.n_layers
    assert view.slider.value() == view.slider.maximum() == layers
    x_end = np.array(view.particles.getData()[0], copy=True)
    view.slider.setValue(0)
    x_base = np.array(view.particles.getData()[0], copy=True)
    assert x_end.shape == x_base.shape and not np.allclose(x_end, x_base)
    assert view.layer_label.text().startswith(f"0 / {layers}")
    view.direction.setCurrentIndex(1)
    assert not np.allclose(view.particles.getData()[0], x_base)


def test_curves_show_the_loss_and_metrics(qtbot, open_window):
    window = open_window()
    window.worker.pacing.eval_seconds = 0.2  # evaluate soon after Play
    view = window.views["curves"]
    window.tabs.setCurrentIndex(window.tab_names.index("curves"))
    train(qtbot, window, 30)
    qtbot.waitUntil(lambda: "nll_gap" in view.curves, timeout=TIMEOUT)
    # a flow's loss is its nll: drawn once, under the model's word
    steps_drawn, loss = view.curves["nll"].getData()
    assert len(loss) >= 30 and steps_drawn[-1] >= 30 and np.isfinite(loss).all()


def test_closing_mid_training_joins_the_worker(qtbot, open_window):
    window = open_window(paused=False)
    qtbot.waitUntil(lambda: steps(window) > 5, timeout=TIMEOUT)
    window.close()
    assert window.worker_thread.thread.isFinished()
    assert not window.worker._snapshotter.is_alive()


def test_form_steps_log_fields_on_a_ladder_within_bounds(qtbot):
    from playground.app.panels import HyperparameterForm
    from playground.core import hyperparameters as hpm

    config_cls = get_model_class("realnvp").Config
    form = HyperparameterForm()
    qtbot.addWidget(form)
    form.build("realnvp", hpm.fields_info(config_cls), hpm.from_dict(config_cls, {"lr": 0.002}))
    edits: list[tuple[str, object]] = []
    form.edited.connect(lambda name, value: edits.append((name, value)))
    lr, batch = form.editors["lr"], form.editors["batch_size"]
    lr.stepBy(1)
    batch.stepBy(-1)
    assert form.value("lr") == pytest.approx(0.005)
    assert form.value("batch_size") == hpm.from_dict(config_cls).batch_size // 2
    lr.stepBy(100)
    assert form.value("lr") == 1.0  # the field's maximum
    assert [name for name, _ in edits] == ["lr", "batch_size", "lr"]
    form.show_config(hpm.from_dict(config_cls))
    assert len(edits) == 3  # mirroring the session does not signal


def test_the_window_module_does_not_import_torch():
    """The window shows before torch is imported (about a second on a laptop): no view or
    menu may pull it in at import time."""
    import subprocess
    import sys

    code = "import sys, playground.app.main_window; print('torch' in sys.modules)"
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
