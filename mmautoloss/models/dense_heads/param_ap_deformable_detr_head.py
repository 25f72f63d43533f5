"""Deformable DETR head trained by one Parameterized AP Loss per decoder layer.

Searching Parameterized AP Loss for Object Detection (NeurIPS 2021), eq. (6) and
section 4.1: the whole prediction set B of eq. (6) is every (query, class) pair of the
mini-batch, the positives P are the pairs the detector's own training-target assignment
marks (for Deformable DETR: mmdet's Hungarian matching, each matched query at the class of
its ground truth), and the localization score of a positive is the GIoU (by default) of its
decoded box with the matched ground truth. The single AP loss replaces Focal + L1 + GIoU.
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule, bias_init_with_prob, constant_init
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.dense_heads import DeformableDETRHead
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmdet.utils import ConfigType, InstanceList, OptInstanceList, OptMultiConfig
from mmautoloss.registry import MODELS
from ..param_ap_head_setup import build_ap_loss

_HUNGARIAN_ASSIGNER = dict(
    assigner=dict(
        type='HungarianAssigner',
        match_costs=[
            dict(type='FocalLossCost', weight=2.0),
            dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
            dict(type='IoUCost', iou_mode='giou', weight=2.0)
        ]))


@MODELS.register_module()
class ParamAPDeformableDETRHead(DeformableDETRHead):
    """Deformable DETR head whose only loss is the Parameterized AP Loss, eq. (6).

    For every decoder layer (the auxiliary layers included) and, when ``as_two_stage``,
    for the encoder proposals, one ``ParamAPLoss`` is computed over all queries x classes
    of the mini-batch (section 4.1). Positives are the queries mmdet's Hungarian assigner
    matches, each at the class of its ground truth (class 0 for the class-agnostic encoder
    proposals, as in mmdet); every other (query, class) pair is a negative. Boxes are
    decoded from normalized (cx, cy, w, h) to normalized (x1, y1, x2, y2) for both the
    prediction and its ground truth; every ``loc_measure`` of ``ParamAPLoss`` (GIoU, IoU,
    L1 scaled by the GT size) is invariant to the per-axis image scaling, so the
    localization score l(b_i) of eq. (4) equals that of the boxes in pixels.

    Scores are per-(query, class) logits ranked independently, so inference takes the
    sigmoid of every pair and keeps the top ``max_per_img`` pairs.

    Args:
        num_classes (int): Number of object classes (no background class).
        loss (dict): Config of the loss; must build a ``ParamAPLoss``. It is the only loss
            key (the search engine overrides ``bbox_head.loss``).
        embed_dims (int): Transformer embedding size. Defaults to 256.
        num_reg_fcs (int): Hidden layers of the regression branch. Defaults to 2.
        share_pred_layer (bool): Share the prediction branches of all layers.
        num_pred_layer (int): Number of prediction branches. Defaults to 6.
        as_two_stage (bool): Whether the encoder proposes the queries.
        train_cfg (dict): Holds the Hungarian ``assigner`` config (mmdet's costs).
        test_cfg (dict): ``max_per_img`` detections kept per image.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 num_classes: int,
                 loss: ConfigType = dict(type='ParamAPLoss'),
                 embed_dims: int = 256,
                 num_reg_fcs: int = 2,
                 share_pred_layer: bool = False,
                 num_pred_layer: int = 6,
                 as_two_stage: bool = False,
                 train_cfg: Optional[ConfigType] = _HUNGARIAN_ASSIGNER,
                 test_cfg: ConfigType = dict(max_per_img=100),
                 init_cfg: OptMultiConfig = None) -> None:
        # DETRHead.__init__ builds three separate losses (cls, L1, GIoU); eq. (6) replaces
        # them with one, so the module is set up here from BaseModule instead.
        BaseModule.__init__(self, init_cfg=init_cfg)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f'num_classes must be a positive int, got {num_classes!r}')
        self.ap_loss = build_ap_loss(type(self).__name__, loss)
        self.num_classes = num_classes
        self.cls_out_channels = num_classes
        self.embed_dims = embed_dims
        self.num_reg_fcs = num_reg_fcs
        self.share_pred_layer = share_pred_layer
        self.num_pred_layer = num_pred_layer
        self.as_two_stage = as_two_stage
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if train_cfg:
            if 'assigner' not in train_cfg:
                raise ValueError(
                    f"train_cfg must hold an 'assigner', got train_cfg={train_cfg!r}")
            self.assigner = TASK_UTILS.build(train_cfg['assigner'])
        self._init_layers()

    def init_weights(self) -> None:
        """Initialize as mmdet's sigmoid-scored Deformable DETR head does."""
        bias_init = bias_init_with_prob(0.01)
        for m in self.cls_branches:
            nn.init.constant_(m.bias, bias_init)
        for m in self.reg_branches:
            constant_init(m[-1], 0, bias=0)
        nn.init.constant_(self.reg_branches[0][-1].bias.data[2:], -2.0)
        if self.as_two_stage:
            for m in self.reg_branches:
                nn.init.constant_(m[-1].bias.data[2:], 0.0)

    def loss_by_feat(
        self,
        all_layers_cls_scores: Tensor,
        all_layers_bbox_preds: Tensor,
        enc_cls_scores: Optional[Tensor],
        enc_bbox_preds: Optional[Tensor],
        batch_gt_instances: InstanceList,
        batch_img_metas: List[dict],
        batch_gt_instances_ignore: OptInstanceList = None
    ) -> Dict[str, Tensor]:
        """One Parameterized AP Loss (eq. 6) per decoder layer and for the encoder.

        Args:
            all_layers_cls_scores (Tensor): Logits, (num_layers, bs, num_queries,
                num_classes).
            all_layers_bbox_preds (Tensor): Normalized (cx, cy, w, h) boxes,
                (num_layers, bs, num_queries, 4).
            enc_cls_scores (Tensor, optional): Encoder proposal logits
                (bs, num_points, num_classes) when ``as_two_stage``, else None.
            enc_bbox_preds (Tensor, optional): Encoder proposal boxes (bs, num_points, 4).
            batch_gt_instances (list[InstanceData]): ``bboxes`` (xyxy pixels), ``labels``.
            batch_img_metas (list[dict]): Image metas with ``img_shape``.
            batch_gt_instances_ignore: Must be None (DETR matching has no ignore set).

        Returns:
            dict[str, Tensor]: ``loss_ap`` of the last layer, ``d{i}.loss_ap`` of the
            earlier layers and ``enc_loss_ap`` of the encoder proposals.
        """
        if batch_gt_instances_ignore is not None:
            raise ValueError('batch_gt_instances_ignore must be None for '
                             f'{type(self).__name__}, got {batch_gt_instances_ignore!r}')
        layer_losses = [
            self.loss_by_feat_single(cls_scores, bbox_preds, batch_gt_instances,
                                     batch_img_metas)
            for cls_scores, bbox_preds in zip(all_layers_cls_scores,
                                              all_layers_bbox_preds)
        ]
        loss_dict = {'loss_ap': layer_losses[-1]}
        for layer_id, layer_loss in enumerate(layer_losses[:-1]):
            loss_dict[f'd{layer_id}.loss_ap'] = layer_loss
        if enc_cls_scores is not None:
            proposal_gt_instances = copy.deepcopy(batch_gt_instances)
            for gt_instances in proposal_gt_instances:
                gt_instances.labels = torch.zeros_like(gt_instances.labels)
            loss_dict['enc_loss_ap'] = self.loss_by_feat_single(
                enc_cls_scores, enc_bbox_preds, proposal_gt_instances, batch_img_metas)
        return loss_dict

    def loss_by_feat_single(self, cls_scores: Tensor, bbox_preds: Tensor,
                            batch_gt_instances: InstanceList,
                            batch_img_metas: List[dict]) -> Tensor:
        """Parameterized AP Loss (eq. 6) of one layer over all (query, class) pairs.

        Args:
            cls_scores (Tensor): Logits (bs, num_queries, num_classes).
            bbox_preds (Tensor): Normalized (cx, cy, w, h) boxes (bs, num_queries, 4).
            batch_gt_instances (list[InstanceData]): Ground truth per image.
            batch_img_metas (list[dict]): Image metas with ``img_shape``.

        Returns:
            Tensor: The scalar loss of this layer.
        """
        num_imgs = cls_scores.size(0)
        labels_list, _, bbox_targets_list, _, _, _ = self.get_targets(
            [cls_scores[i] for i in range(num_imgs)],
            [bbox_preds[i] for i in range(num_imgs)], batch_gt_instances,
            batch_img_metas)
        labels = torch.cat(labels_list, 0)
        bbox_targets = torch.cat(bbox_targets_list, 0)
        flat_scores = cls_scores.reshape(-1, self.cls_out_channels)
        pos_queries = (labels < self.num_classes).nonzero().squeeze(1)
        pos_mask = torch.zeros_like(flat_scores, dtype=torch.bool)
        pos_mask[pos_queries, labels[pos_queries]] = True
        # Row-major flattening keeps the positives in ascending query order, the order of
        # pos_mask.nonzero() that ParamAPLoss expects for the boxes.
        pos_pred_boxes = bbox_cxcywh_to_xyxy(bbox_preds.reshape(-1, 4)[pos_queries])
        pos_gt_boxes = bbox_cxcywh_to_xyxy(bbox_targets[pos_queries])
        return self.ap_loss(flat_scores.reshape(-1), pos_mask.reshape(-1),
                            pos_pred_boxes, pos_gt_boxes)

    def _predict_by_feat_single(self,
                                cls_score: Tensor,
                                bbox_pred: Tensor,
                                img_meta: dict,
                                rescale: bool = True) -> InstanceData:
        """Top-scoring (query, class) pairs of one image, scored by sigmoid.

        Args:
            cls_score (Tensor): Logits of the last layer (num_queries, num_classes).
            bbox_pred (Tensor): Normalized (cx, cy, w, h) boxes (num_queries, 4).
            img_meta (dict): Image meta with ``img_shape`` (and ``scale_factor``).
            rescale (bool): Map boxes back to the original image size.

        Returns:
            InstanceData: ``bboxes`` (xyxy), ``scores`` and ``labels``.
        """
        max_per_img = min(self.test_cfg.get('max_per_img', cls_score.numel()),
                          cls_score.numel())
        scores, indexes = cls_score.sigmoid().reshape(-1).topk(max_per_img)
        det_labels = indexes % self.num_classes
        det_bboxes = bbox_cxcywh_to_xyxy(bbox_pred[indexes // self.num_classes])
        img_h, img_w = img_meta['img_shape']
        det_bboxes[:, 0::2] = (det_bboxes[:, 0::2] * img_w).clamp(min=0, max=img_w)
        det_bboxes[:, 1::2] = (det_bboxes[:, 1::2] * img_h).clamp(min=0, max=img_h)
        if rescale:
            det_bboxes /= det_bboxes.new_tensor(img_meta['scale_factor']).repeat((1, 2))
        return InstanceData(bboxes=det_bboxes, scores=scores, labels=det_labels)
