"""Segmentation metric surrogates (ASL Table 1 + eq. 9) against independent references.

IoU / accuracy surrogates at one-hot predictions are compared with mmseg's own
``IoUMetric``; FWIoU, BIoU and BF1 with pure-python pixel loops written here.
"""
import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmseg.evaluation import IoUMetric

from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.seg_surrogates import (
    SURROGATES,
    bf1_surrogate,
    biou_surrogate,
    fwiou_surrogate,
    gacc_surrogate,
    macc_surrogate,
    miou_surrogate,
)

pytestmark = pytest.mark.usefixtures('mmseg_scope')

IGNORE = 255


def _curves(kind, num_segments, count, seed):
    generator = torch.Generator().manual_seed(seed)
    size = MonotoneFunction.num_points(kind, num_segments)
    return [MonotoneFunction.from_params(kind, torch.rand(size, 2, generator=generator))
            for _ in range(count)]


def _blocky(num, num_classes, height, width, generator, noise=0.1):
    coarse = torch.randint(0, num_classes, (num, 1, 4, 4), generator=generator).float()
    labels = F.interpolate(coarse, size=(height, width), mode='nearest')[:, 0].long()
    flip = torch.rand(labels.shape, generator=generator) < noise
    return torch.where(flip, torch.randint(0, num_classes, labels.shape, generator=generator),
                       labels)


def _maps(seed, num=2, height=12, width=12):
    """Labels with ignored patches and one-hot predictions over 6 classes: classes 0-2 in
    both, 3 only in the labels, 4 only in the prediction, 5 only predicted at an ignored
    pixel (so absent once ignored pixels are excluded)."""
    generator = torch.Generator().manual_seed(seed)
    labels = _blocky(num, 4, height, width, generator)
    labels[0, :3, :5] = IGNORE
    labels[torch.rand(labels.shape, generator=generator) < 0.05] = IGNORE
    pred = _blocky(num, 3, height, width, generator)
    pred[1, 5:9, 5:9] = 4
    pred[0, 0, 0] = 5
    probs = F.one_hot(pred, 6).permute(0, 3, 1, 2).float()
    return probs, labels, pred


def _mmseg_metrics(pred, labels, num_classes):
    areas = [IoUMetric.intersect_and_union(p, lab, num_classes, IGNORE)
             for p, lab in zip(pred, labels)]
    totals = [sum(area[i] for area in areas) for i in range(4)]
    return IoUMetric.total_area_to_metrics(*totals, metrics=['mIoU'])


@pytest.mark.parametrize('kind,num_segments,seed', [('bezier', 2, 0), ('linear', 5, 1),
                                                    ('bezier', 3, 2)])
def test_iou_and_accuracy_at_one_hot_equal_mmseg_iou_metric(kind, num_segments, seed):
    probs, labels, pred = _maps(seed)
    curves = _curves(kind, num_segments, 2, seed)
    reference = _mmseg_metrics(pred, labels, num_classes=6)
    assert np.isnan(reference['IoU'][5])  # the absent class is left out by mmseg
    expected_miou = float(np.nanmean(reference['IoU']))
    expected_macc = float(np.nanmean(reference['Acc']))
    expected_gacc = float(reference['aAcc'])
    assert miou_surrogate(probs, labels, curves, IGNORE).item() == pytest.approx(
        expected_miou, abs=1e-5)
    assert macc_surrogate(probs, labels, curves[:1], IGNORE).item() == pytest.approx(
        expected_macc, abs=1e-5)
    assert gacc_surrogate(probs, labels, curves[:1], IGNORE).item() == pytest.approx(
        expected_gacc, abs=1e-5)


def _loop_fwiou(pred, labels, num_classes):
    inter, union, count = [0] * num_classes, [0] * num_classes, [0] * num_classes
    for p, y in zip(pred.flatten().tolist(), labels.flatten().tolist()):
        if y == IGNORE:
            continue
        count[y] += 1
        for c in range(num_classes):
            inter[c] += (p == c) and (y == c)
            union[c] += (p == c) or (y == c)
    total = sum(count)
    return sum(count[c] / total * inter[c] / union[c] for c in range(num_classes) if count[c])


