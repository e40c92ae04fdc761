"""The Dirac-GAN: the two-parameter GAN of Mescheder, Geiger and Nowozin (2018) whose
training dynamics can be read off a plane: data a point mass at 0, ``G(z) = theta``,
``D(x) = psi x``, trained by plain gradient descent, simultaneous or alternating.

In the paper's convention the critic maximises and the generator minimises

    L(theta, psi) = E_z f(D(G(z))) + E_x f(-D(x)) = f(psi theta) + f(0),

with ``f(t) = -log(1 + exp(-t))`` (the standard, ``minimax`` GAN) or ``f(t) = t`` (WGAN).
The unique equilibrium is ``(0, 0)``; the Jacobian of the gradient field there has the
eigenvalues ``+-i f'(0)`` (no damping: simultaneous steps spiral out, alternating ones
orbit), and with R1 or R2 of weight gamma ``-gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...hyperparameters import HyperparameterError, hp
from ..base import GenerativeModel, NonFiniteLossError
from .losses import gradient_penalty
from .regularizers import add_instance_noise, gradient_norm_penalty

__all__ = [
    "DiracGAN",
    "LOSSES",
    "UPDATES",
    "REGULARIZERS",
    "PENALTY_TERMS",
    "WGAN_CLIP",
    "critic_objective",
    "generator_objective",
    "vector_field",
]

LOSSES = ("minimax", "non-saturating", "wasserstein")
UPDATES = ("simultaneous", "alternating")
REGULARIZERS = ("none", "r1", "r2", "wgan-gp", "instance-noise")
#: the training term of each penalty (the names every GAN reports them under)
PENALTY_TERMS = {"r1": "r1_penalty", "r2": "r2_penalty", "wgan-gp": "gradient_penalty"}
#: WGAN's Lipschitz constraint on the Dirac-GAN: |psi| <= 1, by clipping after each step
WGAN_CLIP = 1.0
#: Gauss-Hermite nodes of the instance noise's expectation in :func:`vector_field`
NOISE_NODES = 24


def _f(t: Tensor, loss: str) -> Tensor:
    """The paper's ``f``: ``-log(1 + e^-t)`` (``log sigmoid``), or ``t`` for WGAN."""
    return t if loss == "wasserstein" else -F.softplus(-t)


def _mean(values: Tensor, weights: Tensor | None) -> Tensor:
    """The mean over the last dimension, weighted by ``weights`` (summing to 1) if given."""
    return values.mean(-1) if weights is None else (values * weights).sum(-1)


def critic_objective(
    d_real: Tensor, d_fake: Tensor, loss: str, weights: Tensor | None = None
) -> Tensor:
    """``L = E f(D(G(z))) + E f(-D(x))``, the value the critic maximises, ``(*, k) -> (*)``
    over critic values on ``k`` real and ``k`` generated (noisy) samples.

    References:
        Mescheder et al., ICML 2018, equation (1).
    """
    return _mean(_f(d_fake, loss), weights) + _mean(_f(-d_real, loss), weights)


def generator_objective(d_fake: Tensor, loss: str, weights: Tensor | None = None) -> Tensor:
    """What the generator minimises, ``(*, k) -> (*)``: ``E f(D(G(z)))`` (``minimax``,
    ``wasserstein``) or ``-E f(-D(G(z)))`` (``non-saturating``: ``-E log D`` of the real
    class in this sign convention).

    References:
        Mescheder et al., ICML 2018, equation (1) and section 3.1; Goodfellow et al. 2014.
    """
    if loss == "non-saturating":
        return -_mean(_f(-d_fake, loss), weights)
    return _mean(_f(d_fake, loss), weights)


def _penalty(psi: Tensor, regularizer: str, gamma: float) -> Tensor:
    """The critic's penalty as a function of ``psi`` (``grad_x D = psi`` everywhere)."""
    if regularizer in ("r1", "r2"):
        return 0.5 * gamma * psi.square()
    if regularizer == "wgan-gp":
        return 0.5 * gamma * (psi.abs() - 1.0).square()
    return torch.zeros_like(psi)


