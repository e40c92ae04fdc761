"""EBM: an MLP energy trained by contrastive divergence with a replay buffer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp
from ...sampling import budget
from ...sampling.langevin import langevin, score_from_log_prob
from ..base import GenerativeModel, TrainingConfig, lr_decay_hp

__all__ = ["EBM", "EnergyNet", "EBM_SAMPLERS", "SAMPLE_STEPS_FACTOR", "MIN_SAMPLE_STEPS"]

#: :meth:`EBM.sample` runs this many times ``langevin_steps`` (short-run chains from noise
#: need longer than the persistent training chains, which start near the model already)
SAMPLE_STEPS_FACTOR = 5
#: and at least this many steps
MIN_SAMPLE_STEPS = 200
#: samplers of :meth:`EBM.sample` (training negatives are always unadjusted Langevin)
EBM_SAMPLERS = ("langevin", "mala")


class EnergyNet(nn.Module):
    """``E_theta(x)``: an MLP with SiLU activations (smooth, so ``grad_x E`` is too).

    Arguments:
        dim: data elements (2 on the plane).
        hidden, depth: width and number of hidden layers (``depth >= 1``).

    Shapes (forward):
        ``x (n, dim)`` -> ``(n,)``, the energy (unnormalised negative log-density, nats).
    """

    def __init__(self, dim: int, hidden: int, depth: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Linear(dim, hidden), nn.SiLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(-1)


class EBM(GenerativeModel):
    """Energy-based model ``p(x) ∝ exp(-E_theta(x))`` on the plane, trained by contrastive
    divergence with persistent Langevin chains kept in a replay buffer.

    The loss of a data batch ``x+ (b, 2)`` and negatives ``x- (b, 2)`` is
    ``mean E(x+) - mean E(x-) + alpha mean(E(x+)^2 + E(x-)^2)`` (Du & Mordatch eq. 2 and
    section 3.3; ``alpha = energy_reg``). Its gradient estimates that of the negative
    log-likelihood when ``x-`` are samples of the model.

    Negatives (Du & Mordatch section 3.1): each step ``b`` chains start, each with
    probability ``1 - reinit_prob``, from a uniformly drawn point of the replay buffer, or
    otherwise from uniform noise on ``data.box``; they run ``langevin_steps`` steps of
    unadjusted Langevin, ``x <- x - (eta / 2) grad E(x) + sqrt(eta) eps`` with
    ``eta = step_size`` (the exact Langevin scaling, not Du & Mordatch's decoupled step and
    small noise: no gradient clipping, no noise rescaling), are clamped to the box (as Du &
    Mordatch clamp images to their range), and are written back to the buffer, a FIFO ring
    of ``buffer_size`` points. The buffer, its fill count and its write position are
    registered buffers, so presets keep them, and so does the count of the last step's
    negatives, which :meth:`last_negatives` reads back from the ring (a copy of the model
    refreshed from ``state_dict()`` sees them too). The learning rate decays by a cosine
    over ``lr_decay_steps``.

    Sampling (:meth:`sample`, ``sampler``): ``langevin`` runs the same unadjusted chains
    from uniform noise; ``mala`` adds the Metropolis-Hastings test of Roberts & Tweedie with
    ``-E`` as the unnormalised log-density, restricted to the box (a proposal that leaves
    it is rejected), so the chains leave ``exp(-E)`` on the box exactly invariant at any
    step size; :attr:`last_acceptance_rate` reports its acceptance rate. Training
    negatives stay unadjusted whatever ``sampler`` says: contrastive divergence runs short
    chains on an energy that moves every step, so exactness buys little there, while
    rejections would slow the persistent chains and the test costs an extra energy pass
    per Langevin step (Du & Mordatch use unadjusted chains too).

    Arguments:
        config: an :class:`EBM.Config`.
        data: a 2D density with a sampler (its ``box`` bounds the chains).

    References:
        Du and Mordatch, "Implicit Generation and Modeling with Energy-Based Models",
        NeurIPS 2019, eq. (2), sections 3.1 (replay buffer) and 3.3 (regularisation);
        Tieleman, "Training Restricted Boltzmann Machines using Approximations to the
        Likelihood Gradient", ICML 2008 (persistent chains);
        Roberts and Tweedie, "Exponential convergence of Langevin distributions and their
        discrete approximations", Bernoulli 1996 (MALA).
    """

    name: ClassVar[str] = "ebm"
    family: ClassVar[str] = "energy"
    iterative_sampler: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[str]] = frozenset({"energy", "score", "samples"})
    description: ClassVar[str] = (
        "EBM: MLP energy, contrastive divergence, Langevin negatives from a replay buffer"
    )

    @dataclass
    class Config(TrainingConfig):
        """EBM hyperparameters: energy network, Langevin negatives, replay buffer."""

        batch_size: int = hp(
            256, low=1, high=8192, log=True, live=True, help="data points and negatives per step"
        )
        hidden: int = hp(128, low=8, high=2048, log=True, help="width of the energy MLP")
        depth: int = hp(3, low=1, high=8, help="hidden layers of the energy MLP")
        # eta in squared data units: per step the noise moves a chain by sqrt(eta) = 0.1,
        # a third of a mode's std on 8gaussians
        step_size: float = hp(
            0.01, low=1e-6, high=1.0, log=True, live=True, help="Langevin step eta"
        )
        langevin_steps: int = hp(
            40, low=1, high=1000, log=True, live=True, help="Langevin steps per negative batch"
        )
        reinit_prob: float = hp(
            0.05, low=0.0, high=1.0, live=True, help="chance a chain restarts from noise"
        )
        buffer_size: int = hp(10_000, low=1, high=1_000_000, log=True, help="replay buffer")
        # Du & Mordatch use 1; 0.1 keeps energies near 0 without flattening the landscape
        energy_reg: float = hp(
            0.1, low=0.0, high=100.0, live=True, help="alpha on E(x+)^2 + E(x-)^2 (0: off)"
        )
        lr_decay_steps: int = lr_decay_hp(4000)
        sampler: str = hp(
            "langevin",
            choices=EBM_SAMPLERS,
            live=True,
            help="sample(): unadjusted Langevin, or MALA (Metropolis-adjusted, exact)",
        )

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """2D densities with exact samples (contrastive divergence needs data batches)."""
        return bool(data.can_sample) and not getattr(data, "is_image", False)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        self.box = tuple(float(v) for v in data.box)
        self.net = EnergyNet(2, config.hidden, config.depth)
        self.register_buffer("replay_buffer", torch.zeros(config.buffer_size, 2))
        self.register_buffer("buffer_fill", torch.zeros((), dtype=torch.long))
        self.register_buffer("buffer_next", torch.zeros((), dtype=torch.long))
        #: how many of the points just before ``buffer_next`` the last step wrote
        self.register_buffer("last_negatives_count", torch.zeros((), dtype=torch.long))

    # ---------------------------------------------------------------- energy
    def energy(self, x: Tensor) -> Tensor:
        """``E_theta(x)``: ``(n, 2) -> (n,)``, nats up to an additive constant."""
        return self.net(x)

    def score(self, x: Tensor) -> Tensor:
        """``grad_x log p(x) = -grad_x E(x)``: ``(n, 2) -> (n, 2)``, detached; works under
        ``torch.no_grad`` (gradients are enabled inside)."""
        return score_from_log_prob(lambda y: -self.energy(y))(x)

    # ---------------------------------------------------------------- chains
    def uniform(self, n: int, rng: torch.Generator) -> Tensor:
        """``(n, 2)`` uniform on ``data.box``, from ``rng`` only, on the model's device."""
        xmin, xmax, ymin, ymax = self.box
        u = torch.rand(n, 2, generator=rng, device=rng.device)
        lo = torch.tensor([xmin, ymin], device=u.device)
        hi = torch.tensor([xmax, ymax], device=u.device)
        return (lo + (hi - lo) * u).to(self.replay_buffer.device)

    def run_chains(self, x0: Tensor, n_steps: int, rng: torch.Generator) -> Tensor:
        """Unadjusted Langevin on ``-grad E`` from ``x0 (n, 2)`` for ``n_steps`` steps of
        ``config.step_size``, then clamped to ``data.box``: ``(n, 2)``, detached."""
        x = langevin(self.score, x0, self.config.step_size, n_steps, rng).x
        xmin, xmax, ymin, ymax = self.box
        lo = torch.tensor([xmin, ymin], device=x.device)
        hi = torch.tensor([xmax, ymax], device=x.device)
        return torch.maximum(torch.minimum(x, hi), lo)

    def chain_starts(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Starts of ``n`` negative chains: a uniform pick of the buffer's filled points with
        probability ``1 - reinit_prob`` each, else uniform noise on the box (always noise
        while the buffer is empty).

        Returns:
            ``(x0 (n, 2), from_buffer (n,) bool)``.
        """
        fill = int(self.buffer_fill)
        noise = self.uniform(n, rng)
        u = torch.rand(n, generator=rng, device=rng.device)
        idx = torch.randint(0, max(fill, 1), (n,), generator=rng, device=rng.device)
        dev = self.replay_buffer.device
        from_buffer = (u >= self.config.reinit_prob).to(dev) & (fill > 0)
        x0 = torch.where(from_buffer[:, None], self.replay_buffer[idx.to(dev)], noise)
        return x0, from_buffer

    def _write_buffer(self, x: Tensor) -> None:
        """Append ``x (b, 2)`` to the FIFO ring (the oldest points are overwritten)."""
        size = self.replay_buffer.shape[0]
        x = x[-size:]
        pos = (int(self.buffer_next) + torch.arange(x.shape[0], device=x.device)) % size
        self.replay_buffer[pos] = x
        self.buffer_next.fill_((int(self.buffer_next) + x.shape[0]) % size)
        self.buffer_fill.fill_(min(int(self.buffer_fill) + x.shape[0], size))

    def replay_buffer_points(self) -> Tensor:
        """The buffer's filled points ``(fill, 2)``, detached (a copy)."""
        return self.replay_buffer[: int(self.buffer_fill)].detach().clone()

    def last_negatives(self) -> Tensor:
        """The last training step's negatives, read back from the replay buffer ring.

        They are the last points written before ``buffer_next`` (the ring wraps round);
        when the batch was larger than the buffer only its last ``buffer_size`` negatives
        were kept, so only those come back.

        Returns:
            ``(min(b, buffer_size), 2)`` in data units, oldest first, detached (a copy);
            ``(0, 2)`` before the first step.
        """
        size = self.replay_buffer.shape[0]
        count = min(int(self.last_negatives_count), size)
        start = int(self.buffer_next) - count
        pos = (start + torch.arange(count, device=self.replay_buffer.device)) % size
        return self.replay_buffer[pos].detach().clone()

    @property
    def negatives(self) -> Tensor:
        """The last step's negatives ``(min(b, buffer_size), 2)``, read from the buffers
        (see :meth:`last_negatives`)."""
        return self.last_negatives()

    # -------------------------------------------------------------- training
    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step of contrastive divergence on a data batch ``(b, 2)`` and ``b``
        Langevin negatives (see the class docstring).

        Returns:
            ``loss``; ``energy_data`` and ``energy_negative`` (mean energies, nats);
            ``cd_gap`` = ``energy_negative - energy_data``; ``energy_reg`` (the weighted
            regulariser) when ``config.energy_reg > 0``.

        Raises:
            ValueError: no batch.
            NonFiniteLossError: a term or a gradient was not finite; no parameter, no
                optimiser state, no buffer, no step counter and no rng state changed.
        """
        if batch is None:
            raise ValueError(f"{self.name} trains on data batches; got None")
        cfg = self.config
        self.apply_lr_schedule()
        with self.rng_kept_on_failure():
            x0, _ = self.chain_starts(batch.shape[0], self.rng)
            negatives = self.run_chains(x0, cfg.langevin_steps, self.rng)
            e = self.energy(torch.cat([batch, negatives]))
            e_data, e_neg = e[: batch.shape[0]], e[batch.shape[0] :]
            terms = {"energy_data": e_data.mean(), "energy_negative": e_neg.mean()}
            loss = terms["energy_data"] - terms["energy_negative"]
            if cfg.energy_reg > 0:
                terms["energy_reg"] = cfg.energy_reg * (e_data.square() + e_neg.square()).mean()
                loss = loss + terms["energy_reg"]
            terms["cd_gap"] = (terms["energy_negative"] - terms["energy_data"]).detach()
            values = self.optimize(loss, terms)
        with torch.no_grad():
            self._write_buffer(negatives)
            self.last_negatives_count.fill_(negatives.shape[0])
        self.steps_taken += 1
        return values

    # -------------------------------------------------------------- sampling
    def box_log_prob(self, x: Tensor) -> Tensor:
        """``-E(x)`` inside ``data.box``, ``-inf`` outside: ``(n, 2) -> (n,)``, nats up to
        the unknown ``log Z`` (MALA's target: a proposal off the box is rejected)."""
        xmin, xmax, ymin, ymax = self.box
        inside = (x[:, 0] >= xmin) & (x[:, 0] <= xmax) & (x[:, 1] >= ymin) & (x[:, 1] <= ymax)
        return torch.where(inside, -self.energy(x), torch.full_like(x[:, 0], -torch.inf))

    @torch.no_grad()
    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Chains from uniform noise on the box, ``max(MIN_SAMPLE_STEPS,
        SAMPLE_STEPS_FACTOR * langevin_steps)`` steps of ``step_size``, by ``sampler``:
        unadjusted Langevin (clamped to the box) or MALA on :meth:`box_log_prob`, which
        sets :attr:`last_acceptance_rate` (``None`` after an unadjusted run).

        Returns:
            ``(n, 2)`` samples in data units, inside ``data.box``.

        References:
            Roberts and Tweedie, Bernoulli 1996 (MALA); Du and Mordatch, NeurIPS 2019.
        """
        steps = max(MIN_SAMPLE_STEPS, SAMPLE_STEPS_FACTOR * self.config.langevin_steps)
        steps = budget.current().steps(steps, "Langevin steps")  # a preview: fewer
        x0 = self.uniform(n, rng)
        if self.config.sampler != "mala":
            self.last_acceptance_rate = None
            return self.run_chains(x0, steps, rng)
        result = langevin(
            self.score,
            x0,
            self.config.step_size,
            steps,
            rng,
            mala=True,
            log_prob_fn=self.box_log_prob,
        )
        self.last_acceptance_rate = result.acceptance_rate
        return result.x
