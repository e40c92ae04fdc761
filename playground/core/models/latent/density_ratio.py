"""The density-ratio trick: a classifier between samples of q and p whose logit is log q/p."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .networks import mlp

__all__ = ["RatioNet", "logistic_ratio_loss", "fit_log_ratio"]


def logistic_ratio_loss(t_q: Tensor, t_p: Tensor) -> Tensor:
    """The logistic loss of a classifier ``sigma(T)`` that tells samples of ``q`` (label 1)
    from samples of ``p`` (label 0), in nats (a scalar):

    ``-E_q[log sigma(T)] - E_p[log(1 - sigma(T))] = E_q[softplus(-T)] + E_p[softplus(T)]``.

    For equally many samples of each its minimiser over all functions is
    ``T*(u) = log q(u) - log p(u)``, the log density ratio (AVB, eq. 3-4; the optimal
    discriminator of Goodfellow et al. 2014, prop. 1, written as a logit).

    Arguments:
        t_q: ``(n,)`` logits ``T`` at samples of ``q``.
        t_p: ``(m,)`` logits ``T`` at samples of ``p``.

    References:
        Mescheder, Nowozin and Geiger, "Adversarial Variational Bayes", ICML 2017, eq. (3)
        and proposition 1; Sugiyama, Suzuki and Kanamori, "Density Ratio Estimation in
        Machine Learning", 2012, section 4 (probabilistic classification).
    """
    return F.softplus(-t_q).mean() + F.softplus(t_p).mean()


class RatioNet(nn.Module):
    """``T(u_1, u_2, ...) -> (n,)``: an MLP on its inputs flattened and concatenated (AVB's
    adversary ``T(x, z)``: an image ``(n, 1, h, w)`` and a code ``(n, d)``).

    Arguments:
        n_in: the total width of the flattened inputs.
        hidden, depth: width and number of hidden layers (SiLU: smooth, so the learned
            log-ratio is smooth between samples).
    """

    def __init__(self, n_in: int, hidden: int = 64, depth: int = 2):
        super().__init__()
        self.net = mlp(n_in, 1, hidden, depth, nn.SiLU)

    def forward(self, *inputs: Tensor) -> Tensor:
        flat = [u.reshape(u.shape[0], -1) for u in inputs]
        return self.net(torch.cat(flat, dim=1)).squeeze(-1)


def fit_log_ratio(
    draw_q: Callable[[int, torch.Generator], Tensor],
    draw_p: Callable[[int, torch.Generator], Tensor],
    dim: int,
    rng: torch.Generator,
    steps: int = 2000,
    batch_size: int = 256,
    hidden: int = 64,
    depth: int = 2,
    lr: float = 3e-3,
) -> RatioNet:
    """Train a :class:`RatioNet` by :func:`logistic_ratio_loss` on fresh samples of ``q``
    and ``p``; its output then estimates ``log q(u) - log p(u)`` in nats.

    Arguments:
        draw_q, draw_p: ``draw(n, rng) -> (n, dim)`` samplers of the two densities.
        dim: the dimension of a sample.
        rng: the source of every sample (the network's initial weights come from torch's
            global seed).
        steps: Adam steps, each on ``batch_size`` samples of each density.
        hidden, depth: the network's size.
        lr: Adam's learning rate, decayed by a cosine to 2% of it over the steps.

    Returns:
        The trained network, in eval mode: ``net(u (n, dim)) -> (n,)`` nats.

    Raises:
        ValueError: ``steps`` or ``batch_size`` below 1.

    References:
        Mescheder, Nowozin and Geiger, "Adversarial Variational Bayes", ICML 2017, eq. (3)-(4).
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be at least 1, not {steps}, {batch_size}")
    net = RatioNet(dim, hidden, depth)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=0.02 * lr)
    for _ in range(steps):
        loss = logistic_ratio_loss(net(draw_q(batch_size, rng)), net(draw_p(batch_size, rng)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    return net.eval()
