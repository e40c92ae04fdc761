"""GANs on image sets: shapes of samples, training moves the generator, image snapshots."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from playground.core.models import MODELS
from playground.core.snapshots.images import slerp
from playground.core.training import Session

IMAGE_GANS = ["gan", "wgan", "wgan-gp", "sngan", "fgan", "infogan"]
SMALL = {"hidden": 32, "batch_size": 16}


@pytest.mark.parametrize("name", IMAGE_GANS)
def test_every_gan_trains_on_digits(name):
    s = Session(name, "digits", SMALL, seed=0)
    assert s.model.event_shape == (1, 8, 8) and s.config.latent_dim == 16
    g = torch.Generator().manual_seed(5)
    before = s.model.sample(8, g).detach()
    assert before.shape == (8, 1, 8, 8) and 0 <= float(before.min()) and float(before.max()) <= 1
    terms = s.run(5)
    assert all(math.isfinite(v) for v in terms.values())
    after = s.model.sample(8, torch.Generator().manual_seed(5)).detach()
    assert (after - before).abs().max() > 1e-4
    assert s.available_views == ["grid", "interpolation", "curves"]


def test_pacgan_packs_flattened_images():
    s = Session("gan", "shapes", {**SMALL, "pack": 2}, seed=0)
    assert s.model.critic_net.body[0].in_features == 2 * 16 * 16
    x = s.data.sample(6, torch.Generator().manual_seed(0))
    assert s.model.pack_samples(x).shape == (3, 512)
    assert s.model.critic(x).shape == (6,)
    s.run(2)


def test_infogan_categories_follow_the_dataset():
    assert Session("infogan", "digits", SMALL).config.categories == 10
    assert Session("infogan", "shapes", SMALL).config.categories == 3
    assert Session("infogan", "grid25", SMALL).config.categories == 25
    assert Session("infogan", "digits", {**SMALL, "categories": 4}).config.categories == 4


def test_flows_do_not_train_on_images():
    with pytest.raises(ValueError, match="realnvp cannot train on the image set digits"):
        Session("realnvp", "digits")
    assert not MODELS["maf"].trains_on(Session("gan", "digits", SMALL).data)


def test_sample_grid_uses_a_fixed_latent_batch_and_evolves():
    s = Session("gan", "digits", SMALL, seed=0)
    a = s.snapshot(["grid"]).grid
    b = s.snapshot(["grid"]).grid
    assert a.images.shape == (6, 8, 8, 8) and np.array_equal(a.images, b.images)
    assert a.data.shape[1:] == (8, 8) and a.row_labels is None
    s.run(3)
    c = s.snapshot(["grid"]).grid
    assert not np.array_equal(a.images, c.images)


def test_infogan_grid_has_one_row_per_category_over_the_same_noise():
    s = Session("infogan", "digits", SMALL, seed=0)
    grid = s.snapshot(["grid"]).grid
    assert grid.images.shape == (10, 8, 8, 8)
    assert grid.row_labels == tuple(f"c = {i}" for i in range(10))


def test_interpolation_strips_end_at_the_endpoints():
    s = Session("gan", "digits", SMALL, seed=0)
    inter = s.snapshot(["interpolation"]).interpolation
    assert inter.linear.shape == inter.slerp.shape == (4, 10, 8, 8)
    np.testing.assert_allclose(inter.linear[:, 0], inter.slerp[:, 0], atol=1e-5)
    np.testing.assert_allclose(inter.linear[:, -1], inter.slerp[:, -1], atol=1e-5)
    assert not np.allclose(inter.linear[:, 5], inter.slerp[:, 5])


def test_slerp_keeps_the_norm_of_equal_norm_endpoints():
    z0 = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    z1 = torch.tensor([[0.0, 3.0], [2.0, 2.0]])  # the second pair is parallel: a line
    path = slerp(z0, z1, torch.linspace(0, 1, 5))
    assert path.shape == (2, 5, 2)
    assert torch.allclose(path[0].norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert torch.allclose(path[1, 2], torch.tensor([1.5, 1.5]))


@pytest.mark.slow
def test_image_metrics_judge_classes_with_a_classifier():
    s = Session("infogan", "digits", SMALL, seed=0)
    m = s.evaluate(record=False)
    assert m["classifier_accuracy"] > 0.9
    assert 1 <= m["classes_captured"] <= 10 and 0 <= m["class_kl"] <= math.log(10) + 1e-9
    assert 0 < m["category_purity"] <= 1 and 1 <= m["categories_distinct"] <= 10


def test_class_metrics_of_a_perfect_and_a_collapsed_sampler():
    from playground.core.data import make_dataset
    from playground.core.metrics.density import image_metrics

    data = make_dataset("digits")

    class Sampler:  # what image_metrics asks of a model (models/base.py's protocol)
        capabilities = frozenset({"samples"})

    class Replay(Sampler):  # "samples" are real test images: balanced classes
        def sample(self, n, rng):
            idx = torch.randint(0, len(data.test_images), (n,), generator=rng)
            return data.test_images[idx]

    class Collapsed(Sampler):  # every sample is the same image of a 0
        def sample(self, n, rng):
            return data.test_images[data.test_labels == 0][:1].expand(n, 1, 8, 8)

    good, bad = image_metrics(Replay(), data), image_metrics(Collapsed(), data)
    assert good["classes_captured"] == 10 and good["class_kl"] < 0.05
    assert bad["classes_captured"] == 1 and bad["class_kl"] == pytest.approx(math.log(10))


def test_folder_sets_have_no_class_metrics(tmp_path):
    import imageio.v3 as iio

    for i in range(3):
        iio.imwrite(tmp_path / f"{i}.png", np.full((10, 10), 80 * i, np.uint8))
    s = Session("gan", f"folder:path={tmp_path},size=8", SMALL, seed=0)
    s.run(2)
    assert s.evaluate(record=False) == {}
    assert s.snapshot(["grid"]).grid.images.shape == (6, 8, 8, 8)
