"""Autograd for elementwise curves whose slope is known in closed form.

The curves of ASL eq. (12-13) and PAP eq. (6) are evaluated on every pixel or every
(anchor, class) pair. Letting autograd record the segment search, the gathers and the
quadratic solve would keep several tensors of the input's size alive for backward; the
slope g'(x) is available in closed form, so only it is saved: one tensor instead of many,
and the gradient is exact.
"""
from typing import Callable, Tuple

import torch
from torch import Tensor

CurveEvaluator = Callable[[Tensor], Tuple[Tensor, Tensor]]


class _CurveWithSlope(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: Tensor, evaluate: CurveEvaluator) -> Tensor:  # type: ignore[override]
        value, slope = evaluate(x)
        ctx.save_for_backward(slope)
        return value

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # type: ignore[override]
        slope, = ctx.saved_tensors
        return grad_output * slope, None


def apply_curve(x: Tensor, evaluate: CurveEvaluator) -> Tensor:
    """Return ``g(x)`` with gradient ``g'(x) * grad``; ``evaluate(x)`` returns (g(x), g'(x))."""
    if not x.requires_grad:
        with torch.no_grad():
            return evaluate(x)[0]
    return _CurveWithSlope.apply(x, evaluate)
