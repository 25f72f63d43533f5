"""Cheap filters run in the driver before a candidate costs a proxy training job:
AutoLoss-Zero's loss-rejection protocol and gradient-equivalence check, on loss inputs
captured from the proxy itself; CSE-Autoloss's validity check, convergence-property
verification and model-optimisation simulation."""
from .convergence_check import ConvergenceCheck, ConvergenceVerdict
from .loss_capture import LossCall, capture_loss_calls
from .loss_rejection import LossRejection, Verdict
from .optimisation_simulation import OptimisationSimulation

__all__ = ['ConvergenceCheck', 'ConvergenceVerdict', 'LossCall', 'LossRejection',
           'OptimisationSimulation', 'Verdict', 'capture_loss_calls']
