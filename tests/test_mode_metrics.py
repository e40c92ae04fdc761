"""Mode coverage metrics: exact numbers on hand-made sample sets and on the mixtures' samples."""

from __future__ import annotations

import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.metrics.modes import MODE_SAMPLES, mode_metrics

# four modes on the corners of a square of side 10, std 0.5: a mode's ball has radius 1.5
MEANS = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
STD = 0.5


def test_all_samples_on_one_mode():
    samples = MEANS[2] + 0.1 * torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    m = mode_metrics(samples, MEANS, STD)
    assert m["modes_captured"] == 1
    assert m["high_quality"] == 1.0
    assert m["mode_kl"] == pytest.approx(math.log(4), abs=1e-12)
    assert m["mode_counts"] == [0, 0, 100, 0]


def test_samples_spread_evenly_over_all_modes():
    samples = MEANS.repeat(25, 1) + torch.tensor([0.3, -0.4])  # 0.5 from each mean
    m = mode_metrics(samples, MEANS, STD)
    assert m["modes_captured"] == 4
    assert m["high_quality"] == 1.0
    assert m["mode_kl"] == pytest.approx(0.0, abs=1e-12)
    assert m["mode_counts"] == [25, 25, 25, 25]


def test_half_the_samples_far_from_every_mode():
    good = torch.cat([MEANS[0].repeat(30, 1), MEANS[1].repeat(10, 1)])
    far = torch.tensor([[5.0, 5.0]]).repeat(40, 1)  # 7.07 from every mean: 14 std
    m = mode_metrics(torch.cat([good, far]), MEANS, STD)
    assert m["high_quality"] == 0.5
    assert m["modes_captured"] == 2
    assert m["mode_counts"] == [30, 10, 0, 0]
    # h = (3/4, 1/4, 0, 0): far samples do not enter the histogram
    assert m["mode_kl"] == pytest.approx(0.75 * math.log(3) + 0.25 * math.log(1), abs=1e-12)


def test_the_boundary_counts_as_high_quality():
    radius = 3.0 * STD  # 1.5, exact in binary
    just_out = torch.nextafter(torch.tensor(radius, dtype=torch.float64), torch.tensor(2.0))
    samples = torch.tensor(
        [[radius, 0.0], [10.0, -radius], [float(just_out), 0.0]], dtype=torch.float64
    )
    m = mode_metrics(samples, MEANS, STD)
    assert m["mode_counts"] == [1, 1, 0, 0]
    assert m["high_quality"] == pytest.approx(2 / 3)


def test_no_high_quality_samples():
    samples = torch.tensor([[5.0, 5.0], [float("nan"), 0.0], [float("inf"), 1.0], [-3.0, 0.0]])
    m = mode_metrics(samples, MEANS, STD)
    assert m["modes_captured"] == 0
    assert m["high_quality"] == 0.0
    assert m["mode_kl"] == pytest.approx(math.log(4))
    assert m["mode_counts"] == [0, 0, 0, 0]


def test_threshold_widens_the_balls():
    samples = torch.tensor([[2.0, 0.0]])  # 4 std from mode 0
    assert mode_metrics(samples, MEANS, STD)["high_quality"] == 0.0
    assert mode_metrics(samples, MEANS, STD, threshold=4.0)["high_quality"] == 1.0


@pytest.mark.parametrize("shape", [(0, 2), (5, 3), (5,)])
def test_bad_sample_shapes_are_rejected(shape):
    with pytest.raises(ValueError, match="samples"):
        mode_metrics(torch.zeros(shape), MEANS, STD)


@pytest.mark.parametrize("name", ["8gaussians", "ring8", "grid25"])
def test_samples_of_the_mixture_itself_capture_every_mode(name):
    data = make_dataset(name)
    samples = data.sample(MODE_SAMPLES, torch.Generator().manual_seed(0))
    m = mode_metrics(samples, data.modes, data.mode_std)
    k = data.modes.shape[0]
    assert m["modes_captured"] == k
    assert sum(m["mode_counts"]) == round(m["high_quality"] * MODE_SAMPLES)
    # |x - mu| / std of a 2D Gaussian is chi with 2 degrees of freedom:
    # P(chi_2 <= 3) = 1 - exp(-9 / 2) = 0.98889
    p = 1 - math.exp(-4.5)
    se = math.sqrt(p * (1 - p) / MODE_SAMPLES)
    assert abs(m["high_quality"] - p) < 4 * se
    # a multinomial histogram of n draws from uniform has E[KL] ~ (k - 1) / (2 n)
    assert m["mode_kl"] < 5 * (k - 1) / (2 * MODE_SAMPLES)
