"""Training: the Session, its metrics and its snapshots."""

from .session import Session
from .snapshot import Snapshot

__all__ = ["Session", "Snapshot"]
