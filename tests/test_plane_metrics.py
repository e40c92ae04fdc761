"""Plane metrics: GAN Lab's grid KL and JS, and the MMD permutation test's p-value."""

import json
import math

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.metrics.grid_divergence import grid_box, grid_histogram, grid_js, grid_kl
from playground.core.metrics.samples import mmd2
from playground.core.metrics.two_sample import (
    mmd_p_value,
    mmd_permutation_statistics,
    plane_sample_metrics,
)


def _moons(n: int, seed: int) -> torch.Tensor:
    return make_dataset("moons").sample(n, torch.Generator().manual_seed(seed))


def test_grid_histogram_sums_to_one_and_keeps_far_points_in_edge_cells():
    x = torch.tensor([[0.1, 0.1], [0.9, 0.9], [5.0, -5.0], [0.5, 0.5]])
    h = grid_histogram(x, (0.0, 1.0, 0.0, 1.0), cells=4)
    assert h.shape == (4, 4)
    assert float(h.sum()) == pytest.approx(1.0)
    assert float(h[0, 3]) == pytest.approx(0.25)  # (5, -5): bottom row, last column
    assert float(h[0, 0]) == pytest.approx(0.25) and float(h[3, 3]) == pytest.approx(0.25)
    assert grid_box(torch.tensor([[1.0, 2.0], [3.0, 2.0]])) == (1.0, 3.0, 2.0, 3.0)


def test_grid_kl_and_js_are_small_for_the_same_law_and_large_for_a_shifted_one():
    data, same = _moons(2000, 0), _moons(2000, 1)
    shifted = _moons(2000, 2) + torch.tensor([0.5, 0.3])
    assert grid_kl(same, data) < 0.25
    assert grid_js(same, data) < 0.05
    assert grid_kl(shifted, data) > 1.0
    assert grid_js(shifted, data) > 4 * grid_js(same, data)


def test_grid_js_is_symmetric_and_at_most_log_2():
    a, b = _moons(500, 3), _moons(500, 4) * 0.7
    box = (-3.0, 3.0, -3.0, 3.0)
    assert grid_js(a, b, box=box) == pytest.approx(grid_js(b, a, box=box), abs=1e-12)
    far = torch.full((300, 2), 100.0)
    disjoint = grid_js(far, _moons(300, 5))
    assert 0.6 < disjoint <= math.log(2.0)
    assert grid_kl(far, _moons(300, 5)) > 3.0


def test_grid_metrics_refuse_bad_shapes():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        grid_kl(torch.zeros(10, 3), torch.zeros(10, 2))
    with pytest.raises(ValueError, match="eps"):
        grid_js(torch.zeros(10, 2), torch.zeros(10, 2), eps=0.0)


def test_the_permuted_statistic_of_the_true_split_is_mmd2():
    x, y = _moons(60, 6), _moons(50, 7) + 0.2
    observed, permuted = mmd_permutation_statistics(x, y, 30, torch.Generator().manual_seed(0))
    assert observed == pytest.approx(mmd2(x, y), abs=1e-12)
    assert permuted.shape == (30,)
    # a relabelling that keeps the split reads the observed statistic off the Gram matrix
    same, _ = mmd_permutation_statistics(x, y, 1, torch.Generator().manual_seed(0))
    assert same == pytest.approx(observed)


def test_the_p_value_is_roughly_uniform_under_the_null():
    p = [
        mmd_p_value(_moons(60, 100 + 2 * t), _moons(60, 101 + 2 * t), permutations=100, seed=t)
        for t in range(40)
    ]
    assert all(1 / 101 <= v <= 1.0 for v in p)
    assert 0.0 <= sum(v < 0.05 for v in p) / len(p) <= 0.2
    assert 0.3 < sum(p) / len(p) < 0.7  # a uniform law's mean is 1/2


def test_the_p_value_is_tiny_for_clearly_different_laws_and_seeded():
    x, y = _moons(300, 8), _moons(300, 9) + torch.tensor([0.0, 0.8])
    assert mmd_p_value(x, y, permutations=200, seed=1) == pytest.approx(1 / 201)
    a, b = _moons(100, 10), _moons(100, 11)
    assert mmd_p_value(a, b, seed=3) == mmd_p_value(a, b, seed=3)


def test_plane_sample_metrics_names_the_three_contract_keys():
    out = plane_sample_metrics(_moons(2000, 12), make_dataset("moons"), seed=0)
    assert set(out) == {"grid_kl", "grid_js", "mmd_p_value"}
    assert out["mmd_p_value"] > 0.01 and out["grid_js"] < 0.05


def test_train_gan_moons_prints_the_plane_metrics(capsys):
    from playground.cli import main

    argv = ["train", "gan", "moons", "--steps", "20", "--eval-samples", "400"]
    assert main([*argv, "--set", "batch_size=32", "--set", "hidden=16"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= out["grid_js"] <= math.log(2.0)
    assert out["grid_kl"] >= 0.0
    assert 1 / 201 <= out["mmd_p_value"] <= 1.0
