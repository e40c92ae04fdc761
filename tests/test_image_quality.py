"""Image sample quality: FID, precision/recall and the classifier score, the shipped feature
networks, and the keys `train` prints for image models."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch

from playground.core.data import make_dataset
from playground.core.metrics import features
from playground.core.metrics.features import (
    FEATURE_NETS,
    FeatureNetError,
    feature_net_for,
    features_and_probs,
    load_feature_net,
)
from playground.core.metrics.frechet import classifier_score, frechet_distance
from playground.core.metrics.image_quality import image_quality_metrics
from playground.core.metrics.precision_recall import precision_recall

#: the test accuracies the shipped networks reached (benchmarks/image_quality.md), less a margin
ACCURACY_BAR = {"digits": 0.98, "shapes": 0.95}


def _gaussian(n=400, d=8, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_noise():
    x = _gaussian()
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    eps = _gaussian(seed=1)
    fids = [frechet_distance(x, x + s * eps) for s in (0.1, 0.3, 1.0, 3.0)]
    assert all(a < b for a, b in zip(fids, fids[1:], strict=False)), fids
    # a pure shift of the mean by 2 in each of 8 dimensions: |mu_a - mu_b|^2 = 32
    assert frechet_distance(x, x + 2.0) == pytest.approx(32.0, rel=1e-9)


def test_precision_and_recall_are_one_on_itself_and_zero_far_away():
    x = _gaussian()
    assert precision_recall(x, x) == (1.0, 1.0)
    assert precision_recall(x, x + 100.0, k=3) == (0.0, 0.0)
    # a collapsed generator: every sample on one real point is precise but recalls little
    p, r = precision_recall(x, x[:1].expand(400, -1).clone())
    assert p == 1.0 and r < 0.1
    with pytest.raises(ValueError, match="n > k"):
        precision_recall(x[:3], x, k=3)


def test_classifier_score_is_one_when_uniform_and_k_when_confident_and_balanced():
    k = 10
    assert classifier_score(torch.full((50, k), 1.0 / k)) == pytest.approx(1.0)
    confident = torch.eye(k).repeat(5, 1)
    assert classifier_score(confident) == pytest.approx(float(k))
    # confident but collapsed on one class: 1 again
    assert classifier_score(torch.eye(k)[[3] * 20]) == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(FEATURE_NETS))
def test_the_shipped_networks_classify_the_test_set(name):
    data = make_dataset(name)
    net = feature_net_for(data)
    assert net is not None and net.size == data.shape[1]
    feats, probs = features_and_probs(net, data.test_images)
    assert feats.shape == (len(data.test_images), features.FEATURE_DIM)
    assert torch.allclose(probs.sum(1), torch.ones(len(probs), dtype=torch.float64))
    accuracy = float((probs.argmax(1) == data.test_labels).double().mean())
    assert accuracy >= ACCURACY_BAR[name], accuracy
    assert (features.WEIGHTS_DIR / FEATURE_NETS[name][0]).stat().st_size < 1_000_000


def test_real_test_images_score_well_against_themselves():
    data = make_dataset("digits")

    class Replay:  # a "model" whose samples are the test images
        capabilities = frozenset({"samples"})

        def sample(self, n, rng):
            return data.test_images[torch.randint(0, len(data.test_images), (n,), generator=rng)]

    out = image_quality_metrics(Replay(), data)
    assert set(out) == {"fid", "precision", "recall", "classifier_score"}
    assert out["fid"] < 5 and out["precision"] > 0.9 and out["classifier_score"] > 8


def _corrupt(tmp_path, monkeypatch, kind):
    file = tmp_path / FEATURE_NETS["digits"][0]
    if kind == "garbage":
        file.write_bytes(b"not a safetensors file at all")
    else:
        from safetensors.torch import save_file

        state = features.ImageClassifier(8, 10).state_dict()
        if kind == "shape":
            state["fc.weight"] = torch.zeros(3, 3)
        else:
            state["fc.weight"] = state["fc.weight"].double()
        save_file({k: v.contiguous() for k, v in state.items()}, str(file))
    monkeypatch.setattr(features, "WEIGHTS_DIR", tmp_path)
    features._shipped.cache_clear()
    return file


@pytest.mark.parametrize(
    "kind, message",
    [("garbage", "not a readable safetensors"), ("shape", "fc.weight"), ("dtype", "float64")],
)
def test_a_corrupt_weights_file_is_a_clear_error_and_skips_the_metrics(
    tmp_path, monkeypatch, kind, message
):
    file = _corrupt(tmp_path, monkeypatch, kind)
    try:
        with pytest.raises(FeatureNetError, match=message):
            load_feature_net(file, 8, 10)
        data = make_dataset("digits")

        class Sampler:
            capabilities = frozenset({"samples"})

            def sample(self, n, rng):
                return torch.rand(n, 1, 8, 8, generator=rng)

        with pytest.warns(RuntimeWarning, match="image-quality metrics skipped"):
            assert image_quality_metrics(Sampler(), data) == {}
    finally:
        features._shipped.cache_clear()


def test_train_gan_on_digits_prints_the_image_quality_metrics(capsys):
    from playground.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        small = ["--set", "batch_size=32", "--set", "hidden=32", "--threads", "1"]
        assert main(["train", "gan", "digits", "--steps", "20", *small]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("fid", "precision", "recall", "classifier_score"):
        assert math.isfinite(out[key]), key
    assert 0 <= out["precision"] <= 1 and 0 <= out["recall"] <= 1
    assert 1 <= out["classifier_score"] <= 10 and out["fid"] > 0


def test_a_vae_on_digits_gets_the_keys_and_a_folder_set_none(tmp_path):
    import imageio.v3 as iio
    import numpy as np

    from playground.core.training import Session

    s = Session("vae", "digits", {"batch_size": 32, "hidden": 16}, seed=0)
    s.run(2)
    out = s.evaluate(n=400, record=False)
    assert {"fid", "precision", "recall", "classifier_score"} <= set(out)
    for i in range(3):
        iio.imwrite(tmp_path / f"{i}.png", np.full((10, 10), 80 * i, np.uint8))
    s = Session("vae", f"folder:path={tmp_path},size=8", {"batch_size": 4, "hidden": 16}, seed=0)
    s.run(1)
    assert not {"fid", "precision", "recall", "classifier_score"} & set(s.evaluate(400, False))
