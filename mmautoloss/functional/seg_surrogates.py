"""Parameterized surrogates of the segmentation metrics (Auto Seg-Loss, ICLR 2021, Table 1).

Each surrogate replaces the one-hot prediction by softmax probabilities (eq. 7) and every
logical operation by its parameterized extension h_AND / h_OR / h_XOR (eq. 9), with its own
curve ``g`` per occurrence. The value returned is the surrogate METRIC, in [0, 1] (one
exception: the BF1 precision divides by the plain soft boundary mass, so a precision curve
above the diagonal can push it past 1, as in eq. 6); a loss is ``1 - metric``.

Conventions shared by all six functions:

* ``probs`` (N, C, H, W) in [0, 1], ``labels`` (N, H, W) integer in ``[0, C)`` or equal to
  ``ignore_index``. Ignored pixels are excluded everywhere: their probabilities are set to 0
  and their one-hot ground-truth rows are all zero before anything else.
* The batch is one "dataset": the per-class sums over n, h, w of Table 1 come first, the
  class average after.
* Class average as in mmseg's ``IoUMetric`` (nan-mean): a class whose denominator is zero
  (the union for IoU, the ground-truth pixel count for accuracy) is left out of the mean.
  When no class is left (e.g. every pixel ignored) the metric is 0 and its gradient is zero
  and finite. All ratios are formed in float64 from the per-class sums.
* ``curves`` is a sequence of callables (e.g.
  :class:`~mmautoloss.functional.monotone_function.MonotoneFunction`), ``None`` entries or
  ``curves=None`` meaning the identity (the naive surrogate of eq. 8). The curves must satisfy
  the truth-table constraint g(0)=0, g(1)=1 (eq. 10) and be non-decreasing (eq. 11): the code
  uses g(y) = y on the binary ground truth and g(erode(p)) = erode(g(p)). Hence, at one-hot
  predictions every surrogate equals its metric exactly, whatever the curves.
* Curve order (a released config depends on it):
  mIoU / FWIoU / BIoU: ``[g_AND, g_OR]`` (intersection, union); mAcc / gAcc: ``[g_AND]``;
  BF1: ``[g_OR, g_AND]`` of the XOR that extracts the predicted boundary, then ``g_AND`` of
  the precision and ``g_AND`` of the recall.
"""
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..utils.checks import check_int
from .boundary import (
    biou_band_of_labels,
    dilate_mask,
    dilation_argmax,
    erode_backward,
    erode_with_index,
    label_edges,
    soft_boundary,
)
from .soft_logic import Curve, apply_curve_or_identity

Curves = Sequence[Curve | None] | None


def _check_inputs(probs: Tensor, labels: Tensor, ignore_index: int, curves: Curves,
                  num_curves: int, validate: bool) -> tuple[Curve | None, ...]:
    """The curves, after checking shapes and types; with ``validate`` also the values
    (probabilities in [0, 1], labels in range), which reads them back from the device (a
    host-device synchronisation: ``AutoSegLoss`` does it only with ``debug=True``)."""
    if not torch.is_tensor(probs) or not torch.is_floating_point(probs) or probs.dim() != 4:
        got = (tuple(probs.shape), probs.dtype) if torch.is_tensor(probs) else probs
        raise ValueError(f'probs must be a floating (N, C, H, W) tensor, got {got!r}')
    if not torch.is_tensor(labels) or labels.dtype.is_floating_point or labels.dtype.is_complex \
            or labels.dtype == torch.bool or labels.dim() != 3:
        got = (tuple(labels.shape), labels.dtype) if torch.is_tensor(labels) else labels
        raise ValueError(f'labels must be an integer (N, H, W) tensor, got {got!r}')
    if labels.shape != probs.shape[:1] + probs.shape[2:]:
        raise ValueError(f'labels shape {tuple(labels.shape)} does not match probs shape '
                         f'{tuple(probs.shape)} (expected (N, H, W) of (N, C, H, W))')
    check_int(ignore_index, 'ignore_index')
    if validate and probs.numel():
        low, high = torch.aminmax(probs)
        if not (0 <= low.item() and high.item() <= 1):
            raise ValueError(f'probs must be probabilities in [0, 1], got values in '
                             f'[{low.item()}, {high.item()}]')
    num_classes = probs.shape[1]
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= num_classes)) if validate \
        else None
    if bad is not None and bad.any():
        raise ValueError(f'labels must lie in [0, {num_classes}) or equal ignore_index='
                         f'{ignore_index}, got {labels[bad][0].item()}')
    if curves is None:
        return (None, ) * num_curves
    curves = tuple(curves)
    if len(curves) != num_curves:
        raise ValueError(f'curves must hold {num_curves} functions for this metric, got '
                         f'{len(curves)}')
    for index, g in enumerate(curves):
        if g is not None and not callable(g):
            raise ValueError(f'curves[{index}] must be callable or None, got {g!r}')
    return curves


