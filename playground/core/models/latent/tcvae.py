"""beta-TCVAE: the KL of the ELBO split into index-code mutual information, total
correlation and dimension-wise KL, estimated by minibatch-weighted sampling."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ...hyperparameters import HyperparameterError, hp
from .distributions import LOG_2PI

__all__ = [
    "KL_SPLITS",
    "TCVAEConfig",
    "gaussian_log_density_per_dim",
    "tc_decomposition",
    "tcvae_penalty",
]

#: the VAE's KL term: whole (weighted by beta), or split as beta-TCVAE weighs it
KL_SPLITS = ("none", "beta-tcvae")


@dataclass
class TCVAEConfig:
    """The fields the VAE's config gains for beta-TCVAE (a mixin of ``VAE.Config``).

    Raises:
        HyperparameterError: ``kl_split=beta-tcvae`` with a prior other than ``standard``
            (the dimension-wise KL needs a factorised ``p(z)``), a posterior flow (the
            per-dimension ``q(z_j | x)`` must be Gaussian), ``capacity > 0`` or
            ``free_bits > 0`` (other objectives' KL terms).
    """

    # not ``objective``: the Session reads that name as forward or reverse KL
    kl_split: str = hp(
        "none",
        choices=KL_SPLITS,
        help="none: -rec + beta KL; beta-tcvae: -rec + tc_alpha MI + tc_beta TC + tc_gamma dim-KL",
    )
    # alpha = gamma = 1, beta = 6: Chen et al.'s setting (only the TC term reweighted)
    tc_alpha: float = hp(
        1.0, low=0.0, high=100.0, live=True, help="alpha: weight of the index-code MI"
    )
    tc_beta: float = hp(
        6.0, low=0.0, high=100.0, live=True, help="beta: weight of the total correlation"
    )
    tc_gamma: float = hp(
        1.0, low=0.0, high=100.0, live=True, help="gamma: weight of the dimension-wise KL"
    )

    def __post_init__(self) -> None:
        if self.kl_split != "beta-tcvae":
            return
        clashes = {
            "prior": (getattr(self, "prior", "standard"), "standard"),
            "posterior_flow": (getattr(self, "posterior_flow", "none"), "none"),
            "capacity": (getattr(self, "capacity", 0.0), 0.0),
            "free_bits": (getattr(self, "free_bits", 0.0), 0.0),
        }
        for name, (value, needed) in clashes.items():
            if value != needed:
                raise HyperparameterError(
                    f"kl_split=beta-tcvae needs {name}={needed} (a factorised standard "
                    f"prior, a Gaussian posterior and no other KL term), not {value!r}"
                )


def gaussian_log_density_per_dim(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """``log N(z_j; mu_j, exp(logvar_j))`` for each dimension, broadcast: ``(*, d)`` nats."""
    return -0.5 * ((z - mu).square() * torch.exp(-logvar) + logvar + LOG_2PI)


def tc_decomposition(
    z: Tensor, mu: Tensor, logvar: Tensor, dataset_size: int | None = None
) -> dict[str, Tensor]:
    """The three parts of ``E_x KL(q(z | x) || p(z))`` for a standard normal ``p(z)``.

    ``z_i ~ q(z | x_i)`` for the ``M`` points of a batch; the aggregate posterior and
    its marginals are estimated by minibatch-weighted sampling (Chen et al., eq. 3):
    ``log q(z_i) ~ logsumexp_j log q(z_i | x_j) - log(N M)`` and
    ``log q(z_ij) ~ logsumexp_k log q(z_ij | x_k) - log(N M)``. Then, batch means,

    - ``mutual_information`` = ``E[log q(z | x) - log q(z)]`` (index-code MI),
    - ``total_correlation`` = ``E[log q(z) - sum_j log q(z_j)]``,
    - ``dimension_kl`` = ``E[sum_j log q(z_j) - log p(z_j)]``,

    and their sum is exactly the one-sample ``E[log q(z | x) - log p(z)]`` (the normaliser
    cancels). With ``dataset_size=None`` the batch stands for the data (``N M`` becomes
    ``M``: ``q(z)`` is the batch's mixture of posteriors), the estimate for an endless set
    such as ``shapes``; a finite ``N`` shifts MI by ``+log N``, TC by ``(d-1) log N`` and
    dim-KL by ``-d log N``, constants that leave every gradient unchanged.

    Arguments:
        z: ``(M, d)`` samples, ``z_i ~ q(z | x_i)``.
        mu, logvar: ``(M, d)`` the Gaussian posteriors of the batch.
        dataset_size: ``N`` of the paper's estimator, or ``None``.

    Returns:
        Scalars in nats: ``mutual_information``, ``total_correlation``, ``dimension_kl``.

    Raises:
        ValueError: ``z`` is not ``(M, d)`` with ``M >= 2``.

    References:
        Chen, Li, Grosse and Duvenaud, "Isolating Sources of Disentanglement in
        Variational Autoencoders", NeurIPS 2018, eq. (2) (the decomposition) and
        section 3.1 (minibatch-weighted sampling); Hoffman and Johnson, "ELBO surgery",
        2016.
    """
    if z.dim() != 2 or z.shape[0] < 2:
        raise ValueError(
            f"the TC decomposition needs a batch (M >= 2, d) of z; got {tuple(z.shape)}"
        )
    m = z.shape[0]
    log_norm = math.log(m if dataset_size is None else dataset_size * m)
    # log q(z_ij | x_k): (M, M, d), row i a sample, column k a posterior
    pairs = gaussian_log_density_per_dim(z[:, None, :], mu[None], logvar[None])
    log_q_zx = gaussian_log_density_per_dim(z, mu, logvar).sum(-1)
    log_qz = torch.logsumexp(pairs.sum(-1), dim=1) - log_norm
    log_marginals = (torch.logsumexp(pairs, dim=1) - log_norm).sum(-1)
    log_pz = -0.5 * (z.square() + LOG_2PI).sum(-1)
    return {
        "mutual_information": (log_q_zx - log_qz).mean(),
        "total_correlation": (log_qz - log_marginals).mean(),
        "dimension_kl": (log_marginals - log_pz).mean(),
    }


def tcvae_penalty(parts: dict[str, Tensor], config: Any) -> tuple[Tensor, dict[str, Tensor]]:
    """beta-TCVAE's weighted KL, ``alpha MI + beta TC + gamma dim-KL`` (nats, scalar), and
    its three terms (see :func:`tc_decomposition`) from a VAE's ``_elbo_parts``.

    The loss is ``-reconstruction +`` this (Chen et al. 2018, eq. 4 with their weights);
    ``alpha = beta = gamma = 1`` is the one-sample negative ELBO.

    Arguments:
        parts: ``z``, ``mu`` and ``logvar``, each ``(M, d)``.
        config: with ``tc_alpha``, ``tc_beta``, ``tc_gamma``.
    """
    terms = tc_decomposition(parts["z"], parts["mu"], parts["logvar"])
    penalty = (
        config.tc_alpha * terms["mutual_information"]
        + config.tc_beta * terms["total_correlation"]
        + config.tc_gamma * terms["dimension_kl"]
    )
    return penalty, terms
