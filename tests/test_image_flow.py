"""RealNVP on images and dequantization: every layer is a bijection whose log-det is
autograd's, the masks and the squeeze are what the paper draws, the dequantized likelihood
bounds the discrete one from above (Theis et al. 2016), and the model trains, evaluates in
bits per dimension and survives a preset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core import hyperparameters as hpm
from playground.core.data import make_dataset
from playground.core.data.discrete import from_levels
from playground.core.models import MODELS
from playground.core.models.flows.dequantization import (
    UniformDequantizer,
    VariationalDequantizer,
    dequantization_bound,
)
from playground.core.models.flows.image_coupling import (
    ImageActNorm,
    ImageAffineCoupling,
    LogitTransform,
    Squeeze,
    channel_mask,
    checkerboard_mask,
    squeeze,
    unsqueeze,
)
from playground.core.models.flows.image_flow import ImageFlowNetwork
from playground.core.presets import load_preset, save_preset
from playground.core.training import Session
from playground.core.training.evaluation import discrete_metrics

TINY = {"hidden": 8, "blocks": 1, "couplings": 2, "dequant_hidden": 8, "dequant_couplings": 2}


def randomise(module: torch.nn.Module, seed: int = 0, std: float = 0.15) -> torch.nn.Module:
    """Every parameter drawn from ``N(0, std^2)`` in float64: the zero-initialised last
    convolutions and actnorms would make every layer the identity."""
    g = torch.Generator().manual_seed(seed)
    module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * std)
    return module


#: layer name -> (builder, the shape of one input): every layer of the image flow
LAYERS = {
    "logit": (lambda: LogitTransform(0.05), (1, 4, 4)),
    "actnorm": (lambda: ImageActNorm(2), (2, 4, 4)),
    "squeeze": (lambda: Squeeze(), (1, 4, 4)),
    "checkerboard coupling": (
        lambda: ImageAffineCoupling(checkerboard_mask(4, 4, 1), 1, 8, 1),
        (1, 4, 4),
    ),
    "channel coupling": (lambda: ImageAffineCoupling(channel_mask(4, 0), 4, 8, 1), (4, 2, 2)),
    "network": (lambda: ImageFlowNetwork((1, 4, 4), 2, 2, 8, 1), (1, 4, 4)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_inverse_undoes_forward_and_log_det_is_autograds(name):
    build, shape = LAYERS[name]
    layer = randomise(build())
    y = torch.rand(3, *shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y = 0.05 + 0.9 * y  # inside the logit's domain
    z, log_det = layer(y)
    back, inverse_log_det = layer.inverse(z)
    torch.testing.assert_close(back, y)
    torch.testing.assert_close(inverse_log_det, -log_det)
    for i in range(len(y)):
        jac = torch.autograd.functional.jacobian(lambda v: layer(v[None])[0].flatten(), y[i])
        jac = jac.reshape(z[i].numel(), y[i].numel())
        assert torch.linalg.slogdet(jac).logabsdet.item() == pytest.approx(log_det[i].item())


def test_checkerboard_and_channel_masks_split_what_the_paper_draws():
    even, odd = checkerboard_mask(4, 4, 0), checkerboard_mask(4, 4, 1)
    assert even.shape == (1, 1, 4, 4) and torch.equal(even + odd, torch.ones(1, 1, 4, 4))
    assert even[0, 0, 0].tolist() == [1, 0, 1, 0] and even[0, 0, 1].tolist() == [0, 1, 0, 1]
    assert channel_mask(4, 0).flatten().tolist() == [1, 1, 0, 0]
    assert channel_mask(4, 1).flatten().tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="at least 2 channels"):
        channel_mask(1, 0)


def test_squeeze_moves_each_two_by_two_block_into_channels_and_back():
    x = torch.arange(2 * 2 * 4 * 6, dtype=torch.float32).reshape(2, 2, 4, 6)
    s = squeeze(x)
    assert s.shape == (2, 8, 2, 3)
    for c, di, dj, i, j in [(0, 0, 0, 0, 0), (0, 1, 0, 1, 2), (1, 0, 1, 1, 1), (1, 1, 1, 0, 2)]:
        assert s[1, 4 * c + 2 * di + dj, i, j] == x[1, c, 2 * i + di, 2 * j + dj]
    assert torch.equal(unsqueeze(s), x)
    with pytest.raises(ValueError, match="even height and width"):
        squeeze(torch.zeros(1, 1, 5, 4))


def test_the_variational_log_q_is_the_change_of_variables_of_its_sampler():
    deq = randomise(VariationalDequantizer((1, 2, 2), 8, 1, 2), seed=3)
    x = from_levels(torch.tensor([[[[0, 2], [1, 2]]]]), 3).double()
    eps = torch.randn(1, 1, 2, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    u, log_det = deq.transform(eps, x)
    assert bool(((u > 0) & (u < 1)).all())
    jac = torch.autograd.functional.jacobian(
        lambda e: deq.transform(e[None], x)[0].flatten(), eps[0]
    )
    assert torch.linalg.slogdet(jac.reshape(4, 4)).logabsdet.item() == pytest.approx(log_det.item())


def _cell_quadrature(flow, k: torch.Tensor, levels: int, points: int = 24):
    """``-log P(k)`` of ``p_Y`` by Gauss-Legendre quadrature (``points^2`` nodes) over the
    cell, and the uniform bound ``E_u[-log p_Y((k + u) / L)] + D log L`` by the same rule."""
    nodes, weights = np.polynomial.legendre.leggauss(points)
    t = torch.from_numpy((nodes + 1) / 2)
    w = torch.from_numpy(weights / 2)
    u = torch.stack(torch.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 1, 1, 2)
    w = (w[:, None] * w[None, :]).reshape(-1)
    with torch.no_grad():
        log_p = flow.log_prob((k + u) / levels)
    dims_log_l = 2 * math.log(levels)
    nll = -torch.logsumexp(log_p + w.log(), 0) + dims_log_l
    return float(nll), float(-(w * log_p).sum() + dims_log_l)


@pytest.mark.parametrize("cell", [(0, 0), (1, 2), (2, 1)])
def test_dequantized_bounds_lie_above_the_discrete_nll(cell):
    """Two pixels with three levels: ``-log P(k)`` by quadrature over the cell, against
    ``E_q[bound]`` of uniform noise (by the same rule) and of a variational ``q`` (2,000
    draws, mean minus four standard errors)."""
    levels = 3
    flow = randomise(ImageFlowNetwork((1, 1, 2), 1, 2, 8, 1), seed=5)
    k = torch.tensor(cell, dtype=torch.float64).reshape(1, 1, 1, 2)
    nll, uniform = _cell_quadrature(flow, k, levels)
    assert nll == pytest.approx(_cell_quadrature(flow, k, levels, 48)[0], abs=1e-4)
    assert uniform > nll

    deq = randomise(VariationalDequantizer((1, 1, 2), 8, 1, 2), seed=6)
    x = (k / (levels - 1)).expand(2000, 1, 1, 2)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        u, log_q = deq(x, g)
        bound = dequantization_bound(flow.log_prob((k + u) / levels), log_q, 2, levels)
    assert float(bound.mean() - 4 * bound.std() / math.sqrt(2000)) >= nll
    with torch.no_grad():
        u, log_q = UniformDequantizer()(x, g)
        bound = dequantization_bound(flow.log_prob((k + u) / levels), log_q, 2, levels)
    assert torch.equal(log_q, torch.zeros(2000)) and float(bound.mean()) >= nll


@pytest.mark.parametrize("dequantization", ["uniform", "variational"])
def test_the_bound_falls_on_a_seeded_run(dequantization):
    values = {**TINY, "dequantization": dequantization, "batch_size": 32, "lr": 3e-3}
    session = Session("realnvp-image", "digits", values, seed=0, device="cpu")
    terms = [session.step() for _ in range(20)]
    first = sum(t["nll"] for t in terms[:5]) / 5
    last = sum(t["nll"] for t in terms[-5:]) / 5
    assert last < first - 20  # nats per image (about 40 on this seed)
    assert terms[-1]["bits_per_dim"] == pytest.approx(terms[-1]["nll"] / (64 * math.log(2)))
    assert ("log_q" in terms[-1]) == (dequantization == "variational")


def test_bits_per_dim_is_the_bound_on_the_test_set_and_samples_lie_on_the_level_grid():
    session = Session("realnvp-image", "digits", {**TINY, "batch_size": 32}, seed=0, device="cpu")
    session.run(3)
    bits = discrete_metrics(session.model, session.data, 0, session.device)["bits_per_dim"]
    x = session.data.test_images
    with torch.no_grad():
        nll = session.model.discrete_nll(x, torch.Generator().manual_seed(50_000))
    assert bits == pytest.approx(float(nll.mean()) / (64 * math.log(2)), rel=1e-5)
    assert 0 < bits < 20
    samples = session.model.sample(16, torch.Generator().manual_seed(0))
    assert samples.shape == (16, 1, 8, 8)
    assert torch.equal(samples * 16, (samples * 16).round()) and 0 <= samples.min() <= 1


@pytest.mark.slow
def test_a_session_evaluates_bits_per_dim():
    """``evaluate()`` (what ``train`` prints): the class metrics of samples (a classifier is
    fitted, hence slow) and ``bits_per_dim``, recorded as ``test_bits_per_dim``."""
    session = Session("realnvp-image", "digits", {**TINY, "batch_size": 32}, seed=0, device="cpu")
    session.run(3)
    metrics = session.evaluate()
    assert 0 < metrics["bits_per_dim"] < 20
    assert session.history.last("test_bits_per_dim") == pytest.approx(metrics["bits_per_dim"])
    assert metrics["classes_captured"] >= 1


@pytest.mark.parametrize(
    ("dataset", "scales", "base_shape"),
    [("digits:binarize=true", 2, (4, 4, 4)), ("shapes:size=20", 3, (16, 5, 5))],
)
def test_scales_stop_at_an_odd_side_and_binary_sets_train(dataset, scales, base_shape):
    values = {**TINY, "scales": scales, "batch_size": 4}
    session = Session("realnvp-image", dataset, values, seed=0, device="cpu")
    assert session.model.flow.base_shape == base_shape
    assert all(math.isfinite(v) for v in session.step().values())


def test_bad_hyperparameters_and_plane_data_are_refused():
    with pytest.raises(hpm.HyperparameterError, match="dequantization"):
        hpm.from_dict(MODELS["realnvp-image"].Config, {"dequantization": "gaussian"})
    with pytest.raises(ValueError, match="cannot train on"):
        Session("realnvp-image", "moons", device="cpu")
    assert MODELS["realnvp-image"].fits(make_dataset("digits"))


def test_a_preset_saves_and_opens_the_same_model(tmp_path):
    values = {**TINY, "dequantization": "variational", "batch_size": 16}
    session = Session("realnvp-image", "digits", values, seed=0, device="cpu")
    session.run(2)
    path = save_preset(session, tmp_path / "deq")
    loaded = load_preset(path, device="cpu")
    assert loaded.step_count == 2 and loaded.config.dequantization == "variational"
    x = session.data.test_images[:8]
    with torch.no_grad():
        before = session.model.discrete_nll(x, torch.Generator().manual_seed(1))
        after = loaded.model.discrete_nll(x, torch.Generator().manual_seed(1))
    torch.testing.assert_close(after, before)
    assert all(math.isfinite(v) for v in loaded.step().values())


@pytest.mark.parametrize("dequantization", ["uniform", "variational"])
def test_the_explain_panel_shows_only_terms_the_step_returns(dequantization):
    pytest.importorskip("PySide6")
    from playground.app.explain.objectives import objective_for

    values = {**TINY, "dequantization": dequantization, "batch_size": 8}
    session = Session("realnvp-image", "digits", values, seed=0, device="cpu")
    terms = session.step()
    shown = {line.term for line in objective_for("realnvp-image", session.config).lines}
    assert shown - {None} <= set(terms)
    assert ("log_q" in shown) == (dequantization == "variational")