def _inside(h, w, height, width, radius):
    for dh, dw in itertools.product(range(-radius, radius + 1), repeat=2):
        if 0 <= h + dh < height and 0 <= w + dw < width:
            yield h + dh, w + dw


def _loop_band(labels, num_classes, tolerance, ignore_background):
    num, height, width = labels.shape
    lab = labels.tolist()
    edge = [[[False] * width for _ in range(height)] for _ in range(num)]
    for n, h, w in itertools.product(range(num), range(height), range(width)):
        for c in range(1 if ignore_background else 0, num_classes):
            # a pixel of class c next to another class or an ignored pixel (eq. 5's
            # y XOR erode(y); the authors' compute_edge keeps the class's own side)
            window = [lab[n][i][j] == c for i, j in _inside(h, w, height, width, 1)]
            if lab[n][h][w] == c and not all(window):
                edge[n][h][w] = True
    return [[[any(edge[n][i][j] for i, j in _inside(h, w, height, width, tolerance))
              for w in range(width)] for h in range(height)] for n in range(num)]


def _loop_biou(pred, labels, num_classes, tolerance, ignore_background):
    band = _loop_band(labels, num_classes, tolerance, ignore_background)
    inter, union = [0] * num_classes, [0] * num_classes
    for n, h, w in itertools.product(*map(range, labels.shape)):
        y, p = labels[n, h, w].item(), pred[n, h, w].item()
        if y == IGNORE or not band[n][h][w]:
            continue
        for c in range(num_classes):
            inter[c] += (p == c) and (y == c)
            union[c] += (p == c) or (y == c)
    ious = [inter[c] / union[c] for c in range(num_classes) if union[c]]
    return sum(ious) / len(ious)


def _loop_boundary(mask, height, width):
    """Pixels of a {0,1} nested-list map whose in-image 3x3 minimum is 0."""
    return [[bool(mask[h][w]) and not all(mask[i][j] for i, j in _inside(h, w, height, width, 1))
             for w in range(width)] for h in range(height)]


def _loop_bf1(pred, labels, num_classes, tolerance):
    num, height, width = labels.shape
    f1s = []
    for c in range(num_classes):
        hits_p = hits_r = total_p = total_g = 0
        for n in range(num):
            y = [[labels[n, h, w].item() == c for w in range(width)] for h in range(height)]
            p = [[labels[n, h, w].item() != IGNORE and pred[n, h, w].item() == c
                  for w in range(width)] for h in range(height)]
            by, bp = _loop_boundary(y, height, width), _loop_boundary(p, height, width)
            for h, w in itertools.product(range(height), range(width)):
                near_y = any(by[i][j] for i, j in _inside(h, w, height, width, tolerance))
                near_p = any(bp[i][j] for i, j in _inside(h, w, height, width, tolerance))
                total_p += bp[h][w]
                total_g += by[h][w]
                hits_p += bp[h][w] and near_y
                hits_r += by[h][w] and near_p
        if total_p + total_g == 0:
            continue
        precision = hits_p / total_p if total_p else 0.0
        recall = hits_r / total_g if total_g else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(f1s) / len(f1s)


@pytest.mark.parametrize('seed', [3, 4])
def test_fwiou_biou_bf1_at_one_hot_equal_pixel_loops(seed):
    probs, labels, pred = _maps(seed, height=14, width=13)
    iou_curves = _curves('bezier', 2, 2, seed)
    bf1_curves = _curves('bezier', 1, 4, seed)
    assert fwiou_surrogate(probs, labels, iou_curves, IGNORE).item() == pytest.approx(
        _loop_fwiou(pred, labels, 6), abs=1e-5)
    for tolerance, ignore_background in [(1, True), (2, False)]:
        assert biou_surrogate(probs, labels, iou_curves, IGNORE, tolerance,
                              ignore_background).item() == pytest.approx(
            _loop_biou(pred, labels, 6, tolerance, ignore_background), abs=1e-5)
    for tolerance in (1, 2):
        assert bf1_surrogate(probs, labels, bf1_curves, IGNORE, tolerance).item() == \
            pytest.approx(_loop_bf1(pred, labels, 6, tolerance), abs=1e-5)


