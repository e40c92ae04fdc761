"""Sample quality of image models in a shipped classifier's feature space: FID, precision,
recall and the classifier score, against the dataset's test images."""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from .features import FeatureNetError, feature_net_for, features_and_probs
from .frechet import classifier_score, frechet_distance
from .precision_recall import precision_recall

__all__ = ["IMAGE_QUALITY_SAMPLES", "PR_K", "image_quality_metrics", "reference_features"]

#: model samples whose features :func:`image_quality_metrics` compares with the test images
IMAGE_QUALITY_SAMPLES = 1000
#: the neighbour that sets each hypersphere of precision and recall (Kynkäänniemi et al.)
PR_K = 3


def reference_features(data, net) -> Tensor:
    """Features ``(n_test, 64)`` float64 of ``data.test_images`` (digits: 359, shapes: 1,000),
    computed once per dataset instance (cached on it)."""
    cached = getattr(data, "_quality_reference", None)
    if cached is None or cached[0] is not net:
        cached = (net, features_and_probs(net, data.test_images)[0])
        data._quality_reference = cached
    return cached[1]


@torch.no_grad()
def image_quality_metrics(
    model, data, seed: int = 0, device="cpu", samples: Tensor | None = None
) -> dict[str, float]:
    """FID, precision, recall and classifier score of an image model's samples.

    :data:`IMAGE_QUALITY_SAMPLES` (1,000) samples (the first 1,000 of ``samples`` where
    the caller drew them: :func:`~.density.image_metrics` shares its 2,000; otherwise drawn
    from a generator seeded with ``60_000 + seed``) are embedded, like the dataset's test
    images, by the set's shipped classifier (:func:`~.features.feature_net_for`; 64
    features, its penultimate layer).

    - ``fid``: :func:`~.frechet.frechet_distance` of the 1,000 samples' features to the
      test images' (lower is better; finite sets sit above 0: compare with the data's own
      train-vs-test FID in ``benchmarks/image_quality.md``);
    - ``precision``, ``recall``: :func:`~.precision_recall.precision_recall` with ``k = 3``
      between the test images and as many samples (the first ``min(n_test, 1000)``: 359 on
      digits), since the estimate depends on the set sizes;
    - ``classifier_score``: :func:`~.frechet.classifier_score` of the 1,000 samples' class
      probabilities (between 1 and the number of classes; higher is better).

    A set without a shipped network (a user's folder) or a model that does not sample gives
    an empty dict; so does a corrupt weights file, with a ``RuntimeWarning`` that says why.

    Arguments:
        model: an image model with ``sample(n, rng) -> (n, 1, h, w)`` in ``[0, 1]``
            (clamped to it before embedding).
        data: an image set.
        seed: the session's seed.
        device: the model's device.
        samples: ``(m, 1, h, w)`` samples already drawn, ``m >= 1,000``, or ``None``.

    Returns:
        ``{"fid", "precision", "recall", "classifier_score"}`` as floats, or ``{}``.
    """
    if "samples" not in model.capabilities:
        return {}
    try:
        net = feature_net_for(data)
    except FeatureNetError as e:
        warnings.warn(f"image-quality metrics skipped: {e}", RuntimeWarning, stacklevel=2)
        return {}
    if net is None:
        return {}
    real = reference_features(data, net)
    if samples is None:
        g = torch.Generator(device=device).manual_seed(60_000 + seed)
        samples = model.sample(IMAGE_QUALITY_SAMPLES, g)
    samples = samples[:IMAGE_QUALITY_SAMPLES]
    fake, probs = features_and_probs(net, samples.reshape(len(samples), *data.shape))
    m = min(len(real), len(fake))
    precision, recall = precision_recall(real[:m], fake[:m], k=PR_K)
    return {
        "fid": frechet_distance(real, fake),
        "precision": precision,
        "recall": recall,
        "classifier_score": classifier_score(probs),
    }
