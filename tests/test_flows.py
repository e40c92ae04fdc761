"""One suite for every flow: shapes, gradients, inverses, log-dets, training, errors."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from playground.core.data import make_dataset
from playground.core.hyperparameters import from_dict
from playground.core.models import MODELS, UnknownModelError, get_model_class
from playground.core.models.base import NonFiniteLossError
from playground.core.models.flows import (
    MADE,
    ActNorm,
    AffineCoupling,
    Flow,
    IAFLayer,
    InvertibleLinear,
    MAFLayer,
    PlanarLayer,
)
from playground.core.models.flows.coupling import alternating_mask

#: adding a flow to the zoo = adding its name here
FLOWS = ["realnvp", "maf", "iaf", "planar", "glow"]
#: the flows whose default objective is reverse KL
REVERSE_KL_FLOWS = ["planar", "iaf"]


LAYERS = {
    "coupling": lambda: AffineCoupling(alternating_mask(2, 1), hidden=16, depth=2),
    "maf": lambda: MAFLayer(2, hidden=16, depth=2, order=torch.tensor([2, 1])),
    "iaf": lambda: IAFLayer(2, hidden=16, depth=2),
    "planar": lambda: PlanarLayer(2),
    "actnorm": lambda: ActNorm(2),
    "linear": lambda: InvertibleLinear(2),
}


def perturb(module: torch.nn.Module, scale: float = 0.2, seed: int = 0) -> torch.nn.Module:
    """Move every parameter off its (often identity) initialisation."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def make_flow(name: str, objective: str = "forward_kl", data=None, **changes) -> Flow:
    torch.manual_seed(0)
    cls = MODELS[name]
    config = from_dict(cls.Config, {"objective": objective, **changes})
    if data is None and objective == "reverse_kl":
        data = make_dataset("U1")
    return cls(config, data)


def random_flow(name: str, dtype: torch.dtype = torch.float32, scale: float = 0.1) -> Flow:
    """A flow with every parameter perturbed and its ActNorms initialised on data."""
    flow = perturb(make_flow(name).to(dtype), scale)
    flow.data_init(torch.randn(256, 2, dtype=dtype) * 1.5 + 0.3)
    return flow


