"""Formula filters: cheap checks run in the driver before a candidate formula costs a
proxy training job (one interface, :class:`FormulaFilter`, one :class:`Verdict`):
AutoLoss-Zero's loss-rejection protocol and gradient-equivalence check, on loss inputs
captured from the proxy itself; CSE-Autoloss's validity check and convergence-property
verification."""
from .base import FormulaFilter, Verdict
from .convergence_check import ConvergenceCheck
from .loss_capture import LossCall, capture_loss_calls
from .loss_rejection import LossRejection

__all__ = ['ConvergenceCheck', 'FormulaFilter', 'LossCall', 'LossRejection', 'Verdict',
           'capture_loss_calls']
