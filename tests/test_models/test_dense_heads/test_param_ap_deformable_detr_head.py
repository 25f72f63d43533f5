"""ParamAPDeformableDETRHead: eq. (6) per decoder layer over all (query, class) pairs,
positives from mmdet's Hungarian matching, and a CPU proxy training run."""
import math
import os

import pytest
import torch
from torch import nn

from mmautoloss.testing import REPO
from mmautoloss.testing.toydet_training import train_toydet_proxy

pytestmark = pytest.mark.usefixtures('mmdet_scope')

PAPLOSS = os.path.join(REPO, 'configs', 'paploss')
PROXY = os.path.join(REPO, 'configs', 'proxies', 'paploss_toydet_deformable-detr.py')
RELEASED = os.path.join(PAPLOSS, 'deformable-detr_r50_paploss_8xb4-50e_coco.py')

NUM_CLASSES = 3
ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='FocalLossCost', weight=2.0),
        dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
        dict(type='IoUCost', iou_mode='giou', weight=2.0)
    ])
IMG_H, IMG_W = 48, 64  # not square: normalization differs per axis
GT_BOXES = [  # pixels, xyxy; the third image has no object
    [[4., 6., 30., 40.], [33., 2., 60., 20.], [20., 25., 44., 46.]],
    [[10., 10., 50., 30.]],
    [],
]
GT_LABELS = [[2, 0, 2], [1], []]


class RecordingLoss(nn.Module):
    """Spy around the real ParamAPLoss: keeps the inputs of every call, in call order."""

    def __init__(self, loss: nn.Module) -> None:
        super().__init__()
        self.loss = loss
        self.calls = []

    def forward(self, cls_scores, pos_mask, pos_pred_boxes, pos_gt_boxes):
        value = self.loss(cls_scores, pos_mask, pos_pred_boxes, pos_gt_boxes)
        self.calls.append((cls_scores, pos_mask, pos_pred_boxes, pos_gt_boxes, value))
        return value


def build_head(**overrides):
    from mmdet.registry import MODELS

    import mmautoloss.models.dense_heads.param_ap_deformable_detr_head  # noqa: F401

    cfg = dict(
        type='ParamAPDeformableDETRHead',
        num_classes=NUM_CLASSES,
        embed_dims=16,
        num_pred_layer=2,
        loss_ap=dict(type='ParamAPLoss'),
        train_cfg=dict(assigner=ASSIGNER))
    cfg.update(overrides)
    return MODELS.build(cfg)


def gt_instances(labels_zeroed: bool = False):
    from mmengine.structures import InstanceData

    return [
        InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.zeros(len(labels), dtype=torch.long) if labels_zeroed else
            torch.tensor(labels, dtype=torch.long))
        for boxes, labels in zip(GT_BOXES, GT_LABELS)
    ]


