"""l(b_i) of PAP eq. (4) / Table 5 against per-box scalar loops written here."""
import math

import pytest
import torch

from mmautoloss.functional.localization_quality import localization_quality


def loop_reference(pred, gt, measure):
    """IoU / (GIoU + 1) / 2 / exp(-normalized L1) of one box pair, in plain floats."""
    px1, py1, px2, py2 = pred
    gx1, gy1, gx2, gy2 = gt
    if measure == 'l1':
        w, h = gx2 - gx1, gy2 - gy1
        return math.exp(-(abs(px1 - gx1) / w + abs(py1 - gy1) / h + abs(px2 - gx2) / w +
                          abs(py2 - gy2) / h))
    iw = max(0.0, min(px2, gx2) - max(px1, gx1))
    ih = max(0.0, min(py2, gy2) - max(py1, gy1))
    inter = iw * ih
    union = (px2 - px1) * (py2 - py1) + (gx2 - gx1) * (gy2 - gy1) - inter
    iou = inter / union
    if measure == 'iou':
        return iou
    enclose = (max(px2, gx2) - min(px1, gx1)) * (max(py2, gy2) - min(py1, gy1))
    return (iou - (enclose - union) / enclose + 1) / 2


def random_boxes(generator, num):
    xy = torch.rand(num, 2, generator=generator, dtype=torch.float64) * 50
    wh = torch.rand(num, 2, generator=generator, dtype=torch.float64) * 30 + 1
    return torch.cat([xy, xy + wh], 1)


@pytest.mark.parametrize('measure', ['giou', 'iou', 'l1'])
def test_matches_loop_reference(measure):
    generator = torch.Generator().manual_seed(0)
    gt = random_boxes(generator, 40)
    pred = gt + torch.randn(40, 4, generator=generator, dtype=torch.float64) * 6
    pred[:, 2:] = torch.max(pred[:, 2:], pred[:, :2] + 0.5)
    pred[0] = gt[0]  # perfect box
    pred[1] = gt[1] + 100  # disjoint box
    value = localization_quality(pred, gt, measure)
    expected = torch.tensor([loop_reference(p, g, measure)
                             for p, g in zip(pred.tolist(), gt.tolist())], dtype=torch.float64)
    torch.testing.assert_close(value, expected, rtol=0, atol=1e-7)
    assert abs(value[0].item() - 1) < 1e-7
    assert ((value >= 0) & (value <= 1)).all()


@pytest.mark.parametrize('measure, moves', [('giou', True), ('l1', True), ('iou', False)])
def test_gradient_for_disjoint_boxes(measure, moves):
    """Table 5 discussion: IoU gives no gradient for disjoint boxes, GIoU and L1 do."""
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0]], dtype=torch.float64)
    pred = torch.tensor([[20.0, 0.0, 30.0, 10.0]], dtype=torch.float64, requires_grad=True)
    localization_quality(pred, gt, measure).sum().backward()
    assert (pred.grad.abs().sum() > 0) == moves
    if moves:  # translating the box left (towards the gt) raises the score
        assert pred.grad[0, 0] + pred.grad[0, 2] < 0


@pytest.mark.parametrize('kwargs, message', [
    (dict(measure='dice'), 'loc_measure'),
    (dict(pred_boxes=torch.zeros(3, 5)), 'pred_boxes'),
    (dict(gt_boxes=torch.zeros(2, 4)), 'gt_boxes'),
    (dict(gt_boxes=torch.full((3, 4), float('nan'))), 'gt_boxes'),
    (dict(eps=0.0), 'eps must be a finite number > 0, got 0.0'),
    (dict(eps=float('nan')), 'eps.*nan'),
])
def test_bad_inputs_raise_naming_them(kwargs, message):
    args = dict(pred_boxes=torch.rand(3, 4), gt_boxes=torch.rand(3, 4), measure='giou')
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        localization_quality(**args)
