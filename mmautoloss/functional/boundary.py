"""Boundary maps of the boundary metrics of Auto Seg-Loss (ASL, ICLR 2021, Table 1, eq. 5-6).

All maps are (N, C, H, W) per-class maps (a one-hot ground truth, one-hot predictions or
softmax probabilities) and every pooling has stride 1 and looks at in-image neighbours only,
so the image border is never a boundary by itself. Ignored pixels are all-zero rows of the
one-hot map, hence a class region touching an ignored region has a boundary there.

* :func:`erode` -- 3x3 min-pooling (``Min-Pooling`` of eq. 5), works on soft maps.
* :func:`dilate` -- max-pooling with kernel ``2 * tolerance + 1`` (``Max-Pooling`` of eq. 6,
  the error tolerance of BF1 and the band width of BIoU), works on soft maps.
* :func:`binary_boundary` -- BF1 boundary of a {0, 1} map: ``map AND NOT erode(map)``, which is
  ``map XOR erode(map)`` of eq. (5) because ``erode(map) <= map``.
* :func:`soft_boundary` -- the same boundary of a soft map through the parameterized XOR
  ``h_OR(p, erode(p)) - h_AND(p, erode(p))`` (eq. 9), used by the BF1 surrogate.
* :func:`biou_band` -- the ground-truth band of BIoU (eq. 5): per class channel, the pixels
  of the class whose 3x3 neighbourhood is not all of the class, i.e. ``y XOR Min-Pooling(y)``
  and the authors' release (fundamentalvision/Auto-Seg-Loss,
  ``mmseg/core/evaluation/utils.py``: ``compute_edge(seg) = (seg != avg_pool3(seg)) * seg``),
  which keeps each class's own side of an edge; united over classes and dilated.
  :func:`biou_band_of_labels` gives the same band from the label map (for the surrogate).
* :func:`label_edges` -- the pixels of a label map where the one-hot map's
  :func:`binary_boundary` is 1 (in their label's channel); :func:`dilate_mask` -- :func:`dilate`
  of a boolean map by shifted ORs; :func:`dilation_argmax` -- where :func:`dilate` takes its
  value at given pixels (the BF1 surrogate needs the dilated boundary there only).
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from ..utils.checks import check_int
from .soft_logic import Curve, apply_curve_or_identity


def _check_map(name: str, value: Tensor) -> None:
    if not torch.is_tensor(value) or not torch.is_floating_point(value) or value.dim() != 4:
        raise ValueError(f'{name} must be a floating (N, C, H, W) tensor, got '
                         f'{tuple(value.shape) if torch.is_tensor(value) else type(value).__name__}'
                         f'{" " + str(value.dtype) if torch.is_tensor(value) else ""}')


def check_tolerance(tolerance: int) -> None:
    """``ValueError`` unless ``tolerance`` (a pooling radius in pixels) is an int >= 0."""
    check_int(tolerance, 'tolerance', 0, expected='a non-negative int')


def erode(maps: Tensor) -> Tensor:
    """3x3 min-pooling with stride 1 over in-image neighbours (``Min-Pooling`` in eq. 5).

    ``max_pool2d`` pads with -inf, so ``-max_pool2d(-x)`` never sees a padded value.
    """
    _check_map('maps', maps)
    return -F.max_pool2d(-maps, kernel_size=3, stride=1, padding=1)


@torch.no_grad()
def erode_with_index(maps: Tensor) -> tuple[Tensor, Tensor]:
    """:func:`erode` without a graph, and the index (per H*W plane) of each minimum, for
    :func:`erode_backward` (for a caller that writes its own backward)."""
    _check_map('maps', maps)
    eroded, index = F.max_pool2d(-maps, kernel_size=3, stride=1, padding=1,
                                 return_indices=True)
    return eroded.neg_(), index


def erode_backward(grad: Tensor, maps: Tensor, index: Tensor) -> Tensor:
    """The gradient w.r.t. ``maps`` of :func:`erode` (what autograd of :func:`erode` gives),
    from the ``index`` of :func:`erode_with_index`; the two negations cancel."""
    return torch.ops.aten.max_pool2d_with_indices_backward(grad, maps, [3, 3], [1, 1], [1, 1],
                                                           [1, 1], False, index)


def dilate(maps: Tensor, tolerance: int) -> Tensor:
    """Max-pooling with kernel ``2 * tolerance + 1``, stride 1 (``Max-Pooling`` in eq. 6).

    Computed separably, a (1, k) then a (k, 1) pooling: the same maximum over the k x k
    in-image window at 2k instead of k^2 comparisons per pixel.
    """
    _check_map('maps', maps)
    check_tolerance(tolerance)
    if tolerance == 0:
        return maps
    size = 2 * tolerance + 1
    rows = F.max_pool2d(maps, kernel_size=(1, size), stride=1, padding=(0, tolerance))
    return F.max_pool2d(rows, kernel_size=(size, 1), stride=1, padding=(tolerance, 0))


def binary_boundary(maps: Tensor) -> Tensor:
    """Boundary of {0, 1} maps: ``maps AND NOT erode(maps)`` (= ``maps XOR erode(maps)``)."""
    return maps - erode(maps)


def soft_boundary(maps: Tensor, g_or: Curve | None = None,
                  g_and: Curve | None = None) -> Tensor:
    """``h_XOR(maps, erode(maps))`` with the parameterized OR and AND of ASL eq. (9).

    ``= g_or(p) + g_or(e) - g_or(p) g_or(e) - g_and(p) g_and(e)`` with ``e = erode(p)``. Each
    curve is evaluated once: for a non-decreasing ``g`` (eq. 11) ``g(erode(p)) = erode(g(p))``.
    The result is clamped to [0, 1]: with separate OR and AND curves the difference can
    leave that range inside the square. On {0, 1} maps it equals :func:`binary_boundary` for
    any curves with g(0)=0, g(1)=1.
    """
    _check_map('maps', maps)
    a = apply_curve_or_identity(g_or, maps)
    c = apply_curve_or_identity(g_and, maps)
    a_eroded, c_eroded = erode(a), erode(c)
    return (a + a_eroded - a * a_eroded - c * c_eroded).clamp(0, 1)


@torch.no_grad()
def biou_band(one_hot: Tensor, tolerance: int = 5, ignore_background: bool = True,
              validate: bool = True) -> Tensor:
    """Ground-truth boundary band ``BD(y)`` of Boundary IoU (ASL eq. 5), (N, 1, H, W) in {0, 1}.

    Edges as in eq. (5) and the authors' release (see the module docstring): per class
    channel of the one-hot ground truth, a pixel of the class is an edge pixel when its
    value differs from the average of its 3x3 in-image neighbourhood
    (``count_include_pad=False``), so only the class's own side of an edge is marked. Edges
    are united over classes (channel 0, the background, left out when
    ``ignore_background``) and dilated by max-pooling with kernel ``2 * tolerance + 1``.

    Args:
        one_hot (Tensor): (N, C, H, W) {0, 1} ground truth, all-zero rows at ignored pixels.
        tolerance (int): band half-width in pixels (``tolerance=0`` keeps the edge pixels only).
        ignore_background (bool): drop edges that only the background channel has.
        validate (bool): check that ``one_hot`` holds only 0 and 1 (a read-back from the device;
            the surrogates build it themselves and skip it).
    """
    _check_map('one_hot', one_hot)
    check_tolerance(tolerance)
    if validate and ((one_hot != 0) & (one_hot != 1)).any():
        raise ValueError('one_hot must hold only 0 and 1')
    channels = one_hot[:, 1:] if ignore_background else one_hot
    mean = F.avg_pool2d(channels, kernel_size=3, stride=1, padding=1, count_include_pad=False)
    edges = ((channels != mean) & (channels > 0)).any(dim=1, keepdim=True).to(one_hot.dtype)
    return dilate(edges, tolerance)


def _over_window(values: Tensor, dim: int, radius: int, combine: str) -> Tensor:
    """Per element, the OR (``combine='or'``, booleans) or the maximum (``'max'``) of
    ``values`` over offsets ``[-radius, radius]`` along ``dim``, in-image only, in
    O(log radius) shifted steps (a step combines spans that may overlap, which neither OR
    nor max minds); the memory layout is kept."""
    size = values.shape[dim]
    out = values.clone(memory_format=torch.preserve_format)
    spare = torch.empty_like(out)  # steps write from one buffer into the other
    for ahead in (True, False):
        span = 1  # out[x] combines the `span` elements from x on (then: up to x)
        while span <= radius:
            step = min(span, radius + 1 - span)
            if step >= size:  # every neighbour that far is outside the image
                break
            low, high = out.narrow(dim, 0, size - step), out.narrow(dim, step, size - step)
            target = spare.narrow(dim, 0, size - step) if ahead else \
                spare.narrow(dim, step, size - step)
            rest = (spare.narrow(dim, size - step, step), out.narrow(dim, size - step, step)) \
                if ahead else (spare.narrow(dim, 0, step), out.narrow(dim, 0, step))
            if combine == 'or':
                torch.logical_or(low, high, out=target)
            else:
                torch.maximum(low, high, out=target)
            rest[0].copy_(rest[1])  # the elements with no neighbour that far keep theirs
            out, spare = spare, out
            span += step
    return out


@torch.no_grad()
def dilate_mask(mask: Tensor, tolerance: int) -> Tensor:
    """:func:`dilate` of a boolean (..., H, W) map: the OR over the ``2 * tolerance + 1``
    square window of in-image neighbours, by shifted ORs on the booleans (no float maps,
    no pooling; the memory layout is kept)."""
    check_tolerance(tolerance)
    if mask.dtype != torch.bool or mask.dim() < 2:
        raise ValueError(f'mask must be a boolean (..., H, W) tensor, got '
                         f'{tuple(mask.shape)} {mask.dtype}')
    if tolerance == 0:
        return mask.clone(memory_format=torch.preserve_format)
    rows = _over_window(mask, mask.dim() - 1, tolerance, 'or')
    return _over_window(rows, mask.dim() - 2, tolerance, 'or')


@torch.no_grad()
def dilation_argmax(maps: Tensor, sites: tuple[Tensor, Tensor, Tensor, Tensor],
                    tolerance: int) -> tuple[Tensor, Tensor]:
    """Where :func:`dilate` takes its value at the given sites: for each site (n, c, h, w)
    (four (S,) index tensors), the row and column (S,) of the first maximum of
    ``maps[n, c]`` over the in-image ``2 * tolerance + 1`` square window around (h, w),
    first in row-major order as max-pooling picks it (so ``maps[n, c, rows, cols]`` is the
    dilated value, and its gradient goes where max-pooling's would). Cost: the row maxima
    of the whole map (shifted maxima), then 2 * (2 * tolerance + 1) values per site.
    """
    _check_map('maps', maps)
    check_tolerance(tolerance)
    n, c, h, w = sites
    height, width = maps.shape[-2:]
    offsets = torch.arange(-tolerance, tolerance + 1, device=maps.device)
    row_maxima = _over_window(maps, 3, tolerance, 'max')
    stride_n, stride_c, stride_h, stride_w = maps.stride()
    plane = n * stride_n + c * stride_c  # (S,) where each site's (n, c) plane starts

    def first_max(source: Tensor, rows: Tensor, cols: Tensor, along: Tensor,
                  size: int) -> Tensor:
        """Index along the window of its first maximum (outside the image: -inf)."""
        flat = (plane[:, None] + rows.clamp(0, height - 1) * stride_h
                + cols.clamp(0, width - 1) * stride_w)
        window = source.as_strided((source.numel(), ), (1, )).take(flat)
        window.masked_fill_((along < 0) | (along >= size), -float('inf'))
        return window.argmax(dim=1)  # the first maximum

    rows = h[:, None] + offsets
    best_rows = h - tolerance + first_max(row_maxima, rows, w[:, None], rows, height)
    cols = w[:, None] + offsets
    best_cols = w - tolerance + first_max(maps, best_rows[:, None], cols, cols, width)
    return best_rows, best_cols


@torch.no_grad()
def label_edges(labels: Tensor, ignore_index: int) -> Tensor:
    """(N, H, W) boolean: the pixels (never an ignored one) with an in-image 3x3 neighbour
    of another label (``ignore_index`` included).

    These are the pixels where :func:`binary_boundary` of the one-hot ground truth is 1, in
    the channel of their label: a pixel of class c is on its channel's boundary exactly
    when the 3x3 minimum of that channel is 0 there.
    """
    if labels.dim() != 3 or labels.dtype.is_floating_point:
        raise ValueError(f'labels must be an integer (N, H, W) tensor, got '
                         f'{tuple(labels.shape)} {labels.dtype}')
    _, height, width = labels.shape
    differs = torch.zeros(labels.shape, dtype=torch.bool, device=labels.device)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            rows = slice(max(0, -dy), height - max(0, dy))
            cols = slice(max(0, -dx), width - max(0, dx))
            neighbour_rows = slice(max(0, dy), height - max(0, -dy))
            neighbour_cols = slice(max(0, dx), width - max(0, -dx))
            differs[:, rows, cols] |= \
                labels[:, rows, cols] != labels[:, neighbour_rows, neighbour_cols]
    return differs & (labels != ignore_index)


@torch.no_grad()
def biou_band_of_labels(labels: Tensor, ignore_index: int, tolerance: int = 5,
                        ignore_background: bool = True) -> Tensor:
    """:func:`biou_band` of the one-hot map of ``labels`` (N, H, W), computed on the label
    map itself: (N, 1, H, W) in {0, 1}, the same band exactly, at a C-th of the work.

    A pixel of class c (c >= 1 when ``ignore_background``; never an ignored pixel, whose
    one-hot row is all zero) is an edge pixel of its channel exactly when the average of its
    3x3 in-image neighbourhood in that channel is below 1, i.e. when some in-image neighbour
    has another label (:func:`label_edges`). Edges are then dilated as in :func:`biou_band`.
    """
    check_tolerance(tolerance)
    edge = label_edges(labels, ignore_index)
    if ignore_background:
        edge &= labels != 0
    return dilate_mask(edge.unsqueeze(1), tolerance).float()
