"""Training: the Session (model + data + optimiser + step), its history and its frozen
copies for drawing."""

from ..snapshots import Snapshot
from .session import FrozenSession, Session

__all__ = ["Session", "FrozenSession", "Snapshot"]
