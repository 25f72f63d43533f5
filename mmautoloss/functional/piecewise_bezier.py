"""Piecewise quadratic Bezier curves g(y; theta) on [0, 1] (Auto Seg-Loss section 4.2).

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
from __future__ import annotations

import torch
from torch import Tensor

from .curve_gradient import CurveEvaluator, apply_curve, count_below

#: floor on du/ds when dividing by it: keeps g'(y) finite (at most ~1e6 times dv/ds) where a
#: segment starts or ends with a vertical tangent (u1 == u0 or u1 == u2).
MIN_DU_DS = 1e-6
#: the columns of the segment table the evaluation reads: u0, b, v0, a_v, b_v, b^2, 4 a, 2 a_v
COLUMNS = [0, 2, 3, 4, 5, 6, 7, 8]
#: devices on which the evaluation may look at the values on the host (free on CPU, a
#: host-device synchronisation elsewhere): there a two-segment curve evaluates its second
#: segment on the elements that fall on it only (elsewhere ``where`` selects each element's
#: coefficients), and a chunk of inputs found inside [0, 1] skips the clamping and the
#: masks of values outside it
HOST_READ_DEVICES = ('cpu', )


def bezier_control_points(points: Tensor) -> Tensor:
    """All 2n + 1 control points (2n + 1, 2): (0, 0), the interior points, (1, 1)."""
    if points.dim() != 2 or points.shape[1] != 2 or points.shape[0] % 2 != 1:
        raise ValueError('interior Bezier control points must have shape (2n - 1, 2), got '
                         f'{tuple(points.shape)}')
    zero = points.new_zeros(1, 2)
    return torch.cat([zero, points, zero + 1], dim=0)


def _segment_table(points: Tensor, like: Tensor) -> Tensor:
    """Per segment (rows) the coefficients (u0, a, b, v0, a_v, b_v, b^2, 4 a, 2 a_v, u2), in
    ``like``'s dtype and device; b^2, 4 a and 2 a_v are products the evaluation needs,
    formed once here exactly as each element would form them."""
    control = bezier_control_points(points.to(like))
    u, v = control[:, 0], control[:, 1]
    u0, u1, u2 = u[0:-1:2], u[1::2], u[2::2]
    v0, v1, v2 = v[0:-1:2], v[1::2], v[2::2]
    a, b, av = u0 - 2 * u1 + u2, 2 * (u1 - u0), v0 - 2 * v1 + v2
    return torch.stack([u0, a, b, v0, av, 2 * (v1 - v0), b * b, 4 * a, 2 * av, u2], dim=1)


def needs_root_guard(points: Tensor, dtype: torch.dtype) -> bool:
    """Whether some segment of the curve has b <= 0 in ``dtype`` (then ``b + sqrt(...)``,
    the root's denominator, can vanish and the evaluation guards it); read on the host."""
    table = _segment_table(points.detach().cpu(), torch.empty(0, dtype=dtype))
    return bool((table[:, 2] <= 0).any())


def piecewise_bezier(y: Tensor, points: Tensor, guard: bool | None = None) -> Tensor:
    """Evaluate the monotone piecewise quadratic Bezier curve g(y) elementwise (ASL eq. 13).

    Args:
        y (Tensor): any shape; values are clamped to [0, 1] (NaN is taken as 0, with a zero
            slope, as is every value outside [0, 1]).
        points (Tensor):
            (2n - 1, 2) interior control points (u, v), non-decreasing in both axes.
        guard (bool | None): :func:`needs_root_guard` of ``points`` in ``y``'s dtype, when
            the caller knows it (:class:`~.monotone_function.MonotoneFunction` caches it);
            None reads the points to the host to decide.

    Returns:
        g(y) with the shape of y, differentiable in y with the exact slope.
    """
    return apply_curve(y, bezier_evaluator(points, y, guard))


def bezier_evaluator(points: Tensor, like: Tensor, guard: bool | None = None) -> CurveEvaluator:
    """The :data:`~.curve_gradient.CurveEvaluator` of the curve for inputs like ``like``
    (its dtype and device): ``evaluate(x, (value, slope))`` writes g(x) and g'(x) of a
    flat chunk ``x``. Arguments as in :func:`piecewise_bezier`.

    Cost: every element is first evaluated on segment 0 with its coefficients as 0-dim
    tensors (no per-element gather); with two segments, those on segment 1 are evaluated
    again on it alone (on CPU; elsewhere ``where`` selects each element's coefficients);
    with more, rows of a coefficient table are gathered per element. On CPU a chunk whose
    values all lie in [0, 1] (softmax probabilities) skips the clamping and the masks of
    values outside it. Every step writes into the outputs or two scratch buffers of a
    chunk's size (no temporaries of the input's size). Whether the root's denominator needs
    a guard (a segment with b = 0) is decided once per curve and dtype. Each element goes
    through the same floating-point operations, in the same order, as in the
    implementation before this one, so the values and gradients are the same bit for bit.
    """
    table = _segment_table(points, like)
    num_segments = table.shape[0]
    # the root's denominator b + sqrt(...) is >= b > 0 when every segment has b > 0
    if guard is None:
        guard = needs_root_guard(points, like.dtype)
    ends = table[:-1, 9]  # a tensor: the comparisons read nothing back to the host
    zero, one = table.new_zeros(()), table.new_ones(())

    def coefficients(clamped: Tensor) -> tuple[Tensor, ...]:
        """(u0, b, v0, a_v, b_v, b^2, 4 a, 2 a_v) of each element's segment."""
        if num_segments == 2:
            upper = clamped > ends[0]
            return tuple(torch.where(upper, table[1, j], table[0, j]) for j in COLUMNS)
        return tuple(table.t()[COLUMNS, :].index_select(1, count_below(clamped, ends))
                     .unbind(0))

    def on_segments(clamped: Tensor, start_u: Tensor, b: Tensor, start_v: Tensor,
                    av: Tensor, bv: Tensor, bb: Tensor, a4: Tensor, av2: Tensor,
                    at_zero: bool, out: tuple[Tensor, Tensor],
                    scratch: tuple[Tensor, Tensor]) -> None:
        """Write (g, g') of the clamped inputs into ``out``, each on the segment whose
        coefficients are given (0-dim tensors: one segment for all; or one per element),
        with ``scratch`` (two buffers of the inputs' size) for the root and the transversal
        parameter s. Every step writes into these buffers (no temporary of the inputs'
        size is allocated: fresh pages cost more than the arithmetic), with the operands of
        each step as in ``a op b`` (the same rounding)."""
        value, slope = out
        root, s = scratch
        offset = clamped if at_zero else torch.sub(clamped, start_u, out=s).clamp_min_(0)
        torch.mul(a4, offset, out=root).add_(bb).clamp_min_(0).sqrt_()
        if guard:
            denominator = torch.add(root, b, out=slope)
            positive = denominator > 0
            s.copy_(torch.where(positive,
                                (2 * offset).div_(torch.where(positive, denominator, one)), zero))
        else:
            torch.div(torch.mul(offset, 2, out=value), torch.add(root, b, out=slope), out=s)
        s.clamp_(0, 1)
        torch.mul(av2, s, out=slope).add_(bv).div_(root.clamp_min_(MIN_DU_DS))
        torch.mul(s, av, out=value).add_(bv).mul_(s)
        if not at_zero:
            value.add_(start_v)

    def on_second_segment(clamped: Tensor, out: tuple[Tensor, Tensor]) -> None:
        """Overwrite ``out`` where the clamped inputs lie on segment 1 (two segments)."""
        upper = (clamped > ends[0]).flatten().nonzero().squeeze(1)
        picked = clamped.reshape(-1)[upper]
        value, slope = torch.empty_like(picked), torch.empty_like(picked)
        on_segments(picked, *table[1, COLUMNS], at_zero=False, out=(value, slope),
                    scratch=(torch.empty_like(picked), torch.empty_like(picked)))
        out[0].view(-1)[upper], out[1].view(-1)[upper] = value, slope

    scratch: dict[str, Tensor] = {}  # two buffers of the first chunk's size, reused

    def evaluate(inputs: Tensor, out: tuple[Tensor, Tensor]) -> None:
        if not scratch:
            scratch.update(root=torch.empty_like(inputs), s=torch.empty_like(inputs))
        buffers = (scratch['root'][:inputs.numel()].view_as(inputs),
                   scratch['s'][:inputs.numel()].view_as(inputs))
        on_host = inputs.device.type in HOST_READ_DEVICES
        compact = num_segments == 1 or (num_segments == 2 and on_host)
        # on CPU, a chunk inside [0, 1] (False for NaN) has nothing to clamp or mask
        in_range, reaches_one = False, True
        if compact and on_host:
            low, high = (v.item() for v in torch.aminmax(inputs))
            in_range, reaches_one = 0 <= low and high <= 1, not high < 1
        if in_range:
            clamped = inputs
        else:
            clamped = inputs.clamp(0, 1)
            inside = clamped == inputs  # False for NaN and for values outside [0, 1]
            clamped = clamped.nan_to_num_(0.0)
        if compact:
            # segment 0's coefficients for all, then segment 1's for the elements on it
            on_segments(clamped, *table[0, COLUMNS], at_zero=True, out=out, scratch=buffers)
            if num_segments == 2:
                on_second_segment(clamped, out)
        else:
            on_segments(clamped, *coefficients(clamped), at_zero=False, out=out,
                        scratch=buffers)
        # g(1) = 1 even when the last segments have zero width (u already 1 before the end)
        if reaches_one:
            torch.where(clamped >= 1, one, out[0], out=out[0])  # v of the end point (1, 1)
        if not in_range:
            torch.where(inside, out[1], zero, out=out[1])

    return evaluate