def _index_and_valid(labels: Tensor, ignore_index: int) -> tuple[Tensor, Tensor]:
    """Label index (N, 1, H, W), 0 at ignored pixels; and the mask of valid pixels (N, H, W)."""
    valid = labels != ignore_index
    return torch.where(valid, labels, torch.zeros_like(labels)).long().unsqueeze(1), valid


def _keep(pixels: Tensor, like: Tensor) -> Tensor:
    """The (N, H, W) mask of the pixels counted as an (N, 1, H, W) factor in ``like``'s dtype."""
    return pixels.unsqueeze(1).to(like.dtype)


def _mask_and_index(probs: Tensor, labels: Tensor,
                    ignore_index: int) -> tuple[Tensor, Tensor, Tensor]:
    """Probabilities zeroed at ignored pixels, clamped label index (N,1,H,W), valid mask."""
    index, valid = _index_and_valid(labels, ignore_index)
    return probs * _keep(valid, probs), index, valid


def _one_hot(like: Tensor, index: Tensor, valid: Tensor) -> Tensor:
    """(N, C, H, W) ground truth in ``like``'s dtype with all-zero rows at ignored pixels."""
    return torch.zeros_like(like).scatter_(1, index, valid.unsqueeze(1).to(like.dtype))


def _sum_by_label(picked: Tensor, index: Tensor, num_classes: int) -> Tensor:
    """Per class c, the sum of the (N, 1, H, W) ``picked`` values at the pixels labelled c:
    float64 (C,). Ignored pixels carry index 0 and must hold 0."""
    return _sum_by_class(picked.flatten(), index.flatten(), num_classes)


def _sum_by_class(values: Tensor, classes: Tensor, num_classes: int) -> Tensor:
    """Per class c, the sum of the (S,) ``values`` whose entry of ``classes`` is c: float64
    (C,), accumulated in float64 (``index_add`` adds them one after the other)."""
    values = values.double()
    return values.new_zeros(num_classes).index_add(0, classes, values)


