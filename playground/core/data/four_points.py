"""The four-points toy of adversarial variational Bayes: four 2x2 binary images, one pixel on."""

from __future__ import annotations

import torch

from .images import ImageDataset

__all__ = ["FourPoints", "FOUR_POINT_NAMES", "TEST_COPIES"]

#: the lit pixel of each image, in label order (row-major over the 2x2 canvas)
FOUR_POINT_NAMES = ("top-left", "top-right", "bottom-left", "bottom-right")
#: copies of each image in the test split: the held-out means weigh the four equally, and
#: the latent view draws 125 posterior samples of each point (500, its point count)
TEST_COPIES = 125


class FourPoints(ImageDataset):
    """Four binary 2x2 images, each with one pixel on (equivalently one-hot in 4 dims).

    The data distribution is uniform on the four images, so the best model has
    ``log p(x) = -log 4 = -1.386`` nats per image; a 2D latent must split into four
    regions for the posteriors ``q(z | x)`` not to overlap. Training and test sets are
    the same four points: the training set holds each once (batches draw them uniformly),
    the test split each :data:`TEST_COPIES` times, in the order 0, 1, 2, 3, 0, 1, ...
    Labels are the lit pixel's index 0..3 (:data:`FOUR_POINT_NAMES`), so the latent views
    colour the four points apart. Pixels are exactly 0 or 1 (``levels`` 2).

    References:
        Mescheder, Nowozin and Geiger, "Adversarial Variational Bayes: Unifying
        Variational Autoencoders and Generative Adversarial Networks", ICML 2017,
        section 6.1 and figure 2.
    """

    name = "four-points"
    description = "four 2x2 binary images, one pixel on each (AVB's toy; best log p(x) = -log 4)"
    class_names = FOUR_POINT_NAMES
    binarized = True
    levels = 2

    def __init__(self) -> None:
        images = torch.eye(4).reshape(4, 1, 2, 2)
        labels = torch.arange(4)
        self.train_images, self.train_labels = images, labels
        self.test_images = images.repeat(TEST_COPIES, 1, 1, 1)
        self.test_labels = labels.repeat(TEST_COPIES)
