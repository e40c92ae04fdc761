"""Training: the Session (model + data + optimiser + step), its history and its frozen
copies for drawing."""

from ..snapshots import Snapshot
from .frozen import FrozenSession
from .session import Session

__all__ = ["Session", "FrozenSession", "Snapshot"]
