"""``ParamAPLoss`` (PAP eq. 6 + eq. 4 + section 3.2) against a dense reference.

The reference uses mmdet's own ``bbox_overlaps`` for (G)IoU, an explicit N x N pair matrix
with the j = i mask, the released function order of the PAP release and a detached
denominator; lambda is checked by comparing box gradients with lambda x the reference's.
"""
import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures.bbox import bbox_overlaps

import mmautoloss  # noqa: F401  (registers ParamAPLoss)
from mmautoloss.models.losses.param_ap_loss import ParamAPLoss
from mmautoloss.testing.released_references import PAP_RETINANET, PAP_RETINANET_LAMBDA

pytestmark = pytest.mark.usefixtures('mmdet_scope')

# the authors' public release: RetinaNet R50-FPN, lambda 4.1231.
RETINANET_FUNCTIONS, RETINANET_LAMBDA = PAP_RETINANET, PAP_RETINANET_LAMBDA
STEP_AT_HALF = [0, 0, 0.25, 0, 0.5, 0, 0.5, 1, 0.75, 1, 1, 1]
STEP_AT_ZERO = [0, 0, 0, 1, 0.25, 1, 0.5, 1, 0.75, 1, 1, 1]


def linear_by_masks(x, flat):
    """Left-continuous piecewise linear f through the flat knots; segment k owns (x_k, x_k+1]."""
    knot = torch.tensor(flat, dtype=torch.float64).reshape(-1, 2).tolist()
    value = torch.zeros_like(x)
    for (x0, y0), (x1, y1) in zip(knot[:-1], knot[1:]):
        if x1 > x0:
            value = torch.where((x > x0) & (x <= x1), y0 + (y1 - y0) / (x1 - x0) * (x - x0),
                                value)
    return value


def dense_reference(scores, pos_mask, pred, gt, functions, mode='giou'):
    overlaps = bbox_overlaps(pred, gt, mode=mode, is_aligned=True, eps=1e-7)
    pos_loc = (overlaps + 1) / 2 if mode == 'giou' else overlaps
    loc = torch.zeros_like(scores).index_put((pos_mask.nonzero()[:, 0], ), pos_loc)
    d = ((scores[None, :] - scores[:, None]).clamp(-1, 1) + 1) / 2  # [i, j]: s_j - s_i
    not_self = ~torch.eye(scores.numel(), dtype=torch.bool)
    f = [lambda x, flat=flat: linear_by_masks(x, flat) for flat in functions]
    numerator = (f[0](d) * not_self * (1 - f[1](loc))[None, :]).sum(1)
    denominator = 1 + (f[4](d) * not_self).detach().sum(1)
    terms = f[3](loc) - numerator / denominator * f[2](loc)
    return 1 - terms.sum() / pos_mask.sum()


def random_batch(seed, num=64, num_pos=10):
    generator = torch.Generator().manual_seed(seed)
    scores = torch.randn(num, generator=generator, dtype=torch.float64) * 2
    scores[5:9] = scores[4]  # ties
    pos_mask = torch.zeros(num, dtype=torch.bool)
    pos_mask[torch.randperm(num, generator=generator)[:num_pos]] = True
    xy = torch.rand(num_pos, 2, generator=generator, dtype=torch.float64) * 40
    gt = torch.cat([xy, xy + 5 + torch.rand(num_pos, 2, generator=generator,
                                            dtype=torch.float64) * 20], 1)
    pred = gt + torch.randn(num_pos, 4, generator=generator, dtype=torch.float64) * 3
    pred[:, 2:] = torch.max(pred[:, 2:], pred[:, :2] + 1)
    pred[0] += 60  # disjoint from its gt
    return scores, pos_mask, pred, gt


def value_and_grads(fn, scores, pos_mask, pred, gt):
    scores = scores.clone().requires_grad_()
    pred = pred.clone().requires_grad_()
    value = fn(scores, pos_mask, pred, gt)
    value.backward()
    return value.detach(), scores.grad, pred.grad


@pytest.mark.parametrize('mode', ['giou', 'iou'])
def test_released_functions_match_dense_reference(mode):
    scores, pos_mask, pred, gt = random_batch(0)
    loss = ParamAPLoss(functions=RETINANET_FUNCTIONS, grad_scale=RETINANET_LAMBDA,
                       loc_measure=mode)
    value, grad_s, grad_b = value_and_grads(loss, scores, pos_mask, pred, gt)
    ref, ref_s, ref_b = value_and_grads(
        lambda *a: dense_reference(*a, RETINANET_FUNCTIONS, mode), scores, pos_mask, pred, gt)
    torch.testing.assert_close(value, ref, rtol=0, atol=1e-9)
    torch.testing.assert_close(grad_s, ref_s, rtol=0, atol=1e-9)
    torch.testing.assert_close(grad_b, RETINANET_LAMBDA * ref_b, rtol=1e-7, atol=1e-10)
    assert grad_b.abs().sum() > 0
    assert (grad_b[0].abs().sum() > 0) == (mode == 'giou')  # IoU: no gradient when disjoint