def random_outputs(shape, seed):
    """Logits and normalized (cx, cy, w, h) boxes of the given leading shape."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(*shape, NUM_CLASSES, generator=gen)
    centres = 0.15 + 0.7 * torch.rand(*shape, 2, generator=gen)
    sizes = 0.1 + 0.5 * torch.rand(*shape, 2, generator=gen)
    return logits.requires_grad_(), torch.cat([centres, sizes], -1).requires_grad_()


def to_xyxy(cxcywh):
    """(cx, cy, w, h) -> (x1, y1, x2, y2), written out."""
    cx, cy, w, h = cxcywh.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)


def expected_feed(logits, boxes, instances):
    """What one layer must hand to ParamAPLoss, from an independent HungarianAssigner.

    Returns the (N,) positive mask over the row-major (image, query, class) pairs, the
    decoded predicted and GT boxes of the positives (normalized xyxy) in that order, and
    the (image, query) pairs mmdet's assigner matched.
    """
    from mmdet.registry import TASK_UTILS
    from mmengine.structures import InstanceData

    assigner = TASK_UTILS.build(ASSIGNER)
    num_imgs, num_queries, num_classes = logits.shape
    scale = torch.tensor([IMG_W, IMG_H, IMG_W, IMG_H], dtype=torch.float32)
    pos_mask = torch.zeros(num_imgs * num_queries * num_classes, dtype=torch.bool)
    pred_boxes, target_boxes, matched = [], [], []
    for img in range(num_imgs):
        pred = InstanceData(scores=logits[img].detach(),
                            bboxes=to_xyxy(boxes[img].detach()) * scale)
        assign = assigner.assign(pred, instances[img],
                                 img_meta=dict(img_shape=(IMG_H, IMG_W)))
        for query in range(num_queries):
            gt = int(assign.gt_inds[query]) - 1
            if gt < 0:
                continue
            label = int(instances[img].labels[gt])
            pos_mask[(img * num_queries + query) * num_classes + label] = True
            pred_boxes.append(to_xyxy(boxes[img, query].detach()))
            target_boxes.append(instances[img].bboxes[gt] / scale)
            matched.append((img, query))
    return pos_mask, torch.stack(pred_boxes), torch.stack(target_boxes), matched


def check_layer_feed(call, logits, boxes, instances):
    scores, pos_mask, pos_pred, pos_gt, value = call
    exp_mask, exp_pred, exp_gt, matched = expected_feed(logits, boxes, instances)
    torch.testing.assert_close(scores.detach(), logits.detach().reshape(-1))
    assert pos_mask.dtype == torch.bool and torch.equal(pos_mask, exp_mask)
    # one positive per ground truth of the batch (Hungarian matching is one-to-one)
    assert int(pos_mask.sum()) == sum(len(b) for b in GT_BOXES) == len(matched)
    torch.testing.assert_close(pos_pred.detach(), exp_pred)
    torch.testing.assert_close(pos_gt, exp_gt)
    assert value.dim() == 0 and torch.isfinite(value)
    return matched


def test_every_decoder_layer_gets_the_hungarian_positives_at_their_class():
    head = build_head()
    head.loss_ap = RecordingLoss(head.loss_ap)
    logits, boxes = random_outputs((2, 3, 7), seed=0)  # 2 layers, 3 images, 7 queries
    metas = [dict(img_shape=(IMG_H, IMG_W)) for _ in GT_BOXES]
    losses = head.loss_by_feat(logits, boxes, None, None, gt_instances(), metas)

    assert set(losses) == {'loss_ap', 'd0.loss_ap'}
    calls = head.loss_ap.calls
    assert len(calls) == 2
    assert losses['d0.loss_ap'] is calls[0][-1] and losses['loss_ap'] is calls[1][-1]
    matched = [check_layer_feed(call, logits[layer], boxes[layer], gt_instances())
               for layer, call in enumerate(calls)]
    # the box branch is trained only through the matched queries' localization scores
    sum(losses.values()).backward()
    for layer in range(2):
        has_grad = boxes.grad[layer].abs().sum(-1) > 0
        expected = torch.zeros_like(has_grad)
        for img, query in matched[layer]:
            expected[img, query] = True
        assert torch.equal(has_grad, expected)


def test_two_stage_encoder_proposals_are_matched_class_agnostically():
    head = build_head(num_pred_layer=3, as_two_stage=True)
    head.loss_ap = RecordingLoss(head.loss_ap)
    logits, boxes = random_outputs((2, 3, 6), seed=1)
    enc_logits, enc_boxes = random_outputs((3, 12), seed=2)
    metas = [dict(img_shape=(IMG_H, IMG_W)) for _ in GT_BOXES]
    instances = gt_instances()
    labels_before = [inst.labels.clone() for inst in instances]
    losses = head.loss_by_feat(logits, boxes, enc_logits, enc_boxes, instances, metas)

    assert set(losses) == {'loss_ap', 'd0.loss_ap', 'enc_loss_ap'}
    calls = head.loss_ap.calls
    assert len(calls) == 3
    assert losses['enc_loss_ap'] is calls[2][-1]
    for layer in range(2):
        check_layer_feed(calls[layer], logits[layer], boxes[layer], gt_instances())
    check_layer_feed(calls[2], enc_logits, enc_boxes, gt_instances(labels_zeroed=True))
    enc_mask = calls[2][1].reshape(3, 12, NUM_CLASSES)
    assert not enc_mask[..., 1:].any()
    # the caller's ground truth keeps its classes
    assert all(torch.equal(inst.labels, before)
               for inst, before in zip(instances, labels_before))


def test_prediction_keeps_the_top_sigmoid_query_class_pairs():
    head = build_head(test_cfg=dict(max_per_img=10))
    logits, boxes = random_outputs((1, 1, 5), seed=3)
    meta = dict(img_shape=(IMG_H, IMG_W), scale_factor=(2.0, 0.5))
    with torch.no_grad():
        result = head.predict_by_feat(logits, boxes, [meta], rescale=True)[0]
    pairs = sorted(((torch.sigmoid(logits[0, 0, q, c]).item(), q, c)
                    for q in range(5) for c in range(NUM_CLASSES)), reverse=True)[:10]
    torch.testing.assert_close(result.scores, torch.tensor([p[0] for p in pairs]))
    assert result.labels.tolist() == [p[2] for p in pairs]
    for box, (_, query, _) in zip(result.bboxes, pairs):
        x1, y1, x2, y2 = to_xyxy(boxes[0, 0, query].detach()).tolist()
        expected = [min(max(x1 * IMG_W, 0), IMG_W) / 2.0, min(max(y1 * IMG_H, 0), IMG_H) / 0.5,
                    min(max(x2 * IMG_W, 0), IMG_W) / 2.0, min(max(y2 * IMG_H, 0), IMG_H) / 0.5]
        torch.testing.assert_close(box, torch.tensor(expected))
    # more pairs requested than exist: all 15 are returned
    head.test_cfg = dict(max_per_img=100)
    with torch.no_grad():
        assert len(head.predict_by_feat(logits, boxes, [meta])[0].scores) == 15


@pytest.mark.parametrize('overrides, error, match', [
    (dict(loss_ap=dict(type='FocalLoss', use_sigmoid=True)), ValueError,
     "loss_ap.type='FocalLoss'"),
    (dict(loss_ap='ParamAPLoss'), ValueError, "loss_ap='ParamAPLoss'"),
    (dict(loss_ap=dict(type='ParamAPLoss', loc_measure='dice')), ValueError, 'loc_measure'),
    (dict(loss_ap=dict(type='ParamAPLoss', functions=[[0, 0, 1, 1]])), ValueError, 'functions'),
    (dict(loss_cls=dict(type='FocalLoss')), ValueError, 'loss_cls'),
    (dict(train_cfg=dict(matcher=ASSIGNER)), ValueError, 'assigner'),
])
def test_malformed_config_is_rejected_by_name(overrides, error, match):
    with pytest.raises(error, match=match):
        build_head(**overrides)


def test_released_config_resolves_mmdet_base_and_builds_identity_loss():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import Config

    import mmautoloss.models.dense_heads.param_ap_deformable_detr_head  # noqa: F401
    from mmautoloss.models.losses.param_ap_loss import ParamAPLoss

    register_all_modules()
    cfg = Config.fromfile(RELEASED)
    assert cfg.model.type == 'DeformableDETR' and cfg.model.num_queries == 300
    assert set(cfg.model.bbox_head) == {'type', 'num_classes', 'loss_ap'}
    assert cfg.optim_wrapper.optimizer.lr == 2e-4
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 32
    cfg.model.backbone.init_cfg = None  # no checkpoint download in a test
    model = MODELS.build(cfg.model)
    head = model.bbox_head
    assert type(head).__name__ == 'ParamAPDeformableDETRHead'
    assert head.num_pred_layer == 6 and head.cls_out_channels == 80
    assert isinstance(head.loss_ap, ParamAPLoss)
    # built by mmdet's own constructor: its separate box losses are dropped
    assert head.loss_bbox is None and head.loss_iou is None and head.loss_cls.use_sigmoid
    identity = [0, 0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8, 1, 1]
    for function in head.loss_ap.functions():
        assert function == pytest.approx(identity)


def test_refine_two_stage_detector_backpropagates_every_layer_loss():
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    from mmdet.utils import register_all_modules
    from mmengine.config import Config

    import mmautoloss.models.dense_heads.param_ap_deformable_detr_head  # noqa: F401

    register_all_modules()
    cfg = Config.fromfile(PROXY)
    cfg.model.update(with_box_refine=True, as_two_stage=True)
    # mmdet 3.3's two-stage proposal embedding hard-codes 128 features per coordinate,
    # i.e. embed_dims = 256
    model_cfg = cfg.model
    for layer in (model_cfg.encoder.layer_cfg, model_cfg.decoder.layer_cfg):
        for key in ('self_attn_cfg', 'cross_attn_cfg', 'ffn_cfg'):
            if key in layer:
                layer[key].embed_dims = 256
    model_cfg.neck.out_channels = model_cfg.bbox_head.embed_dims = 256
    model_cfg.positional_encoding.num_feats = 128
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    packed = demo_mm_inputs(2, [[3, 128, 96], [3, 96, 128]], num_items=[2, 3],
                            num_classes=NUM_CLASSES)
    data = model.data_preprocessor(packed, True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_ap', 'd0.loss_ap', 'enc_loss_ap'}
    assert all(torch.isfinite(v) and v.dim() == 0 for v in losses.values())
    sum(losses.values()).backward()
    # the shared prediction branches and the backbone receive a gradient
    assert model.bbox_head.cls_branches[0].weight.grad.abs().sum() > 0
    assert model.bbox_head.reg_branches[-1][-1].weight.grad.abs().sum() > 0
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


@pytest.mark.training
def test_proxy_deformable_detr_trains_and_reports_coco_metrics(tmp_path):
    runner = train_toydet_proxy(PROXY, tmp_path)
    for key in ('loss_ap', 'd0.loss_ap'):  # last and auxiliary decoder layer
        assert math.isfinite(runner.message_hub.get_scalar(f'train/{key}').current())
    metrics = runner.val_loop.run()
    assert {'coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_s'} <= set(metrics)
    assert all(math.isfinite(v) for v in metrics.values())
