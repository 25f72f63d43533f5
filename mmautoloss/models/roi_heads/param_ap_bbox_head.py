"""Faster R-CNN box head trained with the Parameterized AP Loss (PAP eq. 6, section 4.1)."""

import torch
import torch.nn.functional as F
from mmdet.models.layers import multiclass_nms
from mmdet.models.roi_heads.bbox_heads import Shared2FCBBoxHead
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import ConfigType
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData
from torch import Tensor

from mmautoloss.registry import MODELS

from ..param_ap_head_setup import attach_ap_loss, unified_loss_parent_kwargs


@MODELS.register_module()
class ParamAPBBoxHead(Shared2FCBBoxHead):
    """mmdet's ``Shared2FCBBoxHead`` trained with ONE ParamAPLoss over all sampled RoIs.

    PAP eq. (6) runs once per mini-batch over every (sampled RoI, foreground class)
    pair of all images (section 4.1); P holds each positive RoI at its GT class, and the
    positives' class-specific deltas are decoded to boxes for l(b) of eq. (4).

    Scores (a choice, documented here): mmdet's box head is a softmax over C classes plus
    background, but eq. (6) ranks one score per (prediction, class) pair, as the sigmoid
    heads of RetinaNet do. This head therefore predicts C per-class logits (no background
    logit): the loss receives these logits, and at test time the class score is their
    sigmoid -- the same score the loss ranked -- instead of a softmax over C + 1.

    Config (the search engine overrides ``loss_ap``)::

        bbox_head=dict(type='ParamAPBBoxHead', loss_cls=None, loss_bbox=None,
                       loss_ap=dict(type='ParamAPLoss', functions=..., grad_scale=...))

    ``loss_cls`` and ``loss_bbox`` must be ``None``; the loss is reported as ``loss_ap``.

    Args:
        loss_ap (ConfigType):
            Config of the unified loss, normally ``dict(type='ParamAPLoss', ...)``.
        loss_cls (Optional[dict]): Must be ``None``.
        loss_bbox (Optional[dict]): Must be ``None``.
        **kwargs: Remaining ``Shared2FCBBoxHead`` arguments.
    """

    def __init__(self,
                 loss_ap: ConfigType = dict(type='ParamAPLoss'),
                 loss_cls: dict | None = None,
                 loss_bbox: dict | None = None,
                 **kwargs) -> None:
        super().__init__(**unified_loss_parent_kwargs(type(self).__name__, loss_cls, loss_bbox,
                                                      kwargs, use_sigmoid=False))
        if self.with_cls:  # C foreground logits instead of C + 1 softmax logits
            self.fc_cls = MMDET_MODELS.build(
                dict(self.cls_predictor_cfg, in_features=self.cls_last_dim,
                     out_features=self.num_classes))
        attach_ap_loss(self, loss_ap)

    def loss(self,
             cls_score: Tensor,
             bbox_pred: Tensor,
             rois: Tensor,
             labels: Tensor,
             label_weights: Tensor,
             bbox_targets: Tensor,
             bbox_weights: Tensor,
             reduction_override: str | None = None) -> dict:
        """Return ``dict(loss_ap=...)``: eq. (6) over all sampled RoIs of the batch.

        Arguments are those of ``BBoxHead.loss`` (targets of ``get_targets`` with
        ``reg_decoded_bbox=True``, so ``bbox_targets`` are GT boxes). RoIs with label
        weight 0 are left out of B.
        """
        if reduction_override is not None:
            raise ValueError('eq. (6) is one loss per mini-batch; reduction_override must '
                             f'be None, got {reduction_override!r}')
        used = label_weights > 0
        positive = used & (labels < self.num_classes)  # label num_classes = background
        pos_mask = F.one_hot(labels[used], self.num_classes + 1)[:, :self.num_classes]
        if self.reg_class_agnostic:
            pos_deltas = bbox_pred[positive]
        else:
            pos_deltas = bbox_pred.view(bbox_pred.size(0), self.num_classes,
                                        -1)[positive, labels[positive]]
        pos_boxes = get_box_tensor(self.bbox_coder.decode(rois[positive, 1:], pos_deltas))
        return dict(loss_ap=self.loss_ap(cls_score[used].reshape(-1),
                                         pos_mask.reshape(-1).bool(), pos_boxes,
                                         bbox_targets[positive]))

    def _predict_by_feat_single(self,
                                roi: Tensor,
                                cls_score: Tensor,
                                bbox_pred: Tensor,
                                img_meta: dict,
                                rescale: bool = False,
                                rcnn_test_cfg: ConfigDict | None = None) -> InstanceData:
        """``BBoxHead``'s prediction with sigmoid per-class scores (see class docstring).

        Boxes are decoded (and rescaled) by ``BBoxHead``; the scores get a zero background
        column, which ``multiclass_nms`` drops, so the output format is mmdet's.
        """
        if roi.shape[0] == 0:
            return super()._predict_by_feat_single(roi, cls_score, bbox_pred, img_meta,
                                                   rescale, rcnn_test_cfg)
        decoded = super()._predict_by_feat_single(roi, cls_score, bbox_pred, img_meta,
                                                  rescale, rcnn_test_cfg=None)
        scores = torch.cat([cls_score.sigmoid(), cls_score.new_zeros(len(cls_score), 1)], 1)
        if rcnn_test_cfg is None:
            decoded.scores = scores
            return decoded
        num_box_sets = 1 if self.reg_class_agnostic else self.num_classes
        det_bboxes, det_labels = multiclass_nms(
            decoded.bboxes, scores, rcnn_test_cfg.score_thr, rcnn_test_cfg.nms,
            rcnn_test_cfg.max_per_img, box_dim=decoded.bboxes.size(-1) // num_box_sets)
        return InstanceData(bboxes=det_bboxes[:, :-1], scores=det_bboxes[:, -1],
                            labels=det_labels)
