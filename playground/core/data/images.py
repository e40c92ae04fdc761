"""Small image sets: scikit-learn's bundled digits and procedural shapes (a user's folder
is :mod:`.folder`).

Images are float32 tensors ``(n, 1, height, width)`` in ``[0, 1]``; labels are int64
``(n,)`` where they exist. Nothing is downloaded: digits ship with scikit-learn, shapes are
drawn from a seed.
"""

from __future__ import annotations

import gzip
import io
import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..files import LIMITS, FileRefusedError, human_bytes, read_file

__all__ = [
    "ImageDataset",
    "Digits",
    "Shapes",
    "SHAPE_NAMES",
    "FACTOR_NAMES",
    "render_shapes",
]

#: the shape factor's values, in label order
SHAPE_NAMES = ("square", "ellipse", "triangle")
#: the ground-truth factors of :class:`Shapes`, in column order of ``factors``
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y")


def test_index(n: int) -> Tensor:
    """The fixed test split of ``n`` images (bool ``(n,)``): every fifth, ``i % 5 == 4``;
    with 2 to 4 images (no fifth) the last one, so the test set is never empty; with one
    image, that image (which is then also the training set, see :meth:`ImageDataset._split`)."""
    test = torch.arange(n) % 5 == 4
    if n and not bool(test.any()):
        test[-1] = True
    return test


