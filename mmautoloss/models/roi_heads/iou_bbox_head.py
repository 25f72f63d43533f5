"""R-CNN box head whose classification loss sees the IoU of each RoI's predicted box
(CSE-Autoloss section 3.1 and 4: the input w of CEI / CSE-Autoloss-A)."""

import torch
from mmdet.models.losses import accuracy
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.structures.bbox import get_box_tensor
from torch import Tensor

from mmautoloss.functional.formulas.branch_inputs import box_iou
from mmautoloss.registry import MODELS

from ..iou_input import iou_kwargs


@MODELS.register_module()
class IoUShared2FCBBoxHead(Shared2FCBBoxHead):
    """mmdet's ``Shared2FCBBoxHead`` that passes ``iou=w`` to its ``loss_cls``.

    w of a positive RoI is the IoU of its decoded box for its GT class with the GT box,
    detached (an input, not a path for gradients); background RoIs get w = 1, so CEI is the
    cross-entropy there. The box loss is mmdet's, unchanged. Configured like
    ``Shared2FCBBoxHead``; with a loss that takes no ``iou`` it is that head.
    """

    def loss(self,
             cls_score: Tensor,
             bbox_pred: Tensor,
             rois: Tensor,
             labels: Tensor,
             label_weights: Tensor,
             bbox_targets: Tensor,
             bbox_weights: Tensor,
             reduction_override: str | None = None) -> dict:
        losses = super().loss(None, bbox_pred, rois, labels, label_weights, bbox_targets,
                              bbox_weights, reduction_override)
        if cls_score is not None and cls_score.numel() > 0:
            avg_factor = max(torch.sum(label_weights > 0).float().item(), 1.)
            iou = self.prediction_iou(bbox_pred, rois, labels, bbox_targets)
            losses['loss_cls'] = self.loss_cls(
                cls_score, labels, label_weights, avg_factor=avg_factor,
                reduction_override=reduction_override, **iou_kwargs(self.loss_cls, iou))
            losses['acc'] = accuracy(cls_score, labels)
        return losses

    @torch.no_grad()
    def prediction_iou(self, bbox_pred: Tensor | None, rois: Tensor, labels: Tensor,
                       bbox_targets: Tensor) -> Tensor:
        """IoU (N,) of each positive RoI's decoded box with its target; 1 elsewhere."""
        iou = labels.new_ones(labels.shape, dtype=rois.dtype)
        positive = (labels >= 0) & (labels < self.num_classes)
        if bbox_pred is None or not positive.any():
            return iou
        boxes = get_box_tensor(self.bbox_coder.decode(rois[:, 1:], bbox_pred))
        if not self.reg_class_agnostic:
            boxes = boxes.view(boxes.size(0), self.num_classes, 4)[
                torch.arange(boxes.size(0), device=boxes.device), labels.clamp(
                    max=self.num_classes - 1)]
        targets = bbox_targets if self.reg_decoded_bbox else get_box_tensor(
            self.bbox_coder.decode(rois[:, 1:], bbox_targets))
        iou[positive] = box_iou(boxes[positive], targets[positive]).to(iou.dtype)
        return iou
