"""The GAN views of the desktop app, offscreen: critic, manifold, modes, half steps, slow motion."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from playground.app.main_window import MainWindow  # noqa: E402
from playground.app.views import CriticView, ManifoldView, ModesView  # noqa: E402
from playground.app.views.critic import ARROW_FRACTION, arrow_segments, critic_levels  # noqa: E402
from playground.app.views.manifold import NO_MANIFOLD_TEXT  # noqa: E402
from playground.app.views.modes import summary_text  # noqa: E402
from playground.core.metrics.modes import ModeCoverage
from playground.core.snapshots.base import Snapshot  # noqa: E402
from playground.core.snapshots.critic import CriticImage, GeneratorGradients
from playground.core.snapshots.manifold import Manifold
from playground.core.snapshots.samples import SampleCloud  # noqa: E402

TIMEOUT = 30_000
BOX = (-2.0, 2.0, -2.0, 2.0)


def critic_snapshot(values: np.ndarray, label: str = "D(x)", gradients=None) -> Snapshot:
    res = values.shape[0]
    axis = np.linspace(-2, 2, res, dtype=np.float32)
    rng = np.random.default_rng(0)
    critic = CriticImage(
        values=values.astype(np.float32),
        xs=axis,
        ys=axis,
        label=label,
        real=rng.normal(size=(50, 2)).astype(np.float32),
        fake=rng.normal(size=(40, 2)).astype(np.float32),
    )
    return Snapshot(step=3, box=BOX, critic=critic, gradients=gradients)


# ------------------------------------------------------------------ widgets
def test_critic_view_levels_colorbar_and_samples(qtbot):
    view = CriticView()
    qtbot.addWidget(view)
    x = np.linspace(-2, 2, 32, dtype=np.float32)
    d = 1 / (1 + np.exp(-(x[None, :] + x[:, None])))
    view.show_snapshot(critic_snapshot(d))
    assert view.image.levels is not None and tuple(view.image.levels) == (0.0, 1.0)
    assert tuple(view.bar.levels()) == (0.0, 1.0)
    assert view.bar.getAxis("right").labelText == "D(x)"
    assert "colour range: D(x) from 0 to 1" in view.caption.text()
    assert len(view.real.data) == 50 and len(view.fake.data) == 40
    assert view.arrow_count == 0  # the toggle is off

    values = 5.0 * (x[None, :] - x[:, None])
    values[0, 0] = 1e6  # an outlier does not set the range
    view.show_snapshot(critic_snapshot(values, label="critic"))
    low, high = view.levels
    assert low == -high and 10 <= high <= 25
    assert view.bar.getAxis("right").labelText == "critic"


def test_critic_levels_follow_a_drifting_wasserstein_critic():
    values = 100.0 + np.linspace(-1, 1, 400).reshape(20, 20)
    low, high = critic_levels(values, "critic")
    assert low < 100 < high and high - low < 5
    low, high = critic_levels(values / 200, "D(x)")  # 0.495 .. 0.505
    assert (low, high) == (0.49, 0.51)


def test_generator_gradient_arrows(qtbot):
    view = CriticView()
    qtbot.addWidget(view)
    parts: list[tuple[str, ...]] = []
    view.parts_changed.connect(lambda: parts.append(view.snapshot_parts()))
    view.arrows_box.setChecked(True)
    assert parts == [("critic", "gradients")]
    rng = np.random.default_rng(1)
    fake = rng.normal(size=(25, 2)).astype(np.float32)
    direction = rng.normal(size=(25, 2)).astype(np.float32)
    g = GeneratorGradients(fake=fake, direction=direction)
    view.show_snapshot(critic_snapshot(np.full((16, 16), 0.5), gradients=g))
    assert view.arrow_count == 25
    x, y = view.arrows.getData()
    assert len(x) == 25 * 6  # shaft and two barbs per arrow, as line pairs
    shafts = np.hypot(x[1::6] - x[0::6], y[1::6] - y[0::6])
    assert shafts.max() == pytest.approx(ARROW_FRACTION * (BOX[1] - BOX[0]), rel=1e-5)
    np.testing.assert_allclose(x[0::6], fake[:, 0], rtol=1e-6)
    view.arrows_box.setChecked(False)
    assert view.arrow_count == 0 and parts[-1] == ("critic",)


def test_arrow_segments_keep_relative_lengths():
    x, y = arrow_segments(np.zeros((2, 2)), np.array([[2.0, 0.0], [0.0, -1.0]]), 0.4)
    assert (x[1], y[1]) == pytest.approx((0.4, 0.0))
    assert (x[7], y[7]) == pytest.approx((0.0, -0.2))


def test_manifold_view_draws_the_warped_grid(qtbot):
    view = ManifoldView()
    qtbot.addWidget(view)
    view.show()
    lines = np.random.default_rng(2).normal(size=(30, 60, 2)).astype(np.float32)
    samples = SampleCloud(model=lines[0], data=lines[1])
    snap = Snapshot(step=1, box=BOX, manifold=Manifold(lines, 2), samples=samples)
    assert view.accepts(snap)
    view.show_snapshot(snap)
    x, y = view.grid.getData()
    np.testing.assert_array_equal(x, lines[..., 0].ravel())
    assert view.grid.opts["connect"].sum() == 30 * 59  # no segment joins two lines
    assert len(view.fake.data) == 60 and not view.unavailable
    assert view.plot.getViewBox().viewRange()[0][0] <= BOX[0]

    # a latent of more than two dimensions: the view says what it needs
    empty = Snapshot(step=2, box=BOX, manifold=None, samples=samples)
    assert view.accepts(empty)
    assert not view.accepts(Snapshot(step=2, box=BOX, critic=critic_snapshot(lines[0]).critic))
    # a Samples frame arriving after a switch to this tab was made for another view: it is
    # not taken for "no manifold" (the snapshot says which views it was made for)
    assert not view.accepts(Snapshot(step=2, box=BOX, samples=samples))
    view.show_snapshot(empty)
    assert view.unavailable and "1D or 2D latent" in view.message.text()
    assert "1D or 2D latent" in NO_MANIFOLD_TEXT


def test_modes_view_bars_and_summary(qtbot):
    view = ModesView()
    qtbot.addWidget(view)
    counts = np.array([300, 280, 0, 310, 295, 305, 290, 300], dtype=np.int64)
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    m = ModeCoverage(
        counts=counts,
        means=np.stack([np.cos(angles), np.sin(angles)], 1).astype(np.float32),
        modes_captured=7,
        high_quality=0.931,
        mode_kl=0.0123,
    )
    view.show_snapshot(Snapshot(step=5, box=BOX, modes=m))
    np.testing.assert_array_equal(view.heights, counts)
    text = view.summary.text()
    assert text == summary_text(m)
    assert "modes captured 7 / 8" in text and "93.1%" in text and "0.012 nats" in text
    brushes = view.means.data["brush"]
    assert brushes[2].color() != brushes[0].color()  # the missed mode stands out


# ------------------------------------------------------------- the window
@pytest.fixture
def open_window(open_window):
    """The shared window opener of conftest.py, on ``gan`` / ``ring8`` by default."""

    def open_(model: str = "gan", dataset: str = "ring8", paused: bool = True):
        return open_window(model, dataset, paused)

    return open_


def show_tab(qtbot, window: MainWindow, name: str) -> None:
    """Make ``name`` the current tab and wait until it has drawn a frame."""
    drawn = window.draws[name]
    window.tabs.setCurrentIndex(window.tab_names.index(name))
    qtbot.waitUntil(lambda: window.draws[name] > drawn, timeout=TIMEOUT)


def networks(window: MainWindow) -> tuple[dict, dict]:
    """Copies of the critic's and the generator's weights (read only while paused)."""
    model = window.worker.session.model
    copy = lambda net: {k: v.detach().clone() for k, v in net.state_dict().items()}  # noqa: E731
    return copy(model.critic_net), copy(model.generator_net)


def changed(a: dict, b: dict) -> bool:
    return any(not np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


def test_gan_window_offers_the_adversarial_views(qtbot, open_window):
    window = open_window()
    names = window.tab_names
    assert {"critic", "manifold", "modes", "samples", "curves"} <= set(names)
    assert "density" not in names and "trajectory" not in names
    assert window.info.parts == ("critic", "generator")
    t = window.transport
    assert t.critic_step.isVisibleTo(t) and t.slow_motion.isVisibleTo(t)

    show_tab(qtbot, window, "critic")
    critic = window.views["critic"]
    image = np.array(critic.image.image, copy=True)
    show_tab(qtbot, window, "manifold")
    grid = np.array(window.views["manifold"].grid.getData()[0], copy=True)
    window.tabs.setCurrentIndex(window.tab_names.index("critic"))
    window.transport.play.click()
    qtbot.waitUntil(lambda: window.step >= 40, timeout=TIMEOUT)
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)
    assert not np.array_equal(image, critic.image.image)
    show_tab(qtbot, window, "manifold")
    assert not np.array_equal(grid, window.views["manifold"].grid.getData()[0])

    show_tab(qtbot, window, "critic")
    critic.arrows_box.setChecked(True)  # asks the worker for the gradients too
    qtbot.waitUntil(lambda: critic.arrow_count > 0, timeout=TIMEOUT)


def test_half_steps_update_one_network_each(qtbot, open_window):
    window = open_window()
    critic_before, generator_before = networks(window)
    window.transport.critic_step.click()
    qtbot.waitUntil(lambda: window.step == 1, timeout=TIMEOUT)
    critic_after, generator_after = networks(window)
    assert changed(critic_before, critic_after)
    assert not changed(generator_before, generator_after)

    window.transport.generator_step.click()
    qtbot.waitUntil(lambda: window.step == 2, timeout=TIMEOUT)
    critic_last, generator_last = networks(window)
    assert not changed(critic_after, critic_last)
    assert changed(generator_after, generator_last)


def test_slow_motion_shows_both_halves_and_still_pauses_and_closes(qtbot, open_window):
    window = open_window()
    window.transport.slow_motion.setChecked(True)
    window.transport.play.click()
    first_seen: dict[int, float] = {}

    def drawn_two_halves() -> bool:
        first_seen.setdefault(window.step, time.perf_counter())
        return window.step >= 2

    qtbot.waitUntil(drawn_two_halves, timeout=TIMEOUT)
    # the critic half is drawn alone, and the generator half ~0.5 s later
    assert 1 in first_seen and first_seen[window.step] - first_seen[1] > 0.3
    window.transport.play.click()
    qtbot.waitUntil(lambda: not window.frame.playing, timeout=TIMEOUT)
    paused_at = window.worker.session.step_count
    qtbot.wait(700)
    assert window.worker.session.step_count == paused_at <= 4  # half steps, ~0.5 s apart
    window.transport.slow_motion.setChecked(False)
    window.transport.play.click()
    qtbot.waitUntil(lambda: window.worker.session.step_count > paused_at + 20, timeout=TIMEOUT)
    window.transport.slow_motion.setChecked(True)
    qtbot.wait(200)
    window.close()
    assert window.worker_thread.thread.isFinished()
    assert not window.worker._snapshotter.is_alive()
