"""The flow protocol: invertible layers composed over a standard normal base."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ...hyperparameters import hp, with_defaults
from ..base import GenerativeModel, TrainingConfig, lr_decay_hp

__all__ = ["FlowLayer", "Flow", "FlowConfig", "OBJECTIVES", "soft_clamp", "check_objective"]

#: the two ways a flow can fit a target (Papamakarios et al. 2021, section 2.3)
OBJECTIVES = ("forward_kl", "reverse_kl")

#: reverse KL starts from the target raised to this power (Rezende and Mohamed 2015)
INITIAL_INVERSE_TEMPERATURE = 0.01


def soft_clamp(a: Tensor, bound: float) -> Tensor:
    """``bound * tanh(a / bound)``: the identity near 0, smoothly bounded by ``±bound``.

    Used on log-scales so that one layer can never scale by more than ``exp(bound)``,
    which keeps early training from blowing up.
    """
    return bound * torch.tanh(a / bound)


class FlowLayer(nn.Module, metaclass=abc.ABCMeta):
    """One invertible map between the data side ``x`` and the base side ``z``.

    Attributes:
        label: a short name of the layer type, shown by the trajectory view.
    """

    label: ClassVar[str] = "layer"

    @abc.abstractmethod
    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Map data-side points to the base side.

        Arguments:
            x: ``(n, d)`` points.

        Returns:
            ``(z, log_det)``: ``(n, d)`` and ``(n,)`` with ``log|det dz/dx|`` (nats).
        """

    @abc.abstractmethod
    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """Map base-side points to the data side.

        Arguments:
            z: ``(n, d)`` points.

        Returns:
            ``(x, log_det)``: ``(n, d)`` and ``(n,)`` with ``log|det dx/dz|`` (nats).
        """

    def data_init(self, x: Tensor) -> None:
        """Data-dependent initialisation from the first training batch ``(n, d)``; none here."""


@dataclass
class FlowConfig(
    # lr 3e-3 with the cosine decay below: 3x faster than 1e-3 and still stable on every set;
    # batch 512: the density of a 2D set is estimated much less noisily than with 256, at
    # ~no cost
    with_defaults(TrainingConfig, lr=3e-3, batch_size=512)
):
    """Hyperparameters shared by every flow: the objective and the learning-rate decay."""

    objective: str = hp(
        "forward_kl",
        choices=OBJECTIVES,
        help="forward_kl: maximum likelihood on data; reverse_kl: fit an energy by sampling",
    )
    # 3000: the course's demos run a few thousand steps; 0 keeps the rate constant
    lr_decay_steps: int = lr_decay_hp(3000)
    # reverse KL is mode-seeking: a flat target at first lets q spread over every mode;
    # 500 steps kept both lobes of U1 on every seed tried, and 1000 only slows the fit
    anneal_steps: int = hp(
        500,
        low=0,
        high=1_000_000,
        live=True,
        help="reverse KL: raise the target's inverse temperature from 0.01 to 1 over these steps",
    )


