"""``ffjord``: a continuous normalizing flow with Hutchinson's trace estimator, a learned
integration time and the regularisers of "How to train your neural ODE"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...hyperparameters import hp
from .likelihood import LikelihoodConfig, LikelihoodFlow
from .ode import PROBES

__all__ = ["FFJORD", "FFJORDConfig"]


@dataclass
class FFJORDConfig(LikelihoodConfig):
    """FFJORD's hyperparameters: the probe, the integration time and the regularisers."""

    probe: str = hp(
        "rademacher",
        choices=PROBES,
        live=True,
        help="Hutchinson probe e: rademacher (+-1, lower variance) or gaussian",
    )
    # 1.0 as cnf's; FFJORD's toy runs start at 0.5 and learn it
    integration_time: float = hp(
        1.0, low=0.05, high=20.0, log=True, help="T: the flow runs over [0, T] (initial T)"
    )
    learn_integration_time: bool = hp(
        True, help="learn T (a positive parameter, softplus of a raw one)"
    )
    kinetic_energy: float = hp(
        0.0, low=0.0, high=10.0, live=True, help="weight of int ||dx/ds||^2 ds (fewer NFE)"
    )
    jacobian_frobenius: float = hp(
        0.0, low=0.0, high=10.0, live=True, help="weight of int ||d(dx/ds)/dx||_F^2 ds"
    )


class FFJORD(LikelihoodFlow):
    """FFJORD: a continuous normalizing flow whose trace is Hutchinson's unbiased estimate
    ``tr(df/dz) ~ e^T (df/dz) e`` with one probe ``e`` per solve, trained by maximum
    likelihood; its density pictures and metrics use the exact trace.

    Optional regularisers lower the number of function evaluations: the kinetic energy
    ``int ||dx/ds||^2 ds`` and the Jacobian's Frobenius norm ``int ||d(dx/ds)/dx||_F^2 ds``
    (estimated with the same probe), each with its weight.

    References:
        Grathwohl et al., "FFJORD: Free-form Continuous Dynamics for Scalable Reversible
        Generative Models", ICLR 2019, equations (4)-(7) and algorithm 1; Finlay et al.,
        "How to train your neural ODE: the world of Jacobian and kinetic regularization",
        ICML 2020, equations (4)-(5).
    """

    name: ClassVar[str] = "ffjord"
    description: ClassVar[str] = "FFJORD: CNF with Hutchinson's trace (Grathwohl et al. 2019)"
    Config: ClassVar[type] = FFJORDConfig
    trace: ClassVar[str] = "hutchinson"

    def initial_time(self) -> float:
        """``T`` at initialisation: ``integration_time``."""
        return float(self.config.integration_time)

    def learns_time(self) -> bool:
        """``learn_integration_time``."""
        return bool(self.config.learn_integration_time)

    def probe_kind(self) -> str:
        """``probe``: ``rademacher`` or ``gaussian``."""
        return self.config.probe

    def regularizer_weights(self) -> tuple[float, float]:
        """``(kinetic_energy, jacobian_frobenius)``: the two weights."""
        return float(self.config.kinetic_energy), float(self.config.jacobian_frobenius)
