"""At one-hot predictions each ASL surrogate equals its evaluator metric (ASL eq. 10).

The surrogates (mmautoloss.functional.seg_surrogates) are computed over a batch as one
dataset; the evaluator metrics (mmautoloss.evaluation.metrics) accumulate image by image.
For any valid curves (truth-table and monotonicity constraints) both must agree exactly.
"""
import pytest
import torch
import torch.nn.functional as F

from mmautoloss.evaluation.metrics import BoundaryF1Metric, BoundaryIoUMetric, FWIoUMetric
from mmautoloss.functional.monotone_function import MonotoneFunction
from mmautoloss.functional.seg_surrogates import bf1_surrogate, biou_surrogate, fwiou_surrogate

pytestmark = pytest.mark.usefixtures('mmseg_scope')

IGNORE = 255
NUM_CLASSES = 4


def _maps(seed: int, num_images: int = 3, size: int = 20):
    """Blocky labels with ~10% ignored pixels and predictions that are partly right."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, NUM_CLASSES, (num_images, 1, 5, 5), generator=gen).float()
    labels = F.interpolate(coarse, size=(size, size), mode='nearest')[:, 0].long()
    noise = torch.randint(0, NUM_CLASSES, labels.shape, generator=gen)
    preds = torch.where(torch.rand(labels.shape, generator=gen) < 0.25, noise, labels)
    shifted = torch.roll(preds, shifts=1, dims=2)  # boundary errors, not only pixel noise
    preds = torch.where(torch.rand(labels.shape, generator=gen) < 0.3, shifted, preds)
    labels[torch.rand(labels.shape, generator=gen) < 0.1] = IGNORE
    return preds, labels


def _random_curves(seed: int, kind: str, num_segments: int, count: int):
    gen = torch.Generator().manual_seed(1000 + seed)
    num_points = MonotoneFunction.num_points(kind, num_segments)
    return [MonotoneFunction.from_params(kind, torch.rand(num_points, 2, generator=gen,
                                                          dtype=torch.float64))
            for _ in range(count)]


def _evaluate(metric, preds, labels):
    metric.dataset_meta = dict(classes=[f'c{i}' for i in range(NUM_CLASSES)])
    for pred, label in zip(preds, labels):  # one image per batch
        metric.process({}, [dict(pred_sem_seg=dict(data=pred[None]),
                                 gt_sem_seg=dict(data=label[None]))])
    return next(iter(metric.evaluate(len(preds)).values())) / 100


def _one_hot(preds):
    return F.one_hot(preds, NUM_CLASSES).permute(0, 3, 1, 2).double()


CASES = [(seed, kind) for seed in range(3) for kind in ('bezier', 'linear')]


@pytest.mark.parametrize('seed,kind', CASES)
def test_fwiou_surrogate_equals_fwiou_metric(seed, kind):
    preds, labels = _maps(seed)
    curves = _random_curves(seed, kind, 2, 2)
    surrogate = fwiou_surrogate(_one_hot(preds), labels, curves, ignore_index=IGNORE)
    metric = _evaluate(FWIoUMetric(ignore_index=IGNORE), preds, labels)
    assert 0 < metric < 1
    assert float(surrogate) == pytest.approx(metric, abs=1e-5)


@pytest.mark.parametrize('seed,kind', CASES)
@pytest.mark.parametrize('tolerance,ignore_background', [(5, True), (1, False)])
def test_biou_surrogate_equals_biou_metric(seed, kind, tolerance, ignore_background):
    preds, labels = _maps(seed)
    curves = _random_curves(seed, kind, 2, 2)
    surrogate = biou_surrogate(_one_hot(preds), labels, curves, ignore_index=IGNORE,
                               tolerance=tolerance, ignore_background=ignore_background)
    metric = _evaluate(BoundaryIoUMetric(tolerance=tolerance,
                                         ignore_background=ignore_background), preds, labels)
    assert 0 < metric < 1
    assert float(surrogate) == pytest.approx(metric, abs=1e-5)


@pytest.mark.parametrize('seed,kind', CASES)
@pytest.mark.parametrize('tolerance', [5, 1])
def test_bf1_surrogate_equals_bf1_metric(seed, kind, tolerance):
    preds, labels = _maps(seed)
    curves = _random_curves(seed, kind, 1 if kind == 'bezier' else 2, 4)
    surrogate = bf1_surrogate(_one_hot(preds), labels, curves, ignore_index=IGNORE,
                              tolerance=tolerance)
    metric = _evaluate(BoundaryF1Metric(tolerance=tolerance), preds, labels)
    assert 0 < metric < 1
    assert float(surrogate) == pytest.approx(metric, abs=1e-5)