def check_objective(model: str, objective: str, data: Any) -> None:
    """Refuse a target that the objective cannot fit.

    Arguments:
        model: the model name, for the message.
        objective: ``forward_kl`` or ``reverse_kl``.
        data: the target (a ``Density2D``), or ``None`` (forward KL on given batches).

    Raises:
        ValueError: forward KL on a target with no sampler, reverse KL on a target with
            no density, or a target that is not 2D; the message says what to use instead.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"{model}: unknown objective {objective!r}; use one of {OBJECTIVES}")
    if data is None:
        if objective == "reverse_kl":
            raise ValueError(f"{model}: reverse_kl needs a target density; none was given")
        return
    name = getattr(data, "name", type(data).__name__)
    if getattr(data, "dim", 2) != 2:
        raise ValueError(f"{model} is a 2D flow; {name} has dimension {data.dim}")
    if objective == "forward_kl" and not data.can_sample:
        raise ValueError(
            f"{model}: {name} is an energy target with no sampler, so forward KL "
            "(maximum likelihood) has no data; use objective=reverse_kl"
        )
    if objective == "reverse_kl" and not (data.has_log_prob or data.is_energy):
        raise ValueError(
            f"{model}: {name} has no density to score samples with, so reverse KL is "
            "undefined; use objective=forward_kl"
        )


class Flow(GenerativeModel):
    """A normalizing flow: layers ``f_1, ..., f_K`` from data ``x`` to a base ``z ~ N(0, I)``.

    ``log q(x) = log N(f(x); 0, I) + sum_k log|det J_k|``. Subclasses implement
    :meth:`build_layers`; everything else is shared.

    Arguments:
        config: a :class:`FlowConfig` subclass instance.
        data: the target ``Density2D`` (read for reverse KL), or ``None`` with forward KL.

    Raises:
        ValueError: the objective cannot fit the target (see :func:`check_objective`).

    References:
        Papamakarios et al., "Normalizing Flows for Probabilistic Modeling and
        Inference", JMLR 2021, equations (2)-(3) and section 2.3.
    """

    family: ClassVar[str] = "flow"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"density", "samples", "trajectory", "layers"}
    )
    Config: ClassVar[type] = FlowConfig
    dim: ClassVar[int] = 2

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """A 2D density with a sampler (forward KL) or a density (reverse KL); no images."""
        if getattr(data, "is_image", False):
            return False
        return bool(data.can_sample or data.has_log_prob or data.is_energy)

    def __init__(self, config: Any, data: Any):
        super().__init__(config, data)
        check_objective(self.name or type(self).__name__, config.objective, data)
        self.layers = nn.ModuleList(self.build_layers(config))

    @abc.abstractmethod
    def build_layers(self, config: Any) -> list[FlowLayer]:
        """The layers in the data-to-base order (``layers[0]`` is applied to ``x`` first)."""

    @property
    def needs_data(self) -> bool:
        """Forward KL trains on data batches; reverse KL draws its own samples."""
        return self.config.objective == "forward_kl"

    def _base_noise(self, n: int, rng: torch.Generator) -> Tensor:
        p = next(self.parameters())
        z = torch.randn(n, self.dim, generator=rng, device=rng.device, dtype=p.dtype)
        return z.to(p.device)

    def base_log_prob(self, z: Tensor) -> Tensor:
        """Standard normal log-density: ``(n, d) -> (n,)``, nats."""
        return -0.5 * z.square().sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """All layers from data to base: ``(n, d) -> ((n, d), (n,))`` with ``log|det dz/dx|``."""
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """All layers from base to data: ``(n, d) -> ((n, d), (n,))`` with ``log|det dx/dz|``."""
        log_det = z.new_zeros(z.shape[0])
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z)
            log_det = log_det + ld
        return z, log_det

    def log_prob(self, x: Tensor) -> Tensor:
        """Exact model log-density by change of variables.

        Arguments:
            x: ``(n, 2)`` points.

        Returns:
            ``(n,)`` ``log q(x)`` in nats.
        """
        z, log_det = self.forward(x)
        return self.base_log_prob(z) + log_det

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """Push ``n`` base samples through the inverse: returns ``(n, 2)``."""
        return self.inverse(self._base_noise(n, rng))[0]

    def sample_with_log_prob(self, n: int, rng: torch.Generator) -> tuple[Tensor, Tensor]:
        """Samples ``(n, 2)`` and their ``log q`` ``(n,)`` in nats, in one inverse pass."""
        z = self._base_noise(n, rng)
        x, log_det = self.inverse(z)
        return x, self.base_log_prob(z) - log_det

    def trajectory(self, points: Tensor, direction: str = "inverse") -> Tensor:
        """The points after every layer.

        Arguments:
            points: ``(n, 2)``: data points for ``forward``, base points for ``inverse``.
            direction: ``forward`` (x to z) or ``inverse`` (z to x).

        Returns:
            ``(n_layers + 1, n, 2)``; index 0 is ``points``, the last is the output.
        """
        if direction not in ("forward", "inverse"):
            raise ValueError(f"direction must be 'forward' or 'inverse', not {direction!r}")
        path = [points]
        if direction == "forward":
            for layer in self.layers:
                path.append(layer(path[-1])[0])
        else:
            for layer in reversed(self.layers):
                path.append(layer.inverse(path[-1])[0])
        return torch.stack(path)

    def layer_log_dets(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The change of variables one layer at a time, data to base.

        ``log q(x) = log p_Z(f(x)) + sum_k log|det df_k / dh_{k-1}|`` with ``h_0 = x`` and
        ``f = f_L o ... o f_1`` (Dinh et al. 2016, "Density estimation using Real NVP",
        eq. 3): the base term and the ``L`` layer terms sum to :meth:`log_prob`.

        Arguments:
            x: ``(n, 2)`` points.

        Returns:
            ``(log_base (n,), log_dets (L, n))`` in nats; row ``k`` of ``log_dets`` is
            ``layers[k]`` (the data-to-base order, :meth:`layer_names` reversed).
        """
        terms = []
        for layer in self.layers:
            x, ld = layer(x)
            terms.append(ld.expand(x.shape[0]))
        return self.base_log_prob(x), torch.stack(terms)

    def layer_names(self) -> list[str]:
        """One name per layer in the z-to-x order: name ``k`` maps inverse step ``k`` to ``k+1``."""
        return [f"{layer.label} {k + 1}" for k, layer in enumerate(reversed(self.layers))]

    def inverse_temperature(self) -> float:
        """``beta = min(1, 0.01 + t / anneal_steps)`` at step ``t`` (1 when not annealing).

        References:
            Rezende and Mohamed, "Variational Inference with Normalizing Flows", ICML 2015,
            section 6 (the annealed free energy).
        """
        total = self.config.anneal_steps
        if total <= 0:
            return 1.0
        return min(1.0, INITIAL_INVERSE_TEMPERATURE + int(self.steps_taken) / total)

    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One Adam step on the forward or the reverse KL.

        Arguments:
            batch: ``(b, 2)`` data samples (forward KL), ``None`` for reverse KL.

        Returns:
            Forward KL: ``loss`` = ``nll`` = ``-mean log q(x)``, and its two parts by the
            change of variables (Dinh et al. 2017, eq. 3): ``base_log_prob`` = ``mean log
            p_Z(f(x))`` and ``log_det_jacobian`` = ``mean sum_k log|det J_k(x)|`` (nats;
            ``nll = -(base_log_prob + log_det_jacobian)``). Reverse KL: ``loss`` =
            ``mean(log q(x) - beta log p~(x))`` over ``x ~ q`` (``beta``: see
            :meth:`inverse_temperature`) and ``reverse_kl`` = ``mean(log q(x) - log p~(x))
            + log Z``, the KL(q || p) estimate (nats) where the target knows ``log Z``.

        Raises:
            NonFiniteLossError: no parameter and no step counter changed.
        """
        self.apply_lr_schedule()
        if self.config.objective == "forward_kl":
            if batch is None:
                raise ValueError(f"{self.name}: forward_kl trains on data batches; got None")
            if int(self.steps_taken) == 0:
                self.data_init(batch)
            z, log_det = self.forward(batch)
            base_log_prob = self.base_log_prob(z)
            nll = -(base_log_prob + log_det).mean()
            parts = {"base_log_prob": base_log_prob.mean(), "log_det_jacobian": log_det.mean()}
            terms = self.optimize(nll, {"nll": nll, **{k: v.detach() for k, v in parts.items()}})
        else:
            x, log_q = self.sample_with_log_prob(self.config.batch_size, self.rng)
            log_p = self.data.unnormalized_log_prob(x).to(log_q.device)
            loss = (log_q - self.inverse_temperature() * log_p).mean()
            kl = (log_q - log_p).mean() + self.data.log_normalizer
            terms = self.optimize(loss, {"reverse_kl": kl})
        self.steps_taken += 1
        return terms

    @torch.no_grad()
    def data_init(self, x: Tensor) -> None:
        """Run every layer's data-dependent initialisation on a batch ``(n, 2)`` in order."""
        for layer in self.layers:
            layer.data_init(x)
            x = layer(x)[0]
