"""Side panels: session pickers, transport controls and the hyperparameter form."""

from .hyperparameter_form import HyperparameterForm
from .session_panel import SessionPanel
from .transport import TransportPanel

__all__ = ["SessionPanel", "TransportPanel", "HyperparameterForm"]
