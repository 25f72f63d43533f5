"""Piecewise linear monotone functions on [0, 1].

ASL appendix B (piecewise linear alternative to the Bezier parameterization of g(y; theta))
and PAP eq. (6) (the five functions f(x; theta_i) are piecewise linear with M segments).
The function interpolates the knots (0, 0), (x_1, y_1), ..., (x_K, y_K), (1, 1). Knots may
share an x coordinate (a vertical jump, e.g. an exact Heaviside step); at a jump the function
takes the lower value, so f is left-continuous and f(0) = 0 even with a jump at 0; the end
point is pinned, f(1) = 1, even with a jump at 1.
"""

import torch
from torch import Tensor

from .curve_gradient import CurveEvaluator, apply_curve, count_below


def linear_slopes(knot_x: Tensor, knot_y: Tensor) -> Tensor:
    """Slopes (M,) of the M segments between K + 2 knots; zero-width segments (jumps) get 0.

    On segment m the function is ``knot_y[m] + slope[m] * (x - knot_x[m])``; written from the
    segment's left knot (not as slope * x + intercept) it stays exact for steep segments.
    """
    width = knot_x[1:] - knot_x[:-1]
    rise = knot_y[1:] - knot_y[:-1]
    positive = width > 0
    return torch.where(positive, rise / torch.where(positive, width, torch.ones_like(width)),
                       torch.zeros_like(width))


def piecewise_linear(x: Tensor, knot_x: Tensor, knot_y: Tensor) -> Tensor:
    """Evaluate the piecewise linear function through ``(knot_x, knot_y)`` elementwise.

    Args:
        x (Tensor): any shape; values are clamped to [0, 1].
        knot_x, knot_y: (K + 2,) knots from (0, 0) to (1, 1), non-decreasing.

    Returns:
        f(x) with the shape of x; differentiable in x (exact slope, zero on jumps).
    """
    return apply_curve(x, linear_evaluator(knot_x, knot_y, x))


def linear_evaluator(knot_x: Tensor, knot_y: Tensor, like: Tensor) -> CurveEvaluator:
    """The :data:`~.curve_gradient.CurveEvaluator` of the function for inputs like ``like``
    (its dtype and device); arguments as in :func:`piecewise_linear`."""
    if knot_x.dim() != 1 or knot_x.shape != knot_y.shape or knot_x.numel() < 2:
        raise ValueError('knot_x and knot_y must be 1-D of equal length >= 2, got '
                         f'{tuple(knot_x.shape)} and {tuple(knot_y.shape)}')
    knot_x, knot_y = knot_x.to(like), knot_y.to(like)
    # rows (left x, left y, slope) x segments: one index_select per chunk gathers all three
    table = torch.stack([knot_x[:-1], knot_y[:-1], linear_slopes(knot_x, knot_y)])
    interior_x = knot_x[1:-1]  # a tensor: no read-back to the host
    zero = knot_x.new_zeros(())

    def evaluate(inputs: Tensor, out: tuple[Tensor, Tensor]) -> None:
        clamped = inputs.clamp(0, 1)
        # the segment holding x: the number of interior knots strictly below x
        index = count_below(clamped, interior_x)
        left_x, left_y, seg_slope = table.index_select(1, index).unbind(0)
        value = left_y + seg_slope * (clamped - left_x)
        torch.where(clamped >= 1, knot_y[-1], value, out=out[0])
        inside = (inputs >= 0) & (inputs <= 1)
        torch.where(inside, seg_slope, zero, out=out[1])

    return evaluate
