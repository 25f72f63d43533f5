"""mmautoloss.engine."""
from . import checkpoint_safe_globals  # noqa: F401  (torch >= 2.6 resume)
from .hooks import MetricsDumpHook, NonFiniteLossError, NonFiniteLossHook

__all__ = ['MetricsDumpHook', 'NonFiniteLossError', 'NonFiniteLossHook']