def points(n: int = 64, dtype: torch.dtype = torch.float32, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def assert_log_det_is_jacobian(transform, x: torch.Tensor, log_det: torch.Tensor) -> None:
    for i in range(x.shape[0]):
        jac = jacobian(lambda v: transform(v[None])[0][0], x[i])
        expected = torch.linalg.slogdet(jac)[1]
        torch.testing.assert_close(log_det[i], expected, atol=1e-4, rtol=0)


# ------------------------------------------------------------------ every layer type
@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_inverse_and_log_det(kind):
    torch.manual_seed(0)
    layer = perturb(LAYERS[kind]()).double()
    layer.data_init(points(256, torch.float64) * 2 + 1)
    x = points(6, torch.float64)
    z, log_det = layer(x)
    x_back, log_det_inverse = layer.inverse(z)
    assert z.shape == x.shape and log_det.shape == (6,)
    torch.testing.assert_close(x_back, x, atol=1e-4, rtol=0)
    torch.testing.assert_close(log_det_inverse, -log_det, atol=1e-4, rtol=0)
    assert_log_det_is_jacobian(layer, x, log_det)
    assert_log_det_is_jacobian(layer.inverse, z, log_det_inverse)


# ------------------------------------------------------------------------ every flow
@pytest.mark.parametrize("name", FLOWS)
def test_shapes_and_trajectory(name):
    flow = random_flow(name)
    x, g = points(50), torch.Generator().manual_seed(0)
    assert flow.log_prob(x).shape == (50,)
    assert flow.sample(30, g).shape == (30, 2)
    samples, log_q = flow.sample_with_log_prob(30, g)
    assert samples.shape == (30, 2) and log_q.shape == (30,)
    n_layers = len(flow.layer_names())
    forward_path = flow.trajectory(x, "forward")
    inverse_path = flow.trajectory(x, "inverse")
    assert forward_path.shape == inverse_path.shape == (n_layers + 1, 50, 2)
    torch.testing.assert_close(forward_path[0], x)
    torch.testing.assert_close(forward_path[-1], flow(x)[0])
    torch.testing.assert_close(inverse_path[-1], flow.inverse(x)[0])
    with pytest.raises(ValueError, match="direction"):
        flow.trajectory(x, "sideways")


@pytest.mark.parametrize("name", FLOWS)
def test_sample_log_prob_agrees_with_log_prob(name):
    flow = random_flow(name, torch.float64)
    x, log_q = flow.sample_with_log_prob(20, torch.Generator().manual_seed(3))
    torch.testing.assert_close(flow.log_prob(x), log_q, atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", FLOWS)
def test_every_parameter_gets_a_gradient(name):
    flow = random_flow(name)
    flow.log_prob(points()).sum().backward()
    for pname, p in flow.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname
    flow.zero_grad(set_to_none=True)
    target = make_dataset("U1")
    x, log_q = flow.sample_with_log_prob(64, torch.Generator().manual_seed(0))
    (log_q - target.unnormalized_log_prob(x)).mean().backward()
    for pname, p in flow.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", FLOWS)
def test_inverse_undoes_forward(name):
    flow = random_flow(name)
    x = points(200)
    z, log_det = flow(x)
    x_back, log_det_inverse = flow.inverse(z)
    torch.testing.assert_close(x_back, x, atol=1e-4, rtol=0)
    torch.testing.assert_close(log_det_inverse, -log_det, atol=1e-4, rtol=0)
    z_back = flow(flow.inverse(x)[0])[0]
    torch.testing.assert_close(z_back, x, atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", FLOWS)
def test_log_det_matches_autograd_jacobian(name):
    flow = random_flow(name, torch.float64)
    x = points(5, torch.float64)
    z, log_det = flow(x)
    assert_log_det_is_jacobian(flow, x, log_det)
    x_out, log_det_inverse = flow.inverse(x)
    assert_log_det_is_jacobian(flow.inverse, x, log_det_inverse)


@pytest.mark.parametrize("name", FLOWS)
def test_density_integrates_to_one(name):
    flow = random_flow(name, torch.float64)
    with torch.no_grad():
        reach = flow.sample(5_000, torch.Generator().manual_seed(0)).abs().max()
    # a box that holds the mass, at a resolution it needs: every flow's mass is within 1e-4
    # of 1 here (as with 20,000 samples on a 301 x 301 grid, at a quarter of the cost)
    res, half = 201, 1.5 * float(reach)
    axis = torch.linspace(-half, half, res, dtype=torch.float64)
    gy, gx = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    with torch.no_grad():
        mass = flow.log_prob(grid).exp().sum() * (2 * half / (res - 1)) ** 2
    assert abs(float(mass) - 1.0) < 2e-2


# ------------------------------------------------------------------------- training
def train(flow: Flow, data, steps: int) -> list[float]:
    flow.configure_optimizers()
    flow.rng = torch.Generator().manual_seed(1)
    g = torch.Generator().manual_seed(2)
    losses = []
    for _ in range(steps):
        batch = data.sample(flow.config.batch_size, g) if flow.needs_data else None
        terms = flow.train_step(batch)
        losses.append(terms["nll"] if flow.needs_data else terms["reverse_kl"])
    return losses


def improvement(losses: list[float]) -> float:
    return sum(losses[:20]) / 20 - sum(losses[-20:]) / 20


@pytest.mark.slow
@pytest.mark.parametrize("name", FLOWS)
def test_nll_falls_on_moons(name):
    moons = make_dataset("moons")
    flow = make_flow(name, "forward_kl", moons, batch_size=256)
    assert flow.needs_data
    assert improvement(train(flow, moons, 200)) > 0.15


@pytest.mark.slow
@pytest.mark.parametrize("name", REVERSE_KL_FLOWS)
def test_reverse_kl_falls_on_u1(name):
    target = make_dataset("U1")
    flow = make_flow(name, "reverse_kl", target, batch_size=256)
    assert not flow.needs_data
    assert improvement(train(flow, target, 200)) > 0.5


@pytest.mark.parametrize("name", REVERSE_KL_FLOWS)
def test_reverse_kl_is_the_default_of(name):
    assert MODELS[name].Config().objective == "reverse_kl"


@pytest.mark.parametrize("name", FLOWS)
def test_nan_batch_raises_and_changes_nothing(name):
    flow = make_flow(name, "forward_kl", make_dataset("moons"))
    flow.configure_optimizers()
    before = {k: v.clone() for k, v in flow.state_dict().items()}
    with pytest.raises(NonFiniteLossError):
        flow.train_step(torch.full((64, 2), float("nan")))
    for k, v in flow.state_dict().items():
        torch.testing.assert_close(v, before[k], equal_nan=True, msg=k)


@pytest.mark.parametrize("name", FLOWS)
def test_objective_must_fit_the_target(name):
    with pytest.raises(ValueError, match="objective=reverse_kl"):
        make_flow(name, "forward_kl", make_dataset("U1"))
    with pytest.raises(ValueError, match="objective=forward_kl"):
        make_flow(name, "reverse_kl", make_dataset("pinwheel"))


@pytest.mark.parametrize("name", FLOWS)
def test_model_declaration(name):
    cls = get_model_class(name)
    assert cls.name == name and cls.family == "flow" and cls.description
    assert cls.capabilities == {"density", "samples", "trajectory", "layers"}
    assert from_dict(cls.Config, {}).objective in ("forward_kl", "reverse_kl")


def test_unknown_model_lists_the_valid_names():
    with pytest.raises(UnknownModelError, match="realnvp"):
        get_model_class("nope")


# ------------------------------------------------------------------ layer properties
def test_made_is_autoregressive_in_degree_order():
    torch.manual_seed(0)
    order = torch.tensor([3, 1, 5, 2, 4])
    made = perturb(MADE(5, hidden=24, depth=2, n_params=2, order=order), 0.5).double()
    x = torch.randn(5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    jac = jacobian(lambda v: made(v[None])[0], x)
    allowed = order[:, None] > order[None, :]  # output i may see input j iff d_j < d_i
    for p in range(2):
        assert (jac[p][~allowed] == 0).all()
        assert (jac[p][allowed] != 0).all()


def test_planar_constraint_holds_for_adversarial_u():
    torch.manual_seed(0)
    for _ in range(20):
        layer = PlanarLayer(2).double()
        with torch.no_grad():
            wu = -1.0 - 50 * torch.rand((), dtype=torch.float64)  # any w^T u < -1
            layer.u.copy_(wu * layer.w / layer.w.square().sum() + torch.randn(2))
            layer.u.sub_((layer.w @ layer.u - wu) * layer.w / layer.w.square().sum())
            assert float(layer.w @ layer.u) < -1
            assert float(layer.w @ layer.u_hat()) >= -1 - 1e-12  # softplus underflows to 0
        z = points(100, torch.float64)
        torch.testing.assert_close(layer(layer.inverse(z)[0])[0], z, atol=1e-4, rtol=0)


def test_actnorm_initialises_once_and_survives_reload():
    moons = make_dataset("moons")
    flow = make_flow("glow", "forward_kl", moons)
    first = flow.layers[0]
    assert not bool(first.initialized)
    train(flow, moons, 1)
    assert bool(first.initialized)
    z = first(moons.sample(4096, torch.Generator().manual_seed(5)))[0]
    assert z.mean(0).abs().max() < 0.1 and (z.std(0) - 1).abs().max() < 0.1
    again = make_flow("glow", "forward_kl", moons)
    again.load_state_dict(flow.state_dict())
    assert bool(again.layers[0].initialized) and int(again.steps_taken) == 1
    torch.testing.assert_close(again.layers[0].loc, first.loc)


def test_actnorm_stays_identity_under_reverse_kl():
    flow = make_flow("glow", "reverse_kl", make_dataset("U1"))
    train(flow, flow.data, 1)
    assert not bool(flow.layers[0].initialized)


def test_learning_rate_decays_and_stays_live():
    flow = make_flow("realnvp", "forward_kl", None, lr=1e-2, lr_decay_steps=10)
    assert flow.scheduled_lr() == pytest.approx(1e-2)
    flow.steps_taken.fill_(5)
    assert flow.scheduled_lr() == pytest.approx(1e-2 * (0.02 + 0.98 * 0.5))
    flow.steps_taken.fill_(50)
    assert flow.scheduled_lr() == pytest.approx(2e-4)
    flow.apply_live(from_dict(type(flow.config), {"lr": 1e-2, "lr_decay_steps": 0}))
    assert flow.scheduled_lr() == pytest.approx(1e-2)


def test_reverse_kl_anneals_the_target():
    flow = make_flow("planar", "reverse_kl", make_dataset("U1"), anneal_steps=100)
    assert flow.inverse_temperature() == pytest.approx(0.01)
    flow.steps_taken.fill_(50)
    assert flow.inverse_temperature() == pytest.approx(0.51)
    flow.steps_taken.fill_(500)
    assert flow.inverse_temperature() == 1.0
