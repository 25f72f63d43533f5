"""AutoSegLoss as an mmseg loss: registry, released parameters, decode-head call, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.evaluation import IoUMetric
from mmseg.models.decode_heads import FCNHead
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmautoloss  # noqa: F401  (registers AutoSegLoss)
from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.seg_surrogates import bf1_surrogate, biou_surrogate, miou_surrogate
from mmautoloss.testing.released_references import released_asl_theta

pytestmark = pytest.mark.usefixtures('mmseg_scope')

# Released ASL parameters (the authors' public release), DeepLabV3+ R101 on PASCAL VOC.
RELEASED = {metric: released_asl_theta(metric)
            for metric in ('mIoU', 'FWIoU', 'BIoU', 'mAcc', 'gAcc', 'BF1')}
IGNORE = 255


def _build(**kwargs):
    return MODELS.build(dict(type='AutoSegLoss', **kwargs))


@pytest.mark.parametrize('metric', sorted(RELEASED))
def test_released_theta_builds_in_mmseg_registry_and_has_finite_gradients(metric):
    loss = _build(metric=metric, theta=RELEASED[metric], num_classes=4)
    assert loss.loss_name == f'loss_asl_{metric.lower()}'
    np.testing.assert_allclose(loss.theta(), RELEASED[metric], rtol=0, atol=1e-12)
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (2, 16, 16), generator=generator)  # classes 2, 3 absent
    labels[0, :5] = IGNORE
    saturated = torch.randn(2, 4, 16, 16, generator=generator).sign() * 1e4
    for target in (labels, torch.full_like(labels, IGNORE)):
        logits = saturated.clone().requires_grad_(True)
        value = loss(logits, target, ignore_index=IGNORE)
        value.backward()
        assert torch.isfinite(value) and 0 <= value.item() <= 1
        assert torch.isfinite(logits.grad).all()


def test_loss_at_one_hot_logits_is_weight_times_one_minus_mmseg_miou():
    generator = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 3, (2, 10, 10), generator=generator)
    labels[1, 2:5, 2:6] = IGNORE
    pred = torch.randint(0, 4, (2, 10, 10), generator=generator)
    logits = F.one_hot(pred, 4).permute(0, 3, 1, 2).float() * 2e4 - 1e4
    areas = [IoUMetric.intersect_and_union(p, t, 4, IGNORE) for p, t in zip(pred, labels)]
    metrics = IoUMetric.total_area_to_metrics(*[sum(a[i] for a in areas) for i in range(4)],
                                              metrics=['mIoU'])
    loss = _build(metric='mIoU', theta=RELEASED['mIoU'], loss_weight=2.0)
    expected = 2.0 * (1 - np.nanmean(metrics['IoU']))
    assert loss(logits, labels).item() == pytest.approx(expected, abs=1e-5)


def test_params_are_the_search_form_of_theta():
    theta = RELEASED['FWIoU']
    # eq. (13) form, per axis: theta_i = (B_i - B_{i-1}) / (1 - B_{i-1}), with B_0 = (0, 0)
    points = torch.tensor(theta, dtype=torch.float64).reshape(2, 3, 2)
    previous = torch.cat([torch.zeros(2, 1, 2, dtype=torch.float64), points[:, :-1]], 1)
    params = ((points - previous) / (1 - previous)).flatten().tolist()
    by_params = _build(metric='FWIoU', params=params)
    np.testing.assert_allclose(by_params.theta(), theta, atol=1e-6)
    identity = _build(metric='mIoU', parameterization='linear',
                      params=MonotoneFunction.identity_params('linear', 4).flatten().tolist() * 2)
    np.testing.assert_allclose(identity.theta(), [0.25, 0.25, 0.5, 0.5, 0.75, 0.75] * 2,
                               atol=1e-12)
    assert _build(metric='mAcc').theta() == pytest.approx([0.25, 0.25, 0.5, 0.5, 0.75, 0.75])


@pytest.mark.parametrize('boundary', ['BIoU', 'BF1'])
def test_combined_losses_in_decode_head_loss_by_feat(boundary):
    head = FCNHead(in_channels=4, channels=4, num_convs=1, num_classes=3, ignore_index=IGNORE,
                   loss_decode=[
                       dict(type='AutoSegLoss', metric='mIoU', theta=RELEASED['mIoU'],
                            loss_name='loss_miou'),
                       dict(type='AutoSegLoss', metric=boundary, theta=RELEASED[boundary],
                            loss_name='loss_boundary', loss_weight=0.5),
                   ])
    generator = torch.Generator().manual_seed(2)
    samples = []
    for _ in range(2):
        label = torch.randint(0, 3, (1, 16, 16), generator=generator)
        label[0, :2] = IGNORE
        samples.append(SegDataSample(gt_sem_seg=PixelData(data=label)))
    logits = torch.randn(2, 3, 8, 8, generator=generator, requires_grad=True)
    losses = head.loss_by_feat(logits, samples)
    assert {'loss_miou', 'loss_boundary', 'acc_seg'} <= set(losses)
    # the head resizes the logits to the label size and passes its ignore_index
    probs = F.interpolate(logits, size=(16, 16), mode='bilinear').softmax(1)
    labels = torch.cat([sample.gt_sem_seg.data for sample in samples])
    miou = miou_surrogate(probs, labels, head.loss_decode[0].curves, IGNORE)
    surrogate = bf1_surrogate if boundary == 'BF1' else biou_surrogate
    other = surrogate(probs, labels, head.loss_decode[1].curves, IGNORE, tolerance=5)
    assert losses['loss_miou'].item() == pytest.approx(1 - miou.item(), abs=1e-6)
    assert losses['loss_boundary'].item() == pytest.approx(0.5 * (1 - other.item()), abs=1e-6)
    (losses['loss_miou'] + losses['loss_boundary']).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_minimizing_the_loss_fits_the_labels():
    generator = torch.Generator().manual_seed(3)
    labels = torch.randint(0, 3, (1, 12, 12), generator=generator)
    labels[0, 0] = IGNORE
    logits = torch.zeros(1, 3, 12, 12, requires_grad=True)
    loss = _build(metric='mIoU', theta=RELEASED['mIoU'])
    optimizer = torch.optim.Adam([logits], lr=0.5)
    first = None
    for _ in range(60):
        optimizer.zero_grad()
        value = loss(logits, labels)
        first = value.item() if first is None else first
        value.backward()
        optimizer.step()
    valid = labels != IGNORE
    assert value.item() < 0.05 < first
    assert torch.equal(logits.argmax(1)[valid], labels[valid])


@pytest.mark.parametrize('kwargs,message', [
    (dict(metric='Dice'), "metric must be one of .*'Dice'"),
    (dict(metric='mIoU', parameterization='spline'), "parameterization must be one of.*'spline'"),
    (dict(metric='mIoU', theta=[0.1, 0.2] * 5),
     r'theta must hold 2 curves x 6 numbers = 12.*got 10'),
    (dict(metric='mAcc', theta=[0.5, 0.5, 0.4, 0.6, 0.9, 0.9]),
     r'theta\[0:6\] must be non-decreasing.*0\.4'),
    (dict(metric='mAcc', theta=[0.1, 0.2, 0.5, 1.5, 0.9, 0.9]),
     r'theta\[0:6\] must lie in \[0, 1\].*1\.5'),
    (dict(metric='mAcc', theta=[0.1, float('nan'), 0.5, 0.5, 0.9, 0.9]),
     r'theta\[0:6\] must be finite.*nan'),
    (dict(metric='mAcc', params=[0.1, 0.2, 1.3, 0.5, 0.9, 0.9]),
     r'params\[0:6\] must lie in \[0, 1\].*1\.3'),
    (dict(metric='mAcc', theta=[0.5] * 6, params=[0.5] * 6), 'theta or params, not both'),
    (dict(metric='mAcc', theta='abc'), "theta must be a flat list of numbers, got 'abc'"),
    (dict(metric='mIoU', num_segments=0), 'num_segments must be a positive int, got 0'),
    (dict(metric='mIoU', loss_name='miou'),
     "loss_name must be a str starting with 'loss_'.*'miou'"),
    (dict(metric='BF1', ignore_background_boundary=True),
     "ignore_background_boundary applies to metric=BIoU only.*True.*'BF1'"),
    (dict(metric='BIoU', boundary_tolerance=-1), 'boundary_tolerance must be .*-1'),
    (dict(metric='mIoU', num_classes=0), 'num_classes must be a positive int or None, got 0'),
    (dict(metric='mIoU', loss_weight=float('nan')), 'loss_weight must be a finite number.*nan'),
    (dict(metric='mIoU', loss_weight=-1.0),
     r'loss_weight must be a finite number in \[0.0, 10000.0\].*-1\.0'),
    (dict(metric='mIoU', loss_weight=1e308),
     r'loss_weight must be a finite number in \[0.0, 10000.0\].*1e\+308'),
])
def test_bad_config_raises_naming_key_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _build(**kwargs)


def test_half_precision_logits_are_computed_in_float32():
    generator = torch.Generator().manual_seed(4)
    logits = torch.randn(1, 3, 8, 8, generator=generator).half().requires_grad_(True)
    labels = torch.randint(0, 3, (1, 8, 8), generator=generator)
    loss = _build(metric='BIoU', theta=RELEASED['BIoU'], boundary_tolerance=1)
    value = loss(logits, labels)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(loss(logits.detach().float(), labels).item(), abs=1e-6)
    value.backward()
    assert logits.grad.dtype == torch.float16 and torch.isfinite(logits.grad).all()


def test_bad_call_raises():
    loss = _build(metric='mIoU', num_classes=3)
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=r'num_classes=3 channels.*\(1, 4, 4, 4\)'):
        loss(torch.zeros(1, 4, 4, 4), labels)
    with pytest.raises(ValueError, match='no per-pixel weight'):
        loss(torch.zeros(1, 3, 4, 4), labels, weight=torch.ones(1, 4, 4))
