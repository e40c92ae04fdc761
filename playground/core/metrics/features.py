"""Small shipped image classifiers whose penultimate layer is the feature space of FID and
precision/recall on the digits and shapes sets (the role Inception-v3 plays for ImageNet)."""

from __future__ import annotations

import functools
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "FEATURE_DIM",
    "FEATURE_NETS",
    "WEIGHTS_DIR",
    "FeatureNetError",
    "ImageClassifier",
    "feature_net_for",
    "load_feature_net",
    "features_and_probs",
]

#: width of the penultimate layer: the features FID and precision/recall compare
FEATURE_DIM = 64
#: the folder of the shipped weights (package data)
WEIGHTS_DIR = Path(__file__).parent / "weights"
#: dataset name -> (weights file, image side, classes, auxiliary regression targets)
FEATURE_NETS: dict[str, tuple[str, int, int, int]] = {
    "digits": ("digits_classifier.safetensors", 8, 10, 0),
    # the shape class, plus scale, x and y regressed by an auxiliary head during training
    # so that the features also see size and position, not only the shape
    "shapes": ("shapes_classifier.safetensors", 16, 3, 3),
}


class FeatureNetError(ValueError):
    """A feature network's weights file is missing, unreadable or does not fit the network
    (wrong tensor names, shapes or dtypes); the message names the file and what is wrong."""


class ImageClassifier(nn.Module):
    """A small CNN classifier of ``(n, 1, size, size)`` images in ``[0, 1]``.

    Three 3x3 convolutions (32, 64, 64 channels, ReLU; 2x2 max-pooling after the second and
    third), an adaptive average pool to 2x2, a 64-unit ReLU layer (the features) and a
    linear layer to the class logits. An optional auxiliary linear head regresses
    ``aux`` continuous targets from the features (used only while training).

    Arguments:
        size: image side in pixels (8 for digits, 16 for shapes).
        classes: number of classes ``K``.
        aux: number of auxiliary regression outputs (0 for none).
    """

    def __init__(self, size: int, classes: int, aux: int = 0):
        super().__init__()
        self.size, self.classes, self.aux_dim = int(size), int(classes), int(aux)
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 4, FEATURE_DIM)
        self.head = nn.Linear(FEATURE_DIM, self.classes)
        self.aux = nn.Linear(FEATURE_DIM, self.aux_dim) if self.aux_dim else None

    def features(self, x: Tensor) -> Tensor:
        """The penultimate layer: ``(n, 1, size, size)`` -> ``(n, 64)`` (non-negative)."""
        h = F.relu(self.conv1(x))
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.max_pool2d(F.relu(self.conv3(h)), 2)
        h = F.adaptive_avg_pool2d(h, 2).flatten(1)
        return F.relu(self.fc(h))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``(n, K)`` of ``(n, 1, size, size)`` images."""
        return self.head(self.features(x))


def _check_state(path: Path, state: dict[str, Tensor], net: ImageClassifier) -> None:
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise FeatureNetError(f"{path}: tensors missing {missing}, unexpected {extra}")
    for name, want in expected.items():
        got = state[name]
        if got.dtype != torch.float32 or got.shape != want.shape:
            raise FeatureNetError(
                f"{path}: tensor {name} is {got.dtype} {tuple(got.shape)}, "
                f"expected torch.float32 {tuple(want.shape)}"
            )
        if not bool(torch.isfinite(got).all()):
            raise FeatureNetError(f"{path}: tensor {name} has non-finite values")


def load_feature_net(path: str | Path, size: int, classes: int, aux: int = 0) -> ImageClassifier:
    """An :class:`ImageClassifier` with the weights of a safetensors file, in eval mode.

    Read with ``safetensors.torch.load_file`` (never pickle); every tensor's name, dtype
    (float32) and shape is checked against the network before it is loaded.

    Arguments:
        path: the ``.safetensors`` file.
        size, classes, aux: the network's shape (see :class:`ImageClassifier`).

    Raises:
        FeatureNetError: the file is missing or not safetensors, or a tensor is missing,
            unexpected, of another dtype or shape, or not finite.
    """
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FeatureNetError(f"{path}: no such weights file")
    try:
        state = load_file(str(path))
    except Exception as e:  # safetensors raises its own SafetensorError, OSError, ...
        raise FeatureNetError(f"{path}: not a readable safetensors file ({e})") from None
    net = ImageClassifier(size, classes, aux)
    _check_state(path, state, net)
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


@functools.cache
def _shipped(name: str) -> ImageClassifier:
    file, size, classes, aux = FEATURE_NETS[name]
    return load_feature_net(WEIGHTS_DIR / file, size, classes, aux)


def feature_net_for(data) -> ImageClassifier | None:
    """The shipped feature network of an image set (:data:`FEATURE_NETS`, by the dataset's
    name), loaded once per process; ``None`` for a set without one (a user's folder).

    Raises:
        FeatureNetError: the shipped weights file is missing or corrupt.
    """
    if data.name not in FEATURE_NETS:
        return None
    return _shipped(data.name)


@torch.no_grad()
def features_and_probs(
    net: ImageClassifier, images: Tensor, batch: int = 1000
) -> tuple[Tensor, Tensor]:
    """The features and class probabilities of images, in float64 on the CPU.

    Images are clamped to ``[0, 1]`` (what the views show of a sample) and resized by area
    averaging when their side differs from the network's (``shapes:size=20``).

    Arguments:
        net: a feature network.
        images: ``(n, 1, h, w)`` (or ``(n, h * w)``, square) in ``[0, 1]``.
        batch: images per forward pass.

    Returns:
        ``(n, 64)`` features and ``(n, K)`` probabilities ``p(y | x)`` (rows sum to one).
    """
    x = images.detach().float().cpu()
    side = int(round(x[0].numel() ** 0.5))
    x = x.reshape(len(x), 1, side, side).clamp(0.0, 1.0)
    if side != net.size:
        x = F.interpolate(x, size=(net.size, net.size), mode="area")
    feats, probs = [], []
    for chunk in x.split(batch):
        f = net.features(chunk)
        feats.append(f.double())
        probs.append(torch.softmax(net.head(f).double(), dim=1))
    return torch.cat(feats), torch.cat(probs)
