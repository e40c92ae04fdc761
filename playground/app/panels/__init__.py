"""Side panels: session pickers, transport controls, the hyperparameter form, the gallery."""

from .gallery import PresetGallery
from .hyperparameter_form import HyperparameterForm
from .session_panel import SessionPanel
from .transport import TransportPanel

__all__ = ["SessionPanel", "TransportPanel", "HyperparameterForm", "PresetGallery"]
