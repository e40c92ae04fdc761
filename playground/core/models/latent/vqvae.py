"""VQ-VAE: an autoencoder whose latent is a grid of vectors snapped to a learned codebook."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ..base import TrainingConfig
from .discrete import DiscreteLatentModel
from .networks import Decoder, Encoder, uses_conv

__all__ = ["VQVAE", "VQVAEConfig", "vector_quantize", "perplexity"]


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


@dataclass
class VQVAEConfig(TrainingConfig):
    """VQ-VAE hyperparameters; :meth:`VQVAE.defaults_for` sizes them per dataset."""

    hidden: int = hp(128, low=8, high=1024, log=True, help="width of the encoder and decoder MLPs")
    depth: int = hp(2, low=1, high=6, help="hidden layers of the encoder and decoder MLPs")
    # 1 position of 2 dims on the plane: the latent scatter is the code space itself
    positions: int = hp(1, low=1, high=64, help="code vectors per data point (the latent grid)")
    code_dim: int = hp(2, low=1, high=64, help="dimension of each code vector")
    codebook_size: int = hp(64, low=2, high=1024, log=True, help="K: vectors in the codebook")
    # 0.25: the paper's value; "results did not vary for values of beta from 0.1 to 2.0"
    beta: float = hp(0.25, low=0.0, high=10.0, live=True, help="weight of the commitment loss")
    # 0.2: the noise of moons and swissroll; with 0.1 the ELBO after 800 steps was lower
    # and varied more over seeds (-5 to -13 nats against -4 to -6 on moons)
    sigma: float = hp(
        0.2, low=1e-3, high=10.0, log=True, help="2D only: std of the Gaussian decoder p(x | z)"
    )
    reset_dead_codes: bool = hp(
        True, live=True, help="re-initialise codes unused for dead_after steps from encodings"
    )
    # 50 steps: long enough that a code used by a small mode is not thrown away
    dead_after: int = hp(
        50, low=1, high=100_000, log=True, live=True, help="steps without use before a restart"
    )


class VQVAE(DiscreteLatentModel):
    """The vector-quantised VAE (VQ-VAE) with a uniform prior over codes.

    The encoder maps ``x`` to ``positions`` vectors ``z_e`` of size ``code_dim`` (its
    output ``(n, positions * code_dim)`` reshaped; the same for the conv encoder of
    shapes, whose flattened feature map feeds the MLP head). Each is replaced by its
    nearest code ``e_k`` of a codebook of ``K = codebook_size`` vectors, and the decoder
    maps the quantised grid ``z_q`` to ``p(x | z_q)``: Bernoulli (logits) for images,
    ``N(mu, sigma^2 I)`` with fixed ``sigma`` on the plane. Gradients pass the quantiser
    unchanged (straight-through, ``z_e + sg[z_q - z_e]``). Per data point, in nats:

    ``loss = -log p(x | z_q) + ||sg[z_e] - e||^2 + beta ||z_e - sg[e]||^2`` (eq. 3),

    squared norms summed over positions and code dimensions; the terms are reported as
    ``reconstruction`` (``log p(x | z_q)``), ``codebook`` and ``commitment`` (with
    ``beta`` applied). The posterior is one-hot (deterministic) and the prior uniform, so
    ``kl = positions * log K`` is constant and ``elbo = reconstruction - kl`` (section
    3.1). ``perplexity`` is ``exp`` of the entropy of the batch's average code usage:
    ``K`` when every code is used equally, 1 when one code takes everything.

    The latent seen by the views is the quantised grid flattened: ``z`` is ``(n,
    positions * code_dim)`` (:meth:`posterior_mean`, :meth:`sample_prior`), and
    :meth:`decode` takes it (any vector, it does not re-quantise; :meth:`codes_to_latent`
    and :meth:`latent_to_codes` convert to and from code indices ``(n, positions)``).

    With ``reset_dead_codes`` a code unused for ``dead_after`` steps is moved onto a
    random encoder output of the current batch, with its Adam moments cleared (the
    "random restarts" of Dhariwal et al. 2020): without it, codes the encoder never
    reaches never move, and the perplexity stays far below ``K``.

    Samples decode codes drawn uniformly and independently per position, as the paper
    does before it fits an autoregressive prior, so codes the data rarely uses are drawn
    as often as the others.

    References:
        van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning",
        NeurIPS 2017, equations (1)-(3) and section 3.1; Dhariwal et al., "Jukebox: A
        Generative Model for Music", 2020 (random restarts of unused codes).
    """

    name: ClassVar[str] = "vq-vae"
    description: ClassVar[str] = (
        "VQ-VAE: nearest-code quantisation, straight-through gradients, uniform code prior"
    )
    Config: ClassVar[type] = VQVAEConfig

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Grid and codebook sizes per dataset: one 2D code of 64 on the plane, 8 codes of
        4 dims from 32 for digits, 16 of 4 dims from 64 for shapes (conv), with wider
        networks and batches of 64 for images."""
        if not getattr(data, "is_image", False):
            return {}
        out: dict[str, Any] = {"hidden": 256, "batch_size": 64, "code_dim": 4}
        if uses_conv(tuple(data.shape)):
            return {**out, "positions": 16, "codebook_size": 64}
        return {**out, "positions": 8, "codebook_size": 32}

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        width = config.positions * config.code_dim
        self.encoder = Encoder(self.event_shape, width, config.hidden, config.depth)
        self.decoder = Decoder(width, self.event_shape, config.hidden, config.depth)
        k = config.codebook_size
        # the paper's implementations: uniform in (-1/K, 1/K), small next to the encodings
        self.codebook = nn.Parameter(torch.empty(k, config.code_dim).uniform_(-1.0 / k, 1.0 / k))
        self.register_buffer("code_last_used", torch.zeros(k, dtype=torch.long))

    @property
    def latent_dim(self) -> int:
        """``positions * code_dim``: the quantised grid, flattened."""
        return self.config.positions * self.config.code_dim

    # ----------------------------------------------------------------- encoder
    def encoder_outputs(self, x: Tensor) -> Tensor:
        """The encoder outputs ``z_e``: ``(n, *event_shape) -> (n, positions, code_dim)``."""
        return self.encoder(x).view(x.shape[0], self.config.positions, self.config.code_dim)

    def quantize(self, z_e: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Nearest codes of ``z_e`` ``(n, positions, code_dim)``.

        Returns:
            ``(z_st, z_q, k)``: the straight-through grid ``z_e + sg[z_q - z_e]`` (value
            ``z_q``, gradient to ``z_e``), the codes ``z_q`` (gradient to the codebook),
            both ``(n, positions, code_dim)``, and the indices ``k`` ``(n, positions)``.
        """
        z_q, k = vector_quantize(z_e, self.codebook)
        return z_e + (z_q - z_e).detach(), z_q, k

    def posterior_mean(self, x: Tensor) -> Tensor:
        """The quantised grid ``z_q(x)`` flattened, ``(n, positions * code_dim)``."""
        return self.quantize(self.encoder_outputs(x))[1].flatten(1)

    def latent_to_codes(self, z: Tensor) -> Tensor:
        """Indices of the nearest codes of a latent ``(n, latent_dim)``: ``(n, positions)``."""
        return vector_quantize(z.view(z.shape[0], self.config.positions, -1), self.codebook)[1]

    def codes_to_latent(self, k: Tensor) -> Tensor:
        """The latent of code indices ``(n, positions)`` in ``[0, K)``: ``(n, latent_dim)``."""
        return self.codebook[k.long()].flatten(1)

    # ----------------------------------------------------------------- decoder
    # ------------------------------------------------------------------- prior
    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        """Uniform code indices per position, as their codes: ``(n, positions * code_dim)``."""
        k = torch.randint(
            self.config.codebook_size,
            (n, self.config.positions),
            generator=rng,
            device=rng.device,
        )
        return self.codes_to_latent(k.to(self.codebook.device))

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Decoder means at uniform codes for images ``(n, 1, h, w)``; on the plane a draw
        of ``N(mu(z), sigma^2 I)``, ``(n, 2)``."""
        mean = self.decode(self.sample_prior(n, rng))
        if self.is_image:
            return mean
        noise = torch.randn(mean.shape, generator=rng, device=rng.device)
        return mean + self.config.sigma * noise.to(mean.device)

    # ---------------------------------------------------------------- bounds
    def _forward_terms(self, x: Tensor) -> tuple[dict[str, Tensor], Tensor, Tensor]:
        """The per-point terms, the encodings ``z_e`` and the code indices."""
        z_e = self.encoder_outputs(x)
        z_st, z_q, k = self.quantize(z_e)
        reconstruction = self.log_likelihood(x, z_st.flatten(1))
        kl = torch.full_like(
            reconstruction, self.config.positions * math.log(self.config.codebook_size)
        )
        codebook = (z_e.detach() - z_q).square().sum((1, 2))
        commitment = self.config.beta * (z_e - z_q.detach()).square().sum((1, 2))
        terms = {
            "reconstruction": reconstruction,
            "kl": kl,
            "elbo": reconstruction - kl,
            "codebook": codebook,
            "commitment": commitment,
        }
        return terms, z_e, k

    def elbo_terms(self, x: Tensor, rng: torch.Generator | None = None) -> dict[str, Tensor]:
        """``reconstruction``, ``kl`` (``positions * log K``), ``elbo``, ``codebook`` and
        ``commitment`` (``beta`` applied) of each ``x``, ``(n,)`` nats (squared distances
        for the last two). Deterministic: ``rng`` is not used."""
        return self._forward_terms(x)[0]

    def iwae_bound(self, x: Tensor, k: int, rng: torch.Generator | None = None) -> Tensor:
        """The ELBO ``(n,)`` nats for every ``k``: the posterior is one-hot, so all ``k``
        samples are the same code and the importance weights are equal.

        Raises:
            ValueError: ``k < 1``.
        """
        if k < 1:
            raise ValueError(f"iwae_bound needs k >= 1 samples, not {k}")
        return self.elbo_terms(x)["elbo"]

    # ----------------------------------------------------------- code usage
    @torch.no_grad()
    def code_usage(self, x: Tensor) -> Tensor:
        """How often each code is chosen over all positions of ``x``: ``(codebook_size,)``
        int64 counts."""
        k = self.quantize(self.encoder_outputs(x))[2]
        return torch.bincount(k.flatten(), minlength=self.config.codebook_size)

    def codebook_perplexity(self, x: Tensor) -> float:
        """:func:`perplexity` of the code usage over ``x``: from 1 to ``codebook_size``."""
        return float(perplexity(self.code_usage(x)))

    # -------------------------------------------------------------- training
    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the batch mean of eq. (3), then restart dead codes.

        Arguments:
            batch: ``(b, *event_shape)`` data.

        Returns:
            ``loss``, ``reconstruction``, ``kl``, ``elbo``, ``codebook``, ``commitment``
            (batch means, nats) and ``perplexity`` (codes).

        Raises:
            ValueError: ``batch`` is ``None``.
            NonFiniteLossError: no parameter, buffer or optimiser state changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        per_point, z_e, k = self._forward_terms(batch)
        terms = {key: value.mean() for key, value in per_point.items()}
        counts = torch.bincount(k.flatten(), minlength=self.config.codebook_size)
        terms["perplexity"] = perplexity(counts)
        loss = terms["codebook"] + terms["commitment"] - terms["reconstruction"]
        values = self.optimize(loss, terms)
        self.steps_taken += 1
        with torch.no_grad():
            self.code_last_used[counts > 0] = self.steps_taken
            if self.config.reset_dead_codes:
                self._restart_dead_codes(z_e.detach().flatten(0, 1))
        return values

    @torch.no_grad()
    def _restart_dead_codes(self, encodings: Tensor) -> None:
        """Move codes unused for ``dead_after`` steps onto random rows of ``encodings``
        ``(m, code_dim)``, clearing their Adam moments."""
        dead = (self.steps_taken - self.code_last_used >= self.config.dead_after).nonzero()[:, 0]
        if dead.numel() == 0:
            return
        g = self.rng
        rows = torch.randint(encodings.shape[0], (dead.numel(),), generator=g, device=g.device)
        self.codebook[dead] = encodings[rows.to(encodings.device)]
        self.code_last_used[dead] = self.steps_taken
        for opt in self.optimizers.values():
            state = opt.state.get(self.codebook, {})
            for key in ("exp_avg", "exp_avg_sq"):
                if key in state:
                    state[key][dead] = 0.0
