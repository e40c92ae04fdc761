"""One widget per kind of picture; each draws a snapshot and never calls the model."""

from .chains import ChainsView
from .critic import CriticView
from .curves import CurvesView
from .density import DensityView
from .diffusion import DiffusionView, ReverseStripView
from .energy import EnergyView
from .images import ImageGridView, InterpolationView
from .latent import ExplorerView, TraversalView
from .latent_space import LatentSpaceView, ReconstructionsView
from .manifold import ManifoldView
from .modes import ModesView
from .samples import SamplesView
from .score import ScoreFieldView
from .trajectory import TrajectoryView

__all__ = [
    "DensityView",
    "SamplesView",
    "TrajectoryView",
    "ScoreFieldView",
    "ChainsView",
    "DiffusionView",
    "EnergyView",
    "ReverseStripView",
    "CriticView",
    "ManifoldView",
    "ModesView",
    "ImageGridView",
    "InterpolationView",
    "TraversalView",
    "ReconstructionsView",
    "LatentSpaceView",
    "ExplorerView",
    "CurvesView",
    "VIEW_TITLES",
    "VIEW_CLASSES",
]

#: snapshot view name -> tab title, in tab order (the tabs a session offers are numbered
#: 1..n in this order, Ctrl+1..n)
VIEW_TITLES = {
    "density": "Density",
    "samples": "Samples",
    "grid": "Samples",
    "interpolation": "Interpolation",
    "traversal": "Traversals",
    "reconstructions": "Reconstructions",
    "latent_space": "Latent space",
    "explorer": "Explorer",
    "trajectory": "Trajectories",
    "score_field": "Score field",
    "chains": "Langevin chains",
    "diffusion": "Diffusion process",
    "energy": "Energy",
    "reverse_strip": "Reverse process",
    "critic": "Critic",
    "manifold": "Manifold",
    "curves": "Curves",
    "modes": "Modes",
}

#: snapshot view name -> its widget class, in the main window's tab order (for drawing a
#: view outside the window: previews, headless recordings)
VIEW_CLASSES: dict[str, type] = {
    "density": DensityView,
    "energy": EnergyView,
    "samples": SamplesView,
    "diffusion": DiffusionView,
    "trajectory": TrajectoryView,
    "score_field": ScoreFieldView,
    "chains": ChainsView,
    "critic": CriticView,
    "manifold": ManifoldView,
    "grid": ImageGridView,
    "interpolation": InterpolationView,
    "reverse_strip": ReverseStripView,
    "traversal": TraversalView,
    "reconstructions": ReconstructionsView,
    "latent_space": LatentSpaceView,
    "explorer": ExplorerView,
    "curves": CurvesView,
    "modes": ModesView,
}
