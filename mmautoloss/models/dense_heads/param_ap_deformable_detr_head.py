"""Deformable DETR head trained by one Parameterized AP Loss per decoder layer.

Searching Parameterized AP Loss for Object Detection (NeurIPS 2021), eq. (6) and
section 4.1: the whole prediction set B of eq. (6) is every (query, class) pair of the
mini-batch, the positives P are the pairs the detector's own training-target assignment
marks (for Deformable DETR: mmdet's Hungarian matching, each matched query at the class of
its ground truth), and the localization score of a positive is the GIoU (by default) of its
decoded box with the matched ground truth. The single AP loss replaces Focal + L1 + GIoU.
"""
import copy

import torch
from mmdet.models.dense_heads import DeformableDETRHead
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmdet.utils import ConfigType, InstanceList, OptInstanceList
from torch import Tensor

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

    Built through mmdet's own ``DeformableDETRHead`` / ``DETRHead`` constructor with
    placeholder losses, as the anchor heads of this package are: ``loss_cls`` stays mmdet's
    sigmoid focal loss placeholder (it tells mmdet's ``init_weights`` and
    ``_predict_by_feat_single`` that scores are per-pair sigmoids; it is never called),
    ``loss_bbox`` / ``loss_iou`` are dropped, and ``loss_ap`` is the only loss.

    Args:
        num_classes (int): Number of object classes (no background class).
        loss_ap (dict): Config of the loss; must build a ``ParamAPLoss``. It is the only
            loss key (the search engine overrides ``bbox_head.loss_ap``).
        loss_cls, loss_bbox, loss_iou: Must be None (mmdet's separate losses would be
            silently unused).
        train_cfg (dict): Holds the Hungarian ``assigner`` config (mmdet's costs, with the
            focal classification cost of mmdet's Deformable DETR).
        **kwargs: The other ``DeformableDETRHead`` arguments (``embed_dims``,
            ``num_reg_fcs``, ``share_pred_layer``, ``num_pred_layer``, ``as_two_stage``,
            ``test_cfg``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 loss_ap: ConfigType = dict(type='ParamAPLoss'),
                 loss_cls: dict | None = None,
                 loss_bbox: dict | None = None,
                 loss_iou: dict | None = None,
                 train_cfg: ConfigType | None = _HUNGARIAN_ASSIGNER,
                 **kwargs) -> None:
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or \
                num_classes < 1:
            raise ValueError(f'num_classes must be a positive int, got {num_classes!r}')
        for key, value in (('loss_cls', loss_cls), ('loss_bbox', loss_bbox),
                           ('loss_iou', loss_iou)):
            if value is not None:
                raise ValueError(f'{type(self).__name__} trains with the single ParamAPLoss '
                                 f'given as `loss_ap`; set {key}=None, got {key}={value!r}')
        if train_cfg and 'assigner' not in train_cfg:
            raise ValueError(f"train_cfg must hold an 'assigner', got train_cfg={train_cfg!r}")
        super().__init__(
            num_classes,
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss'), loss_iou=dict(type='GIoULoss'),
            train_cfg=train_cfg, **kwargs)
        self.loss_bbox = None
        self.loss_iou = None
        self.loss_ap = build_ap_loss(type(self).__name__, loss_ap)

    def loss_by_feat(
        self,
        all_layers_cls_scores: Tensor,
        all_layers_bbox_preds: Tensor,
        enc_cls_scores: Tensor | None,
        enc_bbox_preds: Tensor | None,
        batch_gt_instances: InstanceList,
        batch_img_metas: list[dict],
        batch_gt_instances_ignore: OptInstanceList = None
    ) -> dict[str, Tensor]:
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
            batch_gt_instances_ignore (OptInstanceList):
                Must be None (DETR matching has no ignore set).

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
                            batch_img_metas: list[dict]) -> Tensor:
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
        return self.loss_ap(flat_scores.reshape(-1), pos_mask.reshape(-1),
                            pos_pred_boxes, pos_gt_boxes)

    def _predict_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor, img_meta: dict,
                                rescale: bool = True):
        """mmdet's sigmoid prediction (the top ``max_per_img`` (query, class) pairs), with
        ``max_per_img`` capped at the number of pairs: mmdet's ``topk`` fails when a small
        model (e.g. the ToyDet proxy) has fewer pairs than ``max_per_img``."""
        requested = self.test_cfg.get('max_per_img', cls_score.numel())
        if requested <= cls_score.numel():
            return super()._predict_by_feat_single(cls_score, bbox_pred, img_meta, rescale)
        test_cfg, self.test_cfg = self.test_cfg, dict(self.test_cfg,
                                                      max_per_img=cls_score.numel())
        try:
            return super()._predict_by_feat_single(cls_score, bbox_pred, img_meta, rescale)
        finally:
            self.test_cfg = test_cfg
