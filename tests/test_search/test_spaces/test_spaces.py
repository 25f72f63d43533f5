"""Search spaces: candidate vectors <-> AutoSegLoss / ParamAPLoss config overrides."""
import copy
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmautoloss.functional.seg_surrogates import SURROGATES
from mmautoloss.search.spaces import ASLSpace, PAPSpace
from mmautoloss.search.spaces.asl_space import CURVE_NAMES

# released parameters of the ASL / PAP public releases (control-point coordinates)
ASL_MIOU_THETA = [5.69728440e-04, 6.43720450e-01, 3.38589169e-01, 7.05543360e-01,
                  6.25281252e-01, 7.79551927e-01, 6.90375570e-01, 1.30628900e-02,
                  8.34170515e-01, 9.62431815e-01, 9.42998269e-01, 9.80038125e-01]
PAP_RETINANET = [[0, 0, 0.4182, 0.0277, 0.4948, 0.2187, 0.6882, 0.2624, 0.802, 0.6688, 1, 1],
                 [0, 0, 0.1279, 0.3696, 0.3056, 0.4708, 0.5198, 0.529, 0.6983, 0.6709, 1, 1],
                 [0, 0, 0.0931, 0.0289, 0.3607, 0.5585, 0.4823, 0.7131, 0.6291, 0.8162, 1, 1],
                 [0, 0, 0.4914, 0.1499, 0.5492, 0.1664, 0.6259, 0.3051, 0.7945, 0.6195, 1, 1],
                 [0, 0, 0.413, 0.0798, 0.4356, 0.3571, 0.5361, 0.7063, 0.8097, 0.9083, 1, 1]]


def seg_proxy(**loss):
    loss = loss or dict(type='AutoSegLoss', metric='mIoU', num_classes=5, loss_weight=2.0,
                        theta=[0.1] * 12)
    return Config(dict(model=dict(decode_head=dict(loss_decode=loss))))


def points_by_recursion(raw):
    """The PAP release's parameterization: point_0 = raw_0,
    point_p = point_{p-1} + raw_p (1 - point_{p-1})."""
    points, previous = [], 0.0
    for value in raw:
        previous = previous + value * (1 - previous)
        points.append(previous)
    return points


@pytest.mark.parametrize('metric,dim', [('mIoU', 12), ('FWIoU', 12), ('BIoU', 12), ('mAcc', 6),
                                        ('gAcc', 6), ('BF1', 8)])
def test_asl_dims_per_metric(metric, dim):
    assert ASLSpace(metric).dim == dim
    assert len(CURVE_NAMES[metric]) == SURROGATES[metric][1]


def test_asl_linear_dims():
    assert ASLSpace('mIoU', parameterization='linear', num_segments=5).dim == 2 * 4 * 2
    with pytest.raises(ValueError, match='num_segments'):
        ASLSpace('mIoU', parameterization='linear', num_segments=1)


def test_asl_identity_mean_gives_identity_curves():
    for space in (ASLSpace('mIoU'), ASLSpace('BF1'), ASLSpace('mAcc', 'k', 'linear', 4)):
        curves = space.curves(space.initial_mean())
        assert list(curves) == list(space.curve_names)
        x = torch.linspace(0, 1, 17, dtype=torch.float64)
        for curve in curves.values():
            torch.testing.assert_close(curve(x), x)


def test_asl_overrides_round_trip_and_keep_proxy_settings():
    space = ASLSpace('mIoU')
    space.bind(seg_proxy())
    candidate = np.random.default_rng(0).random(12).tolist()
    overrides = space.to_overrides(candidate)
    loss = overrides['model.decode_head.loss_decode']
    assert loss == dict(_delete_=True, type='AutoSegLoss', metric='mIoU', num_classes=5,
                        loss_weight=2.0, parameterization='bezier', num_segments=2,
                        params=candidate)
    assert space.from_overrides(overrides) == candidate
    merged = seg_proxy()
    merged.merge_from_dict(copy.deepcopy(overrides))
    assert 'theta' not in merged.model.decode_head.loss_decode
    assert merged.model.decode_head.loss_decode.params == candidate


