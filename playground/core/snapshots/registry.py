"""The one registry of pictures: each picture a session can draw, once, with the model
capability and the data it needs, the function that builds it, its rate cap and whether it
moves while training is paused. The app has one view per picture (``app/views``); a test
walks both lists.

Adding a picture is one module in this package plus one line here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..sampling import budget
from . import (
    chains,
    code_usage,
    conditionals,
    critic,
    curves,
    density,
    diffusion,
    dirac_field,
    energy,
    fokker_planck,
    images,
    latent,
    latent_space,
    log_det,
    manifold,
    modes,
    ode_flow,
    paths,
    receptive_field,
    samples,
    score,
    sde_ode,
    solver_cost,
    trajectory,
    waveforms,
)
from .base import Picture, Snapshot, SnapshotContext

__all__ = ["PICTURES", "offered_pictures", "take_snapshot"]

#: picture name -> its entry, in the order a session lists them
PICTURES: dict[str, Picture] = {
    p.name: p
    for p in (
        # an EBM's density picture is -E(x): log p up to log Z
        Picture("density", density.picture, ("density", "energy"), "plane"),
        Picture("energy", energy.picture, ("energy",), "plane"),
        Picture("samples", samples.picture, ("samples",), "plane"),
        Picture(
            "conditionals",
            conditionals.picture,
            ("autoregressive",),
            offered=conditionals.offered,
            rate=4.0,
        ),
        Picture("diffusion", diffusion.picture, ("process",), "plane", rate=2.0),
        Picture("sde_ode", sde_ode.picture, ("process",), "plane", rate=2.0),
        Picture("trajectory", trajectory.picture, ("trajectory",), "plane"),
        Picture("ode_flow", ode_flow.picture, ("ode",), "plane", rate=2.0),
        Picture("paths", paths.picture, ("paths",), "plane", offered=paths.offered, rate=2.0),
        Picture(
            "solver_cost",
            solver_cost.picture,
            ("ode",),
            "plane",
            offered=solver_cost.offered,
            reads_model=False,
        ),
        Picture("log_det", log_det.picture, ("layers",), "plane"),
        Picture("score_field", score.picture, ("score",), "plane"),
        Picture("chains", chains.picture, (), "plane", offered=chains.offered, live=True),
        # the same for every weight: computed once per session (cached), redrawn rarely
        Picture(
            "fokker_planck",
            fokker_planck.picture,
            (),
            "plane",
            offered=fokker_planck.offered,
            rate=1.0,
        ),
        Picture("critic", critic.picture, ("critic",), "plane"),
        Picture("gradients", critic.gradients_picture, ("critic",), "plane"),
        Picture("manifold", manifold.picture, ("critic",), "plane"),
        # reads the history's trajectory, so it is built on the training thread (the live
        # model is two numbers: its field costs about a millisecond)
        Picture("dirac_field", dirac_field.picture, ("critic",), "point", reads_model=False),
        Picture("modes", modes.picture, ("samples",), "plane", offered=modes.offered),
        Picture("grid", images.grid_picture, ("samples",), "image"),
        # a sample is one network column per layer and time step (256 steps: about a second)
        Picture("waveforms", waveforms.picture, ("samples",), "sequence", rate=0.5),
        Picture("interpolation", images.interpolation_picture, ("critic",), "image"),
        Picture("reverse_strip", diffusion.reverse_strip_picture, ("process",), "image", rate=2.0),
        Picture("traversal", latent.picture, ("latent",), None, offered=latent.offered),
        Picture("reconstructions", latent_space.reconstructions_picture, ("latent",), None),
        # two heatmaps and 500 coloured points: costly to paint, and it changes slowly (at 10
        # per second training ran at 0.66 of its bare speed)
        Picture(
            "latent_space",
            latent_space.picture,
            ("latent",),
            None,
            offered=latent.offered,
            rate=3.0,
        ),
        Picture("explorer", latent.explorer_picture, ("latent",), "image", offered=latent.offered),
        # 256 code maps drawn from the prior (a PixelCNN: a network call per position)
        Picture("code_usage", code_usage.picture, ("codebook",), rate=2.0),
        # one network call per 64 copies of a test image: a 16 x 16 shape's 256 maps cost
        # seconds, and the field changes slowly
        Picture(
            "receptive_field",
            receptive_field.picture,
            ("autoregressive",),
            offered=receptive_field.offered,
            rate=1.0,
        ),
        Picture("curves", curves.picture, reads_model=False),
    )
}


def offered_pictures(context: SnapshotContext) -> list[str]:
    """The pictures the session of ``context`` shows, in :data:`PICTURES` order."""
    caps = context.model.capabilities
    return [name for name, p in PICTURES.items() if p.is_offered(context, caps)]


def take_snapshot(
    context: SnapshotContext,
    names: Iterable[str],
    step: int,
    terms: Mapping[str, float] | None = None,
    offered: Iterable[str] | None = None,
) -> Snapshot:
    """Build the pictures ``names`` of a session, as immutable numpy arrays.

    Arguments:
        context: what the pictures are built from (the model is put in eval mode).
        names: picture names; those not offered (``offered``, default
            :func:`offered_pictures`) are ignored.
        step: the session's step count.
        terms: the latest loss terms.
        offered: the pictures this session offers, when the caller knows them.

    Returns:
        A :class:`Snapshot` made for the offered ``names``. Built on a quick
        :class:`~playground.core.sampling.budget.Budget` (see
        :func:`~playground.core.sampling.budget.working`), a costly picture is a preview
        and :attr:`Snapshot.previews` says what was cut.

    Raises:
        KeyError: a name that is no picture at all.
        Cancelled: the budget's picture is no longer wanted.
    """
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in PICTURES]
    if unknown:
        raise KeyError(f"no picture named {', '.join(unknown)}; pictures: {', '.join(PICTURES)}")
    offered = set(offered_pictures(context) if offered is None else offered)
    wanted = [n for n in names if n in offered]
    if any(PICTURES[n].reads_model for n in wanted):
        context.model.eval()
    spend = budget.current()
    parts, previews = {}, {}
    for n in wanted:
        if spend.quick:  # only a quick budget notes cuts (the full one is shared)
            spend.notes = []
        parts[n] = PICTURES[n].build(context)
        if spend.notes:
            previews[n] = "; ".join(spend.notes)
    return Snapshot(step, context.data.box, terms, wanted, previews, **parts)
