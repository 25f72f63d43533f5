"""Autograd for elementwise curves whose slope is known in closed form.

The curves of ASL eq. (12-13) and PAP eq. (6) are evaluated on every pixel or every
(anchor, class) pair. Letting autograd record the segment search, the gathers and the
quadratic solve would keep several tensors of the input's size alive for backward; the
slope g'(x) is available in closed form, so only it is saved: one tensor instead of many,
and the gradient is exact. The evaluation itself runs over chunks of the flattened input,
so its temporaries (segment index, gathered control points, the quadratic's root) never
exist at the input's full size.
"""
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

#: ``evaluate(x, out)`` writes g(x) and g'(x) into the pair of tensors ``out`` (x's shape)
CurveEvaluator = Callable[[Tensor, tuple[Tensor, Tensor]], None]

#: elements evaluated at once; large enough that the per-chunk overhead does not show
CHUNK_SIZE = 1 << 18


def count_below(x: Tensor, boundaries: Sequence[float] | Tensor) -> Tensor:
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


def value_and_slope(x: Tensor, evaluate: CurveEvaluator) -> tuple[Tensor, Tensor]:
    """(g(x), g'(x)), no autograd graph, with the memory layout of ``x`` (channels-last
    stays channels-last), evaluated in chunks."""
    x = x.detach()
    if not _memory_order_view(x).is_contiguous():
        x = x.contiguous()
    value, slope = torch.empty_like(x), torch.empty_like(x)
    flat_x, flat_value, flat_slope = (_memory_order_view(t).reshape(-1) for t in (x, value, slope))
    with torch.no_grad():
        for start in range(0, flat_x.numel(), CHUNK_SIZE):
            chunk = slice(start, start + CHUNK_SIZE)
            evaluate(flat_x[chunk], (flat_value[chunk], flat_slope[chunk]))
    return value, slope


class _CurveWithSlope(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x: Tensor, evaluate: CurveEvaluator) -> Tensor:  # type: ignore[override]
        value, slope = value_and_slope(x, evaluate)
        ctx.save_for_backward(slope)
        return value

    @staticmethod
    def backward(ctx, grad_output: Tensor):  # type: ignore[override]
        slope, = ctx.saved_tensors
        return grad_output * slope, None


def apply_curve(x: Tensor, evaluate: CurveEvaluator) -> Tensor:
    """Return ``g(x)`` with gradient ``g'(x) * grad``; ``evaluate(x, (value, slope))``
    writes g(x) into ``value`` and g'(x) into ``slope``."""
    if not x.requires_grad:
        return value_and_slope(x, evaluate)[0]
    return _CurveWithSlope.apply(x, evaluate)
