"""Faster R-CNN with ParamAP RPN and R-CNN heads: inputs of eq. (6), scores, training."""
import math
import os

import numpy as np
import pytest
import torch

from mmautoloss.testing import REPO
from mmautoloss.testing.param_ap_reference import (
    RecordingLoss,
    build_released_detector,
    check_anchor_head_feeds_loss,
    decode_deltas,
    one_image_loss,
)
from mmautoloss.testing.toydet_training import train_toydet_proxy

pytestmark = pytest.mark.usefixtures('mmdet_scope')

PROXY = os.path.join(REPO, 'configs', 'proxies', 'paploss_toydet_faster-rcnn.py')
RELEASED = os.path.join(REPO, 'configs', 'paploss',
                        'faster-rcnn_r50_fpn_paploss_8xb8-1x_coco.py')
RCNN_STDS = [0.1, 0.1, 0.2, 0.2]


def _registry():
    from mmdet.registry import MODELS

    import mmautoloss.models.dense_heads.param_ap_rpn_head  # noqa: F401  registers
    import mmautoloss.models.losses.param_ap_loss  # noqa: F401  registers ParamAPLoss
    import mmautoloss.models.roi_heads.param_ap_bbox_head  # noqa: F401  registers
    return MODELS


def build_rpn_head(**overrides):
    cfg = dict(
        type='ParamAPRPNHead',
        in_channels=4,
        feat_channels=4,
        anchor_generator=dict(type='AnchorGenerator', scales=[2], ratios=[0.5, 1.0, 2.0],
                              strides=[4, 8, 16, 32, 64]),
        loss_cls=None,
        loss_bbox=None,
        loss_ap=dict(type='ParamAPLoss'),
        # PseudoSampler keeps every assigned anchor, so the test can recompute B exactly
        train_cfg=dict(
            assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3,
                          min_pos_iou=0.3, match_low_quality=True, ignore_iof_thr=-1),
            sampler=dict(type='PseudoSampler'),
            allowed_border=-1,
            pos_weight=-1,
            debug=False))
    cfg.update(overrides)
    return _registry().build(cfg)


def build_bbox_head(**overrides):
    cfg = dict(type='ParamAPBBoxHead', in_channels=4, fc_out_channels=16, roi_feat_size=7,
               num_classes=3, loss_cls=None, loss_bbox=None, loss_ap=dict(type='ParamAPLoss'),
               bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                               target_stds=RCNN_STDS))
    cfg.update(overrides)
    return _registry().build(cfg)


def test_rpn_head_passes_the_assigners_anchors_and_drops_ignored_ones():
    head = build_rpn_head()
    gts = [np.array([[8., 8., 24., 20.], [34., 30., 62., 60.]]),
           np.array([[3., 35., 21., 61.]])]
    labels = [np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int64)]
    check_anchor_head_feeds_loss(head, gts, labels, (0.7, 0.3, 0.3))


