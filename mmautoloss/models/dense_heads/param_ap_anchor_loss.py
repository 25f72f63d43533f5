"""Parameterized AP Loss over every (anchor, class) pair of a mini-batch (PAP eq. 6).

Shared by :class:`ParamAPRetinaHead` and :class:`ParamAPRPNHead`: both are mmdet anchor
heads whose focal / cross-entropy and box losses are replaced by ONE ``ParamAPLoss``
computed over all feature levels and all images of the batch (PAP section 4.1: "the whole
prediction set B consists of all predicted boxes in the current mini-batch for all
categories", positives and negatives "determined by the original pre-defined training
target assignment").
"""

import torch
import torch.nn.functional as F
from mmdet.structures.bbox import cat_boxes, get_box_tensor
from mmdet.utils import InstanceList, OptInstanceList
from torch import Tensor


class ParamAPAnchorLossMixin:
    """Computes PAP eq. (6) for an mmdet ``AnchorHead`` subclass as its ``loss_by_feat``.

    The host head must use sigmoid classification, ``reg_decoded_bbox=True`` (so that
    the regression targets are the matched GT boxes), hold the built loss as
    ``self.loss_ap`` and name the reported loss in ``ap_loss_key``. The mixin comes first
    among the bases, so its ``loss_by_feat`` replaces mmdet's.
    """
    ap_loss_key = 'loss_ap'

    def loss_by_feat(self,
                     cls_scores: list[Tensor],
                     bbox_preds: list[Tensor],
                     batch_gt_instances: InstanceList,
                     batch_img_metas: list[dict],
                     batch_gt_instances_ignore: OptInstanceList = None) -> dict[str, Tensor]:
        """Return ``{ap_loss_key: eq. (6)}`` over the (anchor, class) pairs of all levels
        and images of the mini-batch.

        Pairs of anchors whose label weight is 0 (ignored by the assigner, outside the
        image, or not sampled) are left out of B. A pair is positive when its anchor is
        a positive of the assigner and the class is the anchor's GT class; the positive
        anchors' deltas are decoded to xyxy boxes and passed with their GT boxes, in
        the order of ``pos_mask.nonzero()``.
        """
        featmap_sizes = [score.size()[-2:] for score in cls_scores]
        anchor_list, valid_flag_list = self.get_anchors(
            featmap_sizes, batch_img_metas, device=cls_scores[0].device)
        labels_list, label_weights_list, gt_boxes_list, _, _ = self.get_targets(
            anchor_list, valid_flag_list, batch_gt_instances, batch_img_metas,
            batch_gt_instances_ignore=batch_gt_instances_ignore)

        num_imgs = len(batch_img_metas)
        # (N, A, C) and (N, A, 4) with anchors ordered level, y, x, base anchor, as in
        # mmdet's grid priors and targets
        scores = torch.cat([
            score.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.cls_out_channels)
            for score in cls_scores
        ], dim=1)
        deltas = torch.cat([
            pred.permute(0, 2, 3, 1).reshape(num_imgs, -1, self.bbox_coder.encode_size)
            for pred in bbox_preds
        ], dim=1)
        labels = torch.cat(labels_list, dim=1)
        label_weights = torch.cat(label_weights_list, dim=1)
        gt_boxes = torch.cat(gt_boxes_list, dim=1)
        anchors = torch.stack([get_box_tensor(cat_boxes(levels)) for levels in anchor_list])

        used = label_weights > 0
        positive = used & (labels < self.num_classes)  # label num_classes = background
        pair_scores = scores[used].reshape(-1)
        pos_mask = F.one_hot(labels[used], self.num_classes + 1)[:, :self.num_classes]
        pos_boxes = get_box_tensor(self.bbox_coder.decode(anchors[positive], deltas[positive]))
        loss = self.loss_ap(pair_scores, pos_mask.reshape(-1).bool(), pos_boxes,
                            gt_boxes[positive])
        return {self.ap_loss_key: loss}