def test_soft_miou_and_bf1_match_loops_of_eq9():
    generator = torch.Generator().manual_seed(5)
    probs = torch.rand(1, 3, 5, 6, generator=generator).softmax(1)
    labels = torch.randint(0, 3, (1, 5, 6), generator=generator)
    labels[0, 0, :2] = IGNORE
    g_and, g_or = _curves('bezier', 2, 2, 5)

    def g(curve, value):
        return curve(torch.tensor([float(value)]))[0].item()

    ious = []
    for c in range(3):
        inter = union = 0.0
        for h, w in itertools.product(range(5), range(6)):
            y = labels[0, h, w].item()
            if y == IGNORE:
                continue
            p, t = probs[0, c, h, w].item(), float(y == c)
            inter += g(g_and, p) * g(g_and, t)
            union += g(g_or, p) + g(g_or, t) - g(g_or, p) * g(g_or, t)
        ious.append(inter / union)
    assert miou_surrogate(probs, labels, [g_and, g_or], IGNORE).item() == pytest.approx(
        sum(ious) / 3, abs=1e-5)

    xor_or, xor_and, g_prec, g_rec = _curves('linear', 3, 4, 6)
    tol = 1
    f1s = []
    for c in range(3):
        p = [[0.0 if labels[0, h, w] == IGNORE else probs[0, c, h, w].item()
              for w in range(6)] for h in range(5)]
        y = [[labels[0, h, w].item() == c for w in range(6)] for h in range(5)]
        bp = [[0.0] * 6 for _ in range(5)]
        for h, w in itertools.product(range(5), range(6)):
            e = min(p[i][j] for i, j in _inside(h, w, 5, 6, 1))
            xor = (g(xor_or, p[h][w]) + g(xor_or, e) - g(xor_or, p[h][w]) * g(xor_or, e)
                   - g(xor_and, p[h][w]) * g(xor_and, e))
            bp[h][w] = min(max(xor, 0.0), 1.0)
        by = _loop_boundary(y, 5, 6)
        hits_p = hits_r = 0.0
        for h, w in itertools.product(range(5), range(6)):
            near_y = any(by[i][j] for i, j in _inside(h, w, 5, 6, tol))
            near_p = max(bp[i][j] for i, j in _inside(h, w, 5, 6, tol))
            hits_p += g(g_prec, bp[h][w]) * near_y
            hits_r += g(g_rec, near_p) * by[h][w]
        precision = hits_p / sum(map(sum, bp))
        recall = hits_r / sum(map(sum, by)) if sum(map(sum, by)) else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    value = bf1_surrogate(probs, labels, [xor_or, xor_and, g_prec, g_rec], IGNORE, tol)
    assert value.item() == pytest.approx(sum(f1s) / 3, abs=1e-5)


@pytest.mark.parametrize('metric', sorted(SURROGATES))
def test_gradients_finite_at_saturated_logits_absent_classes_and_all_ignored(metric):
    function, count = SURROGATES[metric]
    curves = _curves('bezier', 1 if metric == 'BF1' else 2, count, 7)
    generator = torch.Generator().manual_seed(7)
    labels = torch.randint(0, 2, (2, 12, 12), generator=generator)  # classes 2..5 absent
    labels[1, :4] = IGNORE
    scale = torch.randn(2, 6, 12, 12, generator=generator).sign() * 1e4
    for logits_value, target in [(scale, labels), (scale, torch.full_like(labels, IGNORE))]:
        logits = logits_value.clone().requires_grad_(True)
        value = function(logits.softmax(1), target, curves, IGNORE)
        value.backward()
        assert torch.isfinite(value) and 0 <= value.item() <= 1
        assert torch.isfinite(logits.grad).all()
        if (target == IGNORE).all():
            assert value.item() == 0 and logits.grad.abs().sum() == 0


