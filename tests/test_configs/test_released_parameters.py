"""Every released number shipped in configs equals the independent reference.

The released numbers (``mmautoloss.testing.released_references``) are copied from the
authors' public releases, not from the configs, so a typo in a config fails here.
Comparisons are exact (==): the configs must write the released numbers, and the built
losses keep them as float64.
"""
import glob
import os

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmautoloss  # noqa: F401  (registers AutoSegLoss and ParamAPLoss)
from mmautoloss.testing import REPO
from mmautoloss.testing.released_references import (
    ASL_BF1,
    ASL_BIOU,
    ASL_FWIOU,
    ASL_MACC,
    ASL_MIOU,
    PAP_RCNN,
    PAP_RCNN_LAMBDA,
    PAP_RETINANET,
    PAP_RETINANET_LAMBDA,
    PAP_RPN,
    PAP_RPN_LAMBDA,
)

LOSSES = os.path.join(REPO, 'configs', '_base_', 'losses')
PAPLOSS = os.path.join(REPO, 'configs', 'paploss')

# base loss file stem -> (config variable, metric, num_segments, released theta)
ASL_BASES = {
    'miou': ('asl_miou', 'mIoU', 2, ASL_MIOU),
    'fwiou': ('asl_fwiou', 'FWIoU', 2, ASL_FWIOU),
    'biou': ('asl_biou', 'BIoU', 2, ASL_BIOU),
    'bf1': ('asl_bf1', 'BF1', 1, ASL_BF1),
    'macc': ('asl_macc', 'mAcc', 2, ASL_MACC),
    'gacc': ('asl_gacc', 'gAcc', 2, ASL_MACC),  # gAcc was trained with the mAcc curve
}
# released config stem -> the surrogates of its decode head, in order
ASL_RELEASED = {
    'asl-miou': ['miou'], 'asl-fwiou': ['fwiou'], 'asl-biou': ['biou'], 'asl-bf1': ['bf1'],
    'asl-macc': ['macc'], 'asl-gacc': ['gacc'], 'asl-miou-biou': ['miou', 'biou'],
    'asl-miou-bf1': ['miou', 'bf1'],
}
ASL_CONFIGS = sorted(
    path for path in glob.glob(os.path.join(REPO, 'configs', 'asl', 'asl-*.py')))

IDENTITY_5 = [0, 0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8, 1, 1]


def build_asl(loss_cfg):
    from mmseg.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(dict(loss_cfg))


def build_pap(loss_cfg):
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(dict(loss_cfg))


# ------------------------------------------------------------------------------ ASL
@pytest.mark.parametrize('stem', sorted(ASL_BASES))
def test_asl_base_loss_holds_the_released_curves(stem):
    variable, metric, num_segments, theta = ASL_BASES[stem]
    cfg = Config.fromfile(os.path.join(LOSSES, f'asl_voc_{stem}.py'))
    loss = cfg[variable]
    assert loss['type'] == 'AutoSegLoss' and loss['metric'] == metric
    assert loss['parameterization'] == 'bezier' and loss['num_segments'] == num_segments
    assert list(loss['theta']) == theta
    built = build_asl(loss)
    assert built.theta() == theta
    assert built.formulation == 'release'  # the arithmetic that produced the paper's numbers
    if metric in ('BIoU', 'BF1'):  # the ASL release: tolerance 5 px
        assert built.boundary_tolerance == 5
    if metric == 'BIoU':  # background excluded from the BIoU boundaries
        assert built.ignore_background_boundary is True


def test_every_released_asl_config_is_checked():
    stems = {os.path.basename(path).split('_')[0] for path in ASL_CONFIGS}
    assert stems == set(ASL_RELEASED)
    assert len(ASL_CONFIGS) == 2 * len(ASL_RELEASED)  # VOC and Cityscapes


@pytest.mark.parametrize('path', ASL_CONFIGS, ids=os.path.basename)
def test_released_asl_config_uses_the_right_curves(path):
    expected = ASL_RELEASED[os.path.basename(path).split('_')[0]]
    cfg = Config.fromfile(path)
    losses = cfg.model.decode_head.loss_decode
    losses = losses if isinstance(losses, list) else [losses]
    assert len(losses) == len(expected)
    for loss, stem in zip(losses, expected):
        _, metric, num_segments, theta = ASL_BASES[stem]
        assert loss['metric'] == metric and loss['num_segments'] == num_segments
        assert list(loss['theta']) == theta
        assert build_asl(loss).theta() == theta


# ------------------------------------------------------------------------------ PAP
def check_pap_loss(loss, functions, grad_scale):
    assert loss['type'] == 'ParamAPLoss' and loss['num_segments'] == 5
    assert loss['loc_measure'] == 'giou'
    assert [list(f) for f in loss['functions']] == functions
    assert loss['grad_scale'] == grad_scale
    built = build_pap(loss)
    assert built.functions() == functions
    assert built.grad_scale == grad_scale
    assert built.formulation == 'release' and built.num_topk == 100000


def test_released_retinanet_config_holds_the_released_loss():
    cfg = Config.fromfile(os.path.join(PAPLOSS, 'retinanet_r50_fpn_paploss_8xb8-1x_coco.py'))
    assert cfg.model.bbox_head.type == 'ParamAPRetinaHead'
    check_pap_loss(cfg.model.bbox_head.loss_ap, PAP_RETINANET, PAP_RETINANET_LAMBDA)


def test_released_faster_rcnn_config_holds_the_released_losses():
    cfg = Config.fromfile(os.path.join(PAPLOSS, 'faster-rcnn_r50_fpn_paploss_8xb8-1x_coco.py'))
    assert cfg.model.rpn_head.type == 'ParamAPRPNHead'
    assert cfg.model.roi_head.bbox_head.type == 'ParamAPBBoxHead'
    check_pap_loss(cfg.model.rpn_head.loss_ap, PAP_RPN, PAP_RPN_LAMBDA)
    check_pap_loss(cfg.model.roi_head.bbox_head.loss_ap, PAP_RCNN, PAP_RCNN_LAMBDA)


def test_released_deformable_detr_config_uses_identity_functions():
    # the PAP release has no Deformable DETR functions: identity f(x) = x, lambda = 1
    cfg = Config.fromfile(os.path.join(PAPLOSS, 'deformable-detr_r50_paploss_8xb4-50e_coco.py'))
    assert cfg.model.bbox_head.type == 'ParamAPDeformableDETRHead'
    loss = cfg.model.bbox_head.loss_ap
    assert loss['type'] == 'ParamAPLoss' and loss['num_segments'] == 5
    assert loss['functions'] is None and loss.get('params') is None
    assert loss['grad_scale'] == 1.0 and loss.get('grad_scale_param') is None
    built = build_pap(loss)
    for function in built.functions():
        assert function == pytest.approx(IDENTITY_5, rel=0, abs=1e-12)
    assert built.grad_scale == 1.0