class _SumOffLabel(torch.autograd.Function):
    """Per class c, the sum of ``values[:, c]`` over the pixels not labelled c: float64 (C,),
    formed as (all pixels, summed in the values' dtype) - (the labelled ones, in float64).

    Its gradient is 1 off the label and exactly 0 at it (autograd of the difference would
    add the two terms' gradients there, which need not cancel to 0 in floating point).
    """

    @staticmethod
    def forward(ctx, values: Tensor, index: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(index)
        ctx.dtype, ctx.device, ctx.shape = values.dtype, values.device, values.shape
        ctx.channels_last = values.is_contiguous(memory_format=torch.channels_last) and \
            not values.is_contiguous()
        at_label = _sum_by_label(values.gather(1, index), index, values.shape[1])
        return values.sum(dim=(0, 2, 3)).double() - at_label

    @staticmethod
    def backward(ctx, grad: Tensor):  # type: ignore[override]
        index, = ctx.saved_tensors
        layout = torch.channels_last if ctx.channels_last else torch.contiguous_format
        grad_values = torch.empty(ctx.shape, dtype=ctx.dtype, device=ctx.device,
                                  memory_format=layout)
        grad_values.copy_(grad.to(ctx.dtype)[None, :, None, None].expand(ctx.shape))
        return grad_values.scatter_(1, index, 0), None


def _class_counts(index: Tensor, valid: Tensor, num_classes: int) -> Tensor:
    """Ground-truth pixels per class among ``valid`` pixels, float64 (C,)."""
    return torch.bincount(index.flatten()[valid.flatten()], minlength=num_classes).double()


def _ratio(numerator: Tensor, denominator: Tensor) -> tuple[Tensor, Tensor]:
    """``numerator / denominator`` where the denominator is positive, else 0; and that mask."""
    present = denominator > 0
    safe = torch.where(present, denominator, torch.ones_like(denominator))
    return torch.where(present, numerator / safe, torch.zeros_like(numerator)), present


def _present_mean(values: Tensor, present: Tensor) -> Tensor:
    """Mean of ``values`` over ``present`` classes (mmseg nan-mean); 0 if none is present."""
    return (values * present).sum() / present.sum().clamp_min(1)


def _value_and_slope(g: Curve | None, x: Tensor) -> tuple[Tensor, Tensor | None]:
    """(g(x), g'(x)) without a graph; the slope is None for the identity (``g`` None)."""
    return (x, None) if g is None else g.value_and_slope(x)


class _IntersectionUnionSums(torch.autograd.Function):
    """Per class c, ``sum h_AND(p_c, y_c)`` over the pixels labelled c and ``sum g_OR(p_c)``
    over the others (the union without the ground-truth counts), float64 (C,), of the
    probabilities ``probs * keep``, with a hand-written backward.

    The same values and gradients as composing the masking, gather, curves, ``_sum_by_label``
    and :class:`_SumOffLabel` under autograd (bit for bit: g(0) = 0 exactly, so masking the
    curve's values equals evaluating it on masked probabilities, and each gradient element
    is formed by the same operations), with two buffers of the probabilities' size instead
    of seven (the masked copy, the curve's values, its slope, the two curve gradients, the
    gather's zero-filled gradient and their sum): the curve's values and its slope, the
    values' buffer reused for the gradient.
    """

    @staticmethod
    def forward(ctx, probs: Tensor, keep: Tensor,  # type: ignore[override]
                index: Tensor, g_and: Curve, g_or: Curve) -> tuple[Tensor, Tensor]:
        num_classes = probs.shape[1]
        and_value, and_slope = _value_and_slope(g_and, probs.gather(1, index) * keep)
        intersection = _sum_by_label(and_value, index, num_classes)
        if g_or is None:
            or_value, or_slope = probs * keep, None
        else:
            or_value, or_slope = g_or.value_and_slope(probs)
            or_value.mul_(keep)
        at_label = _sum_by_label(or_value.gather(1, index), index, num_classes)
        union_off_label = or_value.sum(dim=(0, 2, 3)).double() - at_label
        ctx.save_for_backward(keep, index, and_slope, or_slope)
        ctx.dtype, ctx.buffer = probs.dtype, or_value
        return intersection, union_off_label

    @staticmethod
    def backward(ctx, grad_intersection: Tensor,  # type: ignore[override]
                 grad_union: Tensor) -> tuple[Tensor | None, ...]:
        keep, index, and_slope, or_slope = ctx.saved_tensors
        # the values' buffer becomes the gradient (a second backward gets a new one)
        grad, ctx.buffer = ctx.buffer, None
        if grad is None:
            grad = torch.empty(keep.shape[:1] + grad_union.shape + keep.shape[2:],
                               dtype=ctx.dtype, device=keep.device)
        per_class = grad_union.to(ctx.dtype)[None, :, None, None]
        if or_slope is None:
            grad.copy_(per_class.expand_as(grad))
        else:
            torch.mul(per_class, or_slope, out=grad)
        at_label = grad_intersection.index_select(0, index.flatten()).to(ctx.dtype)
        at_label = at_label.view(index.shape)
        if and_slope is not None:
            at_label = at_label * and_slope
        # the union's gradient is 0 at the labelled entries, the intersection's elsewhere
        return grad.scatter_(1, index, at_label).mul_(keep), None, None, None, None


def _fusable(g: Curve | None) -> bool:
    return g is None or callable(getattr(g, 'value_and_slope', None))


def _intersection_union(probs: Tensor, keep: Tensor, index: Tensor, counts: Tensor,
                        g_and: Curve | None,
                        g_or: Curve | None) -> tuple[Tensor, Tensor]:
    """Per-class sum of h_AND(p, y) and of h_OR(p, y) (Table 1 eq. 3-5), float64 (C,), of the
    probabilities ``probs * keep`` (``keep`` (N, 1, H, W): 1 at the pixels counted).

    With binary y and the truth-table constraint, h_AND = g_AND(p) y and
    h_OR = g_OR(p) + y - g_OR(p) y, so g_AND is needed at the labelled class of each pixel
    only (evaluated on those N*H*W probabilities, not on all C of them) and g_OR once on
    the probabilities, whose labelled entries the union leaves out. Curves that give their
    slope (:class:`~mmautoloss.functional.monotone_function.MonotoneFunction`, or None) go
    through :class:`_IntersectionUnionSums`; other callables through autograd.
    """
    if _fusable(g_and) and _fusable(g_or):
        intersection, union = _IntersectionUnionSums.apply(probs, keep, index, g_and, g_or)
        return intersection, union + counts
    masked = probs * keep
    picked = masked.gather(1, index)
    intersection = _sum_by_label(apply_curve_or_identity(g_and, picked), index, probs.shape[1])
    union = _SumOffLabel.apply(apply_curve_or_identity(g_or, masked), index) + counts
    return intersection, union


def _mean_iou(probs: Tensor, keep: Tensor, index: Tensor, counts: Tensor,
              g_and: Curve | None, g_or: Curve | None) -> Tensor:
    """Mean over classes with a non-zero union of the surrogate IoU (Table 1 eq. 3, 5) of
    the probabilities ``probs * keep``."""
    intersection, union = _intersection_union(probs, keep, index, counts, g_and, g_or)
    iou, present = _ratio(intersection, union)
    return _present_mean(iou, present).to(probs.dtype)


def miou_surrogate(probs: Tensor, labels: Tensor, curves: Curves = None,
                   ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Surrogate mean IoU (ASL Table 1 eq. 3 with eq. 9), curves ``[g_AND, g_OR]``.

    ``1/C' sum_c sum h_AND(p_c, y_c) / sum h_OR(p_c, y_c)`` over the C' classes whose union
    is non-zero.
    """
    g_and, g_or = _check_inputs(probs, labels, ignore_index, curves, 2,
                                validate)
    index, valid = _index_and_valid(labels, ignore_index)
    counts = _class_counts(index, valid, probs.shape[1])
    return _mean_iou(probs, _keep(valid, probs), index, counts, g_and, g_or)


def fwiou_surrogate(probs: Tensor, labels: Tensor, curves: Curves = None,
                    ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Surrogate frequency-weighted IoU (ASL Table 1 eq. 4), curves ``[g_AND, g_OR]``.

    ``sum_c (n_c / sum_c' n_c') IoU_c`` with n_c the ground-truth pixels of class c; 0 when
    every pixel is ignored.
    """
    g_and, g_or = _check_inputs(probs, labels, ignore_index, curves, 2,
                                validate)
    index, valid = _index_and_valid(labels, ignore_index)
    counts = _class_counts(index, valid, probs.shape[1])
    intersection, union = _intersection_union(probs, _keep(valid, probs), index, counts, g_and,
                                              g_or)
    iou, _ = _ratio(intersection, union)
    return ((counts / counts.sum().clamp_min(1)) * iou).sum().to(probs.dtype)


def biou_surrogate(probs: Tensor, labels: Tensor, curves: Curves = None,
                   ignore_index: int = 255, tolerance: int = 5,
                   ignore_background: bool = True, validate: bool = True) -> Tensor:
    """Surrogate boundary IoU (ASL Table 1 eq. 5), curves ``[g_AND, g_OR]``.

    The mean IoU restricted to the ground-truth band
    :func:`~mmautoloss.functional.boundary.biou_band` (``tolerance`` pixels wide, background
    edges left out when ``ignore_background``); classes with a zero union inside the band
    are left out of the mean; every class, background included, is averaged.
    """
    g_and, g_or = _check_inputs(probs, labels, ignore_index, curves, 2,
                                validate)
    index, valid = _index_and_valid(labels, ignore_index)
    # the band of the one-hot ground truth, computed on the label map (the same band)
    band = biou_band_of_labels(labels, ignore_index, tolerance, ignore_background)
    inside = valid & band[:, 0].bool()
    counts = _class_counts(index, inside, probs.shape[1])
    return _mean_iou(probs, _keep(inside, probs), index, counts, g_and, g_or)


def macc_surrogate(probs: Tensor, labels: Tensor, curves: Curves = None,
                   ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Surrogate mean accuracy (ASL Table 1 eq. 2), curves ``[g_AND]``.

    ``1/C' sum_c sum h_AND(p_c, y_c) / n_c`` over the C' classes present in the ground truth.
    """
    (g_and, ) = _check_inputs(probs, labels, ignore_index, curves, 1,
                                validate)
    masked, index, valid = _mask_and_index(probs, labels, ignore_index)
    counts = _class_counts(index, valid, probs.shape[1])
    correct = _sum_by_label(apply_curve_or_identity(g_and, masked.gather(1, index)), index,
                            probs.shape[1])
    accuracy, present = _ratio(correct, counts)
    return _present_mean(accuracy, present).to(probs.dtype)


def gacc_surrogate(probs: Tensor, labels: Tensor, curves: Curves = None,
                   ignore_index: int = 255, validate: bool = True) -> Tensor:
    """Surrogate global accuracy (ASL Table 1 eq. 1), curves ``[g_AND]``.

    ``sum_c sum h_AND(p_c, y_c) / sum_c n_c``; 0 when every pixel is ignored.
    """
    (g_and, ) = _check_inputs(probs, labels, ignore_index, curves, 1,
                                validate)
    masked, index, valid = _mask_and_index(probs, labels, ignore_index)
    correct = _sum_by_label(apply_curve_or_identity(g_and, masked.gather(1, index)), index,
                            probs.shape[1]).sum()
    return (correct / valid.sum().clamp_min(1).double()).to(probs.dtype)


def _boundary_f1_sums(masked: Tensor, gt_dilated: Tensor,
                      sites: tuple[Tensor, Tensor, Tensor, Tensor], tolerance: int,
                      curves: tuple[Curve, Curve, Curve, Curve]) -> tuple[Tensor, Tensor, Tensor]:
    """:class:`_BoundaryF1Sums` composed under autograd, for curves that are plain callables."""
    g_or, g_and, g_prec, g_rec = curves
    pred_boundary = soft_boundary(masked, g_or, g_and)
    precision_hits = (apply_curve_or_identity(g_prec, pred_boundary) * gt_dilated).sum((0, 2, 3))
    # dilate(B_p) is needed on B_y only: its value at each ground-truth boundary pixel, taken
    # where max-pooling would take it (the gradient goes to the same pixel)
    site_n, site_c, _, _ = sites
    rows, cols = dilation_argmax(pred_boundary.detach(), sites, tolerance)
    dilated = pred_boundary[site_n, site_c, rows, cols]
    recall_hits = _sum_by_class(apply_curve_or_identity(g_rec, dilated), site_c,
                                masked.shape[1])
    return precision_hits, recall_hits, pred_boundary.sum((0, 2, 3)).double()


class _BoundaryF1Sums(torch.autograd.Function):
    """Per class, the three sums of the BF1 surrogate, from the masked probabilities:
    precision hits ``sum g_prec(B_p) dilate(B_y)`` (float32), recall hits
    ``sum g_rec(dilate(B_p)) B_y`` (float64, over the ground-truth boundary pixels) and the
    predicted boundary mass ``sum B_p`` (float64), with ``B_p`` the soft boundary
    (:func:`~mmautoloss.functional.boundary.soft_boundary`) and a hand-written backward.

    What autograd would compute, with the buffers reused and the products written in
    place: ten maps of the probabilities' size are saved or made in forward and five in
    backward, against about forty when the steps are composed under autograd.
    """

    @staticmethod
    def forward(ctx, masked: Tensor, gt_dilated: Tensor,  # type: ignore[override]
                sites: tuple[Tensor, Tensor, Tensor, Tensor], tolerance: int,
                curves: tuple[Curve, Curve, Curve, Curve]) -> tuple[Tensor, Tensor, Tensor]:
        g_or, g_and, g_prec, g_rec = curves
        num_classes, dims = masked.shape[1], (0, 2, 3)
        a, a_slope = _value_and_slope(g_or, masked)
        c, c_slope = _value_and_slope(g_and, masked)
        a_eroded, a_index = erode_with_index(a)
        c_eroded, c_index = erode_with_index(c)
        # soft_boundary's (a + a_e - a a_e - c c_e).clamp(0, 1), the same operations
        boundary = a + a_eroded
        product = a * a_eroded
        boundary.sub_(product)
        boundary.sub_(torch.mul(c, c_eroded, out=product))
        inside = (boundary >= 0) & (boundary <= 1)  # where clamp passes the gradient
        boundary.clamp_(0, 1)
        prec_value, prec_slope = _value_and_slope(g_prec, boundary)
        precision_hits = torch.mul(prec_value, gt_dilated, out=product).sum(dims)
        del prec_value
        site_n, site_c, _, _ = sites
        rows, cols = dilation_argmax(boundary, sites, tolerance)
        rec_value, rec_slope = _value_and_slope(g_rec, boundary[site_n, site_c, rows, cols])
        recall_hits = _sum_by_class(rec_value, site_c, num_classes)
        pred_total = boundary.sum(dims).double()
        ctx.save_for_backward(a, c, a_eroded, c_eroded, a_index, c_index, a_slope, c_slope,
                              inside, prec_slope, gt_dilated, site_n, site_c, rows, cols,
                              rec_slope)
        ctx.buffer = product  # becomes the boundary's gradient
        return precision_hits, recall_hits, pred_total

    @staticmethod
    def backward(ctx, grad_precision: Tensor, grad_recall: Tensor,  # type: ignore[override]
                 grad_total: Tensor) -> tuple[Tensor | None, ...]:
        (a, c, a_eroded, c_eroded, a_index, c_index, a_slope, c_slope, inside, prec_slope,
         gt_dilated, site_n, site_c, rows, cols, rec_slope) = ctx.saved_tensors
        grad, ctx.buffer = ctx.buffer, None
        if grad is None:  # a second backward
            grad = torch.empty_like(a)
        dtype = a.dtype
        torch.mul(gt_dilated, grad_precision.to(dtype)[None, :, None, None], out=grad)
        if prec_slope is not None:
            grad.mul_(prec_slope)
        grad.add_(grad_total.to(dtype)[None, :, None, None])
        at_sites = grad_recall.index_select(0, site_c).to(dtype)
        if rec_slope is not None:
            at_sites = at_sites * rec_slope
        grad.index_put_((site_n, site_c, rows, cols), at_sites, accumulate=True)
        grad.mul_(inside)
        # through a + a_e - a a_e - c c_e
        grad_a = torch.rsub(a_eroded, 1).mul_(grad)
        grad_a_eroded = torch.rsub(a, 1).mul_(grad)
        grad_c = torch.mul(c_eroded, grad).neg_()
        grad_c_eroded = torch.mul(c, grad, out=grad).neg_()
        grad_a += erode_backward(grad_a_eroded, a, a_index)
        del grad_a_eroded
        grad_c += erode_backward(grad_c_eroded, c, c_index)
        if a_slope is not None:
            grad_a.mul_(a_slope)
        if c_slope is not None:
            grad_c.mul_(c_slope)
        return grad_a.add_(grad_c), None, None, None, None


def bf1_surrogate(probs: Tensor, labels: Tensor, curves: Curves = None,
                  ignore_index: int = 255, tolerance: int = 5,
                  validate: bool = True) -> Tensor:
    """Surrogate boundary F1 score (ASL Table 1 eq. 6), four curves (see module docstring).

    Per class c, with ``B_p = h_XOR(p_c, erode(p_c))`` (:func:`soft_boundary`) and
    ``B_y = y_c AND NOT erode(y_c)`` (:func:`binary_boundary`)::

        prec_c = sum h_AND(B_p, dilate(B_y)) / sum B_p
        rec_c  = sum h_AND(dilate(B_p), B_y) / sum B_y
        F1_c   = 2 prec_c rec_c / (prec_c + rec_c)

    with ``dilate`` a max-pooling of kernel ``2 * tolerance + 1``. A ratio with a zero
    denominator is 0, F1_c is 0 when prec_c + rec_c = 0, and a class with neither predicted
    nor ground-truth boundary is left out of the mean. Background is included. The
    precision may exceed 1 away from one-hot inputs when ``g_prec`` lies above the diagonal.
    """
    g_or_xor, g_and_xor, g_prec, g_rec = _check_inputs(probs, labels, ignore_index, curves, 4,
                                                       validate)
    masked, index, _ = _mask_and_index(probs, labels, ignore_index)
    # channels-last maps pool several times faster on CPU; every map below inherits it
    masked = masked.contiguous(memory_format=torch.channels_last)
    num_classes = probs.shape[1]
    with torch.no_grad():
        # B_y from the label map: each edge pixel is on its own class's boundary only
        edges = label_edges(labels, ignore_index)
        gt_total = _class_counts(index, edges, num_classes)
        gt_boundary = torch.zeros_like(masked, dtype=torch.bool).scatter_(
            1, index, edges.unsqueeze(1))
        # kept as bool: the product below saves it for backward at 1 byte per pixel
        gt_dilated = dilate_mask(gt_boundary, tolerance)
        site_n, site_h, site_w = edges.nonzero(as_tuple=True)
        site_c = index[site_n, 0, site_h, site_w]
    sites = (site_n, site_c, site_h, site_w)
    curves = (g_or_xor, g_and_xor, g_prec, g_rec)
    if all(_fusable(g) for g in curves):
        precision_hits, recall_hits, pred_total = _BoundaryF1Sums.apply(
            masked, gt_dilated, sites, tolerance, curves)
    else:
        precision_hits, recall_hits, pred_total = _boundary_f1_sums(
            masked, gt_dilated, sites, tolerance, curves)
    precision, _ = _ratio(precision_hits.double(), pred_total)
    recall, _ = _ratio(recall_hits, gt_total)
    f1, _ = _ratio(2 * precision * recall, precision + recall)
    return _present_mean(f1, (pred_total + gt_total) > 0).to(probs.dtype)


#: metric name -> (surrogate function, number of curves it takes)
SURROGATES: dict[str, tuple[Callable[..., Tensor], int]] = {
    'mIoU': (miou_surrogate, 2),
    'FWIoU': (fwiou_surrogate, 2),
    'BIoU': (biou_surrogate, 2),
    'BF1': (bf1_surrogate, 4),
    'mAcc': (macc_surrogate, 1),
    'gAcc': (gacc_surrogate, 1),
}
