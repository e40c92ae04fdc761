"""Planar flow layers, invertible by a constraint, inverted numerically."""

from __future__ import annotations

import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import FlowLayer

__all__ = ["PlanarLayer"]

#: the root of w^T x = a + w^T u_hat tanh(a + b) is found to this tolerance before the
#: final differentiable Newton step (which squares the error)
ROOT_TOLERANCE = 1e-7
MAX_ROOT_ITERATIONS = 100

#: softplus^-1(1) = log(e - 1): the w^T u at which the constraint leaves u unchanged
NEUTRAL_WU = math.log(math.e - 1.0)


class PlanarLayer(FlowLayer):
    """Planar layer ``x = z + u_hat tanh(w^T z + b)`` (the generative direction, z to x).

    ``u_hat = u + (m(w^T u) - w^T u) w / |w|^2`` with ``m(a) = -1 + softplus(a)`` keeps
    ``w^T u_hat >= -1`` (``> -1`` until softplus underflows), so the map is invertible;
    ``log|det dx/dz| = log|1 + w^T u_hat tanh'(w^T z + b)|``.

    The density direction (x to z) has no closed form: ``a = w^T z`` solves
    ``w^T x = a + w^T u_hat tanh(a + b)``, strictly increasing in ``a``. A bracketed
    Newton search finds the root without gradients; one Newton step with gradients from
    the detached root then gives the exact first derivatives (implicit function
    theorem), and ``z = x - u_hat tanh(a + b)``.

    Arguments:
        dim: ``d``.
        init_scale: standard deviation of the initial ``u`` and ``w``.

    References:
        Rezende and Mohamed, "Variational Inference with Normalizing Flows", ICML 2015,
        equations (10)-(12) and appendix A.1.
    """

    label: ClassVar[str] = "planar"

    def __init__(self, dim: int = 2, init_scale: float = 0.5):
        super().__init__()
        w, u = init_scale * torch.randn(dim), init_scale * torch.randn(dim)
        # start with w^T u = softplus^-1(1), where m(w^T u) = 0 and u_hat = u: otherwise
        # m(0) = -0.31 makes every fresh layer a contraction and the stack a tiny blob
        u = u + (NEUTRAL_WU - w @ u) * w / w.square().sum()
        self.u = nn.Parameter(u)
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.zeros(()))

    def u_hat(self) -> Tensor:
        """The constrained ``u_hat`` ``(d,)``, with ``w^T u_hat = -1 + softplus(w^T u)``."""
        wu = self.w @ self.u
        return self.u + (F.softplus(wu) - 1.0 - wu) * self.w / self.w.square().sum()

    def _log_det(self, wu: Tensor, pre: Tensor) -> Tensor:
        return torch.log(torch.abs(1.0 + wu * (1.0 - torch.tanh(pre).square())))

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        u = self.u_hat()
        pre = z @ self.w + self.b
        x = z + torch.tanh(pre)[:, None] * u
        return x, self._log_det(self.w @ u, pre)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        u = self.u_hat()
        wu, wx = self.w @ u, x @ self.w
        a0 = self._root(wx.detach(), wu.detach(), self.b.detach())
        g = a0 + wu * torch.tanh(a0 + self.b) - wx
        a = a0 - g / (1.0 + wu * (1.0 - torch.tanh(a0 + self.b).square()))
        z = x - torch.tanh(a + self.b)[:, None] * u
        return z, -self._log_det(wu, a + self.b)

    @staticmethod
    @torch.no_grad()
    def _root(wx: Tensor, wu: Tensor, b: Tensor) -> Tensor:
        """Solve ``a + wu tanh(a + b) = wx`` for ``a`` ``(n,)``, bracketed Newton in float64."""
        # float64 for the search, except on MPS which has none
        dtype = torch.float32 if wx.device.type == "mps" else torch.float64
        out_dtype = wx.dtype
        wx, wu, b = wx.to(dtype), wu.to(dtype), b.to(dtype)
        # |tanh| <= 1, so the root lies within |wu| of wx
        lo, hi = wx - wu.abs() - 1e-12, wx + wu.abs() + 1e-12
        a = wx.clone()
        for _ in range(MAX_ROOT_ITERATIONS):
            t = torch.tanh(a + b)
            g = a + wu * t - wx
            lo = torch.where(g < 0, a, lo)
            hi = torch.where(g > 0, a, hi)
            new = a - g / (1.0 + wu * (1.0 - t * t))
            outside = (new < lo) | (new > hi) | ~torch.isfinite(new)
            new = torch.where(outside, 0.5 * (lo + hi), new)
            done = bool(((new - a).abs() <= ROOT_TOLERANCE * (1.0 + a.abs())).all())
            a = new
            if done:
                break
        return a.to(out_dtype)
