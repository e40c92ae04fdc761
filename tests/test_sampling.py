"""Langevin samplers, the 0.8 / 0.2 mixture and MMD: exact replays and seeded statistics."""

from __future__ import annotations

import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.data.base import box_grid, cell_area
from playground.core.data.quadrature import gaussian_mixture_log_prob
from playground.core.data.weighted import GMM82
from playground.core.metrics.samples import mmd2, sample_metrics
from playground.core.sampling import (
    annealed_langevin,
    geometric_sigmas,
    langevin,
    mala_log_acceptance,
    score_from_log_prob,
)

torch.set_num_threads(1)

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _std_normal_log_prob(x: torch.Tensor) -> torch.Tensor:
    return -0.5 * x.square().sum(-1)  # unnormalised: MALA does not need the constant


def _std_normal_score(x: torch.Tensor) -> torch.Tensor:
    return -x


# --- score_from_log_prob and plain Langevin ---------------------------------------------


def test_score_from_log_prob_is_the_closed_form_score_even_under_no_grad():
    data = make_dataset("gaussian2d-rotated")
    x = torch.randn(7, 2, generator=_gen(0), dtype=F64)
    with torch.no_grad():
        score = score_from_log_prob(data.log_prob)(x)
    exact = -(x - data.mean) @ torch.linalg.inv(data.covariance())
    assert score.shape == (7, 2)
    assert not score.requires_grad
    torch.testing.assert_close(score, exact)


@pytest.mark.slow
def test_langevin_reaches_the_mean_and_covariance_of_a_rotated_gaussian():
    data = make_dataset("gaussian2d-rotated")  # mean (2, 3), covariance [[5, 4], [4, 5]]
    x0 = torch.randn(2000, 2, generator=_gen(1), dtype=F64)
    result = langevin(score_from_log_prob(data.log_prob), x0, 0.05, 2000, _gen(2))
    x = result.x
    assert x.shape == (2000, 2) and result.path is None and result.acceptance_rate is None
    # standard errors: about 0.07 on the mean and 0.3 on the variance 9 of the long axis
    assert (x.mean(0) - data.mean).abs().max() < 0.2
    cov = torch.cov(x.T)
    assert (cov - data.covariance()).abs().max() < 0.6
    torch.testing.assert_close(
        torch.linalg.eigvalsh(cov), torch.tensor([1.0, 9.0], dtype=F64), rtol=0.1, atol=0.0
    )


def test_langevin_path_starts_at_x0_and_ends_at_x():
    x0 = torch.randn(5, 2, generator=_gen(3))
    result = langevin(_std_normal_score, x0, 0.1, 4, _gen(4), return_path=True)
    assert result.path.shape == (5, 5, 2)
    assert torch.equal(result.path[0], x0)
    assert torch.equal(result.path[-1], result.x)
    assert result.x.dtype == torch.float32


def test_langevin_update_is_the_course_formula():
    x0 = torch.randn(3, 2, generator=_gen(5), dtype=F64)
    eta = 0.3
    result = langevin(_std_normal_score, x0, eta, 1, _gen(6))
    eps = torch.randn(3, 2, generator=_gen(6), dtype=F64)
    torch.testing.assert_close(result.x, x0 + eta / 2 * (-x0) + math.sqrt(eta) * eps)


def test_mala_without_log_prob_and_bad_arguments_raise():
    x0 = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="log_prob_fn"):
        langevin(_std_normal_score, x0, 0.1, 3, _gen(0), mala=True)
    with pytest.raises(ValueError, match="step_size"):
        langevin(_std_normal_score, x0, 0.0, 3, _gen(0))
    with pytest.raises(ValueError, match="shape"):
        langevin(_std_normal_score, torch.zeros(4), 0.1, 3, _gen(0))


# --- MALA ---------------------------------------------------------------------------------


def test_mala_accepts_with_the_hand_computed_metropolis_hastings_probability():
    # a non-isotropic target, so the forward and backward proposals differ
    prec = torch.tensor([2.0, 0.5], dtype=F64)

    def log_p(x):
        return -0.5 * (x.square() * prec).sum(-1) + 3.0  # an arbitrary constant cancels

    def score(x):
        return -x * prec

    n, d, eta = 64, 2, 1.2
    x0 = 2.0 * torch.randn(n, d, generator=_gen(7), dtype=F64)
    result = langevin(score, x0, eta, 1, _gen(8), mala=True, log_prob_fn=log_p)

    # replay the generator: eps (n, d), then one uniform per chain
    replay = _gen(8)
    eps = torch.randn(n, d, generator=replay, dtype=F64)
    u = torch.rand(n, generator=replay, dtype=F64)
    x_new = x0 + eta / 2 * score(x0) + math.sqrt(eta) * eps

    def q(to, frm):  # N(to; frm + (eta / 2) s(frm), eta I), normaliser included
        r2 = (to - frm - eta / 2 * score(frm)).square().sum(-1)
        return torch.exp(-r2 / (2 * eta)) / (2 * math.pi * eta) ** (d / 2)

    p = torch.exp(log_p(x_new) - log_p(x0))
    alpha = torch.clamp(p * q(x0, x_new) / q(x_new, x0), max=1.0)
    accept = u < alpha
    assert 0 < int(accept.sum()) < n  # the seed shows both outcomes
    torch.testing.assert_close(result.x, torch.where(accept[:, None], x_new, x0))
    assert result.acceptance_rate == pytest.approx(float(accept.double().mean()))
    log_alpha = mala_log_acceptance(
        x0, x_new, score(x0), score(x_new), log_p(x0), log_p(x_new), eta
    )
    torch.testing.assert_close(log_alpha, torch.log(alpha))


