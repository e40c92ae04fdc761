"""The curves picture: the session's history sorted into a few panels by meaning, with the
units of their axes, the held-out metrics beside the training terms they measure, and the
data's own reference values (its entropy, the MMD of two data samples)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .base import SnapshotContext

__all__ = [
    "picture",
    "CURVE_POINTS",
    "PANELS",
    "TERMS",
    "MAX_PANELS",
    "INCLUDES",
    "Term",
    "Curve",
    "Panel",
    "CurvesPicture",
    "term_of",
    "arrange",
]

#: points per curve at most (a long run is thinned, still ending at its last step)
CURVE_POINTS = 2000
#: panel key to its title, in drawing order (a session shows those it has curves for)
PANELS = {
    "objective": "Training objective (dots: held-out)",
    "fit": "Held-out fit (lower is better)",
    "coverage": "Sample quality",
    "diagnostics": "Diagnostics",
}
MAX_PANELS = len(PANELS)
#: values an axis of a unit always shows: fractions span 0..1, counts and MMD² start at 0
INCLUDES = {
    "fraction": (0.0, 1.0),
    "|correlation|": (0.0, 1.0),
    "modes": (0.0,),
    "classes": (0.0,),
    "units": (0.0,),
    "codes": (0.0,),
    "evaluations": (0.0,),
    "seconds": (0.0,),
    "MiB": (0.0,),
    "W\u2082 (data units)": (0.0,),
    "MMD\u00b2": (0.0,),
}


@dataclass(frozen=True)
class Term:
    """Where a history name is drawn.

    Attributes:
        panel: a :data:`PANELS` key.
        unit: its axis unit; ``None`` for a loss of no fixed unit (a GAN's, a score
            matching loss), whose panel is then labelled ``loss``.
        kind: ``line`` (a training term, every step), ``heldout`` (an evaluation
            metric: dots at the steps it was measured, joined), ``reference`` (a dashed
            level on ``host``'s panel) or ``band`` (a shaded band on ``host``'s panel).
        host: the training term a held-out metric measures (drawn on its panel, in its
            colour, when the session has it), or the curve a reference or band belongs to.
        per_example: a log-likelihood of one example in nats, shown in bits per
            dimension on image data.
    """

    panel: str
    unit: str | None = "nats"
    kind: str = "line"
    host: str | None = None
    per_example: bool = False


def _terms(panel: str, names: str, **kw) -> dict[str, Term]:
    return {name: Term(panel, **kw) for name in names.split()}


#: history name to its :class:`Term`; names not here follow :data:`PREFIXES`, else they
#: are training terms of no fixed unit on the objective panel
TERMS: dict[str, Term] = {
    "loss": Term("objective", None),
    **_terms("objective", "nll elbo reconstruction kl iwae_bound reverse_kl"),
    **_terms("objective", "mutual_information mi_categorical mi_continuous info_loss"),
    **_terms("objective", "info_loss_d divergence_estimate"),
    **_terms("objective", "codebook commitment loss_d loss_d_real loss_d_fake loss_g", unit=None),
    **_terms("objective", "gradient_penalty wasserstein cd_gap energy_reg", unit=None),
    **_terms("objective", "energy_data energy_negative", unit=None),
    "heldout_nll": Term("fit", kind="heldout", host="nll", per_example=True),
    "heldout_reverse_kl": Term("fit", kind="heldout", host="reverse_kl"),
    "test_elbo": Term("objective", kind="heldout", host="elbo"),
    "test_reconstruction": Term("objective", kind="heldout", host="reconstruction"),
    "test_kl": Term("objective", kind="heldout", host="kl"),
    "iwae_nll": Term("fit", kind="heldout", per_example=True),
    "entropy": Term("fit", kind="reference", host="heldout_nll", per_example=True),
    **_terms("fit", "nll_gap mode_kl class_kl", kind="heldout"),
    # test_kl = mutual_info + marginal_kl (Hoffman & Johnson 2016): beside the kl term
    **_terms("objective", "mutual_info marginal_kl", kind="heldout"),
    "mmd": Term("fit", "MMD\u00b2", kind="heldout"),
    "mmd_data": Term("fit", "MMD\u00b2", kind="band", host="mmd"),
    "modes_captured": Term("coverage", "modes", kind="heldout"),
    **_terms("coverage", "classes_captured categories_distinct", unit="classes", kind="heldout"),
    **_terms(
        "coverage",
        "high_quality classifier_accuracy category_purity guidance_accuracy",
        unit="fraction",
        kind="heldout",
    ),
    "grad_norm_g": Term("diagnostics", "gradient norm"),
    "beta": Term("diagnostics", "\u03b2"),
    "temperature": Term("diagnostics", "temperature"),
    "perplexity": Term("diagnostics", "codes", kind="heldout"),
    "active_units": Term("diagnostics", "units", kind="heldout"),
    "acceptance_rate": Term("diagnostics", "fraction", kind="heldout"),
    # continuous normalizing flows: the solver's evaluations per step, the learned end time
    # and the regularisers of "How to train your neural ODE" (not nats)
    **_terms("diagnostics", "nfe nfe_backward", unit="evaluations"),
    "integration_time": Term("diagnostics", "T"),
    "step_seconds": Term("diagnostics", "seconds"),
    "peak_memory_mb": Term("diagnostics", "MiB"),
    # flow matching: the exact 2-Wasserstein distance to the data, and its data-vs-data floor
    "w2": Term("fit", "W\u2082 (data units)", kind="heldout"),
    "w2_data": Term("fit", "W\u2082 (data units)", kind="band", host="w2"),
    **_terms("objective", "kinetic_energy jacobian_frobenius", unit=None),
}
#: name prefixes of families of names (one per index or key) and their :class:`Term`
PREFIXES = {
    "iwae_nll_": TERMS["iwae_nll"],
    "kl_": TERMS["kl"],
    "mode_weights_": Term("coverage", "fraction", kind="heldout"),
    "factor_r_": Term("coverage", "|correlation|", kind="heldout"),
}
#: a term no table names: a training term of its model, on the objective panel
DEFAULT_TERM = Term("objective", None)


def term_of(name: str) -> Term:
    """The :class:`Term` of a history name (:data:`TERMS`, :data:`PREFIXES`, else
    :data:`DEFAULT_TERM`)."""
    if name in TERMS:
        return TERMS[name]
    prefix = next((p for p in PREFIXES if name.startswith(p)), None)
    return PREFIXES[prefix] if prefix is not None else DEFAULT_TERM


@dataclass(frozen=True)
class Curve:
    """One drawn curve.

    Attributes:
        name: its history name (the legend's text).
        steps, values: ``(m,)`` int64 steps and ``(m,)`` float64 values in ``unit``.
        panel, unit, kind: where and how it is drawn (see :class:`Term`).
        host: the curve whose colour it takes (a held-out twin), or whose panel a
            reference or band is drawn on; ``None`` otherwise.
        span: for a reference, ``(level, level)``: its latest value; for a band,
            ``(-m, m)`` with ``m`` the largest ``|value|`` seen (the unbiased MMD² of two
            data samples scatters about 0 by about that much); otherwise ``None``.
    """

    name: str
    steps: np.ndarray
    values: np.ndarray
    panel: str
    unit: str
    kind: str
    host: str | None = None
    span: tuple[float, float] | None = None


@dataclass(frozen=True)
class Panel:
    """One panel: its key (:data:`PANELS`), title, its curves' names in drawing order and
    its axes' units: ``units[0]`` on the left axis, the others (joined) on the right;
    ``includes``: the values each of those axes always shows (:data:`INCLUDES`)."""

    key: str
    title: str
    names: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def includes(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(left, right)``: values the left and the right axis always show."""
        right = tuple(v for u in self.units[1:] for v in INCLUDES.get(u, ()))
        return INCLUDES.get(self.units[0], ()) if self.units else (), right


class CurvesPicture(Mapping):
    """The curves picture: a mapping of every recorded name to its ``(steps, values)`` as
    recorded (nats), plus :attr:`curves` (the drawn ones: name to :class:`Curve`, in the
    units of their axes) and :attr:`panels` (the :class:`Panel` list, at most
    :data:`MAX_PANELS`)."""

    def __init__(
        self,
        arrays: dict[str, tuple[np.ndarray, np.ndarray]],
        curves: dict[str, Curve],
        panels: tuple[Panel, ...],
    ):
        self._arrays, self.curves, self.panels = arrays, curves, panels

    def __getitem__(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self._arrays[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)


def _copies_loss(arrays: dict[str, tuple[np.ndarray, np.ndarray]]) -> bool:
    """Whether ``loss`` is another objective term or its negation (a flow's ``nll``, a
    VAE's ``-elbo``): drawn once, under the model's own word."""
    if "loss" not in arrays:
        return False
    steps, loss = arrays["loss"]
    for name, (s, v) in arrays.items():
        term = term_of(name)
        if (
            name == "loss"
            or term.panel != "objective"
            or term.kind != "line"
            or len(s) != len(steps)
        ):
            continue
        if np.array_equal(s, steps) and (np.allclose(v, loss) or np.allclose(v, -loss)):
            return True
    return False


def arrange(
    arrays: dict[str, tuple[np.ndarray, np.ndarray]], image_dim: int | None = None
) -> CurvesPicture:
    """Sort history curves into panels.

    Arguments:
        arrays: name to ``(steps (m,), values (m,))`` (see
            :meth:`~playground.core.training.history.History.as_arrays`).
        image_dim: pixels of one image (time steps of one sequence) for image (sequence)
            data: per-example likelihoods are then shown in bits per dimension, nats /
            (dim ln 2); ``None`` for the plane.

    Returns:
        The :class:`CurvesPicture`. ``loss`` is left out when it copies a named term; a
        held-out metric whose training twin is recorded joins the twin's panel; a
        reference or band without its host is left out.
    """
    skip = {"loss"} if _copies_loss(arrays) else set()
    curves: dict[str, Curve] = {}
    for name, (steps, values) in arrays.items():
        term = term_of(name)
        if name in skip:
            continue
        panel, host, unit = term.panel, term.host, term.unit
        if term.kind == "heldout":
            if host in arrays and term_of(host).kind == "line":
                panel, unit = term_of(host).panel, term_of(host).unit
            else:
                host = None
        if term.per_example and image_dim is not None:
            values, unit = values / (image_dim * math.log(2.0)), "bits/dim"
        span = None
        if term.kind in ("reference", "band"):
            if host not in arrays or not len(values):
                continue
            finite = values[np.isfinite(values)]
            if not len(finite):
                continue
            if term.kind == "reference":
                span = (float(finite[-1]), float(finite[-1]))
            else:
                m = float(np.abs(finite).max())
                span = (-m, m)
        curves[name] = Curve(name, steps, values, panel, unit or "", term.kind, host, span)
    # a reference or band belongs to its host's panel (heldout_nll may sit with nll)
    for name, curve in list(curves.items()):
        if curve.kind in ("reference", "band"):
            target = curves.get(curve.host) or curves.get(term_of(curve.host).host or "")
            if target is None:
                del curves[name]
                continue
            curves[name] = Curve(**{**curve.__dict__, "panel": target.panel, "unit": target.unit})
    panels = []
    for key, title in PANELS.items():
        names = tuple(n for n, c in curves.items() if c.panel == key)
        if not names:
            continue
        units = list(dict.fromkeys(curves[n].unit for n in names if curves[n].kind != "band"))
        if "" in units:  # a loss of no fixed unit makes the panel's unit "loss"
            units = ["loss"]
        panels.append(Panel(key, title, names, tuple(units)))
    return CurvesPicture(arrays, curves, tuple(panels))


def picture(ctx: SnapshotContext) -> CurvesPicture:
    """The session's history (thinned to :data:`CURVE_POINTS` per curve, see
    :meth:`~playground.core.training.history.History.as_arrays`) arranged by
    :func:`arrange`."""
    dim = None if ctx.data.kind == "plane" else int(ctx.data.dim)
    return arrange(ctx.history.as_arrays(max_points=CURVE_POINTS), dim)
