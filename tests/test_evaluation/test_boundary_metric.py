"""BoundaryIoUMetric / BoundaryF1Metric against brute-force per-pixel references (ASL eq. 5-6)."""
import math
import random

import pytest
import torch

from mmautoloss.evaluation.metrics import BoundaryF1Metric, BoundaryIoUMetric

pytestmark = pytest.mark.usefixtures('mmseg_scope')

IGNORE = 255


def _random_maps(rng: random.Random, height: int, width: int, num_classes: int):
    """Blocky label / prediction maps (so that regions and boundaries exist) with ignores."""
    def blocky():
        cells = [[rng.randrange(num_classes) for _ in range(width // 3 + 1)]
                 for _ in range(height // 3 + 1)]
        return [[cells[i // 3][j // 3] for j in range(width)] for i in range(height)]
    label, pred = blocky(), blocky()
    for i in range(height):
        for j in range(width):
            if rng.random() < 0.3:  # the prediction disagrees with the label in places
                pred[i][j] = label[i][j] if rng.random() < 0.5 else rng.randrange(num_classes)
            if rng.random() < 0.1:
                label[i][j] = IGNORE
    return label, pred


def _neighbours(i, j, height, width, radius):
    for k in range(max(0, i - radius), min(height, i + radius + 1)):
        for m in range(max(0, j - radius), min(width, j + radius + 1)):
            yield k, m


def _channel(seg, c, i, j):
    """One-hot value of class c at (i, j); ignored pixels belong to no class."""
    return 1 if seg[i][j] == c else 0


def brute_biou(pairs, num_classes, tolerance, ignore_background):
    inter = [0] * num_classes
    union = [0] * num_classes
    for label, pred in pairs:
        height, width = len(label), len(label[0])
        classes = range(1, num_classes) if ignore_background else range(num_classes)
        # own-side edges: a pixel of class c with a neighbour outside c (eq. 5, the release)
        edge = [[any(_channel(label, c, i, j) == 1 and _channel(label, c, k, m) == 0
                     for c in classes for k, m in _neighbours(i, j, height, width, 1))
                 for j in range(width)] for i in range(height)]
        for i in range(height):
            for j in range(width):
                if label[i][j] == IGNORE:
                    continue
                if not any(edge[k][m] for k, m in _neighbours(i, j, height, width, tolerance)):
                    continue
                for c in range(num_classes):
                    p, g = pred[i][j] == c, label[i][j] == c
                    inter[c] += p and g
                    union[c] += p or g
    ious = [inter[c] / union[c] for c in range(num_classes) if union[c] > 0]
    return 100 * sum(ious) / len(ious)


def brute_bf1(pairs, num_classes, tolerance, ignore_background):
    prec_hit, prec_all, rec_hit, rec_all = ([0] * num_classes for _ in range(4))
    for label, pred in pairs:
        height, width = len(label), len(label[0])
        masked_pred = [[IGNORE if label[i][j] == IGNORE else pred[i][j] for j in range(width)]
                       for i in range(height)]

        def edges(seg, c):
            return {(i, j) for i in range(height) for j in range(width)
                    if seg[i][j] == c and any(seg[k][m] != c for k, m in
                                              _neighbours(i, j, height, width, 1))}

        for c in range(num_classes):
            pred_edge, gt_edge = edges(masked_pred, c), edges(label, c)
            near = lambda p, others: any(  # noqa: E731
                abs(p[0] - q[0]) <= tolerance and abs(p[1] - q[1]) <= tolerance for q in others)
            prec_all[c] += len(pred_edge)
            rec_all[c] += len(gt_edge)
            prec_hit[c] += sum(near(p, gt_edge) for p in pred_edge)
            rec_hit[c] += sum(near(g, pred_edge) for g in gt_edge)
    f1s = []
    for c in range(1 if ignore_background else 0, num_classes):
        if prec_all[c] + rec_all[c] == 0:
            continue
        precision = prec_hit[c] / prec_all[c] if prec_all[c] else 0.0
        recall = rec_hit[c] / rec_all[c] if rec_all[c] else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return 100 * sum(f1s) / len(f1s)


def _run(metric, pairs, num_classes, batch_size=2):
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(num_classes)])
    samples = [dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]),
                    gt_sem_seg=dict(data=torch.tensor(label, dtype=torch.uint8)[None]))
               for label, pred in pairs]
    for start in range(0, len(samples), batch_size):
        metric.process({}, samples[start:start + batch_size])
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('seed,tolerance,ignore_background',
                         [(0, 1, True), (1, 2, False), (2, 0, True), (3, 5, True)])
def test_biou_matches_brute_force(seed, tolerance, ignore_background):
    rng = random.Random(seed)
    pairs = [_random_maps(rng, 11, 14, 4) for _ in range(3)]
    result = _run(BoundaryIoUMetric(tolerance=tolerance, ignore_background=ignore_background),
                  pairs, 4)
    assert result['BIoU'] == pytest.approx(brute_biou(pairs, 4, tolerance, ignore_background),
                                           abs=1e-9)


@pytest.mark.parametrize('seed,tolerance,ignore_background',
                         [(0, 1, False), (1, 2, True), (2, 0, False), (3, 5, False)])
def test_bf1_matches_brute_force(seed, tolerance, ignore_background):
    rng = random.Random(seed)
    pairs = [_random_maps(rng, 11, 14, 4) for _ in range(3)]
    result = _run(BoundaryF1Metric(tolerance=tolerance, ignore_background=ignore_background),
                  pairs, 4)
    assert result['BF1'] == pytest.approx(brute_bf1(pairs, 4, tolerance, ignore_background),
                                          abs=1e-9)


def test_boundary_metrics_on_a_shifted_square():
    """Hand-counted case: a 4x4 square (rows/cols 3-6) predicted one column to the right."""
    label = [[1 if 3 <= i < 7 and 3 <= j < 7 else 0 for j in range(10)] for i in range(10)]
    pred = [[1 if 3 <= i < 7 and 4 <= j < 8 else 0 for j in range(10)] for i in range(10)]
    # Tolerance 0. BF1: class 1 edges are the two 12-pixel perimeters, sharing 6 pixels;
    # class 0 edges are the two 20-pixel rings around them, sharing 10: P = R = 0.5.
    assert _run(BoundaryF1Metric(tolerance=0), [(label, pred)], 2)['BF1'] == pytest.approx(50)
    # BIoU band = the 12-pixel perimeter of the ground-truth square (its own side; background
    # edges left out). Class 1: |I| = 8, |U| = 12; class 0: |I| = 0, |U| = 4 (the perimeter
    # pixels predicted as background). BIoU = (2/3 + 0) / 2.
    assert _run(BoundaryIoUMetric(tolerance=0), [(label, pred)],
                2)['BIoU'] == pytest.approx(100 / 3)
    # Within 1 px every predicted edge pixel has a ground-truth edge pixel and vice versa.
    assert _run(BoundaryF1Metric(tolerance=1), [(label, pred)], 2)['BF1'] == pytest.approx(100)
    assert _run(BoundaryIoUMetric(tolerance=2), [(label, label)], 2)['BIoU'] == pytest.approx(100)


def test_counts_are_summed_over_the_dataset_not_averaged_per_image():
    rng = random.Random(7)
    pairs = [_random_maps(rng, 9, 9, 3) for _ in range(4)]
    whole = _run(BoundaryIoUMetric(tolerance=1), pairs, 3, batch_size=4)['BIoU']
    per_image = [_run(BoundaryIoUMetric(tolerance=1), [pair], 3)['BIoU'] for pair in pairs]
    assert whole == pytest.approx(brute_biou(pairs, 3, 1, True), abs=1e-9)
    assert not math.isclose(whole, sum(per_image) / len(per_image), abs_tol=1e-6)


@pytest.mark.parametrize('metric_type', [BoundaryIoUMetric, BoundaryF1Metric])
def test_bad_options_and_maps_raise_naming_the_value(metric_type):
    with pytest.raises(ValueError, match='tolerance.*-1'):
        metric_type(tolerance=-1)
    with pytest.raises(ValueError, match='ignore_background.*yes'):
        metric_type(ignore_background='yes')
    label = [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match=r'pred_sem_seg.*\[0, 2\).*7'):
        _run(metric_type(), [(label, [[0, 7], [1, 0]])], 2)
    with pytest.raises(ValueError, match='dataset_meta'):
        metric_type().process({}, [])


@pytest.mark.parametrize('metric_type,brute,key', [(BoundaryIoUMetric, brute_biou, 'BIoU'),
                                                   (BoundaryF1Metric, brute_bf1, 'BF1')])
def test_images_holding_few_of_the_classes(metric_type, brute, key):
    """Classes only predicted, only labelled, absent, and images without background."""
    rng = random.Random(11)
    remap = [([2, 3], [3, 5]), ([0, 4], [4, 4]), ([1, 1], [1, 2])]
    pairs = []
    for label_classes, pred_classes in remap:
        label, pred = _random_maps(rng, 10, 12, 2)
        pairs.append(([[v if v == IGNORE else label_classes[v] for v in row] for row in label],
                      [[pred_classes[v] for v in row] for row in pred]))
    ignore_background = metric_type is BoundaryIoUMetric
    result = _run(metric_type(tolerance=1), pairs, 6, batch_size=1)
    assert result[key] == pytest.approx(brute(pairs, 6, 1, ignore_background), abs=1e-9)
