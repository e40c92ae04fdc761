"""WaveNet on mu-law waveforms: the companding and its levels, causality and the exact
receptive field (by gradients), probabilities that sum to one, an exact fast sampler, a
loss that falls, a Session with its views and held-out bits per step, a preset round trip,
and the Waveforms view (offscreen)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.data.sequences import (
    MU_LAW_LEVELS,
    Waveforms,
    dequantize,
    mu_law_decode,
    mu_law_encode,
    quantize,
)
from playground.core.models.autoregressive.base import AutoregressiveModel
from playground.core.models.autoregressive.wavenet import WaveNet
from playground.core.presets import load_preset, save_preset
from playground.core.snapshots import Snapshot
from playground.core.training import Session

#: a WaveNet small enough for quick tests: receptive field 1 + 1 + 2 + 4 = 8 steps
TINY = {"channels": 8, "skip_channels": 8, "layers": 3, "stacks": 1, "batch_size": 8}
SHORT = "waveforms:length=32"


def tiny(data=None, **values) -> WaveNet:
    data = data if data is not None else Waveforms(length=32)
    config = hpm.from_dict(WaveNet.Config, {**TINY, **values})
    torch.manual_seed(0)
    model = WaveNet(config, data)
    model.rng = torch.Generator().manual_seed(1)
    model.configure_optimizers()
    return model


# ------------------------------------------------------------------------ the data
def test_mu_law_round_trip_and_its_256_levels():
    x = torch.linspace(-1, 1, 20_001)
    y = mu_law_encode(x)
    assert float(y.abs().max()) == pytest.approx(1.0)
    torch.testing.assert_close(mu_law_decode(y), x, atol=1e-5, rtol=0)
    # eq. (2) at one point: f(0.5) = ln(1 + 127.5) / ln 256
    assert float(mu_law_encode(torch.tensor(0.5))) == pytest.approx(math.log(128.5) / math.log(256))
    k = quantize(y, MU_LAW_LEVELS)
    assert k.unique().numel() == 256 and int(k.min()) == 0 and int(k.max()) == 255
    assert torch.equal(quantize(dequantize(torch.arange(256), 256), 256), torch.arange(256))
    # companding spends more levels near 0: 0.01 and 0.02 of full scale are 4 levels apart
    small = quantize(mu_law_encode(torch.tensor([0.01, 0.02])), 256)
    assert int(small[1] - small[0]) >= 4


def test_waveforms_are_seeded_sequences_on_the_level_grid():
    data = make_dataset("waveforms")
    assert data.kind == "sequence" and not data.is_image and data.levels == 256
    assert data.test_examples.shape == (500, 1, 256) and data.dim == 256
    x = data.sample(64, torch.Generator().manual_seed(3))
    assert x.shape == (64, 1, 256) and x.dtype == torch.float32
    assert torch.equal(x, data.sample(64, torch.Generator().manual_seed(3)))
    assert torch.equal(dequantize(quantize(x, 256), 256), x)  # exactly on the grid
    assert float(x.abs().max()) <= 1.0 and float(x.std()) > 0.1
    short = make_dataset("waveforms:length=64,sample_rate=16000,levels=16")
    assert short.shape == (1, 64) and short.sample_rate == 16000 and short.levels == 16
    with pytest.raises(ValueError, match="length must be in 2..4096"):
        Waveforms(length=1)


# ------------------------------------------------------------------------ the model
def _embedding_gradients(model: WaveNet, x: torch.Tensor, t: int) -> torch.Tensor:
    """``|d log p(x_t | ...) / d e_j|`` summed over channels, ``(T,)``, with ``e_j`` the
    embedded input of step ``j`` (levels reach the network through the embedding)."""
    captured = {}

    def keep(_module, _inputs, out):
        out.retain_grad()
        captured["e"] = out

    handle = model.net.embed.register_forward_hook(keep)
    try:
        logp = torch.log_softmax(model.conditional_logits(x), -1)
        logp[0, t, model.to_levels(x)[0, t]].backward()
    finally:
        handle.remove()
    return captured["e"].grad[0].abs().sum(-1)


@pytest.mark.parametrize(("layers", "stacks", "kernel"), [(3, 1, 2), (2, 2, 3)])
def test_each_output_sees_exactly_the_receptive_field_before_it(layers, stacks, kernel):
    model = tiny(layers=layers, stacks=stacks, kernel_size=kernel)
    dilations = [2**i for _ in range(stacks) for i in range(layers)]
    r = 1 + (kernel - 1) * sum(dilations)
    assert model.receptive_field == r
    x = model.data.sample(1, torch.Generator().manual_seed(0))
    for t in (0, 3, r, 20, 31):
        seen = torch.nonzero(_embedding_gradients(model, x, t)).flatten().tolist()
        assert seen == list(range(max(0, t - r), t)), t


def test_the_default_receptive_field_is_127_steps():
    assert tiny(channels=32, skip_channels=64, layers=6, stacks=2).receptive_field == 127


@pytest.mark.parametrize("values", [{}, {"layers": 4, "stacks": 3, "kernel_size": 3}])
def test_the_explain_panel_states_the_models_receptive_field(values):
    from playground.app.explain.wavenet import wavenet_objective

    config = hpm.from_dict(WaveNet.Config, values)
    r = WaveNet(config, Waveforms(length=8)).receptive_field
    assert wavenet_objective(config).lines[-1].tex.endswith(f"= {r}")
    assert (r == 127) == (not values)


def test_probabilities_sum_to_one_over_every_sequence_of_a_tiny_case():
    model = tiny(Waveforms(length=2, levels=4))
    k = torch.tensor(list(itertools.product(range(4), repeat=2)))
    with torch.no_grad():
        p = model.log_prob_levels(model.from_levels(k)).exp()
    assert p.shape == (16,) and float(p.sum()) == pytest.approx(1.0, abs=1e-5)


def test_the_fast_sampler_draws_what_sampling_through_the_whole_network_draws():
    model = tiny().eval()
    fast = model.sample(6, torch.Generator().manual_seed(7))
    slow = AutoregressiveModel.sample(model, 6, torch.Generator().manual_seed(7))
    assert fast.shape == (6, 1, 32) and torch.equal(fast, slow)
    assert torch.equal(model.from_levels(model.to_levels(fast)), fast)


def test_bad_hyperparameters_are_refused():
    with pytest.raises(hpm.HyperparameterError, match="kernel_size"):
        hpm.from_dict(WaveNet.Config, {"kernel_size": 1})


def test_the_loss_falls_on_a_seeded_run():
    model = tiny(lr=1e-2)
    g = torch.Generator().manual_seed(0)
    first = [model.train_step(model.data.sample(8, g))["nll"] for _ in range(3)]
    for _ in range(20):
        last = model.train_step(model.data.sample(8, g))["nll"]
    assert last < min(first) - 0.1 * 32  # at least 0.1 nats per time step lower


# ------------------------------------------------------------------ session and views
@pytest.fixture(scope="module")
def session():
    s = Session("wavenet", SHORT, TINY, seed=0)
    s.run(3)
    return s


def test_a_session_trains_evaluates_bits_per_step_and_snapshots_its_views(session):
    views = session.available_views
    assert {"waveforms", "curves"} <= set(views)
    assert not {"grid", "samples", "density"} & set(views)
    metrics = session.evaluate(record=False)
    assert 0.0 < metrics["bits_per_dim"] < 8.5
    snap = session.snapshot(["waveforms", "curves"])
    w = snap.waveforms
    assert w.generated.shape == w.data.shape == (4, 32) and w.time.shape == (32,)
    assert w.generated_spectrogram.shape == w.data_spectrogram.shape
    assert np.isfinite(w.generated_spectrogram).all() and w.levels == 256
    floor, top = w.db_range
    assert w.data_spectrogram.min() >= floor - 1e-3 and top - floor == 60.0
    assert "bits_per_dim" in snap.curves


def test_the_receptive_field_picture_reads_a_sequence(session):
    rf = session.snapshot(["receptive_field"]).receptive_field
    assert rf.kind == "sequence" and rf.shape == (32,)
    row, r = rf.row(20), session.model.receptive_field
    assert (row[20:] == 0).all() and (row[: 20 - r] == 0).all()  # no future, no far past
    assert (row[20 - r : 20] > 0).all() and rf.reach(20) == r


def test_a_wavenet_preset_saves_and_opens(session, tmp_path):
    path = save_preset(session, tmp_path / "wavenet")
    loaded = load_preset(path, device="cpu")
    x = session.data.test_examples[:4]
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.model.conditional_logits(x), session.model.conditional_logits(x)
        )
    assert loaded.step_count == session.step_count and loaded.dataset_name == SHORT
    loaded.step()


def test_the_waveforms_view_draws_and_redraws(qtbot, session):
    from playground.app.views.waveforms import WaveformsView

    view = WaveformsView()
    qtbot.addWidget(view)
    w = session.snapshot(["waveforms"]).waveforms
    view.show_snapshot(Snapshot(session.step_count, (0, 1, -1, 1), {}, ["waveforms"], waveforms=w))
    assert len(view.curves["generated"]) == len(view.curves["data"]) == 4
    np.testing.assert_allclose(view.curves["data"][0].yData, w.data[0])
    np.testing.assert_allclose(view.curves["generated"][0].xData, 1000 * w.time)
    assert view.images["data"].image.shape == w.data_spectrogram.shape
    assert "256 levels" in view.caption.text()
    session.run(5)
    w2 = session.snapshot(["waveforms"]).waveforms
    view.show_snapshot(Snapshot(session.step_count, (0, 1, -1, 1), {}, ["waveforms"], waveforms=w2))
    assert len(view.curves["generated"]) == 4  # items reused, not added
    np.testing.assert_allclose(view.curves["generated"][0].yData, w2.generated[0])
    assert not np.array_equal(w2.generated, w.generated)
    view.clear()
    assert view.curves["generated"] == [] and view.caption.text() == ""
