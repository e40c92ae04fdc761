"""What a session's views draw: :meth:`Session.snapshot <.session.Session.snapshot>`
computes, per view asked for, the immutable numpy picture of :mod:`.snapshot` and the
``*_views`` modules, reading the model and never training it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import torch

from .adversarial_views import (
    critic_image,
    generator_gradients,
    generator_manifold,
    mode_coverage,
)
from .chain_views import chains_snapshot
from .diffusion_views import diffusion_process, reverse_strip
from .energy_views import energy_image
from .image_views import interpolation_strips, sample_grid
from .latent_views import latent_space, latent_traversal, reconstructions
from .score_views import score_field
from .snapshot import Snapshot, density_image, sample_cloud, trajectory_paths

if TYPE_CHECKING:
    from .session import Session

__all__ = ["session_snapshot", "OVERLAY_POINTS", "SAMPLE_POINTS"]

#: fixed sizes of what snapshots draw (enough to read a density, light enough for 10 Hz)
OVERLAY_POINTS = 500
SAMPLE_POINTS = 1000
TRAJECTORY_PARTICLES = 300
GRADIENT_ARROWS = 100
#: data points drawn under the score field's arrows
SCORE_FIELD_POINTS = 300
#: particles of the diffusion-process view (an NCSN's annealed Langevin costs L x n steps
#: per particle, so it gets fewer)
PROCESS_PARTICLES, NCSN_PROCESS_PARTICLES = 400, 150
#: grid side of its noised densities: 11 of them are computed when the view first shows
#: (~0.2 s for a Monte-Carlo estimate on moons), so a preset opens on it at once
PROCESS_RESOLUTION = 48
#: the density view of a latent model: grid side and importance samples of its IWAE estimate
LATENT_DENSITY_RESOLUTION = 64
LATENT_DENSITY_K = 16


def session_snapshot(
    session: Session, views: Iterable[str] = ("density",), resolution: int = 128
) -> Snapshot:
    """Compute what the named views of ``session`` draw, as immutable numpy arrays.

    Arguments:
        session: the session (on the app's snapshot thread, a copy holding a frozen copy
            of the weights; the chains view's state is shared and advanced one frame).
        views: a subset of ``session.available_views``; others are ignored.
        resolution: grid points per side of the density image.
    """
    views = set(views) & set(session.available_views)
    overlay = None if session._overlay is None else session._overlay.numpy()
    session.model.eval()
    kwargs: dict[str, Any] = {}
    if "density" in views:
        log_prob = None
        if "latent" in session.model_class.capabilities:
            # the IWAE estimate costs k decoder passes a point: a coarser, cheaper picture
            resolution = min(resolution, LATENT_DENSITY_RESOLUTION)
            log_prob = lambda x: session.model.log_prob(x, k=LATENT_DENSITY_K)  # noqa: E731
        kwargs["density"] = density_image(
            session.model,
            session.data,
            session.device,
            resolution,
            None if overlay is None else overlay[:OVERLAY_POINTS],
            session._target_cache,
            log_prob,
        )
    if "samples" in views:
        kwargs["samples"] = sample_cloud(
            session.model,
            SAMPLE_POINTS,
            session.seed + 4,
            session.device,
            None if overlay is None else overlay[:SAMPLE_POINTS],
        )
    if "trajectory" in views:
        if session._overlay is not None:
            x = session._overlay[:TRAJECTORY_PARTICLES]
        else:
            g = torch.Generator(device=session.device).manual_seed(session.seed + 5)
            with torch.no_grad():
                x = session.model.sample(TRAJECTORY_PARTICLES, g)
        kwargs["trajectory"] = trajectory_paths(
            session.model, x, TRAJECTORY_PARTICLES, session.seed + 5, session.device
        )
    if "score_field" in views:
        kwargs["score_field"] = score_field(
            session.model,
            session.data,
            session.device,
            overlay=None if overlay is None else overlay[:SCORE_FIELD_POINTS],
            target_cache=session._target_cache,
        )
    if "chains" in views:
        kwargs["chains"] = chains_snapshot(
            session.model,
            session.data,
            session.device,
            session.chains,
            session.chain_settings,
            None,
            session._chain_cache,
        )
    if "energy" in views:
        kwargs["energy"] = energy_image(
            session.model,
            session.data,
            session.device,
            None if overlay is None else overlay[:OVERLAY_POINTS],
            session._target_cache,
        )
    if "diffusion" in views:
        ncsn = getattr(session.model, "sigmas", None) is not None
        kwargs["diffusion"] = diffusion_process(
            session.model,
            session.data,
            session.device,
            session._overlay,
            session._target_cache,
            particles=NCSN_PROCESS_PARTICLES if ncsn else PROCESS_PARTICLES,
            seed=session.seed + 9,
            resolution=PROCESS_RESOLUTION,
        )
    if "reverse_strip" in views:
        kwargs["reverse_strip"] = reverse_strip(session.model, session.seed + 4, session.device)
    if "critic" in views:
        real = session._overlay[:OVERLAY_POINTS] if session._overlay is not None else None
        kwargs["critic"] = critic_image(
            session.model, session.data, real, OVERLAY_POINTS, session.seed + 4, session.device
        )
    if "manifold" in views:
        kwargs["manifold"] = generator_manifold(session.model, session.device)
    if "gradients" in views:
        kwargs["gradients"] = generator_gradients(
            session.model, GRADIENT_ARROWS, session.seed + 4, session.device
        )
    if "modes" in views:
        kwargs["modes"] = mode_coverage(
            session.model, session.data, session.seed + 6, session.device
        )
    if "grid" in views:
        kwargs["grid"] = sample_grid(
            session.model, session._overlay, session.seed + 4, session.device
        )
    if "interpolation" in views:
        kwargs["interpolation"] = interpolation_strips(
            session.model, session.seed + 8, session.device
        )
    if views & {"traversal", "explorer", "reconstructions", "latent_space"}:
        test, labels = session.test_set
        if views & {"traversal", "explorer"}:
            data = None if overlay is None or session.data.is_image else overlay[:OVERLAY_POINTS]
            kwargs["traversal"] = latent_traversal(session.model, test, session.device, data)
        if "reconstructions" in views:
            kwargs["reconstructions"] = reconstructions(session.model, test, session.device)
        if "latent_space" in views:
            names = getattr(session.data, "class_names", None)
            kwargs["latent_space"] = latent_space(
                session.model, test, labels, names, session.device
            )
    if "curves" in views:
        kwargs["curves"] = session.history.as_arrays(max_points=2000)
    return Snapshot(
        step=session.step_count, box=session.data.box, terms=dict(session.last_terms), **kwargs
    )
