"""f-GAN's divergences: conjugates, activations and the variational bound, checked numerically."""

from __future__ import annotations

import math

import pytest
import torch

from playground.core.models.gans.divergences import (
    DIVERGENCES,
    critic_objective,
    generator_loss,
    get_divergence,
    variational_bound,
)

NAMES = list(DIVERGENCES)
U = torch.linspace(0.02, 8.0, 400, dtype=torch.float64)
V = torch.linspace(-6.0, 6.0, 241, dtype=torch.float64)

# Table 1's f(1) (0 except the GAN "divergence", offset by -log 4) and Table 2's f'(1),
# the critic's output where P = Q
F_AT_1 = {name: 0.0 for name in NAMES} | {"gan": -math.log(4)}
F_PRIME_AT_1 = {
    "kl": 1.0,
    "reverse-kl": -1.0,
    "pearson": 0.0,
    "hellinger": 0.0,
    "js": 0.0,
    "gan": -math.log(2),
}


@pytest.mark.parametrize("name", NAMES)
def test_f_and_its_derivative_at_one(name):
    d = DIVERGENCES[name]
    one = torch.ones(1, dtype=torch.float64)
    assert float(d.f(one)) == pytest.approx(F_AT_1[name], abs=1e-15)
    assert float(d.derivative(one)) == pytest.approx(F_PRIME_AT_1[name], abs=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_is_the_gradient_of_f(name):
    d = DIVERGENCES[name]
    u = U.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(d.f(u).sum(), u)
    torch.testing.assert_close(d.derivative(U), grad)


@pytest.mark.parametrize("name", NAMES)
def test_activation_maps_the_reals_into_the_conjugates_domain(name):
    d = DIVERGENCES[name]
    low, high = d.domain
    t = d.activation(torch.linspace(-30.0, 30.0, 601, dtype=torch.float64))
    assert bool(((t > low) & (t < high)).all())
    assert bool(torch.isfinite(d.conjugate(t)).all())
    # and onto it: the activation reaches within 1e-6 of a finite edge
    if math.isfinite(high):
        assert float(t.max()) > high - 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_fenchel_young_inequality_with_equality_at_the_derivative(name):
    d = DIVERGENCES[name]
    t = d.activation(V)  # a grid over dom f*
    gap = d.f(U)[:, None] + d.conjugate(t)[None, :] - U[:, None] * t[None, :]
    assert float(gap.min()) >= -1e-12
    slope = d.derivative(U)
    torch.testing.assert_close(d.f(U) + d.conjugate(slope), U * slope, atol=1e-11, rtol=1e-11)


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_is_the_supremum_over_u(name):
    # f*(t) = sup_u (u t - f(u)), taken over a fine grid of u
    d = DIVERGENCES[name]
    u = torch.linspace(1e-3, 60.0, 600_001, dtype=torch.float64)
    t = d.derivative(torch.tensor([0.2, 0.7, 1.0, 2.5, 9.0], dtype=torch.float64))
    sup = (u[None, :] * t[:, None] - d.f(u)[None, :]).max(dim=1).values
    torch.testing.assert_close(d.conjugate(t), sup, atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_stable_composite_equals_the_conjugate_of_the_activation(name):
    d = DIVERGENCES[name]
    torch.testing.assert_close(d.conjugate_of_activation(V), d.conjugate(d.activation(V)))
    # float32, where the naive composition reaches the domain's edge for hellinger and js
    v32 = torch.linspace(-80.0, 80.0, 161)
    assert bool(torch.isfinite(d.conjugate_of_activation(v32)).all())
    assert bool(torch.isfinite(d.activation(v32)).all())


# P = N(0, 1), Q = N(1, 1.3^2): E_Q[(p/q)^4] is finite, so the chi-squared estimate has
# finite variance
MU_P, S_P, MU_Q, S_Q = 0.0, 1.0, 1.0, 1.3


def _log_normal(x, mu, s):
    return -0.5 * ((x - mu) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)


def _kl_gauss(mu1, s1, mu2, s2):
    return math.log(s2 / s1) + (s1**2 + (mu1 - mu2) ** 2) / (2 * s2**2) - 0.5


def _quadrature(d):
    """``D_f(P || Q) = int q f(p / q) dx`` by the trapezoid rule on a fine grid."""
    x = torch.linspace(-20.0, 20.0, 400_001, dtype=torch.float64)
    log_p, log_q = _log_normal(x, MU_P, S_P), _log_normal(x, MU_Q, S_Q)
    return float(torch.trapezoid(log_q.exp() * d.f((log_p - log_q).exp()), x))


REFERENCE = {
    "kl": _kl_gauss(MU_P, S_P, MU_Q, S_Q),
    "reverse-kl": _kl_gauss(MU_Q, S_Q, MU_P, S_P),
    # int p^2 / q dx - 1, a Gaussian integral with precision 2 / S_P^2 - 1 / S_Q^2
    "pearson": S_Q
    / (S_P**2 * math.sqrt(2 / S_P**2 - 1 / S_Q**2))
    * math.exp(
        (2 * MU_P / S_P**2 - MU_Q / S_Q**2) ** 2 / (2 * (2 / S_P**2 - 1 / S_Q**2))
        + MU_Q**2 / (2 * S_Q**2)
        - MU_P**2 / S_P**2
    )
    - 1,
    # 2 - 2 Bhattacharyya coefficient of two Gaussians
    "hellinger": 2
    - 2
    * math.sqrt(2 * S_P * S_Q / (S_P**2 + S_Q**2))
    * math.exp(-((MU_P - MU_Q) ** 2) / (4 * (S_P**2 + S_Q**2))),
}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_quadrature_matches_the_closed_forms(name):
    assert _quadrature(DIVERGENCES[name]) == pytest.approx(REFERENCE[name], rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_bound_with_the_optimal_critic_estimates_the_divergence(name):
    d = DIVERGENCES[name]
    g = torch.Generator().manual_seed(0)
    n = 400_000
    x_p = MU_P + S_P * torch.randn(n, generator=g, dtype=torch.float64)
    x_q = MU_Q + S_Q * torch.randn(n, generator=g, dtype=torch.float64)

    def t_star(x):  # T*(x) = f'(p(x) / q(x)), evaluated directly in dom f*
        return d.derivative((_log_normal(x, MU_P, S_P) - _log_normal(x, MU_Q, S_Q)).exp())

    bound = float(t_star(x_p).mean() - d.conjugate(t_star(x_q)).mean())
    exact = REFERENCE.get(name, _quadrature(d))
    assert bound == pytest.approx(exact, rel=0.03)


@pytest.mark.parametrize("name", NAMES)
def test_objectives_are_the_bound_and_its_parts(name):
    g = torch.Generator().manual_seed(1)
    v_real, v_fake = torch.randn(64, generator=g), torch.randn(32, generator=g)
    d = get_divergence(name)
    loss, real, fake = critic_objective(v_real, v_fake, name)
    torch.testing.assert_close(loss, -variational_bound(v_real, v_fake, d))
    torch.testing.assert_close(loss, real + fake)
    torch.testing.assert_close(real, -d.activation(v_real).mean())
    torch.testing.assert_close(generator_loss(v_fake, d), -d.activation(v_fake).mean())
    torch.testing.assert_close(
        generator_loss(v_fake, d, form="saddle"), -d.conjugate(d.activation(v_fake)).mean()
    )


def test_critic_is_rewarded_for_separating_real_from_fake():
    # pushing v up on data and down on samples raises the bound for every divergence
    for d in DIVERGENCES.values():
        v = torch.zeros(8)
        assert variational_bound(v + 1, v - 1, d) > variational_bound(v, v, d)


def test_gan_generator_losses_are_goodfellows():
    v = torch.randn(50, generator=torch.Generator().manual_seed(2))
    d_of_v = torch.sigmoid(v)
    torch.testing.assert_close(generator_loss(v, "gan"), -torch.log(d_of_v).mean())
    torch.testing.assert_close(
        generator_loss(v, "gan", form="saddle"), torch.log(1 - d_of_v).mean()
    )


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="valid names: kl, reverse-kl"):
        get_divergence("wasserstein")
    with pytest.raises(ValueError, match="practical, saddle"):
        generator_loss(torch.zeros(3), "kl", form="minimax")
