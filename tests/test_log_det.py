"""The log-det picture and view: the change of variables of a flow, layer by layer (Dinh et
al. 2016, eq. 3), added through the picture registry and the view list."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from playground.core.snapshots import PICTURES, Snapshot
from playground.core.snapshots.log_det import LogDetBars, log_det_bars
from playground.core.training import Session

FLOWS = ["realnvp", "maf", "iaf", "planar", "glow"]


@pytest.mark.parametrize("name", FLOWS)
def test_layer_terms_sum_to_log_prob(name):
    s = Session(name, "moons" if name not in ("planar", "iaf") else "U1", {"batch_size": 64})
    s.run(3)
    x = torch.randn(50, 2)
    with torch.no_grad():
        log_base, log_dets = s.model.layer_log_dets(x)
        log_q = s.model.log_prob(x)
    assert log_base.shape == (50,) and log_dets.shape == (len(s.model.layers), 50)
    torch.testing.assert_close(log_base + log_dets.sum(0), log_q, rtol=1e-5, atol=1e-4)


def test_the_bars_sum_to_minus_the_nll_of_the_test_points():
    s = Session("realnvp", "moons", {"batch_size": 64})
    s.run(20)
    snap = s.snapshot(["log_det"])
    bars = snap.log_det
    assert isinstance(bars, LogDetBars) and snap.made_for("log_det")
    assert len(bars.names) == len(bars.layers) == len(s.model.layers)
    x = s.snapshot_context().overlay[:500]
    with torch.no_grad():
        mean_log_q = float(s.model.log_prob(x).double().mean())
    assert bars.nll == pytest.approx(-mean_log_q, abs=1e-4)
    assert bars.base + bars.layers.sum() == pytest.approx(-bars.nll, abs=1e-9)
    assert bars.points == 500 and not bars.from_model
    # the names run in the order a data point meets the layers: the reverse of the
    # trajectory's z-to-x names
    assert bars.names == tuple(reversed(s.model.layer_names()))


def test_an_energy_target_uses_model_samples():
    s = Session("planar", "U1", {"batch_size": 64})
    s.run(3)
    bars = s.snapshot(["log_det"]).log_det
    assert bars.from_model and bars.points > 0 and np.isfinite(bars.nll)


def test_a_non_finite_point_is_left_out_of_every_mean():
    s = Session("realnvp", "moons", {"batch_size": 64})
    x = torch.tensor([[0.1, 0.2], [float("nan"), 0.0], [0.5, -0.3]])
    bars = log_det_bars(s.model, x)
    assert bars.points == 2 and np.isfinite(bars.nll)


def test_only_flows_offer_it():
    assert PICTURES["log_det"].needs == ("layers",)
    assert "log_det" in Session("maf", "8gaussians").available_views
    for model, data in (("gan", "ring8"), ("ddpm", "moons"), ("vae", "moons"), ("ebm", "moons")):
        assert "log_det" not in Session(model, data).available_views, model


def test_the_view_draws_the_bars_and_the_sum(qtbot):
    pytest.importorskip("pytestqt")
    from playground.app.views import VIEW_CLASSES
    from playground.app.views.log_det import LogDetView

    assert VIEW_CLASSES["log_det"] is LogDetView and LogDetView.title == "Log-det"
    s = Session("realnvp", "moons", {"batch_size": 64})
    s.run(5)
    view = LogDetView()
    qtbot.addWidget(view)
    view.show()
    snap = s.snapshot(["log_det"])
    assert view.accepts(snap)
    assert not view.accepts(Snapshot(step=0, box=snap.box, samples=None))
    view.show_snapshot(snap)
    bars = snap.log_det
    np.testing.assert_allclose(view.heights, [bars.base, *bars.layers])
    assert f"NLL {bars.nll:.3f} nats" in view.summary.text()
    s.run(30)
    later = s.snapshot(["log_det"])
    view.show_snapshot(later)
    assert not np.allclose(view.heights, [bars.base, *bars.layers])
    view.clear()
    assert view.heights.size == 0 and view.summary.text() == ""
