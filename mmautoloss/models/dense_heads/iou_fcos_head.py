"""FCOS head with IoU in place of centerness (CSE-Autoloss section 4, "Experimental
Setup": FCOS and ATSS use the IoU branch), whose classification loss sees that IoU."""

import torch
from mmdet.models.dense_heads import FCOSHead
from mmdet.utils import InstanceList, OptInstanceList, reduce_mean
from torch import Tensor

from mmautoloss.functional.formulas.branch_inputs import box_iou
from mmautoloss.registry import MODELS

from ..iou_input import iou_kwargs


@MODELS.register_module()
class IoUFCOSHead(FCOSHead):
    """mmdet's ``FCOSHead`` whose quality branch learns the IoU of each positive point's
    decoded box with its GT (detached) instead of the centerness, and whose ``loss_cls``
    gets that IoU as ``iou=`` (CSE-B's w; 1 on negatives). The box loss keeps FCOS's
    centerness weights; at test time the quality branch's sigmoid multiplies the class
    scores as FCOS's centerness does. Configured like ``FCOSHead``.
    """

    def loss_by_feat(self,
                     cls_scores: list[Tensor],
                     bbox_preds: list[Tensor],
                     centernesses: list[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: list[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) -> dict[str, Tensor]:
        featmap_sizes = [featmap.size()[-2:] for featmap in cls_scores]
        points = self.prior_generator.grid_priors(featmap_sizes, dtype=bbox_preds[0].dtype,
                                                  device=bbox_preds[0].device)
        labels, bbox_targets = self.get_targets(points, batch_gt_instances)
        num_imgs = cls_scores[0].size(0)
        cls_flat = torch.cat([s.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
                              for s in cls_scores])
        bbox_flat = torch.cat([b.permute(0, 2, 3, 1).reshape(-1, 4) for b in bbox_preds])
        quality_flat = torch.cat([c.permute(0, 2, 3, 1).reshape(-1) for c in centernesses])
        labels_flat = torch.cat(labels)
        targets_flat = torch.cat(bbox_targets)
        points_flat = torch.cat([p.repeat(num_imgs, 1) for p in points])

        pos_inds = ((labels_flat >= 0) & (labels_flat < self.num_classes)).nonzero().reshape(-1)
        num_pos = max(reduce_mean(torch.tensor(len(pos_inds), dtype=torch.float,
                                               device=bbox_preds[0].device)), 1.0)
        pos_points = points_flat[pos_inds]
        decoded_pred = self.bbox_coder.decode(pos_points, bbox_flat[pos_inds])
        decoded_target = self.bbox_coder.decode(pos_points, targets_flat[pos_inds])
        pos_iou = box_iou(decoded_pred.detach(), decoded_target).clamp(min=0, max=1)
        iou = cls_flat.new_ones(cls_flat.shape[0])
        iou[pos_inds] = pos_iou
        loss_cls = self.loss_cls(cls_flat, labels_flat, avg_factor=num_pos,
                                 **iou_kwargs(self.loss_cls, iou))

        centerness_weights = self.centerness_target(targets_flat[pos_inds])
        centerness_denorm = max(reduce_mean(centerness_weights.sum().detach()), 1e-6)
        if len(pos_inds) > 0:
            loss_bbox = self.loss_bbox(decoded_pred, decoded_target,
                                       weight=centerness_weights,
                                       avg_factor=centerness_denorm)
            loss_quality = self.loss_centerness(quality_flat[pos_inds], pos_iou,
                                                avg_factor=num_pos)
        else:
            loss_bbox = bbox_flat[pos_inds].sum()
            loss_quality = quality_flat[pos_inds].sum()
        return dict(loss_cls=loss_cls, loss_bbox=loss_bbox, loss_centerness=loss_quality)
