"""Cheap filters run in the driver before a candidate costs a training job: AutoLoss-Zero's
loss-rejection protocol and gradient-equivalence check, on loss inputs captured from the
proxy itself."""
from .loss_capture import LossCall, capture_loss_calls
from .loss_rejection import LossRejection, Verdict

__all__ = ['LossCall', 'LossRejection', 'Verdict', 'capture_loss_calls']
