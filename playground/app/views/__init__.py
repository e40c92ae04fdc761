"""One widget per picture; each draws a snapshot and never calls the model.

:data:`VIEWS` is the one ordered list of view classes: its order is the tab order (the tabs
a session offers are numbered 1..n in this order, Ctrl+1..n). Adding a view is one module
here plus one entry in the list; each class names its picture (``name``), its tab
(``title``) and, where it reads more than its own picture, its ``parts``."""

from .base import View
from .chains import ChainsView
from .code_usage import CodeUsageView
from .conditionals import ConditionalsView
from .critic import CriticView
from .curves import CurvesView
from .density import DensityView
from .diffusion import DiffusionView, ReverseStripView
from .dirac_field import DiracFieldView
from .energy import EnergyView
from .fokker_planck import FokkerPlanckView
from .images import ImageGridView, InterpolationView
from .latent import ExplorerView, TraversalView
from .latent_space import LatentSpaceView, ReconstructionsView
from .log_det import LogDetView
from .manifold import ManifoldView
from .modes import ModesView
from .ode_flow import OdeFlowView
from .paths import PathsView
from .receptive_field import ReceptiveFieldView
from .samples import SamplesView
from .score import ScoreFieldView
from .sde_ode import SDEvsODEView
from .solver_cost import SolverCostView
from .trajectory import TrajectoryView
from .waveforms import WaveformsView

__all__ = [
    "View",
    "VIEWS",
    "VIEW_CLASSES",
    "DensityView",
    "EnergyView",
    "SamplesView",
    "DiffusionView",
    "SDEvsODEView",
    "TrajectoryView",
    "OdeFlowView",
    "PathsView",
    "SolverCostView",
    "LogDetView",
    "ScoreFieldView",
    "ChainsView",
    "CriticView",
    "ManifoldView",
    "ImageGridView",
    "InterpolationView",
    "ReverseStripView",
    "TraversalView",
    "ReconstructionsView",
    "LatentSpaceView",
    "ExplorerView",
    "CodeUsageView",
    "CurvesView",
    "ModesView",
    "FokkerPlanckView",
    "WaveformsView",
]

#: the view classes in tab order
VIEWS: tuple[type[View], ...] = (
    DensityView,
    EnergyView,
    SamplesView,
    ConditionalsView,
    DiffusionView,
    SDEvsODEView,
    TrajectoryView,
    OdeFlowView,
    PathsView,
    SolverCostView,
    LogDetView,
    ScoreFieldView,
    ChainsView,
    CriticView,
    ManifoldView,
    DiracFieldView,
    ImageGridView,
    WaveformsView,
    InterpolationView,
    ReverseStripView,
    TraversalView,
    ReconstructionsView,
    LatentSpaceView,
    ExplorerView,
    CodeUsageView,
    ReceptiveFieldView,
    # Modes after Curves: flows on mixtures offer it too, and Curves keeps its number
    CurvesView,
    ModesView,
    FokkerPlanckView,
)

#: view name -> its class, in tab order (for drawing a view outside the window: previews,
#: headless recordings)
VIEW_CLASSES: dict[str, type[View]] = {cls.name: cls for cls in VIEWS}