def test_asl_from_released_theta():
    space = ASLSpace('mIoU')
    candidate = space.from_overrides({'model.decode_head.loss_decode': dict(
        type='AutoSegLoss', metric='mIoU', theta=ASL_MIOU_THETA)})
    for c, name in enumerate(('g_AND', 'g_OR')):
        raw = np.array(candidate[6 * c:6 * c + 6]).reshape(3, 2)
        xs, ys = points_by_recursion(raw[:, 0]), points_by_recursion(raw[:, 1])
        expected = np.array(ASL_MIOU_THETA[6 * c:6 * c + 6]).reshape(3, 2)
        np.testing.assert_allclose(np.stack([xs, ys], 1), expected, atol=1e-12)
        np.testing.assert_allclose(space.curves(candidate)[name].points.numpy(), expected,
                                   atol=1e-12)


def test_asl_errors_name_the_problem():
    with pytest.raises(ValueError, match="'F1'"):
        ASLSpace('F1')
    with pytest.raises(ValueError, match='parameterization'):
        ASLSpace('mIoU', parameterization='spline')
    space = ASLSpace('mIoU')
    with pytest.raises(ValueError, match='candidate must have 12'):
        space.to_overrides([0.5] * 11)
    with pytest.raises(ValueError, match=r'candidate\[3\].*nan'):
        space.to_overrides([0.5] * 3 + [math.nan] + [0.5] * 8)
    with pytest.raises(ValueError, match=r'candidate\[0\].*1.5'):
        space.to_overrides([1.5] + [0.5] * 11)
    with pytest.raises(ValueError, match="'model.decode_head.loss_decode'.*'model.decode_head'"):
        space.bind(Config(dict(model=dict(backbone=dict()))))
    with pytest.raises(ValueError, match='loss dict'):
        space.bind(Config(dict(model=dict(decode_head=dict(
            loss_decode=[dict(type='AutoSegLoss')])))))
    with pytest.raises(ValueError, match='metric'):
        space.from_overrides({'model.decode_head.loss_decode': dict(
            type='AutoSegLoss', metric='BIoU', params=[0.5] * 12)})


def test_asl_other_loss_type_is_replaced_with_a_warning():
    space = ASLSpace('mAcc')
    with pytest.warns(UserWarning, match='CrossEntropyLoss'):
        space.bind(seg_proxy(type='CrossEntropyLoss', use_sigmoid=False))
    loss = space.to_overrides(space.initial_mean())['model.decode_head.loss_decode']
    assert 'use_sigmoid' not in loss and loss['type'] == 'AutoSegLoss'


def test_pap_dims_and_identity():
    retina = PAPSpace(['model.bbox_head.loss_ap'])
    assert retina.dim == 41
    faster = PAPSpace(['model.rpn_head.loss_ap', 'model.roi_head.bbox_head.loss_ap'])
    assert faster.dim == 82
    head = [0.2, 0.2, 0.25, 0.25, 1 / 3, 1 / 3, 0.5, 0.5] * 5 + [0.5]
    np.testing.assert_allclose(faster.initial_mean(), head * 2, atol=1e-12)
    overrides = retina.to_overrides(retina.initial_mean())
    assert overrides['model.bbox_head.loss_ap']['grad_scale'] == pytest.approx(1.0)
    assert len(faster.curves(faster.initial_mean())) == 10


def test_pap_round_trip_with_released_functions():
    space = PAPSpace(['model.bbox_head.loss_ap'])
    released = {'model.bbox_head.loss_ap': dict(type='ParamAPLoss', functions=PAP_RETINANET,
                                             grad_scale=4.1231)}
    candidate = space.from_overrides(released)
    assert candidate[-1] == pytest.approx((math.log10(4.1231) + 1) / 2)
    loss = space.to_overrides(candidate)['model.bbox_head.loss_ap']
    assert loss['grad_scale'] == pytest.approx(4.1231)
    assert loss['num_segments'] == 5 and len(loss['params']) == 40
    for f, knots in enumerate(PAP_RETINANET):
        raw = np.array(loss['params'][8 * f:8 * f + 8]).reshape(4, 2)
        xs, ys = points_by_recursion(raw[:, 0]), points_by_recursion(raw[:, 1])
        np.testing.assert_allclose(np.stack([xs, ys], 1).ravel(), knots[2:-2], atol=1e-12)
    assert space.from_overrides(space.to_overrides(candidate)) == pytest.approx(candidate)


