"""ATSS head with IoU in place of centerness (CSE-Autoloss section 4, "Experimental
Setup"), whose classification loss sees that IoU."""

from mmdet.models.dense_heads import ATSSHead
from torch import Tensor

from mmautoloss.functional.formulas.branch_inputs import box_iou
from mmautoloss.registry import MODELS

from ..iou_input import iou_kwargs


@MODELS.register_module()
class IoUATSSHead(ATSSHead):
    """mmdet's ``ATSSHead`` whose quality branch learns the IoU of each positive anchor's
    decoded box with its GT (detached) instead of the centerness, and whose ``loss_cls``
    gets that IoU as ``iou=`` (1 on negatives). The box loss keeps ATSS's centerness
    weights. Configured like ``ATSSHead``.
    """

    def loss_by_feat_single(self, anchors: Tensor, cls_score: Tensor, bbox_pred: Tensor,
                            centerness: Tensor, labels: Tensor, label_weights: Tensor,
                            bbox_targets: Tensor, avg_factor: float) -> tuple[Tensor, ...]:
        anchors = anchors.reshape(-1, 4)
        cls_score = cls_score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
        bbox_pred = bbox_pred.permute(0, 2, 3, 1).reshape(-1, 4)
        quality = centerness.permute(0, 2, 3, 1).reshape(-1)
        bbox_targets = bbox_targets.reshape(-1, 4)
        labels = labels.reshape(-1)
        label_weights = label_weights.reshape(-1)
        pos_inds = ((labels >= 0) & (labels < self.num_classes)).nonzero().squeeze(1)
        iou = cls_score.new_ones(cls_score.shape[0])
        if len(pos_inds) > 0:
            pos_anchors, pos_targets = anchors[pos_inds], bbox_targets[pos_inds]
            decoded = self.bbox_coder.decode(pos_anchors, bbox_pred[pos_inds])
            pos_iou = box_iou(decoded.detach(), pos_targets).clamp(min=0, max=1)
            iou[pos_inds] = pos_iou
            centerness_weights = self.centerness_target(pos_anchors, pos_targets)
            loss_bbox = self.loss_bbox(decoded, pos_targets, weight=centerness_weights,
                                       avg_factor=1.0)
            loss_quality = self.loss_centerness(quality[pos_inds], pos_iou,
                                                avg_factor=avg_factor)
        else:
            loss_bbox = bbox_pred.sum() * 0
            loss_quality = quality.sum() * 0
            centerness_weights = bbox_targets.new_tensor(0.)
        loss_cls = self.loss_cls(cls_score, labels, label_weights, avg_factor=avg_factor,
                                 **iou_kwargs(self.loss_cls, iou))
        return loss_cls, loss_bbox, loss_quality, centerness_weights.sum()