def test_mala_keeps_the_variance_at_a_large_step_where_plain_langevin_is_biased():
    # N(0, I) at eta = 1: plain Langevin's stationary variance is 1 / (1 - eta / 4) = 4 / 3
    eta, n = 1.0, 2000
    x0 = torch.randn(n, 2, generator=_gen(9), dtype=F64)  # start in the target
    mala = langevin(
        _std_normal_score, x0, eta, 100, _gen(10), mala=True, log_prob_fn=_std_normal_log_prob
    )
    ula = langevin(_std_normal_score, x0, eta, 100, _gen(10))
    var_mala = float(mala.x.var(0).mean())
    var_ula = float(ula.x.var(0).mean())
    assert abs(var_mala - 1.0) < 0.08  # standard error about 0.03
    assert var_ula == pytest.approx(4 / 3, abs=0.1)
    assert var_ula > 1.2
    assert 0.5 < mala.acceptance_rate < 1.0


# --- annealed Langevin --------------------------------------------------------------------


def test_geometric_sigmas():
    s = geometric_sigmas(10.0, 0.1, 5)
    torch.testing.assert_close(s, torch.tensor([10.0, 10**0.5, 1.0, 10**-0.5, 0.1]))
    assert torch.all(s[1:] < s[:-1])
    torch.testing.assert_close(s[1:] / s[:-1], torch.full((4,), 10**-0.5))
    assert geometric_sigmas(2.0, 1.0, 1).tolist() == [2.0]
    with pytest.raises(ValueError):
        geometric_sigmas(1.0, 2.0, 3)
    with pytest.raises(ValueError):
        geometric_sigmas(1.0, 0.5, 0)


def test_annealed_langevin_steps_follow_epsilon_sigma_ratio_squared():
    sigmas = geometric_sigmas(4.0, 0.5, 4)
    steps, epsilon, n = 5, 0.01, 4000
    seen: list[float] = []

    def zero_score(x, sigma):
        assert isinstance(sigma, float)
        seen.append(sigma)
        return torch.zeros_like(x)

    x0 = torch.zeros(n, 2, dtype=F64)
    result = annealed_langevin(zero_score, x0, sigmas, steps, epsilon, _gen(11), return_path=True)
    assert seen == [float(s) for s in sigmas for _ in range(steps)]
    alphas = [epsilon * (float(s) / float(sigmas[-1])) ** 2 for s in sigmas]
    assert alphas[-1] == pytest.approx(epsilon)
    assert result.path.shape == (4 * steps + 1, n, 2)

    # exactly: with a zero score, x is the sum of sqrt(alpha_i) z over all updates
    replay = _gen(11)
    expected = torch.zeros(n, 2, dtype=F64)
    for a in alphas:
        for _ in range(steps):
            expected = expected + math.sqrt(a) * torch.randn(n, 2, generator=replay, dtype=F64)
    torch.testing.assert_close(result.x, expected)
    # and in law: the variance is sum_i alpha_i T (here 1.7), standard error about 2 %
    total = sum(alphas) * steps
    assert float(result.x.var(0).mean()) == pytest.approx(total, rel=0.07)


# --- the 0.8 / 0.2 mixture and the NCSN phenomenon ----------------------------------------


def test_gmm82_density_is_normalised_and_closed_form():
    data = GMM82()
    box = (-13.0, 13.0, -13.0, 13.0)  # 8 standard deviations beyond each mode
    points, _, _ = box_grid(box, 521)
    mass = float(data.log_prob(points.double()).exp().sum()) * cell_area(box, 521)
    assert mass == pytest.approx(1.0, abs=1e-6)
    x = torch.tensor([[5.0, 5.0], [0.0, 0.0], [-4.0, -6.0]], dtype=F64)

    def normal(mu):
        return torch.exp(-0.5 * (x - torch.tensor(mu, dtype=F64)).square().sum(-1)) / (2 * math.pi)

    exact = torch.log(0.8 * normal([5.0, 5.0]) + 0.2 * normal([-5.0, -5.0]))
    torch.testing.assert_close(data.log_prob(x), exact)
    assert data.modes.shape == (2, 2) and data.mode_std == 1.0
    assert GMM82.mode_weights == (0.8, 0.2)
    assert data.name == "gmm82" and data.box == (-9.0, 9.0, -9.0, 9.0)