class ImageDataset:
    """A set of small grayscale images with a fixed train/test split.

    The Session draws training batches with :meth:`sample`; metrics and views read
    ``test_images`` (and ``test_labels`` or ``test_factors`` where they exist).

    Attributes:
        name: the dataset name on the command line.
        shape: ``(channels, height, width)`` of one image.
        dim: ``channels * height * width`` (what an MLP sees).
        train_images, test_images: ``(n, 1, h, w)`` float32 in ``[0, 1]``.
        train_labels, test_labels: ``(n,)`` int64, or ``None``.
        class_names: names of the label values, or ``None``.
        binarized: pixels are exactly 0 or 1 (for Bernoulli decoders).
        levels: the pixel values are exactly ``k / (levels - 1)``, ``k = 0..levels-1``
            (digits: 17, the integers 0..16 scikit-learn ships; binarised: 2), or ``None``
            for a set with no such grid; the discrete models and ``bits_per_dim`` read the
            integers through :func:`~playground.core.data.discrete.to_levels`.
        message: a line for the user about how the set was read (skipped files), or ``""``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    is_image: ClassVar[bool] = True
    kind: ClassVar[str] = "image"
    can_sample: ClassVar[bool] = True
    has_log_prob: ClassVar[bool] = False
    is_energy: ClassVar[bool] = False
    modes: ClassVar[Tensor | None] = None
    mode_std: ClassVar[float | None] = None
    #: a plotting box, for code that reads every dataset's box
    box: ClassVar[tuple[float, float, float, float]] = (0.0, 1.0, 0.0, 1.0)
    #: options the dataset spec may set (``digits:binarize=true``), with their types
    options: ClassVar[dict[str, type]] = {}

    train_images: Tensor
    test_images: Tensor
    train_labels: Tensor | None = None
    test_labels: Tensor | None = None
    class_names: tuple[str, ...] | None = None
    binarized: bool = False
    levels: int | None = None
    message: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        c, h, w = self.test_images.shape[1:]
        return (int(c), int(h), int(w))

    @property
    def dim(self) -> int:
        c, h, w = self.shape
        return c * h * w

    @property
    def test_examples(self) -> Tensor:
        """The test set in the format models see, ``(n, 1, h, w)`` (a sequence set has the
        same attribute: what held-out ``bits_per_dim`` reads)."""
        return self.test_images

    @property
    def has_labels(self) -> bool:
        return self.train_labels is not None

    def _split(self, images: Tensor, labels: Tensor | None) -> None:
        """Split by :func:`test_index`; one image is both the training and the test set."""
        if self.binarized:
            images = (images > 0.5).float()
        test = test_index(images.shape[0])
        train = ~test if images.shape[0] >= 2 else test
        self.train_images, self.test_images = images[train], images[test]
        if labels is not None:
            self.train_labels, self.test_labels = labels[train], labels[test]

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` training images drawn uniformly with replacement: ``(n, 1, h, w)``."""
        return self.sample_with_labels(n, rng)[0]

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Training images ``(n, 1, h, w)`` and their labels ``(n,)`` int64 (``-1`` for a
        set without labels)."""
        idx = torch.randint(0, self.train_images.shape[0], (n,), generator=rng)
        if self.train_labels is None:
            return self.train_images[idx], torch.full((n,), -1, dtype=torch.long)
        return self.train_images[idx], self.train_labels[idx]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, shape={self.shape})"


class Digits(ImageDataset):
    """scikit-learn's bundled 8x8 handwritten digits: 1,797 images of the classes 0-9.

    Pixel values 0..16 are divided by 16 (:attr:`levels` 17: the integers are
    ``to_levels(x, 17)``). The split is fixed: image ``i`` (in
    scikit-learn's order) is a test image if ``i % 5 == 4``, which gives 1,438 training
    and 359 test images.

    Arguments:
        binarize: threshold the pixels at 0.5 (for Bernoulli decoders).

    References:
        Alpaydin & Kaynak, UCI "Optical Recognition of Handwritten Digits" (the test set
        of which scikit-learn ships as ``load_digits``).
    """

    name = "digits"
    description = "scikit-learn 8x8 handwritten digits, 10 classes (1,438 train / 359 test)"
    options = {"binarize": bool}

    def __init__(self, binarize: bool = False):
        pixels, target = _load_digits()
        images = torch.from_numpy(pixels.reshape(-1, 8, 8) / 16.0)
        self.binarized = bool(binarize)
        self.levels = 2 if self.binarized else 17
        self.class_names = tuple(str(i) for i in range(10))
        self._split(images[:, None], torch.from_numpy(target))


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as ``(pixels (1797, 64) float32 in 0..16, labels (1797,) int64)``.

    Read straight from the CSV scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``,
    what ``load_digits`` reads), without importing scikit-learn: that import takes about
    a second, which a preset of digits would otherwise add to its opening time. The bytes
    come through :func:`~playground.core.files.read_file` (kind ``csv``) and are unpacked
    in memory, at most ``LIMITS["csv"]`` bytes. Falls back to ``load_digits`` if the file is
    not where it used to be.

    Raises:
        FileRefusedError: the file is refused, not gzip, or unpacks to more than the cap.
    """
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    for root in spec.submodule_search_locations or [] if spec else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            data = np.loadtxt(_gunzip_text(path), delimiter=",", dtype=np.float32, ndmin=2)
            return np.ascontiguousarray(data[:, :-1]), data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.asarray(bunch.data, dtype=np.float32), np.asarray(bunch.target, dtype=np.int64)


def _gunzip_text(path: Path) -> io.StringIO:
    """A gzipped CSV's text, read through ``read_file(path, "csv")`` and unpacked in memory to
    at most ``LIMITS["csv"]`` bytes."""
    limit = LIMITS["csv"]
    packed = read_file(path, "csv")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
            text = f.read(limit + 1)
        if len(text) > limit:
            raise FileRefusedError(
                f"{path}: unpacks to more than the {human_bytes(limit)} a csv file may take"
            )
        return io.StringIO(text.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise FileRefusedError(f"{path}: not a gzipped text file ({e})") from None


def _inside(u: Tensor, v: Tensor, shape: Tensor) -> Tensor:
    """Whether points ``(u, v)`` in a shape's own frame (unit scale) lie inside it."""
    square = (u.abs() <= 0.75) & (v.abs() <= 0.75)
    ellipse = (u / 1.0).square() + (v / 0.6).square() <= 1.0
    # an equilateral triangle of circumradius 1, apex up: three half-planes
    triangle = (v >= -0.5) & (math.sqrt(3) * u + v <= 1.0) & (-math.sqrt(3) * u + v <= 1.0)
    out = torch.where(shape == 0, square, torch.where(shape == 1, ellipse, triangle))
    return out


def render_shapes(factors: Tensor, size: int, supersample: int = 4) -> Tensor:
    """Draw one white shape per row of ``factors`` on a black ``size x size`` canvas.

    Each pixel is the fraction of its ``supersample**2`` sub-pixel points inside the
    shape, so edges are anti-aliased.

    Arguments:
        factors: ``(n, 5)`` float: shape index (0 square, 1 ellipse, 2 triangle), scale in
            ``[0.5, 1]``, rotation in radians, centre x and y in ``[0, 1]`` (fractions of
            the canvas, y downwards). A shape of scale 1 spans about 0.6 of the canvas.
        size: canvas side in pixels.
        supersample: sub-pixels per side.

    Returns:
        ``(n, 1, size, size)`` float32 in ``[0, 1]``.
    """
    n = factors.shape[0]
    k = size * supersample
    coords = (torch.arange(k, dtype=torch.float32) + 0.5) / k  # canvas fractions
    gy, gx = torch.meshgrid(coords, coords, indexing="ij")
    f = factors.float()
    shape, scale, rot, cx, cy = (f[:, i].view(n, 1, 1) for i in range(5))
    radius = 0.3 * scale
    dx, dy = (gx - cx) / radius, (gy - cy) / radius
    cos, sin = torch.cos(rot), torch.sin(rot)
    # rotate the canvas points into the shape's frame (y up in the frame)
    u = cos * dx + sin * dy
    v = sin * dx - cos * dy
    inside = _inside(u, v, shape).float()
    return F.avg_pool2d(inside[:, None], supersample)


def draw_factors(n: int, rng: torch.Generator) -> Tensor:
    """``(n, 5)`` factors drawn uniformly: shape, scale ``[0.5, 1]``, rotation ``[0, 2 pi)``,
    x and y ``[0.3, 0.7]``."""
    shape = torch.randint(0, len(SHAPE_NAMES), (n,), generator=rng).float()
    u = torch.rand(n, 4, generator=rng)
    scale = 0.5 + 0.5 * u[:, 0]
    rotation = 2 * math.pi * u[:, 1]
    xy = 0.3 + 0.4 * u[:, 2:]
    return torch.stack([shape, scale, rotation, xy[:, 0], xy[:, 1]], dim=1)


class Shapes(ImageDataset):
    """A procedural dSprites-style set: a square, ellipse or triangle on a black canvas.

    Every training batch is drawn fresh from the session's rng (an endless set);
    the test set is 1,000 images drawn from the seed ``test_seed``. The ground-truth
    factors (:data:`FACTOR_NAMES`: shape, scale, rotation, x, y) are returned beside each
    image, so disentanglement can be checked against the truth. Labels are the shape.

    Arguments:
        size: canvas side in pixels, 16 or 20.
        binarize: threshold the pixels at 0.5 (for Bernoulli and binary autoregressive
            models); otherwise each pixel is the covered fraction of its 16 sub-pixels, one
            of 17 levels ``k / 16``.
        test_seed: the seed of the fixed test set.

    Raises:
        ValueError: ``size`` is not 16 or 20.

    References:
        Matthey et al., "dSprites: Disentanglement testing Sprites dataset", 2017 (the
        factors); Higgins et al., "beta-VAE", ICLR 2017.
    """

    name = "shapes"
    description = "procedural dSprites-style shapes (square, ellipse, triangle) with true factors"
    options = {"size": int, "binarize": bool}
    class_names = SHAPE_NAMES
    factor_names = FACTOR_NAMES
    n_test = 1000

    def __init__(self, size: int = 16, binarize: bool = False, test_seed: int = 12345):
        if size not in (16, 20):
            raise ValueError(f"shapes size must be 16 or 20, not {size}")
        self.size = int(size)
        self.binarized = bool(binarize)
        # render_shapes' 4 x 4 sub-pixels: a pixel is one of 17 fractions k / 16
        self.levels = 2 if self.binarized else 17
        g = torch.Generator().manual_seed(test_seed)
        self.test_images, self.test_labels, self.test_factors = self.sample_with_factors(
            self.n_test, g
        )
        # a fixed stand-in training set for code that reads one (views, counts)
        self.train_images, self.train_labels = self.test_images, self.test_labels

    def sample_with_factors(self, n: int, rng: torch.Generator) -> tuple[Tensor, ...]:
        """Fresh images ``(n, 1, s, s)``, labels (the shape) ``(n,)`` and factors ``(n, 5)``."""
        factors = draw_factors(n, rng)
        images = render_shapes(factors, self.size)
        if self.binarized:
            images = (images > 0.5).float()
        return images, factors[:, 0].long(), factors

    def sample_with_labels(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Fresh images ``(n, 1, s, s)`` and their shape labels ``(n,)``."""
        images, labels, _ = self.sample_with_factors(n, rng)
        return images, labels
