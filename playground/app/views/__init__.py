"""One widget per kind of picture; each draws a snapshot and never calls the model."""

from .curves import CurvesView
from .density import DensityView
from .samples import SamplesView
from .trajectory import TrajectoryView

__all__ = ["DensityView", "SamplesView", "TrajectoryView", "CurvesView", "VIEW_TITLES"]

#: snapshot view name -> tab title, in tab order (numbered 1..4, Ctrl+1..4)
VIEW_TITLES = {
    "density": "Density",
    "samples": "Samples",
    "trajectory": "Trajectories",
    "curves": "Curves",
}
