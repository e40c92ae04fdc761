"""Image sets (digits, shapes, folder), the posterior-collapse Gaussians and dataset specs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core.data import (
    ALL_DATASETS,
    EmptyFolderError,
    UnknownDatasetError,
    make_dataset,
    parse_dataset_spec,
)
from playground.core.data.images import FACTOR_NAMES, render_shapes


def test_digits_split_range_and_labels():
    d = make_dataset("digits")
    assert d.train_images.shape == (1438, 1, 8, 8) and d.test_images.shape == (359, 1, 8, 8)
    assert d.train_images.dtype == torch.float32
    assert float(d.train_images.min()) == 0.0 and float(d.train_images.max()) == 1.0
    assert sorted(set(d.test_labels.tolist())) == list(range(10))
    # the documented split: every fifth image (i % 5 == 4) in scikit-learn's order
    from sklearn.datasets import load_digits

    raw = load_digits().images / 16.0
    np.testing.assert_allclose(d.test_images[0, 0].numpy(), raw[4], atol=1e-6)
    np.testing.assert_allclose(d.train_images[4, 0].numpy(), raw[5], atol=1e-6)


def test_digits_binarized_and_sampling_reproducible():
    d = make_dataset("digits:binarize=true")
    assert d.binarized and set(torch.unique(d.train_images).tolist()) == {0.0, 1.0}
    a, la = d.sample_with_labels(32, torch.Generator().manual_seed(3))
    b, lb = d.sample_with_labels(32, torch.Generator().manual_seed(3))
    assert a.shape == (32, 1, 8, 8) and torch.equal(a, b) and torch.equal(la, lb)


def test_shapes_reproducible_from_seed_and_factors_are_the_drawn_ones():
    s = make_dataset("shapes")
    x1, y1, f1 = s.sample_with_factors(64, torch.Generator().manual_seed(7))
    x2, y2, f2 = s.sample_with_factors(64, torch.Generator().manual_seed(7))
    assert x1.shape == (64, 1, 16, 16) and torch.equal(x1, x2) and torch.equal(f1, f2)
    assert f1.shape == (64, len(FACTOR_NAMES)) and torch.equal(y1, f1[:, 0].long())
    # the rendered images are the factors' pictures: re-render and compare
    assert torch.equal(render_shapes(f1, 16), x1)
    # the centre of mass of each image sits at the drawn (x, y)
    h = w = 16
    mass = x1[:, 0].sum((1, 2))
    cy = (x1[:, 0].sum(2) * (torch.arange(h) + 0.5)).sum(1) / mass / h
    cx = (x1[:, 0].sum(1) * (torch.arange(w) + 0.5)).sum(1) / mass / w
    square_or_ellipse = f1[:, 0] < 2  # a triangle's centroid is not its circumcentre
    assert torch.allclose(cx[square_or_ellipse], f1[square_or_ellipse, 3], atol=0.03)
    assert torch.allclose(cy[square_or_ellipse], f1[square_or_ellipse, 4], atol=0.03)
    # larger scale, more ink (same shape and rotation)
    f = torch.tensor([[0, 0.5, 0.3, 0.5, 0.5], [0, 1.0, 0.3, 0.5, 0.5]])
    ink = render_shapes(f, 16).sum((1, 2, 3))
    assert ink[1] > 3 * ink[0]
    assert make_dataset("shapes:size=20").test_images.shape[1:] == (1, 20, 20)
    with pytest.raises(ValueError, match="16 or 20"):
        make_dataset("shapes:size=17")


def _write_png(path, array):
    import imageio.v3 as iio

    iio.imwrite(path, array)


def test_folder_reads_grayscale_resizes_and_counts_unreadable(tmp_path):
    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[:, :, 0] = 255  # pure red: luminance 0.299
    _write_png(tmp_path / "a.png", rgb)
    _write_png(tmp_path / "b.png", np.full((12, 12), 255, np.uint8))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    d = make_dataset(f"folder:path={tmp_path},size=8")
    assert d.shape == (1, 8, 8)
    assert "skipped 1 unreadable: broken.png" in d.message
    images = torch.cat([d.train_images, d.test_images])
    values = sorted(round(float(x.mean()), 3) for x in images)
    assert values == [0.299, 1.0]
    # a bare value is the path
    assert make_dataset(f"folder:{tmp_path}").shape == (1, 16, 16)


def test_folder_errors(tmp_path):
    with pytest.raises(EmptyFolderError, match="no readable PNG or JPEG"):
        make_dataset(f"folder:path={tmp_path}")
    (tmp_path / "x.jpg").write_bytes(b"garbage")
    with pytest.raises(EmptyFolderError, match="1 unreadable: x.jpg"):
        make_dataset(f"folder:path={tmp_path}")
    with pytest.raises(EmptyFolderError, match="does not exist"):
        make_dataset(f"folder:path={tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="between 4 and 64"):
        make_dataset(f"folder:path={tmp_path},size=100")


def test_dataset_specs():
    assert parse_dataset_spec("moons") == ("moons", {})
    assert parse_dataset_spec("digits:binarize=yes") == ("digits", {"binarize": True})
    assert parse_dataset_spec("shapes:size=20") == ("shapes", {"size": 20})
    with pytest.raises(UnknownDatasetError, match="no option 'colour'"):
        parse_dataset_spec("digits:colour=red")
    with pytest.raises(UnknownDatasetError, match="valid names"):
        parse_dataset_spec("mnist")
    with pytest.raises(UnknownDatasetError, match="true or false"):
        parse_dataset_spec("digits:binarize=maybe")
    assert {"digits", "shapes", "folder", "gaussian2d-axis", "gaussian2d-rotated"} <= set(
        ALL_DATASETS
    )


@pytest.mark.parametrize("name", ["gaussian2d-axis", "gaussian2d-rotated"])
def test_collapse_gaussians_exact(name):
    d = make_dataset(name)
    x = d.sample(200_000, torch.Generator().manual_seed(0)).double()
    assert torch.allclose(x.mean(0), torch.tensor([2.0, 3.0], dtype=torch.float64), atol=0.03)
    cov = torch.cov(x.T)
    assert torch.allclose(cov, d.covariance(), atol=0.1)
    # entropy of N(m, S) = log(2 pi e) + 0.5 log det S = log(2 pi e) + log 3
    entropy = -float(d.log_prob(x).mean())
    assert entropy == pytest.approx(math.log(2 * math.pi * math.e) + math.log(3.0), abs=0.01)
    # the density integrates to 1 over its box
    from playground.core.data.base import box_grid, cell_area

    pts, _, _ = box_grid(d.box, 400)
    assert float(d.log_prob(pts.double()).exp().sum() * cell_area(d.box, 400)) == pytest.approx(
        1.0, abs=0.01
    )


def test_rotated_gaussian_has_full_covariance_axis_one_diagonal():
    axis, rotated = make_dataset("gaussian2d-axis"), make_dataset("gaussian2d-rotated")
    assert axis.covariance()[0, 1] == 0.0
    assert float(rotated.covariance()[0, 1]) == pytest.approx(4.0)  # (9 - 1) / 2


def test_digits_read_without_sklearn_equal_load_digits():
    from sklearn.datasets import load_digits

    from playground.core.data.images import _load_digits

    pixels, labels = _load_digits()
    bunch = load_digits()
    np.testing.assert_array_equal(pixels, bunch.data.astype(np.float32))
    np.testing.assert_array_equal(labels, bunch.target)
