"""Localization score l(b_i) of a positive prediction, PAP (NeurIPS 2021) eq. (4), Table 5.

All measures map a decoded predicted box and its assigned ground truth (xyxy) to [0, 1],
1 for a perfect box, differentiably w.r.t. the prediction:

- ``'giou'`` (the paper's default, section 4.1): ``(GIoU + 1) / 2``, min-max rescaled from
  GIoU in [-1, 1]; its gradient is non-zero also for disjoint boxes.
- ``'iou'`` (eq. 4 as written): IoU; zero gradient when the boxes do not overlap.
- ``'l1'``: the paper does not define its L1 measure; here ``exp(-sum_c |b_c - b*_c| / s_c)``
  with ``s = (w*, h*, w*, h*)`` the ground-truth width and height, so the deltas are
  scale-free, the score is 1 only for the exact box and its gradient never vanishes.
"""

import torch
from torch import Tensor

from ..utils.checks import check_number

LOC_MEASURES = ('giou', 'iou', 'l1')


def _check_boxes(boxes: Tensor, name: str, num: int | None = None,
                 validate: bool = True) -> None:
    if not torch.is_tensor(boxes) or not boxes.is_floating_point() or boxes.dim() != 2 or \
            boxes.shape[1] != 4 or (num is not None and boxes.shape[0] != num):
        raise ValueError(f'{name} must be a floating tensor of shape '
                         f'({"P" if num is None else num}, 4), got '
                         f'{getattr(boxes, "shape", type(boxes).__name__)}')
    if not validate:
        return
    bad = ~torch.isfinite(boxes.detach()).all(1)
    if bad.any():
        first = int(bad.nonzero()[0])
        raise ValueError(f'{name} must be finite, got {boxes[first].tolist()} at row {first} '
                         f'({int(bad.sum())} bad rows)')


def localization_quality(pred_boxes: Tensor, gt_boxes: Tensor, measure: str = 'giou',
                         eps: float = 1e-7, validate: bool = True) -> Tensor:
    """l(b_i) in [0, 1] for aligned pairs ``pred_boxes[i]``, ``gt_boxes[i]`` of shape (P, 4).

    ``eps`` (> 0) floors the union, the enclosing area and the ground-truth size.
    ``validate`` also checks that the boxes are finite (a read-back from the device).
    """
    if measure not in LOC_MEASURES:
        raise ValueError(f'measure (loc_measure) must be one of {LOC_MEASURES}, got {measure!r}')
    check_number(eps, 'eps', 0, exclusive_low=True)
    _check_boxes(pred_boxes, 'pred_boxes', validate=validate)
    _check_boxes(gt_boxes, 'gt_boxes', pred_boxes.shape[0], validate)
    gt_boxes = gt_boxes.to(pred_boxes)
    if measure == 'l1':
        size = (gt_boxes[:, 2:] - gt_boxes[:, :2]).clamp(min=eps).repeat(1, 2)
        return torch.exp(-((pred_boxes - gt_boxes).abs() / size).sum(1))
    area_pred = (pred_boxes[:, 2] - pred_boxes[:, 0]) * (pred_boxes[:, 3] - pred_boxes[:, 1])
    area_gt = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
    inter_wh = (torch.min(pred_boxes[:, 2:], gt_boxes[:, 2:]) -
                torch.max(pred_boxes[:, :2], gt_boxes[:, :2])).clamp(min=0)
    inter = inter_wh[:, 0] * inter_wh[:, 1]
    union = (area_pred + area_gt - inter).clamp(min=eps)
    iou = inter / union
    if measure == 'iou':
        return iou.clamp(0, 1)
    enclose_wh = (torch.max(pred_boxes[:, 2:], gt_boxes[:, 2:]) -
                  torch.min(pred_boxes[:, :2], gt_boxes[:, :2])).clamp(min=0)
    enclose = (enclose_wh[:, 0] * enclose_wh[:, 1]).clamp(min=eps)
    giou = iou - (enclose - union) / enclose
    return ((giou + 1) / 2).clamp(0, 1)
