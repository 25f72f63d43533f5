"""The quantities a loss branch feeds to a formula, from what an OpenMMLab head passes.

Every quantity is a 4-D tensor (N, C, H, W): predictions without spatial dimensions are
(N, C, 1, 1) (ALZ section 3.1, footnote 1), per-sample values such as the IoU are
(N, 1, 1, 1), so the formula's operators, class-wise (``Dot``, ``Softmax``, ``MeanC``) and
spatial (``MaxPool``) alike, see one layout. Only the quantities a formula uses are computed.

A sigmoid prediction has a second form, the ``binary_`` quantities: each sigmoid column p
becomes the softmax over foreground / background, the two columns (p, 1 - p), with the
one-hot target over both, background included (y, 1 - y). It is the layout of AutoLoss-Zero's
RPN objectness and Mask R-CNN masks (appendix A.2 / A.3: "softmax probabilities" of
foreground or background), under which ``-y log(y-hat)`` is binary cross-entropy. The
foreground columns come first, then the background columns: (N, 2C, H, W).
"""
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..boundary import binary_boundary

#: added to the union and the enclosing area (CSE-Autoloss's public release does the same)
AREA_EPS = 1e-7


def box_areas(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Intersection, union (+ ``AREA_EPS``) and enclosing area (+ ``AREA_EPS``) of aligned
    boxes (N, 4) in (x1, y1, x2, y2), each (N,)."""
    lt = torch.max(pred[:, :2], target[:, :2])
    rb = torch.min(pred[:, 2:], target[:, 2:])
    wh = (rb - lt).clamp(min=0)
    intersection = wh[:, 0] * wh[:, 1]
    area_p = (pred[:, 2] - pred[:, 0]) * (pred[:, 3] - pred[:, 1])
    area_t = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    union = area_p + area_t - intersection + AREA_EPS
    enclose_wh = (torch.max(pred[:, 2:], target[:, 2:])
                  - torch.min(pred[:, :2], target[:, :2])).clamp(min=0)
    enclosing = enclose_wh[:, 0] * enclose_wh[:, 1] + AREA_EPS
    return intersection, union, enclosing


def box_iou(pred: Tensor, target: Tensor) -> Tensor:
    """IoU of aligned boxes (N, 4), (N,)."""
    intersection, union, _ = box_areas(pred, target)
    return intersection / union


def _column(values: Tensor) -> Tensor:
    return values.reshape(-1, 1, 1, 1)


def binary_columns(foreground: Tensor) -> Tensor:
    """(N, C, H, W) foreground values -> (N, 2C, H, W): the values, then one minus them."""
    return torch.cat([foreground, 1 - foreground], dim=1)


def _lazy(builders: dict[str, Callable[[], Tensor]], wanted: Iterable[str]) -> dict[str, Tensor]:
    return {q: builders[q]() for q in wanted}


def seg_quantities(logits: Tensor, labels: Tensor, ignore_index: int,
                   wanted: Iterable[str]) -> tuple[dict[str, Tensor], Tensor]:
    """Per-pixel classification: logits (N, C, H, W), labels (N, H, W). Returns the
    quantities and the mask of pixels that are not ignored (N, H, W); ignored pixels have
    an all-zero one-hot target. ``boundary_onehot`` is the one-hot target kept on the
    boundary of each class only (the pixels of the class with a 3x3 in-image neighbour of
    another label, :func:`~mmautoloss.functional.boundary.binary_boundary`): AutoLoss-Zero's
    target for the boundary metrics (appendix A.1, "pre-computed boundaries of y")."""
    valid = labels != ignore_index

    def onehot() -> Tensor:
        index = torch.where(valid, labels, 0).long().unsqueeze(1)
        return logits.new_zeros(logits.shape).scatter_(1, index,
                                                       valid.unsqueeze(1).to(logits.dtype))

    builders = dict(logits=lambda: logits, probs=lambda: logits.softmax(dim=1),
                    onehot=onehot, target=onehot, not_onehot=lambda: 1 - onehot(),
                    boundary_onehot=lambda: binary_boundary(onehot()))
    return _lazy(builders, wanted), valid


def cls_quantities(logits: Tensor, labels: Tensor, use_sigmoid: bool, iou: Tensor | None,
                   wanted: Iterable[str]) -> dict[str, Tensor]:
    """Detection classification: logits (N, C) (sigmoid, labels C = background) or
    (N, C + 1) (softmax, the last column background), labels (N,). ``iou`` (N,) is the IoU
    of each prediction with its ground truth; background rows get w = 1 (CSE-Autoloss
    section 3.1: CEI reduces to CE there), and w = 1 everywhere when it is None."""
    num_columns = logits.shape[1]
    background = num_columns if use_sigmoid else num_columns - 1
    foreground = (labels >= 0) & (labels < background)

    def onehot() -> Tensor:
        if use_sigmoid:
            hot = F.one_hot(torch.where(foreground, labels, 0).long(), num_columns)
            hot = hot * foreground.unsqueeze(1)
        else:
            hot = F.one_hot(labels.clamp(0, num_columns - 1).long(), num_columns)
        return _column4(hot.to(logits.dtype))

    def w() -> Tensor:
        if iou is None:
            return logits.new_ones(logits.shape[0], 1, 1, 1)
        return _column(torch.where(foreground, iou.to(logits.dtype), 1.0))

    builders = dict(logits=lambda: _column4(logits),
                    probs=lambda: _column4(logits.sigmoid() if use_sigmoid
                                           else logits.softmax(dim=1)),
                    onehot=onehot, target=onehot, not_onehot=lambda: 1 - onehot(),
                    iou=w, iou_onehot=lambda: w() * onehot(),
                    binary_probs=lambda: binary_columns(_column4(logits.sigmoid())),
                    binary_onehot=lambda: binary_columns(onehot()))
    return _lazy(builders, wanted)


def _column4(matrix: Tensor) -> Tensor:
    return matrix.reshape(matrix.shape[0], matrix.shape[1], 1, 1)


def box_quantities(pred: Tensor, target: Tensor, wanted: Iterable[str]) -> dict[str, Tensor]:
    """Box regression on decoded boxes (N, 4): ``intersection``, ``union``, ``enclosing``."""
    intersection, union, enclosing = box_areas(pred, target)
    areas = dict(intersection=intersection, union=union, enclosing=enclosing)
    return {q: _column(areas[q]) for q in wanted}


def mask_quantities(logits: Tensor, targets: Tensor, labels: Tensor,
                    wanted: Iterable[str]) -> dict[str, Tensor]:
    """Mask R-CNN masks: logits (N, C, H, W) of which the channel of each RoI's label is
    used (as mmdet's ``mask_cross_entropy``), binary targets (N, H, W)."""
    index = torch.arange(logits.shape[0], device=logits.device)
    chosen = logits[index, labels.long()].unsqueeze(1)

    def target() -> Tensor:
        return targets.to(chosen.dtype).unsqueeze(1)

    builders = dict(logits=lambda: chosen, probs=lambda: chosen.sigmoid(),
                    target=target, onehot=target, not_onehot=lambda: 1 - target(),
                    binary_probs=lambda: binary_columns(chosen.sigmoid()),
                    binary_onehot=lambda: binary_columns(target()))
    return _lazy(builders, wanted)


def heatmap_quantities(output: Tensor, target: Tensor,
                       wanted: Iterable[str]) -> dict[str, Tensor]:
    """Pose heatmaps: predicted and target heatmaps (N, K, H, W)."""
    builders = dict(logits=lambda: output, probs=lambda: output, target=lambda: target,
                    onehot=lambda: target, not_onehot=lambda: 1 - target)
    return _lazy(builders, wanted)