@pytest.mark.parametrize('metric', ['mIoU', 'FWIoU', 'BF1', 'mAcc', 'BIoU'])
def test_gradient_matches_finite_differences(metric):
    function, count = SURROGATES[metric]
    curves = _curves('bezier', 1 if metric == 'BF1' else 2, count, 8)
    generator = torch.Generator().manual_seed(8)
    labels = _blocky(1, 3, 6, 6, generator)
    labels[0, 0, 0] = IGNORE
    logits = torch.randn(1, 3, 6, 6, generator=generator, dtype=torch.float64,
                         requires_grad=True)
    kwargs = dict(tolerance=1) if metric in ('BF1', 'BIoU') else {}
    assert torch.autograd.gradcheck(
        lambda x: function(x.softmax(1), labels, curves, IGNORE, **kwargs), (logits, ),
        eps=1e-6, atol=1e-5)


@pytest.mark.parametrize('metric', ['mIoU', 'BIoU', 'BF1'])
def test_a_second_backward_through_the_fused_sums_accumulates_the_same_gradient(metric):
    """The fused per-class sums hand their forward buffer to the first backward as the
    gradient; a second backward (retain_graph) must not write into it again."""
    function, count = SURROGATES[metric]
    curves = _curves('bezier', 1 if metric == 'BF1' else 2, count, 5)
    generator = torch.Generator().manual_seed(5)
    labels = _blocky(2, 3, 10, 10, generator)
    probs = torch.rand(2, 3, 10, 10, generator=generator, dtype=torch.float64)
    probs = (probs / probs.sum(1, keepdim=True)).requires_grad_(True)
    kwargs = dict(tolerance=1) if metric in ('BF1', 'BIoU') else {}
    value = function(probs, labels, curves, IGNORE, **kwargs)
    value.backward(retain_graph=True)
    first = probs.grad.clone()
    value.backward()
    assert first.abs().sum() > 0
    torch.testing.assert_close(probs.grad, 2 * first, rtol=1e-12, atol=0)


def test_surrogate_is_not_the_metric_away_from_one_hot():
    generator = torch.Generator().manual_seed(9)
    labels = torch.randint(0, 3, (1, 6, 6), generator=generator)
    probs = torch.full((1, 3, 6, 6), 1 / 3)
    value = miou_surrogate(probs, labels, None, IGNORE).item()
    counts = [int((labels == c).sum()) for c in range(3)]
    expected = sum(n / 3 / (36 / 3 + n - n / 3) for n in counts) / 3  # eq. 8 by hand
    assert value == pytest.approx(expected, abs=1e-6)
    assert not math.isclose(value, 1.0)


def test_bad_inputs_raise_naming_the_value():
    probs = torch.full((1, 3, 4, 4), 1 / 3)
    labels = torch.zeros(1, 4, 4, dtype=torch.long)
    with pytest.raises(ValueError, match='curves must hold 2 functions.*got 1'):
        miou_surrogate(probs, labels, [None])
    with pytest.raises(ValueError, match=r'curves\[0\] must be callable.*7'):
        macc_surrogate(probs, labels, [7])
    bad = labels.clone()
    bad[0, 1, 1] = 3
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 3\).*got 3'):
        gacc_surrogate(probs, bad)
    with pytest.raises(ValueError, match=r'probs must be probabilities.*2\.0'):
        miou_surrogate(probs * 6, labels)
    with pytest.raises(ValueError, match=r'labels shape \(1, 4, 5\)'):
        miou_surrogate(probs, torch.zeros(1, 4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match='labels must be an integer'):
        miou_surrogate(probs, labels.float())
    with pytest.raises(ValueError, match='tolerance must be a non-negative int.*-2'):
        bf1_surrogate(probs, labels, tolerance=-2)
