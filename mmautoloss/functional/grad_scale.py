"""Gradient scale of the localization branch, PAP (NeurIPS 2021) section 3.2.

Parameterized AP Loss is one loss for both branches; to balance them, the gradient that flows
back through the localization branch is multiplied by ``lambda > 0`` while the forward value
is unchanged. The search works on ``theta_lambda = (log10(lambda) + 1) / 2`` in [0, 1], i.e.
``lambda = 10 ** (2 theta_lambda - 1)`` in [0.1, 10].
"""
import math

import torch
from torch import Tensor

from ..utils.checks import check_number


class _GradScale(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: Tensor, scale: float) -> Tensor:  # type: ignore[override]
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # type: ignore[override]
        return grad_output * ctx.scale, None


#: the range of an explicit lambda: 1000x around the searched [0.1, 10]; beyond it a float32
#: box gradient overflows to inf or vanishes (e.g. ``grad_scale=1e308`` gave inf)
GRAD_SCALE_RANGE = (1e-4, 1e4)


def check_grad_scale(scale: float, name: str = 'grad_scale') -> float:
    """Return ``scale`` as a float, raising ``ValueError`` naming ``name`` unless it is a
    finite number in :data:`GRAD_SCALE_RANGE`."""
    return check_number(scale, f'{name} (lambda, PAP section 3.2)', *GRAD_SCALE_RANGE)


def grad_scale_from_param(theta: float, name: str = 'grad_scale_param') -> float:
    """``lambda = 10 ** (2 theta - 1)`` for the searched ``theta`` in [0, 1] (PAP section 3.2)."""
    check_number(theta, f'{name} (theta_lambda, PAP section 3.2)', 0, 1,
                 expected='a number in [0, 1]')
    return 10.0**(2 * float(theta) - 1)


def grad_scale_to_param(scale: float, name: str = 'grad_scale') -> float:
    """``theta = (log10(lambda) + 1) / 2``, the inverse of :func:`grad_scale_from_param`."""
    return (math.log10(check_grad_scale(scale, name)) + 1.0) / 2.0


def grad_scale(x: Tensor, scale: float) -> Tensor:
    """Identity in the forward pass; the backward gradient is multiplied by ``scale``.

    PAP section 3.2 / Figure 1: applied to the localization branch's output (the decoded
    boxes), so lambda plays the part of a localization loss weight inside one unified loss.
    """
    return _GradScale.apply(x, check_grad_scale(scale))