def test_pap_grad_scale_mapping_and_errors():
    space = PAPSpace(['a.loss', 'b.loss'])
    space.bind(Config(dict(a=dict(loss=dict(type='ParamAPLoss', loss_weight=3.0,
                                            grad_scale_param=0.2)),
                           b=dict(loss=dict(type='ParamAPLoss')))))
    candidate = [0.5] * 40 + [0.8] + [0.5] * 40 + [0.0]
    overrides = space.to_overrides(candidate)
    assert overrides['a.loss']['grad_scale'] == pytest.approx(10 ** 0.6)
    assert overrides['b.loss']['grad_scale'] == pytest.approx(0.1)
    assert overrides['a.loss']['loss_weight'] == 3.0
    assert 'grad_scale_param' not in overrides['a.loss']
    with pytest.raises(ValueError, match='keys'):
        PAPSpace('model.bbox_head.loss_ap')
    with pytest.raises(ValueError, match='distinct'):
        PAPSpace(['a', 'a'])
    with pytest.raises(ValueError, match='num_segments'):
        PAPSpace(['a'], num_segments=1)
    with pytest.raises(ValueError, match="'b.loss'"):
        space.from_overrides({'a.loss': overrides['a.loss']})


def test_overrides_build_the_registered_losses():
    """The override dicts are accepted by the real AutoSegLoss / ParamAPLoss."""
    from mmautoloss.registry import MODELS
    rng = np.random.default_rng(1)
    cases = [(ASLSpace('mIoU'), dict(num_classes=4)), (ASLSpace('BF1'), dict(num_classes=4)),
             (ASLSpace('mAcc', parameterization='linear', num_segments=3), dict(num_classes=4)),
             (PAPSpace(['model.bbox_head.loss_ap']), {})]
    for space, extra in cases:
        for candidate in (space.initial_mean(), rng.random(space.dim).tolist()):
            (loss, ) = space.to_overrides(candidate).values()
            loss = {k: v for k, v in loss.items() if k != '_delete_'}
            loss.update(extra)
            module = MODELS.build(loss)
            assert type(module).__name__ == space.loss_type


def test_loss_options_are_fixed_settings_of_every_candidate():
    from mmautoloss.registry import MODELS
    space = ASLSpace('BF1', loss_options=dict(boundary_tolerance=1))
    space.bind(seg_proxy())
    candidate = np.random.default_rng(2).random(space.dim).tolist()
    loss = space.to_overrides(candidate)['model.decode_head.loss_decode']
    assert loss['boundary_tolerance'] == 1 and loss['metric'] == 'BF1'
    assert loss['params'] == candidate and loss['num_classes'] == 5
    module = MODELS.build({k: v for k, v in loss.items() if k != '_delete_'})
    assert module.boundary_tolerance == 1
    assert space.from_overrides({'model.decode_head.loss_decode': loss}) == candidate
    for options in (dict(params=[0.5]), dict(type='CrossEntropyLoss'), [1]):
        with pytest.raises(ValueError, match='loss_options'):
            ASLSpace('BF1', loss_options=options)
    pap = PAPSpace(['model.bbox_head.loss_ap'], loss_options=dict(loc_measure='iou'))
    (pap_loss, ) = pap.to_overrides(pap.initial_mean()).values()
    assert pap_loss['loc_measure'] == 'iou' and pap_loss['grad_scale'] == pytest.approx(1.0)


def test_pap_grad_scale_none_reads_as_one():
    space = PAPSpace(['model.bbox_head.loss_ap'])
    loss = dict(type='ParamAPLoss', functions=None, grad_scale=None,
                params=space.initial_mean()[:-1])
    assert space.from_overrides({'model.bbox_head.loss_ap': loss})[-1] == pytest.approx(0.5)


def test_the_interfaces_are_abstract_and_the_vector_space_is_beside_the_formula_space():
    from mmautoloss.search.searchers import BaseSearcher
    from mmautoloss.search.spaces import BaseSpace, FormulaSpace, PAPSpace, VectorSpace
    assert issubclass(PAPSpace, VectorSpace) and not issubclass(FormulaSpace, VectorSpace)
    assert issubclass(FormulaSpace, BaseSpace)
    with pytest.raises(TypeError, match='abstract'):
        BaseSpace(['model.loss'])
    with pytest.raises(TypeError, match='abstract'):
        VectorSpace(['model.loss'])
    with pytest.raises(TypeError, match='abstract'):
        BaseSearcher(num_rounds=1, samples_per_round=1)
