"""FWIoUMetric against a brute-force per-pixel reference (ASL Table 1 eq. 4)."""
import random

import pytest
import torch

from mmautoloss.evaluation.metrics import FWIoUMetric

pytestmark = pytest.mark.usefixtures('mmseg_scope')

IGNORE = 255


def brute_fwiou(pairs, num_classes):
    inter, union, freq = [0] * num_classes, [0] * num_classes, [0] * num_classes
    for label, pred in pairs:
        for label_row, pred_row in zip(label, pred):
            for g, p in zip(label_row, pred_row):
                if g == IGNORE:
                    continue
                freq[g] += 1
                for c in range(num_classes):
                    inter[c] += (p == c) and (g == c)
                    union[c] += (p == c) or (g == c)
    total = sum(freq)
    return 100 * sum(freq[c] / total * inter[c] / union[c] for c in range(num_classes)
                     if union[c] > 0)


def _random_pair(rng, height, width, num_classes, class_weights):
    classes = range(num_classes)
    label = [[IGNORE if rng.random() < 0.15 else rng.choices(classes, class_weights)[0]
              for _ in range(width)] for _ in range(height)]
    pred = [[g if g != IGNORE and rng.random() < 0.6 else rng.randrange(num_classes)
             for g in row] for row in label]
    return label, pred


def _run(pairs, num_classes, batch_size=2):
    metric = FWIoUMetric()
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(num_classes)])
    samples = [dict(pred_sem_seg=dict(data=torch.tensor(pred)[None]),
                    gt_sem_seg=dict(data=torch.tensor(label, dtype=torch.uint8)[None]))
               for label, pred in pairs]
    for start in range(0, len(samples), batch_size):
        metric.process({}, samples[start:start + batch_size])
    return metric.evaluate(len(samples))['FWIoU']


@pytest.mark.parametrize('seed', range(3))
def test_fwiou_matches_brute_force(seed):
    rng = random.Random(seed)
    # skewed class frequencies, and class 4 never in the ground truth (only predicted)
    pairs = [_random_pair(rng, 9, 12, 5, [6, 3, 1, 1, 0]) for _ in range(3)]
    assert _run(pairs, 5) == pytest.approx(brute_fwiou(pairs, 5), abs=1e-9)


def test_fwiou_weights_classes_by_frequency():
    # 3 background pixels predicted right, 1 object pixel predicted as background:
    # IoU_bg = 3/4, IoU_obj = 0; frequencies 3/4 and 1/4 -> FWIoU = 9/16 (mIoU would be 3/8).
    label, pred = [[0, 0], [0, 1]], [[0, 0], [0, 0]]
    assert _run([(label, pred)], 2) == pytest.approx(100 * 9 / 16)


def test_fwiou_single_row_images():
    pairs = [([[0, 1, 1, IGNORE]], [[0, 1, 0, 1]]), ([[1], [0]], [[1], [1]])]
    assert _run(pairs, 2) == pytest.approx(brute_fwiou(pairs, 2), abs=1e-9)


def test_fwiou_bad_input_raises_naming_the_value():
    with pytest.raises(ValueError, match='ignore_index.*None'):
        FWIoUMetric(ignore_index=None)
    with pytest.raises(ValueError, match=r'gt_sem_seg.*\[0, 2\).*\[0, 5\]'):
        _run([([[0, 5], [1, 0]], [[0, 1], [1, 0]])], 2)