def test_search_params_and_theta_lambda():
    """params (eq. 8) and theta_lambda reproduce the same loss as points and lambda."""
    points = torch.tensor(RETINANET_FUNCTIONS, dtype=torch.float64).reshape(5, 6, 2)[:, 1:-1]
    # eq. (8): theta_k = (x_k - x_{k-1}) / (1 - x_{k-1}), per axis, x_0 = 0
    previous = torch.cat([torch.zeros(5, 1, 2, dtype=torch.float64), points[:, :-1]], 1)
    params = ((points - previous) / (1 - previous)).flatten().tolist()
    theta_lambda = (torch.log10(torch.tensor(RETINANET_LAMBDA)).item() + 1) / 2
    from_params = ParamAPLoss(params=params, grad_scale_param=theta_lambda)
    from_points = ParamAPLoss(functions=RETINANET_FUNCTIONS, grad_scale=RETINANET_LAMBDA)
    torch.testing.assert_close(from_params.knots, from_points.knots, rtol=0, atol=1e-12)
    assert from_params.grad_scale == pytest.approx(RETINANET_LAMBDA, rel=1e-6)
    batch = random_batch(1)
    for a, b in zip(value_and_grads(from_params, *batch), value_and_grads(from_points, *batch)):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-9)


def test_default_is_identity_functions():
    identity = [[i / 5 for i in range(6) for _ in range(2)]] * 5
    scores, pos_mask, pred, gt = random_batch(2)
    value = ParamAPLoss()(scores, pos_mask, pred, gt)
    torch.testing.assert_close(value, dense_reference(scores, pos_mask, pred, gt, identity),
                               rtol=0, atol=1e-9)


def test_step_functions_and_perfect_boxes_give_one_minus_ap():
    scores = torch.tensor([3.0, 2.5, 2.0, 1.0, 0.5, -1.0, -2.0])
    pos_mask = torch.tensor([True, False, True, False, True, False, False])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 9.0, 20.0], [1.0, 2.0, 3.0, 4.0]])
    loss = ParamAPLoss(functions=[STEP_AT_HALF, STEP_AT_ZERO, STEP_AT_ZERO, STEP_AT_ZERO,
                                  STEP_AT_HALF])
    # positives at ranks 1, 3, 5: AP = (1/1 + 2/3 + 3/5) / 3
    assert loss(scores, pos_mask, boxes, boxes).item() == pytest.approx(
        1 - (1 + 2 / 3 + 3 / 5) / 3, abs=1e-6)


def test_zero_positives_and_loss_weight():
    scores = torch.randn(30, requires_grad=True)
    empty = torch.zeros(0, 4, requires_grad=True)
    loss = ParamAPLoss(loss_weight=2.0)(scores, torch.zeros(30, dtype=torch.bool), empty,
                                        torch.zeros(0, 4))
    loss.backward()
    assert loss.item() == 0 and torch.equal(scores.grad, torch.zeros(30))
    batch = random_batch(3)
    assert ParamAPLoss(loss_weight=2.0)(*batch).item() == pytest.approx(
        2 * ParamAPLoss()(*batch).item(), rel=1e-12)


def test_builds_from_mmdet_registry():
    loss = MMDET_MODELS.build(dict(type='ParamAPLoss', functions=RETINANET_FUNCTIONS,
                                   grad_scale=RETINANET_LAMBDA))
    assert isinstance(loss, ParamAPLoss)
    assert loss.functions()[2] == pytest.approx(RETINANET_FUNCTIONS[2])


def _with(index, position, value):
    functions = [list(f) for f in RETINANET_FUNCTIONS]
    functions[index][position] = value
    return functions


@pytest.mark.parametrize('kwargs, message', [
    (dict(functions=RETINANET_FUNCTIONS[:4]), 'functions'),
    (dict(functions=_with(1, 2, 0.9)), r'functions\[1\]'),  # x not monotone
    (dict(functions=_with(3, 5, 1.2)), r'functions\[3\]'),  # out of [0, 1]
    (dict(functions=_with(0, 0, 0.1)), r'functions\[0\]'),  # end point not (0, 0)
    (dict(functions=_with(4, 11, 0.9)), r'functions\[4\]'),  # end point not (1, 1)
    (dict(functions=_with(2, 4, float('nan'))), r'functions\[2\]'),
    (dict(functions=[f[:10] for f in RETINANET_FUNCTIONS]), r'functions\[0\]'),
    (dict(params=[0.5] * 39), 'params'),
    (dict(params=[0.5] * 39 + [1.5]), r'params\[32:40\] \(f\(s_j - s_i; theta4\)\).*1\.5'),
    (dict(params=[0.5] * 40, functions=RETINANET_FUNCTIONS), 'functions or params'),
    (dict(grad_scale=0.0), 'grad_scale'),
    (dict(grad_scale=-2.0), 'grad_scale'),
    (dict(grad_scale_param=1.5), 'grad_scale_param'),
    (dict(grad_scale=2.0, grad_scale_param=0.5), 'grad_scale_param'),
    (dict(loc_measure='dice'), 'loc_measure'),
    (dict(loss_weight=float('nan')), 'loss_weight'),
    (dict(num_segments=0), 'num_segments'),
])
def test_malformed_config_raises_naming_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ParamAPLoss(**kwargs)


def test_box_count_mismatch_raises():
    scores, pos_mask, pred, gt = random_batch(4)
    with pytest.raises(ValueError, match='pos_pred_boxes'):
        ParamAPLoss()(scores, pos_mask, pred[:-1], gt[:-1])
    with pytest.raises(ValueError, match='gt_boxes'):
        ParamAPLoss()(scores, pos_mask, pred, gt[:-1])
