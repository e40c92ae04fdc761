"""The one small protocol every model of the zoo follows."""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..hyperparameters import hp

__all__ = [
    "GenerativeModel",
    "NonFiniteLossError",
    "TrainingConfig",
    "CAPABILITIES",
    "FINAL_LR_FRACTION",
    "cosine_lr_factor",
    "lr_decay_hp",
]

#: a cosine decay ends at this fraction of the learning rate
FINAL_LR_FRACTION = 0.02


def cosine_lr_factor(step: int, decay_steps: int) -> float:
    """The factor on a learning rate after ``step`` of a cosine decay over ``decay_steps``
    steps: 1 at step 0, :data:`FINAL_LR_FRACTION` from ``decay_steps`` on; 1 when
    ``decay_steps <= 0`` (a constant rate).

    References:
        Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
        ICLR 2017, eq. (5) (without restarts).
    """
    if decay_steps <= 0:
        return 1.0
    frac = min(int(step), decay_steps) / decay_steps
    return FINAL_LR_FRACTION + (1.0 - FINAL_LR_FRACTION) * 0.5 * (1.0 + math.cos(math.pi * frac))


def lr_decay_hp(default: int, help: str = "") -> Any:
    """The ``lr_decay_steps`` hyperparameter field (live; 0 keeps the rate constant)."""
    return hp(
        default,
        low=0,
        high=1_000_000,
        live=True,
        help=help or "cosine decay of lr to 2% of it over this many steps (0: constant lr)",
    )


#: capability -> the method(s) that provide it (DESIGN.md, "One protocol for every model").
CAPABILITIES = {
    "density": "log_prob(x) -> (n,)",
    "energy": "energy(x) -> (n,)",
    "samples": "sample(n, generator) -> (n, d)",
    "trajectory": "trajectory(x, direction) -> (steps, n, d)",
    "score": "score(x) -> (n, d)",
    "latent": "encode(x), decode(z)",
    "critic": "critic(x) -> (n,)",
}


class NonFiniteLossError(FloatingPointError):
    """A loss term was NaN or infinite; the update was not applied.

    Attributes:
        term: the name of the first non-finite loss term.
        value: its value.
        step: the session step at which it happened (set by the Session).
    """

    def __init__(self, term: str, value: float, step: int | None = None):
        self.term, self.value, self.step = term, value, step
        super().__init__(self._message())

    def __reduce__(self):
        return (NonFiniteLossError, (self.term, self.value, self.step))

    def _message(self) -> str:
        where = f" at step {self.step}" if self.step is not None else ""
        return f"non-finite loss{where}: {self.term} = {self.value}"

    def at_step(self, step: int) -> NonFiniteLossError:
        """The same error, naming the step."""
        return NonFiniteLossError(self.term, self.value, step)


@dataclass
class TrainingConfig:
    """Hyperparameters every model trains with; model configs inherit and add theirs."""

    lr: float = hp(1e-3, low=1e-6, high=1.0, log=True, live=True, help="Adam learning rate")
    batch_size: int = hp(256, low=1, high=8192, log=True, live=True, help="samples per step")


class GenerativeModel(nn.Module, metaclass=abc.ABCMeta):
    """Base class of every model: declares capabilities, owns its optimisers.

    A subclass sets the class attributes, builds its networks in ``__init__`` and
    implements :meth:`train_step`, plus the methods of the capabilities it declares.

    Arguments:
        config: an instance of the subclass's ``Config`` dataclass.
        data: the dataset the session trains on (a :class:`~playground.core.data.Density2D`
            for 2D models); reverse-KL models read the target density from it.

    Attributes:
        name: the model name on the command line.
        family: ``flow``, ``gan``, ``vae``, ``energy``, ``score``, ``diffusion``, ...
        Config: the hyperparameter dataclass.
        capabilities: a subset of :data:`CAPABILITIES`.
        description: one line for ``list`` and the app.
        optimizers: name to optimiser; the learning rate of each follows ``config.lr``
            unless the subclass overrides :meth:`apply_live`.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    Config: ClassVar[type] = TrainingConfig
    capabilities: ClassVar[frozenset[str]] = frozenset()
    description: ClassVar[str] = ""

    def __init__(self, config: Any, data: Any):
        super().__init__()
        self.config = config
        self.data = data
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    @classmethod
    def trains_on(cls, data: Any) -> bool:
        """Whether some setting of the hyperparameters trains on ``data`` (class or instance).

        The default needs exact samples (maximum likelihood, adversarial training).
        """
        return bool(data.can_sample)

    @classmethod
    def defaults_for(cls, data: Any) -> dict[str, Any]:
        """Hyperparameter defaults that depend on the dataset (an instance), applied by the
        Session to the fields the user did not set; none by default."""
        return {}

    @property
    def batches_per_step(self) -> int:
        """Data batches one :meth:`train_step` consumes (a GAN: one per critic step).

        The Session passes ``batch_size * batches_per_step`` rows.
        """
        return 1

    @property
    def needs_data(self) -> bool:
        """Whether :meth:`train_step` needs a batch of data samples."""
        return True

    def configure_optimizers(self) -> None:
        """Create ``self.optimizers``; called by the Session after the model is on its device."""
        self.optimizers = {"model": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def apply_live(self, config: Any) -> None:
        """Take a new config whose changed fields are all live (learning rate, batch size)."""
        self.config = config
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = config.lr

    @abc.abstractmethod
    def train_step(self, batch: Tensor | None) -> dict[str, float]:
        """One optimisation step on a batch ``(b, d)`` (``None`` if ``needs_data`` is False).

        Returns:
            The named terms of the loss as floats; ``loss`` is the total minimised.

        Raises:
            NonFiniteLossError: a term was NaN or infinite; no update was applied.
        """

    @staticmethod
    def check_finite(terms: dict[str, Tensor]) -> dict[str, float]:
        """Floats of the loss terms, or :class:`NonFiniteLossError` for the first bad one."""
        values = {k: float(v.detach()) for k, v in terms.items()}
        for k, v in values.items():
            if not math.isfinite(v):
                raise NonFiniteLossError(k, v)
        return values

    def optimize(self, loss: Tensor, terms: dict[str, Tensor], optimizer: str = "model"):
        """Check every term is finite, then ``zero_grad``, ``backward``, ``step``.

        Arguments:
            loss: the scalar to minimise.
            terms: named terms to report (``loss`` is added if missing).
            optimizer: the key in ``self.optimizers``.

        Returns:
            The terms as floats.

        Raises:
            NonFiniteLossError: before any parameter changes.
        """
        terms = {"loss": loss, **terms}
        values = self.check_finite(terms)
        opt = self.optimizers[optimizer]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_ok = all(
            p.grad is None or torch.isfinite(p.grad).all()
            for g in opt.param_groups
            for p in g["params"]
        )
        if not grad_ok:
            opt.zero_grad(set_to_none=True)
            raise NonFiniteLossError("gradient", float("nan"))
        opt.step()
        return values