@pytest.mark.parametrize('class_agnostic', [False, True])
def test_bbox_head_passes_sampled_rois_times_classes(class_agnostic):
    head = build_bbox_head(reg_class_agnostic=class_agnostic)
    head.loss_ap = RecordingLoss()
    torch.manual_seed(0)
    num_rois, num_classes = 7, 3
    rois = torch.tensor([[0, 2., 2., 20., 30.], [0, 10., 4., 40., 24.], [0, 0., 0., 8., 8.],
                         [1, 5., 5., 50., 50.], [1, 30., 1., 60., 33.], [1, 3., 9., 9., 60.],
                         [1, 1., 1., 2., 2.]])
    labels = torch.tensor([2, 3, 0, 3, 1, 3, 3])  # 3 = background
    label_weights = torch.tensor([1., 1., 1., 1., 1., 1., 0.])  # the last RoI is unused
    gt_boxes = torch.zeros(num_rois, 4)
    gt_boxes[[0, 2, 4]] = torch.tensor([[3., 3., 21., 28.], [1., 0., 9., 7.],
                                        [31., 2., 58., 30.]])
    cls_score = torch.randn(num_rois, num_classes, requires_grad=True)
    reg_dim = 4 if class_agnostic else 4 * num_classes
    bbox_pred = (0.5 * torch.randn(num_rois, reg_dim)).requires_grad_()
    losses = head.loss(cls_score, bbox_pred, rois, labels, label_weights, gt_boxes,
                       torch.zeros(num_rois, 4))
    scores, pos_mask, pos_boxes, pos_gts = head.loss_ap.args

    exp_scores, exp_pos, exp_boxes = [], [], []
    for r in range(num_rois):
        if label_weights[r] == 0:
            continue
        for c in range(num_classes):
            exp_scores.append(float(cls_score[r, c]))
            exp_pos.append(bool(labels[r] == c))
        if labels[r] < num_classes:
            start = 0 if class_agnostic else 4 * int(labels[r])
            delta = bbox_pred[r, start:start + 4].detach().numpy()
            exp_boxes.append(decode_deltas(rois[r:r + 1, 1:].numpy(), delta[None],
                                           RCNN_STDS)[0])
    assert list(losses) == ['loss_ap']
    torch.testing.assert_close(scores.detach(), torch.tensor(exp_scores))
    assert pos_mask.tolist() == exp_pos and int(pos_mask.sum()) == 3
    torch.testing.assert_close(pos_boxes.detach().double(),
                               torch.tensor(np.array(exp_boxes), dtype=torch.float64),
                               rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(pos_gts, gt_boxes[[0, 2, 4]])
    losses['loss_ap'].backward()
    assert cls_score.grad[-1].abs().sum() == 0 and (cls_score.grad[:-1] == 1).all()


def test_bbox_head_predicts_c_logits_and_scores_detections_with_their_sigmoid():
    from mmengine.config import ConfigDict

    head = build_bbox_head()
    assert head.fc_cls.out_features == 3 and head.loss_cls is None
    roi = torch.tensor([[0, 10., 10., 40., 40.], [0, 60., 60., 90., 100.]])
    cls_score = torch.tensor([[2.0, -1.0, 0.5], [-3.0, 1.0, -2.0]])
    bbox_pred = torch.zeros(2, 12)
    test_cfg = ConfigDict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                          max_per_img=100)
    result = head._predict_by_feat_single(roi, cls_score, bbox_pred,
                                          dict(img_shape=(128, 128)), rcnn_test_cfg=test_cfg)
    # brute force: every (RoI, class) whose sigmoid exceeds score_thr, boxes unchanged
    expected = sorted(((1 / (1 + math.exp(-float(cls_score[r, c]))), c, r)
                       for r in range(2) for c in range(3)
                       if 1 / (1 + math.exp(-float(cls_score[r, c]))) > 0.05), reverse=True)
    torch.testing.assert_close(result.scores, torch.tensor([e[0] for e in expected]))
    assert result.labels.tolist() == [e[1] for e in expected]
    torch.testing.assert_close(result.bboxes, roi[[e[2] for e in expected], 1:])


@pytest.mark.parametrize('build', [build_rpn_head, build_bbox_head])
@pytest.mark.parametrize('key', ['loss_cls', 'loss_bbox'])
def test_a_separate_loss_is_rejected_by_name(build, key):
    with pytest.raises(ValueError, match=key):
        build(**{key: dict(type='CrossEntropyLoss')})


@pytest.mark.parametrize('build', [build_rpn_head, build_bbox_head])
def test_a_loss_that_is_not_param_ap_is_rejected_by_name(build):
    with pytest.raises(ValueError, match="loss_ap.type='CrossEntropyLoss'"):
        build(loss_ap=dict(type='CrossEntropyLoss'))


def test_released_coco_config_builds_with_both_searched_losses():
    cfg, detector = build_released_detector(RELEASED)
    assert cfg.train_dataloader.batch_size == 8 and cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.optim_wrapper.optimizer.lr == 0.024  # PAP section 4.1
    rpn_loss = detector.rpn_head.loss_ap
    rcnn_loss = detector.roi_head.bbox_head.loss_ap
    assert type(detector.rpn_head).__name__ == 'ParamAPRPNHead'
    assert type(detector.roi_head.bbox_head).__name__ == 'ParamAPBBoxHead'
    assert detector.roi_head.bbox_head.fc_cls.out_features == 80
    # the PAP release
    assert rpn_loss.grad_scale == pytest.approx(1.6950)
    assert rcnn_loss.grad_scale == pytest.approx(7.1324)
    assert rpn_loss.functions()[0] == pytest.approx(
        [0, 0, 0.9058, 0.0484, 0.9068, 0.5120, 0.9232, 0.7286, 0.9766, 0.9677, 1, 1])
    assert rcnn_loss.functions()[4] == pytest.approx(
        [0, 0, 0.1551, 0.2675, 0.4902, 0.3957, 0.7245, 0.5095, 0.8068, 0.8720, 1, 1])
    losses = one_image_loss(detector)
    assert sorted(losses) == ['loss_ap', 'loss_rpn_ap']
    assert all(math.isfinite(float(v)) for v in losses.values())


@pytest.mark.training
def test_proxy_faster_rcnn_trains_and_reports_coco_metrics(tmp_path):
    runner = train_toydet_proxy(PROXY, tmp_path)
    for key in ('train/loss_rpn_ap', 'train/loss_ap', 'train/loss'):
        assert math.isfinite(runner.message_hub.get_scalar(key).current())
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_s'):
        assert math.isfinite(runner.message_hub.get_scalar(f'val/{key}').current())
