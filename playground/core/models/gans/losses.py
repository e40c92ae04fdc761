"""GAN objectives as pure functions of critic outputs (logits or critic values).

Every critic loss takes the critic's values on real and on generated samples and returns
``(loss, loss_real, loss_fake)`` (``loss = loss_real + loss_fake``); every generator loss
takes the values on generated samples and returns the scalar the generator minimises.
The classifier losses use logits and ``softplus`` so that ``log D`` never underflows:
``log sigmoid(l) = -softplus(-l)`` and ``log(1 - sigmoid(l)) = -softplus(l)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "CLASSIFIER_LOSSES",
    "CRITIC_LOSSES",
    "GENERATOR_LOSSES",
    "LOSSES",
    "classifier_critic_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "least_squares_critic_loss",
    "least_squares_generator_loss",
    "hinge_critic_loss",
    "hinge_generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
    "gradient_penalty",
    "feature_matching_loss",
]


def classifier_critic_loss(
    real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 0.0
) -> tuple[Tensor, Tensor, Tensor]:
    """Binary cross-entropy of the discriminator ``D = sigmoid(logit)``.

    ``-E[(1 - s) log D(x) + s log(1 - D(x))] - E[log(1 - D(G(z)))]``, with one-sided
    label smoothing ``s`` (real targets ``1 - s``, fake targets stay 0).

    Arguments:
        real_logits: ``(b,)`` logits on data.
        fake_logits: ``(b,)`` logits on generated samples.
        label_smoothing: ``s`` in ``[0, 0.5]``.

    Returns:
        ``(loss, loss_real, loss_fake)``, scalars.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014, equation (1);
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, section 3.4.
    """
    s = label_smoothing
    real = ((1.0 - s) * F.softplus(-real_logits) + s * F.softplus(real_logits)).mean()
    fake = F.softplus(fake_logits).mean()
    return real + fake, real, fake


def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    """The saturating generator loss ``E[log(1 - D(G(z)))]`` (minimised).

    Its gradient with respect to the logit is ``-sigmoid(l)``: it vanishes exactly when the
    discriminator confidently rejects the samples, early in training.

    References:
        Goodfellow et al. 2014, equation (1) and section 3 ("Early in learning ...").
    """
    return -F.softplus(fake_logits).mean()


def non_saturating_generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss ``-E[log D(G(z))]``.

    Same fixed point as the minimax game, but gradient ``-(1 - sigmoid(l))``: strongest
    where the discriminator rejects the samples.

    References:
        Goodfellow et al. 2014, section 3.
    """
    return F.softplus(-fake_logits).mean()


def least_squares_critic_loss(
    real_values: Tensor, fake_values: Tensor, label_smoothing: float = 0.0
) -> tuple[Tensor, Tensor, Tensor]:
    """LSGAN critic loss with ``a = 0, b = 1``: ``½E(D(x) - 1)² + ½E D(G(z))²``.

    ``label_smoothing`` is accepted for a uniform signature and ignored.

    References:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017,
        equation (2).
    """
    real = 0.5 * (real_values - 1.0).square().mean()
    fake = 0.5 * fake_values.square().mean()
    return real + fake, real, fake


def least_squares_generator_loss(fake_values: Tensor) -> Tensor:
    """LSGAN generator loss with ``c = 1``: ``½E(D(G(z)) - 1)²`` (Mao et al. 2017, eq. (2))."""
    return 0.5 * (fake_values - 1.0).square().mean()


def hinge_critic_loss(
    real_values: Tensor, fake_values: Tensor, label_smoothing: float = 0.0
) -> tuple[Tensor, Tensor, Tensor]:
    """Hinge critic loss ``E max(0, 1 - D(x)) + E max(0, 1 + D(G(z)))``.

    ``label_smoothing`` is accepted for a uniform signature and ignored.

    References:
        Lim and Ye, "Geometric GAN", 2017; Miyato et al., "Spectral Normalization for
        Generative Adversarial Networks", ICLR 2018, equation (16).
    """
    real = F.relu(1.0 - real_values).mean()
    fake = F.relu(1.0 + fake_values).mean()
    return real + fake, real, fake


def hinge_generator_loss(fake_values: Tensor) -> Tensor:
    """Hinge generator loss ``-E D(G(z))`` (Miyato et al. 2018, equation (17))."""
    return -fake_values.mean()


def wasserstein_critic_loss(
    real_values: Tensor, fake_values: Tensor, label_smoothing: float = 0.0
) -> tuple[Tensor, Tensor, Tensor]:
    """WGAN critic loss ``E D(G(z)) - E D(x)``: minus the Wasserstein-1 estimate.

    ``label_smoothing`` is accepted for a uniform signature and ignored.

    References:
        Arjovsky, Chintala and Bottou, "Wasserstein GAN", ICML 2017, equation (3).
    """
    real = -real_values.mean()
    fake = fake_values.mean()
    return real + fake, real, fake


def wasserstein_generator_loss(fake_values: Tensor) -> Tensor:
    """WGAN generator loss ``-E D(G(z))`` (Arjovsky et al. 2017, algorithm 1)."""
    return -fake_values.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, epsilon: Tensor
) -> Tensor:
    """WGAN-GP's two-sided penalty ``E (||∇D(x̂)||₂ - 1)²`` (without the weight λ).

    Arguments:
        critic: maps ``(b, d)`` to ``(b,)``.
        real, fake: ``(b, d)`` samples (fake detached from the generator).
        epsilon: ``(b, 1)`` mixing weights in ``[0, 1]``; ``x̂ = ε x + (1 - ε) x̃``.

    Returns:
        The scalar penalty; differentiable in the critic's parameters.

    References:
        Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017,
        equation (3) and algorithm 1.
    """
    x_hat = (epsilon * real + (1.0 - epsilon) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.norm(dim=1) - 1.0).square().mean()


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """``||E f(x) - E f(G(z))||²`` on critic features ``(b, h)`` (real detached).

    References:
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016, section 3.1.
    """
    return (real_features.detach().mean(0) - fake_features.mean(0)).square().sum()


CriticLoss = Callable[[Tensor, Tensor, float], tuple[Tensor, Tensor, Tensor]]

#: loss name -> critic loss
CRITIC_LOSSES: dict[str, CriticLoss] = {
    "minimax": classifier_critic_loss,
    "non-saturating": classifier_critic_loss,
    "least-squares": least_squares_critic_loss,
    "hinge": hinge_critic_loss,
    "wasserstein": wasserstein_critic_loss,
}

#: loss name -> generator loss
GENERATOR_LOSSES: dict[str, Callable[[Tensor], Tensor]] = {
    "minimax": minimax_generator_loss,
    "non-saturating": non_saturating_generator_loss,
    "least-squares": least_squares_generator_loss,
    "hinge": hinge_generator_loss,
    "wasserstein": wasserstein_generator_loss,
}

#: every loss name, in the app's order
LOSSES = tuple(CRITIC_LOSSES)

#: the losses whose critic is a classifier: its sigmoid is a probability
CLASSIFIER_LOSSES = frozenset({"minimax", "non-saturating"})