def vector_field(
    theta: Tensor,
    psi: Tensor,
    loss: str = "minimax",
    regularizer: str = "none",
    gamma: float = 1.0,
    noise_std: float = 0.0,
) -> tuple[Tensor, Tensor]:
    """The gradient vector field ``v = (-dL_G/dtheta, -dL_D/dpsi)`` of the Dirac-GAN at
    points ``(theta, psi)`` (``(*)`` each): the direction continuous-time training moves.

    ``L_D = -L + R(psi)``; R1 and R2 are ``gamma/2 psi^2``, WGAN-GP's penalty ``gamma/2
    (|psi| - 1)^2``; instance noise of std sigma is averaged out exactly (Gauss-Hermite
    quadrature over the noise on real and generated samples). WGAN's clipping of psi is a
    projection after a step, not part of the field. Differentiable (autograd builds it),
    so ``torch.autograd.functional.jacobian`` gives its Jacobian.

    Returns:
        ``(v_theta, v_psi)``, each ``(*)``.

    References:
        Mescheder et al., ICML 2018, section 2.2 (the field and its Jacobian), section 3.2
        (instance noise, WGAN-GP) and section 4.1 (R1, R2; theorem 4.1).
    """
    noise = regularizer == "instance-noise" and noise_std > 0
    if noise:
        nodes, w = np.polynomial.hermite_e.hermegauss(NOISE_NODES)
        eps = torch.as_tensor(nodes * noise_std).to(theta)
        weights = torch.as_tensor(w / w.sum()).to(theta)
    else:
        eps, weights = torch.zeros(1).to(theta), None
    with torch.enable_grad():
        t = theta if theta.requires_grad else theta.detach().requires_grad_(True)
        p = psi if psi.requires_grad else psi.detach().requires_grad_(True)
        d_fake = p[..., None] * (t[..., None] + eps)
        d_real = p[..., None] * eps  # the data point is 0
        loss_d = -critic_objective(d_real, d_fake, loss, weights) + _penalty(p, regularizer, gamma)
        loss_g = generator_objective(d_fake, loss, weights)
        (g_theta,) = torch.autograd.grad(loss_g.sum(), t, create_graph=True)
        (g_psi,) = torch.autograd.grad(loss_d.sum(), p, create_graph=True)
    return -g_theta, -g_psi


