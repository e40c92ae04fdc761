"""The explain panel: what is on screen, for a lecture hall. The session and its preset's
notes, the model's objective as formulas with live values, the current view's key; and the
Help menu (keyboard shortcuts, About)."""

from .panel import ExplainPanel

__all__ = ["ExplainPanel"]
