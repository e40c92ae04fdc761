"""The EBM's energy view: the snapshot's energy grid, negatives read back from the replay
buffer (also in a state_dict copy), the buffer subsample, and the widget's three layers."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from playground.core.snapshots import Snapshot
from playground.core.snapshots.energy import BUFFER_POINTS, EnergyImage, energy_image
from playground.core.training.session import Session

SMALL = {"hidden": 32, "depth": 2, "batch_size": 64, "langevin_steps": 5}


def ebm_session(**values) -> Session:
    return Session("ebm", "8gaussians", {**SMALL, **values})


def image_of(session: Session, resolution: int = 48) -> EnergyImage:
    overlay = session._overlay[:300].numpy()
    return energy_image(session.model, session.data, session.device, overlay, {}, resolution)


# ------------------------------------------------------------------ core
def test_energy_image_shapes_minimum_zero_and_target():
    session = ebm_session()
    session.run(3)
    img = image_of(session)
    assert img.energy.shape == (48, 48) and img.energy.dtype == np.float32
    assert img.energy.min() == 0.0 and np.isfinite(img.energy).all()
    assert img.energy.max() > 0.0
    assert img.xs.shape == img.ys.shape == (48,)
    assert img.negatives.shape == (64, 2) and img.negatives.dtype == np.float32
    assert img.buffer.shape == (3 * 64, 2) and img.buffer_fill == 3 * 64
    assert img.buffer_size == 10_000
    assert img.data.shape == (300, 2)
    # 8gaussians has an exact density: its grid comes along, finite
    assert img.target_log_prob.shape == (48, 48) and np.isfinite(img.target_log_prob).all()
    # the energy is shifted, not rescaled: differences are the model's, in nats
    pts = torch.tensor([[img.xs[0], img.ys[0]], [img.xs[-1], img.ys[-1]]])
    with torch.no_grad():
        e = session.model.energy(pts)
    assert img.energy[-1, -1] - img.energy[0, 0] == pytest.approx(float(e[1] - e[0]), abs=1e-4)


def test_before_the_first_step_there_are_no_negatives_and_an_empty_buffer():
    img = image_of(ebm_session())
    assert img.negatives.shape == (0, 2) and img.buffer.shape == (0, 2)
    assert img.buffer_fill == 0


@pytest.mark.parametrize("buffer_size", [10_000, 150, 40])
def test_negatives_are_the_last_steps_even_after_the_ring_wraps(buffer_size):
    session = ebm_session(buffer_size=buffer_size)
    model = session.model
    captured = []
    run = model.run_chains

    def record(x0, n_steps, generator):
        out = run(x0, n_steps, generator)
        captured.append(out.clone())
        return out

    model.run_chains = record
    for steps in (1, 3):
        session.run(steps)
        img = image_of(session)
        # a batch larger than the buffer keeps only its last buffer_size negatives
        expected = captured[-1][-buffer_size:].numpy()
        np.testing.assert_array_equal(img.negatives, expected)
        np.testing.assert_array_equal(model.negatives.numpy(), expected)
    assert int(model.buffer_fill) == min(4 * 64, buffer_size)


def test_buffer_subsample_is_at_most_1000_points_and_deterministic():
    session = ebm_session(batch_size=512, buffer_size=2000, langevin_steps=1)
    session.run(3)
    a, b = image_of(session), image_of(session)
    assert a.buffer_fill == 1536 and a.buffer.shape == (BUFFER_POINTS, 2)
    np.testing.assert_array_equal(a.buffer, b.buffer)
    # every drawn point is one of the buffer's
    filled = session.model.replay_buffer_points().numpy()
    assert (a.buffer[:, None, :] == filled[None, :, :]).all(-1).any(1).all()
    session.run(1)
    assert image_of(session).buffer_fill == 2000


def test_a_state_dict_copy_carries_the_negatives():
    # the app's snapshots run on a deep copy refreshed by copying state_dict values in place
    session = ebm_session(buffer_size=100)
    session.run(1)
    model = session.model
    shadow = copy.deepcopy(model)
    session.run(2)
    assert not torch.equal(shadow.last_negatives(), model.last_negatives())
    with torch.no_grad():
        for a, b in zip(shadow.state_dict().values(), model.state_dict().values(), strict=True):
            a.copy_(b)
    assert torch.equal(shadow.last_negatives(), model.last_negatives())
    assert shadow.last_negatives().shape == (64, 2)
    mine = energy_image(shadow, session.data, session.device, None, None, 32)
    theirs = energy_image(model, session.data, session.device, None, None, 32)
    np.testing.assert_array_equal(mine.negatives, theirs.negatives)
    np.testing.assert_array_equal(mine.buffer, theirs.buffer)
    np.testing.assert_array_equal(mine.energy, theirs.energy)


# ------------------------------------------------------------------ widget
pytest.importorskip("pytestqt")

BOX = (-4.0, 4.0, -4.0, 4.0)


def fake_snapshot(n_data=30, n_buffer=200, n_negatives=64, fill=812, size=10_000):
    rng = np.random.default_rng(0)
    axis = np.linspace(-4, 4, 40, dtype=np.float32)
    energy = (axis[None, :] ** 2 + axis[:, None] ** 2).astype(np.float32)
    energy = energy - energy.min()

    def pts(n):
        return rng.normal(size=(n, 2)).astype(np.float32)

    image = EnergyImage(
        energy=energy,
        xs=axis,
        ys=axis,
        negatives=pts(n_negatives),
        buffer=pts(n_buffer),
        buffer_fill=fill,
        buffer_size=size,
        data=pts(n_data),
        target_log_prob=None,
    )
    return Snapshot(step=0, box=BOX, energy=image)


def test_energy_view_draws_three_layers_and_the_caption(qtbot):
    from playground.app.views.energy import BAR_LABEL, EnergyView, energy_levels

    view = EnergyView()
    qtbot.addWidget(view)
    assert view.name == "energy"
    snap = fake_snapshot()
    assert view.accepts(snap)
    assert not view.accepts(Snapshot(step=0, box=BOX, energy=None))
    view.show_snapshot(snap)
    assert len(view.data.data) == 30
    assert len(view.buffer.data) == 200
    assert len(view.negatives.data) == 64
    assert view.caption.text() == "replay buffer 812 / 10000 points; 64 negatives"
    assert "200 of the buffer's 812" in view.caption.toolTip()
    assert view.bar.getAxis("right").labelText == BAR_LABEL
    # levels start at the minimum 0 and top out at a round number above most energies
    assert view.levels == energy_levels(snap.energy.energy)
    assert view.levels[0] == 0.0 and view.levels[1] >= np.percentile(snap.energy.energy, 95)
    np.testing.assert_array_equal(view.image.image, snap.energy.energy)
    view.show_snapshot(fake_snapshot(n_buffer=812))
    assert view.caption.toolTip() == "every point of the buffer is drawn"
    # a long caption never widens the window
    assert view.minimumSizeHint().width() < 500


def test_checkboxes_hide_and_show_each_layer(qtbot):
    from playground.app.views.energy import EnergyView

    view = EnergyView()
    qtbot.addWidget(view)
    view.show_snapshot(fake_snapshot())
    layers = {
        view.show_data: view.data,
        view.show_buffer: view.buffer,
        view.show_negatives: view.negatives,
    }
    assert all(item.isVisible() for item in layers.values())
    for box, item in layers.items():
        box.setChecked(False)
        assert not item.isVisible()
        assert all(other.isVisible() for other in layers.values() if other is not item)
        # a new snapshot keeps the hidden layer hidden
        view.show_snapshot(fake_snapshot())
        assert not item.isVisible()
        box.setChecked(True)
        assert item.isVisible()


def test_clear_and_a_snapshot_without_data(qtbot):
    from playground.app.views.energy import EnergyView

    view = EnergyView()
    qtbot.addWidget(view)
    view.show_snapshot(fake_snapshot())
    view.clear()
    assert view.image.image is None and len(view.negatives.data) == 0
    assert view.caption.text() == ""
    snap = fake_snapshot()
    snap = snap.with_parts(energy=EnergyImage(**{**snap.energy.__dict__, "data": None}))
    view.show_snapshot(snap)
    assert len(view.data.data) == 0 and not view.show_data.isEnabled()
    view.show_snapshot(Snapshot(step=1, box=BOX, energy=None))  # ignored
    assert len(view.negatives.data) == 64
