"""ParamAPRetinaHead: feeds eq. (6) exactly the batch's pairs and trains in mmengine."""
import math
import os

import numpy as np
import pytest

from mmautoloss.testing import REPO
from mmautoloss.testing.param_ap_reference import (
    build_released_detector,
    check_anchor_head_feeds_loss,
    one_image_loss,
)
from mmautoloss.testing.toydet_training import train_toydet_proxy

pytestmark = pytest.mark.usefixtures('mmdet_scope')

PROXY = os.path.join(REPO, 'configs', 'proxies', 'paploss_toydet_retinanet.py')
RELEASED = os.path.join(REPO, 'configs', 'paploss', 'retinanet_r50_fpn_paploss_8xb8-1x_coco.py')

TRAIN_CFG = dict(
    assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                  ignore_iof_thr=-1),
    sampler=dict(type='PseudoSampler'),
    allowed_border=-1,
    pos_weight=-1,
    debug=False)


def build_head(**overrides):
    from mmdet.registry import MODELS

    import mmautoloss.models.dense_heads.param_ap_retina_head  # noqa: F401  registers
    import mmautoloss.models.losses.param_ap_loss  # noqa: F401  registers ParamAPLoss

    cfg = dict(
        type='ParamAPRetinaHead',
        num_classes=3,
        in_channels=4,
        feat_channels=4,
        stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=2,
                              scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                              strides=[4, 8, 16, 32, 64]),
        loss_cls=None,
        loss_bbox=None,
        loss_ap=dict(type='ParamAPLoss'),
        train_cfg=TRAIN_CFG)
    cfg.update(overrides)
    return MODELS.build(cfg)


def test_head_passes_the_assigners_pairs_and_drops_ignored_anchors():
    head = build_head()
    gts = [np.array([[8., 8., 24., 20.], [34., 30., 62., 60.]]),
           np.array([[3., 35., 21., 61.]]),
           np.zeros((0, 4))]  # an image without objects: all anchors negative
    labels = [np.array([1, 2]), np.array([0]), np.zeros(0, dtype=np.int64)]
    check_anchor_head_feeds_loss(head, gts, labels, (0.5, 0.4, 0.0))


def test_config_builds_the_param_ap_loss_and_drops_mmdet_losses():
    from mmautoloss.models.losses.param_ap_loss import ParamAPLoss

    head = build_head(loss_ap=dict(type='ParamAPLoss', grad_scale=4.1231))
    assert isinstance(head.loss_ap, ParamAPLoss)
    assert head.loss_cls is None and head.loss_bbox is None
    assert head.use_sigmoid_cls and head.cls_out_channels == 3 and head.reg_decoded_bbox


@pytest.mark.parametrize('key', ['loss_cls', 'loss_bbox'])
def test_a_separate_loss_is_rejected_by_name(key):
    with pytest.raises(ValueError, match=key):
        build_head(**{key: dict(type='FocalLoss', use_sigmoid=True)})


@pytest.mark.parametrize('loss, match', [
    (dict(type='FocalLoss', use_sigmoid=True), "loss_ap.type='FocalLoss'"),
    ('ParamAPLoss', "loss_ap='ParamAPLoss'"),
])
def test_a_loss_that_is_not_param_ap_is_rejected_by_name(loss, match):
    with pytest.raises(ValueError, match=match):
        build_head(loss_ap=loss)


@pytest.mark.parametrize('value', [False, None, 0])
def test_encoded_regression_is_rejected(value):
    with pytest.raises(ValueError, match=f'reg_decoded_bbox must be True, got {value!r}'):
        build_head(reg_decoded_bbox=value)


def test_released_coco_config_builds_with_the_searched_loss():
    cfg, detector = build_released_detector(RELEASED)
    assert cfg.train_dataloader.batch_size == 8 and cfg.auto_scale_lr.base_batch_size == 64
    assert cfg.optim_wrapper.optimizer.lr == 0.016  # PAP section 4.1
    loss_ap = detector.bbox_head.loss_ap
    assert type(detector.bbox_head).__name__ == 'ParamAPRetinaHead'
    assert loss_ap.grad_scale == pytest.approx(4.1231)  # the PAP release
    assert loss_ap.functions()[0] == pytest.approx(
        [0, 0, 0.4182, 0.0277, 0.4948, 0.2187, 0.6882, 0.2624, 0.802, 0.6688, 1, 1])
    losses = one_image_loss(detector)
    assert list(losses) == ['loss_ap'] and math.isfinite(float(losses['loss_ap']))


@pytest.mark.training
def test_proxy_retinanet_trains_and_reports_coco_metrics(tmp_path):
    runner = train_toydet_proxy(PROXY, tmp_path)
    loss = runner.message_hub.get_scalar('train/loss_ap').current()
    assert math.isfinite(loss)
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_s'):
        assert math.isfinite(runner.message_hub.get_scalar(f'val/{key}').current())