class DiracGAN(GenerativeModel):
    """The Dirac-GAN: ``G(z) = theta`` against ``D(x) = psi x`` on data ``delta_0``.

    Each :meth:`train_step` is one plain gradient step of both parameters with step size
    ``h = lr``: ``simultaneous`` (both gradients at the same point) or ``alternating``
    (the critic first, then the generator at the critic's new ``psi``). The regulariser
    is one of R1, R2 (``gamma/2 E ||grad_x D||^2`` on real or generated samples),
    WGAN-GP's penalty (``gamma/2 E (||grad D(x^)|| - 1)^2``) or instance noise (std
    ``noise_std`` on every critic input). The ``wasserstein`` loss keeps ``|psi| <= 1`` by
    clipping, as WGAN clips its weights, unless WGAN-GP's penalty replaces the clip.

    Returns per step ``loss_d`` (what the critic minimised, penalty included),
    ``loss_g``, the penalty's term, and ``theta``, ``psi`` and ``distance = ||(theta,
    psi)||``, the distance to the equilibrium ``(0, 0)``, after the step.

    Raises:
        HyperparameterError: a penalty with ``gamma = 0`` or instance noise of std 0.

    References:
        Mescheder, Geiger and Nowozin, "Which Training Methods for GANs do actually
        Converge?", ICML 2018, section 2.2 (the Dirac-GAN), sections 3 and 4.1.
    """

    name: ClassVar[str] = "dirac-gan"
    family: ClassVar[str] = "gan"
    description: ClassVar[str] = "Dirac-GAN: G(z) = θ vs D(x) = ψx, the paper's convergence toy"
    capabilities: ClassVar[frozenset[str]] = frozenset({"samples", "critic"})
    parts: ClassVar[tuple[str, ...]] = ("critic", "generator")
    data_kinds: ClassVar[tuple[str, ...]] = ("point",)

    @dataclass
    class Config:
        """Dirac-GAN hyperparameters: the paper's figure 1 (h = 0.1, start (1, 0))."""

        loss: str = hp(
            "minimax", choices=LOSSES, live=True, help="f(t) = -log(1 + e^-t) (minimax), NS, WGAN"
        )
        updates: str = hp(
            "simultaneous", choices=UPDATES, live=True, help="both players at once, or in turn"
        )
        regularizer: str = hp(
            "none", choices=REGULARIZERS, live=True, help="the critic's regulariser"
        )
        gamma: float = hp(1.0, low=0.0, high=100.0, live=True, help="γ of R1, R2 or WGAN-GP")
        noise_std: float = hp(
            1.0, low=0.0, high=10.0, live=True, help="σ of the instance noise (instance-noise)"
        )
        lr: float = hp(
            0.1, low=1e-4, high=2.0, log=True, live=True, help="step size h of gradient descent"
        )
        theta0: float = hp(1.0, low=-10.0, high=10.0, help="the generator's start θ₀")
        psi0: float = hp(0.0, low=-10.0, high=10.0, help="the critic's start ψ₀")
        # the data is one point: more rows only average the instance noise
        batch_size: int = hp(64, low=1, high=8192, log=True, live=True, help="noise draws per step")

        def __post_init__(self) -> None:
            if self.regularizer in PENALTY_TERMS and self.gamma <= 0:
                raise HyperparameterError(
                    f"regularizer={self.regularizer} with gamma=0 is no regulariser: "
                    "set gamma > 0 or regularizer=none"
                )
            if self.regularizer == "instance-noise" and self.noise_std <= 0:
                raise HyperparameterError(
                    "regularizer=instance-noise needs noise_std > 0 (the noise's std σ)"
                )

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.theta = nn.Parameter(torch.tensor(float(config.theta0)))
        self.psi = nn.Parameter(torch.tensor(float(config.psi0)))

    def configure_optimizers(self) -> None:
        """Plain gradient descent (SGD, no momentum), ``critic`` on psi, ``generator`` on
        theta, both at ``lr``."""
        lr = float(self.config.lr)
        self.optimizers = {
            "critic": torch.optim.SGD([self.psi], lr=lr),
            "generator": torch.optim.SGD([self.theta], lr=lr),
        }

    # --------------------------------------------------------------- protocol
    def generate(self, n: int) -> Tensor:
        """``G(z) = theta`` for ``n`` latents: ``(n, 1)``."""
        return self.theta.reshape(1, 1).expand(n, 1)

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` samples ``(n, 1)``, every one ``theta`` (``rng`` is not drawn from)."""
        return self.generate(n).detach().clone()

    def critic(self, x: Tensor) -> Tensor:
        """``D(x) = psi x``: ``(n, 1) -> (n,)``."""
        return self.psi * x.reshape(x.shape[0], -1)[:, 0]

    # --------------------------------------------------------------- training
    @property
    def clipped(self) -> bool:
        """Whether psi is clipped to ``[-1, 1]`` after each critic step (WGAN, no GP)."""
        return self.config.loss == "wasserstein" and self.config.regularizer != "wgan-gp"

    def _noisy(self, x: Tensor) -> Tensor:
        std = self.config.noise_std if self.config.regularizer == "instance-noise" else 0.0
        return add_instance_noise(x, std, self.rng)

    def _critic_loss(self, batch: Tensor) -> dict[str, Tensor]:
        """``loss_d`` (penalty included) and the penalty's own term, on ``batch (b, 1)``."""
        cfg = self.config
        real = self._noisy(batch)
        fake = self._noisy(self.generate(batch.shape[0]).detach())
        loss_d = -critic_objective(self.critic(real), self.critic(fake), cfg.loss)
        terms: dict[str, Tensor] = {}
        if cfg.regularizer in ("r1", "r2"):
            x = real if cfg.regularizer == "r1" else fake
            terms[PENALTY_TERMS[cfg.regularizer]] = gradient_norm_penalty(self.critic, x, cfg.gamma)
        elif cfg.regularizer == "wgan-gp":
            g = self.rng
            eps = torch.rand(real.shape[0], 1, generator=g, device=g.device).to(real)
            gp = 0.5 * cfg.gamma * gradient_penalty(self.critic, real, fake, eps)
            terms[PENALTY_TERMS["wgan-gp"]] = gp
        return {"loss_d": loss_d + sum(terms.values()), **terms}

    def _generator_loss(self, batch: Tensor) -> Tensor:
        fake = self._noisy(self.generate(batch.shape[0]))
        return generator_objective(self.critic(fake), self.config.loss)

    def _gradients(self, batch: Tensor, parts: tuple[str, ...]) -> tuple[dict, dict[str, float]]:
        """The gradients of ``parts`` at the current point, and the finite terms."""
        losses: dict[str, Tensor] = {}
        if "critic" in parts:
            losses.update(self._critic_loss(batch))
        if "generator" in parts:
            losses["loss_g"] = self._generator_loss(batch)
        values = self.check_finite(losses)
        grads = {}
        for part, key, param in (
            ("critic", "loss_d", self.psi),
            ("generator", "loss_g", self.theta),
        ):
            if part in parts:
                (grads[part],) = torch.autograd.grad(losses[key], param)
        for grad in grads.values():
            if not torch.isfinite(grad).all():
                raise NonFiniteLossError("gradient", float("nan"))
        return grads, values

    def _descend(self, grads: dict[str, Tensor]) -> None:
        for part, grad in grads.items():
            param = self.psi if part == "critic" else self.theta
            param.grad = grad
            self.optimizers[part].step()
            param.grad = None
            if part == "critic" and self.clipped:
                with torch.no_grad():
                    self.psi.clamp_(-WGAN_CLIP, WGAN_CLIP)

    def _position(self) -> dict[str, float]:
        theta, psi = float(self.theta.detach()), float(self.psi.detach())
        return {"theta": theta, "psi": psi, "distance": float(np.hypot(theta, psi))}

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One step of both players on ``batch (b, 1)`` (the data point, ``b`` times).

        Raises:
            NonFiniteLossError: a term or gradient was not finite; with simultaneous
                updates nothing changed.
        """
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            if self.config.updates == "simultaneous":
                grads, values = self._gradients(batch, ("critic", "generator"))
                self._descend(grads)
            else:
                grads, values = self._gradients(batch, ("critic",))
                self._descend(grads)
                grads, more = self._gradients(batch, ("generator",))
                self._descend(grads)
                values.update(more)
        self.steps_taken += 1
        return {**values, **self._position()}

    def train_part(self, part: str, batch: Tensor | None) -> dict[str, float]:
        """One gradient step of the ``critic`` (psi) or the ``generator`` (theta) alone;
        the step counter does not move.

        Raises:
            ValueError: another ``part``.
        """
        if part not in self.parts:
            return super().train_part(part, batch)
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            grads, values = self._gradients(batch, (part,))
            self._descend(grads)
        return {**values, **self._position()}
