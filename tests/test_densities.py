"""The 2D densities: reproducible samplers, exact densities that normalise and match them."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from playground.core.data import (
    DATASETS,
    NoDensityError,
    NoSamplerError,
    UnknownDatasetError,
    make_dataset,
)
from playground.core.data.toy import Pinwheel

SAMPLERS = [name for name, cls in DATASETS.items() if cls.can_sample]
DENSITIES = [name for name, cls in DATASETS.items() if cls.has_log_prob]
NO_DENSITY = [name for name, cls in DATASETS.items() if not cls.has_log_prob]
ENERGIES = [name for name, cls in DATASETS.items() if cls.is_energy]
MIXTURES = ["8gaussians", "ring8", "grid25"]
# sampleable densities whose probability sits on curves or squares: binned and entropy checks
CURVES = ["swissroll", "circles", "rings", "moons", "2spirals", "8gaussians", "checkerboard"]

# (box, cells per side) for the midpoint rule: the box holds all but ~1e-8 of the mass and a
# cell is at most the smallest noise std, where a Riemann sum of a Gaussian is exact to 1e-8
INTEGRATION = {
    "ring8": ((-1.5, 1.5, -1.5, 1.5), 300),
    "grid25": ((-5.5, 5.5, -5.5, 5.5), 220),
    "gmm82": ((-12.0, 12.0, -12.0, 12.0), 200),
    "rings": ((-4.5, 4.5, -4.5, 4.5), 150),
    "2spirals": ((-4.5, 4.5, -4.5, 4.5), 120),
    "checkerboard": ((-4.0, 4.0, -4.0, 4.0), 80),
    # mean (2, 3), largest std 3: 7.3 std either side
    "gaussian2d-axis": ((-20.0, 24.0, -19.0, 25.0), 220),
    "gaussian2d-rotated": ((-20.0, 24.0, -19.0, 25.0), 220),
}
DEFAULT_INTEGRATION = ((-6.0, 6.0, -6.0, 6.0), 160)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def midpoints(box: tuple[float, float, float, float], cells: int) -> tuple[torch.Tensor, float]:
    """Cell centres ``(cells**2, 2)`` float64 of a regular grid, and the area of a cell."""
    xmin, xmax, ymin, ymax = box
    hx, hy = (xmax - xmin) / cells, (ymax - ymin) / cells
    xs = xmin + hx * (torch.arange(cells, dtype=torch.float64) + 0.5)
    ys = ymin + hy * (torch.arange(cells, dtype=torch.float64) + 0.5)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1), hx * hy


@pytest.mark.parametrize("name", SAMPLERS)
def test_sample_is_reproducible_float32_and_finite(name):
    d = make_dataset(name)
    x = d.sample(500, generator(0))
    assert x.shape == (500, 2) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert torch.isfinite(x).all()
    assert torch.equal(x, d.sample(500, generator(0)))
    assert not torch.equal(x, d.sample(500, generator(1)))


def test_sampling_leaves_global_random_state_alone():
    state = torch.get_rng_state()
    for name in SAMPLERS:
        make_dataset(name).sample(10, generator(0))
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("name", ENERGIES)
def test_energy_targets_have_no_sampler(name):
    d = make_dataset(name)
    assert d.is_energy and d.has_log_prob and not d.can_sample
    with pytest.raises(NoSamplerError, match="reverse KL"):
        d.sample(10, generator(0))


@pytest.mark.parametrize("name", NO_DENSITY)
def test_sets_without_density_raise(name):
    d = make_dataset(name)
    with pytest.raises(NoDensityError):
        d.log_prob(torch.zeros(3, 2))


@pytest.mark.parametrize("name", DENSITIES)
def test_density_integrates_to_one(name):
    box, cells = INTEGRATION.get(name, DEFAULT_INTEGRATION)
    points, area = midpoints(box, cells)
    mass = make_dataset(name).log_prob(points).exp().sum().item() * area
    assert mass == pytest.approx(1.0, abs=1e-2)


@pytest.mark.parametrize("name", DENSITIES)
def test_log_prob_keeps_dtype_and_shape(name):
    d = make_dataset(name)
    x = torch.tensor([[0.3, -0.2], [1.0, 0.5], [-0.7, 0.9]], dtype=torch.float64)
    lp64, lp32 = d.log_prob(x), d.log_prob(x.float())
    assert lp64.shape == (3,) and lp64.dtype == torch.float64 and lp32.dtype == torch.float32
    assert torch.allclose(lp32.double(), lp64, atol=1e-4, equal_nan=True)


@pytest.mark.parametrize("name", [n for n in DENSITIES if n != "checkerboard"])
def test_log_prob_is_differentiable(name):
    """Reverse KL to an energy target and the true score field need d log p / dx."""
    x = torch.tensor([[0.4, -0.3], [1.1, 0.6]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(make_dataset(name).log_prob, (x,))


@pytest.mark.parametrize("name", DENSITIES)
def test_log_prob_rejects_points_that_are_not_pairs(name):
    d = make_dataset(name)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        d.log_prob(torch.zeros(4, 3))
    assert d.log_prob(torch.zeros(0, 2)).shape == (0,)


@pytest.mark.parametrize("name", MIXTURES)
def test_mode_frequencies_are_uniform(name):
    d = make_dataset(name)
    n, k = 20000, d.modes.shape[0]
    x, labels = d.sample_with_labels(n, generator(3))
    nearest = torch.cdist(x, d.modes).argmin(1)
    # 8gaussians' modes are 6 stds apart: about 0.2% of its samples land nearer a neighbour
    assert (nearest == labels).double().mean() > 0.99
    freq = torch.bincount(nearest, minlength=k).double() / n
    p = 1 / k
    assert (freq - p).abs().max().item() < 3 * math.sqrt(p * (1 - p) / n)
    assert torch.equal(x, d.sample(n, generator(3)))


@pytest.mark.parametrize("name", CURVES)
def test_samples_match_binned_density(name):
    """Chi-square of a 16 x 16 histogram of 20000 samples against the integrated density."""
    d = make_dataset(name)
    x = d.sample(20000, generator(5)).double()
    xmin, xmax, ymin, ymax = d.box
    bins, sub = 16, 8
    points, area = midpoints(d.box, bins * sub)
    p = d.log_prob(points).exp().reshape(bins, sub, bins, sub).sum((1, 3)) * area
    ix = ((x[:, 0] - xmin) / (xmax - xmin) * bins).floor().long()
    iy = ((x[:, 1] - ymin) / (ymax - ymin) * bins).floor().long()
    inside = (ix >= 0) & (ix < bins) & (iy >= 0) & (iy < bins)
    counts = torch.bincount(iy[inside] * bins + ix[inside], minlength=bins * bins)
    expected = p.reshape(-1) * x.shape[0]
    used = expected > 5
    chi2 = ((counts[used] - expected[used]) ** 2 / expected[used]).sum().item()
    df = int(used.sum()) - 1
    assert chi2 < df + 4 * math.sqrt(2 * df)
    rest, rest_expected = counts[~used].sum(), expected[~used].sum()
    assert (rest - rest_expected).abs() < 5 * math.sqrt(rest_expected + 5)


@functools.cache
def neg_entropy(name: str) -> float:
    """``int p log p`` by the midpoint rule on ``[-6, 6]^2`` (cells of 0.075)."""
    points, area = midpoints((-6.0, 6.0, -6.0, 6.0), 160)
    lp = make_dataset(name).log_prob(points)
    return (lp.exp() * lp).nan_to_num().sum().item() * area


def entropy_gap(name: str, x: torch.Tensor) -> tuple[float, float]:
    """``mean log p(x) - int p log p`` over samples ``x``, and its standard error."""
    lp = make_dataset(name).log_prob(x.double())
    return lp.mean().item() - neg_entropy(name), lp.std().item() / math.sqrt(x.shape[0])


@pytest.mark.parametrize("name", ["moons", "swissroll", "circles", "rings", "2spirals"])
def test_mean_log_prob_of_samples_is_minus_entropy(name):
    """E_samples[log p] = -H(p) holds only if the sampler draws from p itself."""
    d = make_dataset(name)
    n = 4000 if name == "2spirals" else 20000  # ~4000 normal log-CDFs a scattered point
    gap, se = entropy_gap(name, d.sample(n, generator(7)))
    assert abs(gap) < 4 * se


def test_entropy_check_detects_a_noise_std_off_by_five_percent():
    d = make_dataset("moons")
    x = d.sample(20000, generator(7)).double()
    extra = torch.randn(x.shape, generator=generator(8), dtype=torch.float64)
    gap, se = entropy_gap("moons", x + math.sqrt(0.21**2 - 0.2**2) * extra)
    assert gap < -4 * se


@pytest.mark.parametrize("name", ["moons", "swissroll", "2spirals"])
def test_quadrature_is_converged(name):
    coarse, fine = make_dataset(name), make_dataset(name)
    fine.panels = 2 * coarse.panels
    points, _ = midpoints(coarse.box, 60)
    lp = coarse.log_prob(points)
    assert (lp > -20).float().mean() > 0.25
    err = (fine.log_prob(points) - lp).abs()
    # all the mass lies where log p > -20; far tails converge more slowly
    assert err[lp > -20].max() < 1e-6 and err[lp > -50].max() < 1e-3


def test_circles_noise_is_added_before_the_factor_three():
    x = make_dataset("circles").sample(20000, generator(2)).double()
    r = x.norm(dim=1)
    outer = r[r > 2.25]
    assert outer.mean().item() == pytest.approx(3.0, abs=0.02)
    assert outer.std().item() == pytest.approx(0.24, abs=0.01)


def test_checkerboard_is_uniform_on_its_squares():
    d = make_dataset("checkerboard")
    on, off = [[-3.0, 1.0], [-3.0, -3.0], [-1.0, 3.0], [1.0, 1.0]], [[1.0, -1.0], [3.0, 1.0]]
    lp = d.log_prob(torch.tensor(on + off + [[5.0, 0.0]]))
    assert lp.tolist() == pytest.approx([-math.log(32)] * 4 + [-math.inf] * 3)
    assert torch.isfinite(d.log_prob(d.sample(2000, generator(0)))).all()


def test_pinwheel_map_folds_so_it_has_no_density():
    def det(f0: float, f1: float) -> float:
        arm = torch.zeros(1, dtype=torch.float64)
        f = torch.tensor([f0, f1], dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(
            lambda v: Pinwheel.pinwheel_map(v[None], arm)[0], f
        )
        return torch.linalg.det(jac).item()

    for f0, f1 in [(1.0, 0.0), (2.0, 0.6), (2.0, -0.6), (3.0, -0.3)]:
        assert det(f0, f1) == pytest.approx(1 + 0.25 * math.exp(f0) * f1)
    assert det(1.0, 0.0) > 0 > det(2.0, -0.6)
    assert not Pinwheel.has_log_prob


@pytest.mark.parametrize("name", ENERGIES)
def test_energy_log_prob_is_normalised_minus_energy(name):
    d = make_dataset(name)
    z = torch.tensor([[0.5, -1.0], [2.0, 0.3], [-3.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(d.unnormalized_log_prob(z), -d.energy(z))
    assert torch.allclose(d.log_prob(z), -d.energy(z) - d.log_normalizer)


def paper_energy(name: str, z: torch.Tensor) -> torch.Tensor:
    """Rezende & Mohamed (2015), Table 1, written out independently, without the wall."""
    z1, z2 = z[:, 0], z[:, 1]
    w1 = torch.sin(2 * math.pi * z1 / 4)
    w2 = 3 * torch.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)
    w3 = 3 / (1 + torch.exp(-(z1 - 1) / 0.3))
    if name == "U1":
        lobes = torch.exp(-0.5 * ((z1 - 2) / 0.6) ** 2) + torch.exp(-0.5 * ((z1 + 2) / 0.6) ** 2)
        return 0.5 * ((z.norm(dim=1) - 2) / 0.4) ** 2 - torch.log(lobes)
    if name == "U2":
        return 0.5 * ((z2 - w1) / 0.4) ** 2
    if name == "U3":
        a = torch.exp(-0.5 * ((z2 - w1) / 0.35) ** 2)
        return -torch.log(a + torch.exp(-0.5 * ((z2 - w1 + w2) / 0.35) ** 2))
    a = torch.exp(-0.5 * ((z2 - w1) / 0.4) ** 2)
    return -torch.log(a + torch.exp(-0.5 * ((z2 - w1 + w3) / 0.35) ** 2))


@pytest.mark.parametrize("name", ENERGIES)
def test_energy_is_the_paper_formula_plus_a_wall_beyond_four(name):
    z = (torch.rand(2000, 2, generator=generator(4), dtype=torch.float64) - 0.5) * 10
    wall = 0.5 * ((z[:, 0].abs() - 4).clamp(min=0) / 0.2) ** 2
    expected = paper_energy(name, z) + (0 if name == "U1" else wall)
    assert torch.allclose(make_dataset(name).energy(z), expected, rtol=1e-9, atol=1e-9)


def test_registry_names_and_metadata():
    expected = (
        "swissroll circles rings moons 8gaussians pinwheel 2spirals checkerboard line cos "
        "ring8 grid25 gmm82 U1 U2 U3 U4 gaussian2d-axis gaussian2d-rotated"
    ).split()
    assert list(DATASETS) == expected
    for name, cls in DATASETS.items():
        d = make_dataset(name)
        assert d.name == name and isinstance(d, cls) and d.description
        xmin, xmax, ymin, ymax = d.box
        assert xmin < xmax and ymin < ymax


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UnknownDatasetError) as info:
        make_dataset("nope")
    assert isinstance(info.value, ValueError)
    for name in DATASETS:
        assert name in str(info.value)
