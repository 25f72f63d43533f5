"""The implementation before the throughput change (mmautoloss commit c051863), frozen as
the reference the faster one must reproduce exactly (tests/test_functional). Its docstring
follows.

Piecewise quadratic Bezier curves g(y; theta) on [0, 1] (Auto Seg-Loss section 4.2).

A curve of n segments has control points B_0 = (0, 0), B_1, ..., B_2n = (1, 1); segment k is

    B(k, s) = (1 - s)^2 B_2k + 2 s (1 - s) B_2k+1 + s^2 B_2k+2,  0 <= s <= 1      (ASL eq. 12)

and g is evaluated by finding the segment whose u-range holds y (eq. 13c), solving the
quadratic u(s) = y for the transversal parameter s (eq. 13a) and returning v(s) (eq. 13b).

With a = u0 - 2 u1 + u2, b = 2 (u1 - u0) and d = y - u0, the root in [0, 1] is written as

    s = 2 d / (b + sqrt(b^2 + 4 a d)),

the cancellation-free form of (-b + sqrt(b^2 + 4 a d)) / (2 a). It needs no special case
when the middle control point sits at the segment's midpoint (a = 0, u linear in s: the
formula reduces to s = d / b) and stays accurate when a is tiny. The slope follows from
du/ds = b + 2 a s = sqrt(b^2 + 4 a d): g'(y) = (dv/ds) / sqrt(b^2 + 4 a d).
"""
from typing import Tuple

import torch
from torch import Tensor

from typing import Callable, Sequence, Union

# mmautoloss/functional/curve_gradient.py of the same commit, inlined (the package's
# evaluator protocol has changed since)
CurveEvaluator = Callable[[Tensor], Tuple[Tensor, Tensor]]

#: elements evaluated at once; large enough that the per-chunk overhead does not show
CHUNK_SIZE = 1 << 18


def count_below(x: Tensor, boundaries: Union[Sequence[float], Tensor]) -> Tensor:
    """Per element, how many of the sorted ``boundaries`` are strictly below it.

    The segment index of a piecewise curve (``searchsorted(boundaries, x, right=False)``),
    computed by one comparison per boundary: curves have a handful of segments, and for
    them this is several times faster than a binary search. ``boundaries`` may be a 1-D
    tensor on ``x``'s device (its 0-d elements are compared without a host read-back).
    """
    index = torch.zeros(x.shape, dtype=torch.long, device=x.device)
    for boundary in boundaries:
        index += x > boundary
    return index


def _memory_order_view(x: Tensor) -> Tensor:
    """``x`` permuted so that it is contiguous (e.g. NHWC for a channels-last NCHW tensor)."""
    order = sorted(range(x.dim()), key=lambda d: -x.stride(d))
    return x.permute(order)


def _evaluate_in_chunks(x: Tensor, evaluate: CurveEvaluator) -> Tuple[Tensor, Tensor]:
    """(g(x), g'(x)) with the memory layout of ``x`` (channels-last stays channels-last)."""
    x = x.detach()
    if not _memory_order_view(x).is_contiguous():
        x = x.contiguous()
    value, slope = torch.empty_like(x), torch.empty_like(x)
    flat_x, flat_value, flat_slope = (_memory_order_view(t).reshape(-1) for t in (x, value, slope))
    with torch.no_grad():
        for start in range(0, flat_x.numel(), CHUNK_SIZE):
            chunk = slice(start, start + CHUNK_SIZE)
            flat_value[chunk], flat_slope[chunk] = evaluate(flat_x[chunk])
    return value, slope


class _CurveWithSlope(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: Tensor, evaluate: CurveEvaluator) -> Tensor:  # type: ignore[override]
        value, slope = _evaluate_in_chunks(x, evaluate)
        ctx.save_for_backward(slope)
        return value

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # type: ignore[override]
        slope, = ctx.saved_tensors
        return grad_output * slope, None


def apply_curve(x: Tensor, evaluate: CurveEvaluator) -> Tensor:
    """Return ``g(x)`` with gradient ``g'(x) * grad``; ``evaluate(x)`` returns (g(x), g'(x))."""
    if not x.requires_grad:
        return _evaluate_in_chunks(x, evaluate)[0]
    return _CurveWithSlope.apply(x, evaluate)


#: floor on du/ds when dividing by it: keeps g'(y) finite (at most ~1e6 times dv/ds) where a
#: segment starts or ends with a vertical tangent (u1 == u0 or u1 == u2).
MIN_DU_DS = 1e-6


def bezier_control_points(points: Tensor) -> Tensor:
    """All 2n + 1 control points (2n + 1, 2): (0, 0), the interior points, (1, 1)."""
    if points.dim() != 2 or points.shape[1] != 2 or points.shape[0] % 2 != 1:
        raise ValueError('interior Bezier control points must have shape (2n - 1, 2), got '
                         f'{tuple(points.shape)}')
    zero = points.new_zeros(1, 2)
    return torch.cat([zero, points, zero + 1], dim=0)


def piecewise_bezier(y: Tensor, points: Tensor) -> Tensor:
    """Evaluate the monotone piecewise quadratic Bezier curve g(y) elementwise (ASL eq. 13).

    Args:
        y (Tensor): any shape; values are clamped to [0, 1].
        points (Tensor):
            (2n - 1, 2) interior control points (u, v), non-decreasing in both axes.

    Returns:
        g(y) with the shape of y, differentiable in y with the exact slope.
    """
    control = bezier_control_points(points.to(y))
    u, v = control[:, 0], control[:, 1]
    u0, u1, u2 = u[0:-1:2], u[1::2], u[2::2]
    v0, v1, v2 = v[0:-1:2], v[1::2], v[2::2]
    # rows (u0, a_u, b_u, v0, a_v, b_v) x segments: one index_select per chunk gathers all
    # six coefficients into contiguous rows
    table = torch.stack([u0, u0 - 2 * u1 + u2, 2 * (u1 - u0),
                         v0, v0 - 2 * v1 + v2, 2 * (v1 - v0)])
    segment_ends = u2[:-1]  # a tensor: no read-back to the host

    def evaluate(inputs: Tensor) -> Tuple[Tensor, Tensor]:
        clamped = inputs.clamp(0, 1)
        k = count_below(clamped, segment_ends)
        start_u, a, b, start_v, av, bv = table.index_select(1, k).unbind(0)
        offset = (clamped - start_u).clamp_min(0)
        root = (b * b + 4 * a * offset).clamp_min(0).sqrt()
        denominator = b + root
        s = torch.where(denominator > 0,
                        2 * offset / torch.where(denominator > 0, denominator,
                                                 torch.ones_like(denominator)),
                        torch.zeros_like(denominator)).clamp(0, 1)
        slope = (bv + 2 * av * s) / root.clamp_min(MIN_DU_DS)
        inside = (inputs >= 0) & (inputs <= 1)
        # g(1) = 1 even when the last segments have zero width (u already 1 before the end)
        value = torch.where(clamped >= 1, v[-1], start_v + s * (bv + s * av))
        return value, torch.where(inside, slope, torch.zeros_like(slope))

    return apply_curve(y, evaluate)
