"""Pictures of a session, as immutable numpy arrays the app's views draw: one module per
picture, named like the app view that draws it, and one registry (:data:`PICTURES`)."""

from .base import OVERLAY_POINTS, Picture, Snapshot, SnapshotContext, finite_image, target_image
from .registry import PICTURES, offered_pictures, take_snapshot

__all__ = [
    "PICTURES",
    "Picture",
    "Snapshot",
    "SnapshotContext",
    "OVERLAY_POINTS",
    "finite_image",
    "target_image",
    "offered_pictures",
    "take_snapshot",
]
