"""The two networks of a GAN (MLPs on the plane) and their optimisers."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["OPTIMIZERS", "Critic", "make_optimizer", "mlp"]

#: the optimisers a network can train with
OPTIMIZERS = ("adam", "rmsprop", "sgd")


def mlp(
    n_in: int, n_out: int, hidden: int, depth: int, activation: type[nn.Module]
) -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden`` with ``activation``, then a linear output."""
    layers: list[nn.Module] = []
    width = n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation()]
        width = hidden
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class Critic(nn.Module):
    """An MLP critic ``(b, n_in) -> (b,)`` whose last hidden layer is exposed as features.

    Arguments:
        n_in: input width (``2 * pack``).
        hidden, depth: as in :class:`GANConfig`.
    """

    def __init__(self, n_in: int, hidden: int, depth: int):
        super().__init__()
        # LeakyReLU: a critic whose units never die keeps passing gradient to the generator
        net = mlp(n_in, 1, hidden, depth, lambda: nn.LeakyReLU(0.2))
        self.body = net[:-1]
        self.head = net[-1]

    def features(self, x: Tensor) -> Tensor:
        """The last hidden layer's activations ``(b, hidden)``."""
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x)).squeeze(-1)


def make_optimizer(kind: str, params, lr: float, betas: tuple[float, float]):
    """An optimiser of one of :data:`OPTIMIZERS`."""
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise ValueError(f"unknown optimizer {kind!r}; use one of {OPTIMIZERS}")
