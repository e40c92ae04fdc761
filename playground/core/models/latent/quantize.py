"""Vector quantisation: the nearest code of each vector, and the perplexity of code usage."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["vector_quantize", "perplexity"]


def vector_quantize(z_e: Tensor, codebook: Tensor) -> tuple[Tensor, Tensor]:
    """Snap every vector to its nearest code: ``z_q = e_k``, ``k = argmin_j ||z_e - e_j||``.

    Arguments:
        z_e: ``(*, code_dim)`` encoder outputs.
        codebook: ``(codebook_size, code_dim)`` code vectors ``e_j``.

    Returns:
        ``(z_q, k)``: ``(*, code_dim)`` the nearest codes (no gradient to ``z_e``: see the
        straight-through estimator in :meth:`VQVAE.quantize`) and ``(*,)`` int64 indices.

    References:
        van den Oord et al. 2017, equations (1) and (2).
    """
    flat = z_e.reshape(-1, z_e.shape[-1])
    # ||z||^2 - 2 z.e + ||e||^2; ||z||^2 is the same for every code, so it is left out
    scores = codebook.square().sum(1) - 2.0 * flat @ codebook.T
    k = scores.argmin(1)
    return codebook[k].view(z_e.shape), k.view(z_e.shape[:-1])


def perplexity(counts: Tensor) -> Tensor:
    """``exp(H(p))`` of the usage frequencies ``p = counts / sum(counts)``, in codes.

    1 when a single code is used, ``len(counts)`` when all are used equally often.

    Arguments:
        counts: ``(codebook_size,)`` how often each code was chosen (not all zero).

    Returns:
        A scalar tensor.
    """
    p = counts.float() / counts.sum()
    return torch.exp(-torch.special.xlogy(p, p).sum())
