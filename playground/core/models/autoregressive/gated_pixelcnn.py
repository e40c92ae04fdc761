"""Gated PixelCNN: vertical and horizontal stacks without the blind spot, gated activations,
and optional class conditioning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor

from ...hyperparameters import HyperparameterError, hp, with_defaults
from ..base import TrainingConfig, lr_decay_hp
from .gated_layers import GatedPixelCNNNetwork
from .pixelcnn import PixelModel, class_count, odd_kernel

__all__ = ["GatedPixelCNN"]


class GatedPixelCNN(PixelModel):
    """Gated PixelCNN: a vertical stack that sees the rows above a pixel, a horizontal stack
    that sees the pixels left of it in its row, fed by the vertical one shifted down one
    row; gated activations ``tanh(W_f * x) * sigmoid(W_g * x)``, residual connections in
    the horizontal stack and skip connections to the head. No blind spot: with enough
    layers, a pixel sees every pixel before it.

    With ``conditional`` the label's embedding is added to both stacks' gates (eq. 4):
    training takes ``(x, y)`` batches; samples draw uniform labels (or ``sample_label``);
    held-out bits/dim are those of the class mixture ``(1/K) sum_y p(x | y)`` (see
    :class:`~.pixelcnn.PixelModel`).

    Arguments:
        config: a :class:`GatedPixelCNN.Config`.
        data: an image set (its shape, ``levels`` and, conditional, its labels).

    Raises:
        HyperparameterError: ``conditional`` on a set without labels, or an even kernel.

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
        NeurIPS 2016, section 2, eqs. (2) and (4), figure 2.
    """

    name: ClassVar[str] = "gated-pixelcnn"
    description: ClassVar[str] = (
        "Gated PixelCNN: vertical + horizontal stacks (no blind spot), gated units, labels"
    )

    @dataclass
    class Config(with_defaults(TrainingConfig, lr=3e-3, batch_size=64)):
        """Gated PixelCNN hyperparameters."""

        # 32 channels a stack x 6 layers: the 7x7 first layer and five 3x3 ones reach every
        # earlier pixel of an 8 x 8 digit
        channels: int = hp(32, low=4, high=512, log=True, help="channels of each stack")
        layers: int = hp(6, low=1, high=20, help="gated layers (the first with mask A)")
        kernel: int = hp(3, low=1, high=9, help="kernel of the layers after the first (odd)")
        first_kernel: int = hp(7, low=1, high=15, help="kernel of the first layer (odd)")
        skip: bool = hp(True, help="sum the layers' skip connections into the output")
        # 0.3: 1.78 -> 1.74 test bits/dim on digits (benchmarks/pixelcnn_digits.md)
        dropout: float = hp(0.3, low=0.0, high=0.9, help="dropout on the gated units")
        conditional: bool = hp(False, help="condition on the class label (eq. 4)")
        sample_label: int = hp(
            -1, low=-1, high=1000, live=True, help="conditional: the label sampled (-1: uniform)"
        )
        lr_decay_steps: int = lr_decay_hp(3000)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        if config.conditional:
            self.n_classes = class_count(data)
            if not self.n_classes:
                raise HyperparameterError(
                    f"conditional needs a labelled image set (digits, shapes); "
                    f"{data.name} has no labels"
                )
        self.net = GatedPixelCNNNetwork(
            1,
            self.levels,
            channels=config.channels,
            layers=config.layers,
            kernel=odd_kernel("kernel", config.kernel),
            first_kernel=odd_kernel("first_kernel", config.first_kernel),
            n_classes=self.n_classes,
            skip=config.skip,
            dropout=config.dropout,
        )

    def network_logits(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """``GatedPixelCNNNetwork`` logits ``(n, levels, h', w)`` of ``x (n, 1, h', w)``
        given labels ``(n,)`` (a conditional model)."""
        return self.net(x, labels)