def test_gmm82_samples_have_weight_0_8():
    n = 20000
    x, labels = GMM82().sample_with_labels(n, _gen(12))
    assert x.shape == (n, 2) and x.dtype == torch.float32 and labels.dtype == torch.int64
    w = float((labels == 0).double().mean())
    assert abs(w - 0.8) < 3 * math.sqrt(0.8 * 0.2 / n)
    torch.testing.assert_close(x[labels == 0].mean(0), torch.tensor([5.0, 5.0]), atol=0.05, rtol=0)
    torch.testing.assert_close(x[labels == 1].mean(0), torch.tensor([-5.0, -5.0]), atol=0.1, rtol=0)
    assert GMM82().sample(10, _gen(12)).shape == (10, 2)
    assert GMM82().sample(0, _gen(12)).shape == (0, 2)


def _weight_of_first_mode(x: torch.Tensor) -> float:
    nearest = torch.cdist(x.double(), GMM82.modes.double()).argmin(dim=1)
    return float((nearest == 0).double().mean())


@pytest.mark.slow
def test_ncsn_phenomenon_langevin_with_the_true_score_gets_the_weights_wrong(capsys):
    data = GMM82()
    n = 2000
    x0 = torch.rand(n, 2, generator=_gen(13), dtype=F64) * 18 - 9  # uniform on the box
    plain = langevin(score_from_log_prob(data.log_prob), x0, 0.1, 500, _gen(14))
    w_plain = _weight_of_first_mode(plain.x)

    # annealed Langevin with the exact scores of the data convolved with N(0, sigma^2 I)
    log_w = torch.log(torch.tensor(data.mode_weights, dtype=F64))

    def noisy_score(x, sigma):
        std = math.sqrt(data.mode_std**2 + sigma**2)
        return score_from_log_prob(lambda z: gaussian_mixture_log_prob(z, data.means, log_w, std))(
            x
        )

    sigmas = geometric_sigmas(20.0, 1.0, 10)
    annealed = annealed_langevin(noisy_score, x0, sigmas, 100, 0.1, _gen(15))
    w_annealed = _weight_of_first_mode(annealed.x)
    with capsys.disabled():
        print(
            f"\nNCSN phenomenon (gmm82, {n} chains from U(box)): plain Langevin eta=0.1, "
            f"500 steps: w = {w_plain:.3f}; annealed (10 sigmas 20..1, T=100, eps=0.1): "
            f"w = {w_annealed:.3f}; target 0.8"
        )
    assert abs(w_plain - 0.8) > 0.15
    assert abs(w_annealed - 0.8) < 3 * math.sqrt(0.8 * 0.2 / n) + 0.02


# --- MMD ----------------------------------------------------------------------------------


def test_mmd2_matches_the_formula_on_a_tiny_sample():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], dtype=F64)
    y = torch.tensor([[3.0, 0.0], [1.0, 1.0]], dtype=F64)
    z = torch.cat([x, y])
    pair = [float((z[i] - z[j]).norm()) for i in range(5) for j in range(i + 1, 5)]
    h = sorted(pair)[(len(pair) - 1) // 2]  # 10 distances: the lower median

    def k(a, b):
        return math.exp(-float((a - b).square().sum()) / (2 * h * h))

    xx = sum(k(x[i], x[j]) for i in range(3) for j in range(3) if i != j) / 6
    yy = sum(k(y[i], y[j]) for i in range(2) for j in range(2) if i != j) / 2
    xy = sum(k(a, b) for a in x for b in y) / 6
    assert mmd2(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_mmd2_is_near_zero_for_one_law_and_positive_for_shifted_laws():
    a = torch.randn(1000, 2, generator=_gen(16))
    b = torch.randn(1000, 2, generator=_gen(17))
    same = mmd2(a, b)
    shifted = mmd2(a, b + torch.tensor([1.0, 0.0]))
    assert abs(same) < 0.005
    assert shifted > 0.05
    with pytest.raises(ValueError):
        mmd2(a[:1], b)


def test_sample_metrics_on_exact_samples_of_gmm82():
    data = GMM82()
    model = data.sample(2500, _gen(18))
    m = sample_metrics(model, data, generator_seed=0)
    assert abs(m["mmd"]) < 0.005 and abs(m["mmd_data"]) < 0.005
    assert len(m["mode_weights"]) == 2 and sum(m["mode_weights"]) == pytest.approx(1.0)
    assert m["mode_weights"][0] == pytest.approx(0.8, abs=3 * math.sqrt(0.16 / 2000))
    assert m == sample_metrics(model, data, generator_seed=0)  # seeded: reproducible

    far = sample_metrics(model + 2.0, data, generator_seed=0)
    assert far["mmd"] > 10 * abs(far["mmd_data"]) + 0.05
    assert "mode_weights" not in sample_metrics(
        make_dataset("gaussian2d-axis").sample(100, _gen(19)),
        make_dataset("gaussian2d-axis"),
        generator_seed=0,
    )
