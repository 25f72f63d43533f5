"""The keys an evaluator config reports, against the evaluators' own output where they
can run here (mmseg's IoUMetric)."""
import numpy as np
import pytest
import torch

from mmautoloss.evaluation.metric_keys import metric_keys


@pytest.mark.parametrize('metric_cfg,scope,key,known', [
    (dict(type='CocoMetric', metric='bbox'), 'mmdet', 'coco/bbox_mAP', True),
    (dict(type='CocoMetric', metric=['bbox', 'proposal']), 'mmdet', 'coco/AR@100', True),
    (dict(type='CocoMetric'), 'mmdet', 'bbox_mAP', False),
    (dict(type='CocoMetric', prefix='val'), 'mmdet', 'val/bbox_mAP_50', True),
    (dict(type='VOCMetric', metric='mAP'), 'mmdet', 'pascal_voc/mAP', True),
    (dict(type='VOCMetric', iou_thrs=[0.5, 0.75]), 'mmdet', 'pascal_voc/AP75', True),
    (dict(type='CocoMetric'), 'mmpose', 'coco/AP', True),
    (dict(type='BoundaryF1Metric'), 'mmseg', 'BF1', True),
    (dict(type='BoundaryIoUMetric'), 'mmseg', 'BIoU', True),
    (dict(type='FWIoUMetric'), 'mmseg', 'FWIoU', True),
    (dict(type='IoUMetric', iou_metrics=['mDice']), 'mmseg', 'mIoU', False),
])
def test_metric_keys_of_evaluator_types(metric_cfg, scope, key, known):
    assert (key in metric_keys(metric_cfg, scope)) is known


@pytest.mark.parametrize('iou_metrics', [['mIoU'], ['mDice'], ['mFscore'],
                                         ['mIoU', 'mDice', 'mFscore']])
def test_iou_metric_keys_match_mmseg(iou_metrics):
    """The keys we accept are exactly those mmseg's own IoUMetric reports."""
    from mmseg.evaluation import IoUMetric
    metric = IoUMetric(iou_metrics=iou_metrics)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    rng = np.random.default_rng(0)
    area = [torch.tensor(rng.integers(1, 9, 3), dtype=torch.float64) for _ in range(4)]
    reported = metric.compute_metrics([tuple(area)])
    assert set(reported) == metric_keys(dict(type='IoUMetric', iou_metrics=iou_metrics),
                                        'mmseg')
