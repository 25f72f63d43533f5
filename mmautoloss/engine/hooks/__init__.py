"""mmautoloss.engine.hooks."""
from .metrics_dump_hook import MetricsDumpHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook

__all__ = ['MetricsDumpHook', 'NonFiniteLossError', 'NonFiniteLossHook']
