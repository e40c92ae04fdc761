"""VQ-VAE: an autoencoder whose latent is a grid of vectors snapped to a learned codebook,
with a uniform prior over its codes or a PixelCNN prior fitted to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ..base import TrainingConfig
from .code_prior import CODE_PRIORS, code_grid, make_code_prior
from .discrete import DiscreteLatentModel
from .networks import Decoder, Encoder, uses_conv
from .quantize import perplexity, vector_quantize

__all__ = ["VQVAE", "VQVAEConfig", "vector_quantize", "perplexity"]


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
    prior: str = hp(
        "uniform",
        choices=CODE_PRIORS,
        help="p(codes): uniform and independent, or a PixelCNN over the code map (stage 2)",
    )
    # 1000: the codes of digits have settled by then (perplexity flat), so the prior fits
    # code maps that no longer move under it
    prior_start: int = hp(
        1000,
        low=0,
        high=1_000_000,
        live=True,
        help="pixelcnn prior: from this step on, each step also fits it to the batch's codes",
    )
    # 32 x 2 blocks: on digits' 1,438 code maps a wider prior memorises them (at 3,000
    # steps the test maps' NLL was 27.1 nats with 64 x 3, 25.6 with 32 x 2, uniform 27.7)
    prior_channels: int = hp(32, low=4, high=512, log=True, help="pixelcnn prior: hidden channels")
    prior_blocks: int = hp(2, low=0, high=12, help="pixelcnn prior: residual mask-B blocks")


class VQVAE(DiscreteLatentModel):
    """The vector-quantised VAE (VQ-VAE), with a uniform or a PixelCNN prior over codes.

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
    ``beta`` applied). The posterior is one-hot (deterministic), so ``kl = KL(q || p) =
    -log p(k(x))`` and ``elbo = reconstruction - kl`` (section 3.1): with the uniform
    prior ``kl = positions * log K``, a constant. ``perplexity`` is ``exp`` of the
    entropy of the batch's average code usage: ``K`` when every code is used equally, 1
    when one code takes everything.

    The latent seen by the views is the quantised grid flattened: ``z`` is ``(n,
    positions * code_dim)`` (:meth:`posterior_mean`, :meth:`sample_prior`), and
    :meth:`decode` takes it (any vector, it does not re-quantise; :meth:`codes_to_latent`
    and :meth:`latent_to_codes` convert to and from code indices ``(n, positions)``).

    With ``reset_dead_codes`` a code unused for ``dead_after`` steps is moved onto a
    random encoder output of the current batch, with its Adam moments cleared (the
    "random restarts" of Dhariwal et al. 2020): without it, codes the encoder never
    reaches never move, and the perplexity stays far below ``K``.

    Samples decode a code map drawn from the prior. ``prior = uniform``: uniform and
    independent codes per position, as the paper trains the VQ-VAE, so codes the data
    rarely uses are drawn as often as the others and samples look garbled. ``prior =
    pixelcnn``: the second stage (sections 3.3 and 4.1), a :class:`PixelCNNCodePrior` over
    the ``positions`` codes laid out as a map (:func:`code_grid`: 2 x 4 for digits),
    drawn in raster order. From step ``prior_start`` on, each training step also takes
    an Adam step of the prior on ``prior_nll = -log p(k)`` of the batch's code maps (the
    indices, so nothing reaches the encoder); the two losses share no parameter, so their
    sum is one step of each. ``prior_nll`` (nats per code map) is then the ``kl`` of the
    ELBO; before ``prior_start`` it is reported with the prior left untouched.

    References:
        van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning",
        NeurIPS 2017, equations (1)-(3) and section 3.1; Dhariwal et al., "Jukebox: A
        Generative Model for Music", 2020 (random restarts of unused codes).
    """

    name: ClassVar[str] = "vq-vae"
    description: ClassVar[str] = (
        "VQ-VAE: nearest-code quantisation, straight-through gradients, uniform or PixelCNN "
        "code prior"
    )
    capabilities: ClassVar[frozenset[str]] = DiscreteLatentModel.capabilities | {"codebook"}
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
        # built last: the uniform prior has no weights, so the other initial weights and
        # the presets saved before the prior existed stay as they were
        self.prior = make_code_prior(
            config.prior, k, config.positions, config.prior_channels, config.prior_blocks
        )

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

    # ------------------------------------------------------------- code maps
    @property
    def code_grid(self) -> tuple[int, int]:
        """``(h, w)``: the map the ``positions`` codes are laid out on (:func:`code_grid`)."""
        return code_grid(self.config.positions)

    def code_indices(self, x: Tensor) -> Tensor:
        """The code map of each ``x`` ``(n, *event_shape)``: ``(n, h, w)`` int64 in ``[0, K)``."""
        k = self.quantize(self.encoder_outputs(x))[2]
        return k.view(x.shape[0], *self.code_grid)

    def sample_codes(self, n: int, rng: torch.Generator) -> Tensor:
        """``n`` code maps from the prior, ``(n, h, w)`` int64, every draw from ``rng``."""
        return self.prior.sample(n, rng).to(self.codebook.device).view(n, *self.code_grid)

    def decode_codes(self, codes: Tensor) -> Tensor:
        """The decoder mean at code maps ``(n, h, w)``: ``(n, *event_shape)``."""
        return self.decode(self.codes_to_latent(codes.reshape(codes.shape[0], -1)))

    # ------------------------------------------------------------------- prior
    @property
    def prior_trains(self) -> bool:
        """Whether a training step now also fits the prior: a PixelCNN prior, from step
        ``prior_start`` on."""
        return self.config.prior != "uniform" and int(self.steps_taken) >= self.config.prior_start

    def sample_prior(self, n: int, rng: torch.Generator) -> Tensor:
        """Code maps from the prior, as their codes: ``(n, positions * code_dim)``."""
        return self.codes_to_latent(self.sample_codes(n, rng).flatten(1))

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Decoder means at the prior's codes for images ``(n, 1, h, w)``; on the plane a
        draw of ``N(mu(z), sigma^2 I)``, ``(n, 2)``."""
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
        # the prior's graph only where its loss counts (a training step from prior_start on)
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.prior_trains):
            kl = -self.prior.log_prob(k).to(reconstruction.dtype)
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
        """``reconstruction``, ``kl`` (``-log p(k(x))``), ``elbo``, ``codebook`` and
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

        With the PixelCNN prior, from step ``prior_start`` on the loss also holds
        ``prior_nll``, which trains the prior alone (see the class docstring).

        Returns:
            ``loss``, ``reconstruction``, ``kl``, ``elbo``, ``codebook``, ``commitment``
            (batch means, nats) and ``perplexity`` (codes); with the PixelCNN prior
            ``prior_nll`` (nats per code map, the same as ``kl``).

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
        if self.config.prior != "uniform":
            terms["prior_nll"] = terms["kl"]
            if self.prior_trains:
                loss = loss + terms["prior_nll"]
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
