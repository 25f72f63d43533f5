"""Metrics of raw predictions used by the loss-rejection protocol, against mmseg's
IoUMetric and direct counting."""
import pytest
import torch
from mmseg.evaluation import IoUMetric

from mmautoloss.functional.prediction_metrics import box_ap, per_image_miou, ranking_ap, seg_metric


def _mmseg_miou(pred, label, num_classes):
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=[str(i) for i in range(num_classes)])
    metric.process([], [dict(pred_sem_seg=dict(data=pred[None]),
                             gt_sem_seg=dict(data=label[None]))])
    return metric.compute_metrics(metric.results)['mIoU'] / 100


def test_per_image_miou_equals_mmseg_and_the_surrogate_path():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 9, 11, generator=gen)
    labels = torch.randint(0, 3, (3, 9, 11), generator=gen)
    labels[0, :2] = 255
    fast = per_image_miou(logits.argmax(1), labels, 4)
    for n in range(3):
        assert fast[n].item() == pytest.approx(_mmseg_miou(logits[n].argmax(0), labels[n], 4),
                                               abs=1e-4)
    slow = seg_metric(logits, labels, 'FWIoU')  # another metric takes the surrogate path
    assert slow.shape == (3, ) and ((slow >= 0) & (slow <= 1)).all()


def test_ranking_ap_and_box_ap_by_hand():
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.9], [0.1, 0.3]])
    labels = torch.tensor([0, 2, 0, 1])  # 2 = background
    # class 0: positives ranked 1st and 3rd -> (1 + 2/3) / 2; class 1: ranked 2nd -> 1/2
    assert ranking_ap(scores, labels, torch.ones(4), 2).item() == pytest.approx(
        ((1 + 2 / 3) / 2 + 1 / 2) / 2)
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.]])
    targets = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 7.]])  # IoU 1 and 0.7
    assert box_ap(boxes, targets).item() == pytest.approx((10 + 5) / 20)
