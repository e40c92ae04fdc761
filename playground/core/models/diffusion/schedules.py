"""Noise schedules of the diffusion models: linear and cosine betas, and the Gaussians they give.

Time indexing, the one convention of this module: the course counts diffusion steps
``t = 1, ..., T`` (``x_0`` is data, ``x_T`` is nearly ``N(0, I)``). Every per-step tensor
(``betas``, ``alphas``, ``alpha_bars``) has length ``T`` and its index ``i`` holds step
``t = i + 1``: ``betas[t - 1] = beta_t``. Every method that takes ``t`` takes the course's
``t`` in ``1..T`` (an int or an int64 tensor ``(n,)``), never a tensor index.
``alpha_bar_0 = 1`` (no noise) is implicit: it is not stored.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["SCHEDULES", "MAX_BETA", "linear_betas", "cosine_betas", "NoiseSchedule"]

#: the schedules :class:`NoiseSchedule` builds by name
SCHEDULES = ("linear", "cosine")

#: betas are clipped here so that no step destroys the signal at once (Nichol and
#: Dhariwal 2021, section 3.2); 1 would make the posterior at ``t = T`` singular
MAX_BETA = 0.999


def linear_betas(T: int, beta_1: float = 1e-4, beta_T: float = 0.02) -> Tensor:
    """Betas rising linearly from ``beta_1`` to ``beta_T``, rescaled for ``T`` steps.

    The paper's values are for ``T = 1000``; for another ``T`` both ends are multiplied by
    ``1000 / T`` (as in Nichol and Dhariwal's code), so the total noise ``sum_t beta_t``
    and hence ``alpha_bar_T`` stay about the same: at ``T = 100`` the betas run from
    ``1e-3`` to ``0.2``. Betas are then clipped at :data:`MAX_BETA` (it matters only for
    ``T < 50``).

    Arguments:
        T: the number of diffusion steps, at least 1.
        beta_1, beta_T: the first and last beta at ``T = 1000``.

    Returns:
        ``(T,)`` float64; index ``t - 1`` holds ``beta_t``.

    Raises:
        ValueError: ``T < 1``.

    References:
        Ho, Jain and Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020,
        section 4 (``beta_1 = 1e-4`` to ``beta_T = 0.02``, ``T = 1000``).
    """
    if T < 1:
        raise ValueError(f"T must be at least 1, not {T}")
    scale = 1000.0 / T
    if T == 1:
        return torch.tensor([min(beta_T * scale, MAX_BETA)], dtype=torch.float64)
    betas = torch.linspace(beta_1 * scale, beta_T * scale, T, dtype=torch.float64)
    return betas.clamp(max=MAX_BETA)


def cosine_alpha_bar(t: Tensor, T: int, s: float = 0.008) -> Tensor:
    """``f(t) / f(0)`` with ``f(t) = cos((t / T + s) / (1 + s) * pi / 2) ** 2``; ``t`` any
    float tensor (Nichol and Dhariwal 2021, eq. 17)."""

    def f(u: Tensor) -> Tensor:
        return torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2

    return f(t) / f(torch.zeros_like(t))


def cosine_betas(T: int, s: float = 0.008) -> Tensor:
    """Betas of the cosine schedule: ``beta_t = 1 - alpha_bar_t / alpha_bar_{t-1}`` with
    ``alpha_bar_t = f(t) / f(0)``, clipped at :data:`MAX_BETA`.

    The clipping changes only the last step (``f(T) = 0`` gives ``beta_T = 1``), so the
    schedule's ``alpha_bar_t`` equals ``f(t) / f(0)`` for ``t < T`` and is ``1e-3`` times
    ``alpha_bar_{T-1}`` at ``t = T``.

    Arguments:
        T: the number of diffusion steps, at least 1.
        s: the offset that keeps ``beta_1`` from being vanishingly small.

    Returns:
        ``(T,)`` float64; index ``t - 1`` holds ``beta_t``.

    Raises:
        ValueError: ``T < 1``.

    References:
        Nichol and Dhariwal, "Improved Denoising Diffusion Probabilistic Models",
        ICML 2021, eq. (17) and section 3.2.
    """
    if T < 1:
        raise ValueError(f"T must be at least 1, not {T}")
    abar = cosine_alpha_bar(torch.arange(T + 1, dtype=torch.float64), T, s)
    return (1.0 - abar[1:] / abar[:-1]).clamp(min=0.0, max=MAX_BETA)


class NoiseSchedule(nn.Module):
    """The coefficients of a schedule, computed once: ``betas``, ``alphas = 1 - betas``,
    ``alpha_bars = cumprod(alphas)``, each ``(T,)`` (index ``t - 1`` is step ``t``; see
    the module docstring), stored in float64 as non-persistent buffers (they follow the
    model's device and are rebuilt from the config, not saved in presets).

    Arguments:
        T: the number of diffusion steps.
        kind: one of :data:`SCHEDULES`.

    Raises:
        ValueError: an unknown ``kind`` or ``T < 1``.

    References:
        Ho, Jain and Abbeel, "Denoising Diffusion Probabilistic Models", NeurIPS 2020,
        eqs. (4), (6) and (7).
    """

    betas: Tensor
    alphas: Tensor
    alpha_bars: Tensor

    def __init__(self, T: int, kind: str = "linear"):
        super().__init__()
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {kind!r}; use one of {', '.join(SCHEDULES)}")
        self.T, self.kind = int(T), kind
        betas = linear_betas(self.T) if kind == "linear" else cosine_betas(self.T)
        alphas = 1.0 - betas
        self.register_buffer("betas", betas, persistent=False)
        self.register_buffer("alphas", alphas, persistent=False)
        self.register_buffer("alpha_bars", torch.cumprod(alphas, 0), persistent=False)

    def at(self, values: Tensor, t: int | Tensor, like: Tensor) -> Tensor:
        """``values[t - 1]`` shaped to broadcast over ``like (n, ...)``: ``(n, 1, ..., 1)``
        (or a scalar for an int ``t``), in ``like``'s dtype.

        Raises:
            ValueError: a ``t`` outside ``1..T``.
        """
        return self._gather(values, t, like).to(like.dtype)

    def _gather(self, values: Tensor, t: int | Tensor, like: Tensor) -> Tensor:
        """``values[t - 1]`` in float64, shaped as :meth:`at`; checks ``1 <= t <= T``."""
        t = torch.as_tensor(t, device=values.device)
        if bool((t < 1).any()) or bool((t > self.T).any()):
            raise ValueError(f"t must lie in 1..{self.T} (the course's 1-based steps)")
        out = values[t.long() - 1]
        return out if out.dim() == 0 else out.reshape(-1, *([1] * (like.dim() - 1)))

    def _alpha_bar_before(self, t: int | Tensor, like: Tensor) -> Tensor:
        """``alpha_bar_{t-1}`` in float64 (1 at ``t = 1``), shaped as :meth:`at`."""
        # padded[i] = alpha_bar_i for i = 0..T, so index t - 1 holds alpha_bar_{t-1}
        padded = torch.cat([self.alpha_bars.new_ones(1), self.alpha_bars])
        return self._gather(padded, t, like)

    def q_mean_var(self, x0: Tensor, t: int | Tensor) -> tuple[Tensor, Tensor]:
        """``q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)`` (Ho 2020, eq. 4).

        Arguments:
            x0: data ``(n, ...)``.
            t: the step, in ``1..T``: an int or ``(n,)``.

        Returns:
            ``(mean, variance)``: the mean ``(n, ...)`` and the variance per element,
            broadcastable to it, computed in ``x0``'s dtype from ``alpha_bar_t`` (float64
            data gets float64 coefficients; training's float32 noising, :meth:`q_sample`,
            rounds ``alpha_bar_t`` to float32 first).

        Raises:
            ValueError: a ``t`` outside ``1..T``.
        """
        abar = self.at(self.alpha_bars, t, x0)
        return abar.sqrt() * x0, 1.0 - abar

    def q_sample(self, x0: Tensor, t: int | Tensor, eps: Tensor) -> Tensor:
        """``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``: a draw of
        :meth:`q_mean_var` from the noise ``eps``, shaped like ``x0 (n, ...)`` (Ho 2020,
        eq. 4 reparameterised, the argument of ``eps_theta`` in eq. 14).

        Raises:
            ValueError: a ``t`` outside ``1..T``.
        """
        mean, variance = self.q_mean_var(x0, t)
        return mean + variance.sqrt() * eps

    def q_step(self, x_prev: Tensor, t: int | Tensor, eps: Tensor) -> Tensor:
        """One step of the forward chain ``q(x_t | x_{t-1}) = N(sqrt(alpha_t) x_{t-1},
        beta_t I)`` (Ho 2020, eq. 2): ``sqrt(alpha_t) x_prev + sqrt(beta_t) eps``, shaped
        like ``x_prev (n, ...)``, in its dtype.

        Raises:
            ValueError: a ``t`` outside ``1..T``.
        """
        return self.at(self.alphas, t, x_prev).sqrt() * x_prev + (
            self.at(self.betas, t, x_prev).sqrt() * eps
        )

    def p_mean_var(self, xt: Tensor, t: int | Tensor, eps: Tensor) -> tuple[Tensor, Tensor]:
        """The reverse step ``p(x_{t-1} | x_t) = N(mu, sigma_t^2 I)`` of ancestral sampling
        (Ho 2020, algorithm 2), given the predicted noise ``eps`` of ``x_t``:

        ``mu = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_t)`` (eq. 11), the
        posterior mean of :meth:`posterior_mean_var` at the ``x_0`` that ``eps`` predicts,
        ``(x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)``; ``sigma_t^2 = beta_t``
        (section 3.2's first choice). Algorithm 2 adds no noise at ``t = 1``.

        Arguments:
            xt, eps: ``(n, ...)`` each.
            t: the step of ``xt``, in ``1..T``: an int or ``(n,)``.

        Returns:
            ``(mean, variance)``: ``(n, ...)`` and ``beta_t`` broadcastable to it, in
            ``xt``'s dtype.

        Raises:
            ValueError: a ``t`` outside ``1..T``.
        """
        beta, alpha = self.at(self.betas, t, xt), self.at(self.alphas, t, xt)
        abar = self.at(self.alpha_bars, t, xt)
        return (xt - beta / (1.0 - abar).sqrt() * eps) / alpha.sqrt(), beta

    def posterior_mean_var(self, x0: Tensor, xt: Tensor, t: int | Tensor) -> tuple[Tensor, Tensor]:
        """``q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde I)`` (Ho 2020, eqs. 6-7):

        ``mu_tilde = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
        + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t`` and
        ``beta_tilde = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t``
        (at ``t = 1``: mean ``x_0``, variance 0).

        Arguments:
            x0, xt: ``(n, ...)`` each.
            t: the step of ``xt``, in ``1..T``: an int or ``(n,)``.

        Returns:
            ``(mean, variance)`` as :meth:`q_mean_var`.

        Raises:
            ValueError: a ``t`` outside ``1..T``.
        """
        beta = self._gather(self.betas, t, xt)
        alpha = self._gather(self.alphas, t, xt)
        abar = self._gather(self.alpha_bars, t, xt)
        abar_prev = self._alpha_bar_before(t, xt)
        coef_x0 = (abar_prev.sqrt() * beta / (1.0 - abar)).to(xt.dtype)
        coef_xt = (alpha.sqrt() * (1.0 - abar_prev) / (1.0 - abar)).to(xt.dtype)
        variance = ((1.0 - abar_prev) / (1.0 - abar) * beta).to(xt.dtype)
        return coef_x0 * x0 + coef_xt * xt, variance
