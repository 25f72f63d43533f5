"""Every released number shipped in configs equals the independent reference.

The literals below are copied from REFERENCE.md (section 2: Auto Seg-Loss released curves on
PASCAL VOC; section 3: Parameterized AP Loss released functions and gradient scales on COCO),
not from the configs, so a typo in a config fails here. Comparisons are exact (==): the
configs must write the released numbers, and the built losses keep them as float64.
"""
import glob
import os

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmautoloss  # noqa: F401  (registers AutoSegLoss and ParamAPLoss)

from mmautoloss.testing import REPO
LOSSES = os.path.join(REPO, 'configs', '_base_', 'losses')
PAPLOSS = os.path.join(REPO, 'configs', 'paploss')

# ---------------------------------------------------------------- REFERENCE.md section 2
ASL_MIOU = [5.69728440e-04, 6.43720450e-01, 3.38589169e-01, 7.05543360e-01, 6.25281252e-01,
            7.79551927e-01, 6.90375570e-01, 1.30628900e-02, 8.34170515e-01, 9.62431815e-01,
            9.42998269e-01, 9.80038125e-01]
ASL_FWIOU = [0.11907931, 0.669945, 0.19315827, 0.71179134, 0.46337387, 0.79494196,
             0.5266451, 0.29869753, 0.706645, 0.4485701, 0.86858255, 0.7261703]
ASL_BIOU = [3.65390355e-04, 9.84171689e-01, 9.69491959e-01, 9.92340326e-01, 9.88328516e-01,
            9.95552719e-01, 3.54609758e-01, 2.67221928e-01, 5.60551465e-01, 4.35290039e-01,
            5.65432191e-01, 6.01448298e-01]
ASL_MACC = [2.1453928e-02, 7.3905742e-01, 4.1163361e-01, 7.9865617e-01, 9.1986191e-01,
            9.5041156e-01]
ASL_BF1 = [0.8113003373146057, 0.8526162505149841, 0.17164576053619385, 0.03164796531200409,
           0.20997394621372223, 0.44903290271759033, 0.07847517728805542, 0.8753038048744202]

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

# ---------------------------------------------------------------- REFERENCE.md section 3
PAP_RETINANET = [
    [0, 0, 0.4182, 0.0277, 0.4948, 0.2187, 0.6882, 0.2624, 0.802, 0.6688, 1, 1],
    [0, 0, 0.1279, 0.3696, 0.3056, 0.4708, 0.5198, 0.529, 0.6983, 0.6709, 1, 1],
    [0, 0, 0.0931, 0.0289, 0.3607, 0.5585, 0.4823, 0.7131, 0.6291, 0.8162, 1, 1],
    [0, 0, 0.4914, 0.1499, 0.5492, 0.1664, 0.6259, 0.3051, 0.7945, 0.6195, 1, 1],
    [0, 0, 0.413, 0.0798, 0.4356, 0.3571, 0.5361, 0.7063, 0.8097, 0.9083, 1, 1]]
PAP_RETINANET_LAMBDA = 4.1231
PAP_RPN = [
    [0, 0, 0.9058, 0.0484, 0.9068, 0.5120, 0.9232, 0.7286, 0.9766, 0.9677, 1, 1],
    [0, 0, 0.3200, 0.1084, 0.3493, 0.2482, 0.4924, 0.3869, 0.7231, 0.6510, 1, 1],
    [0, 0, 0.0935, 0.0419, 0.2177, 0.1168, 0.5857, 0.3748, 0.7962, 0.6683, 1, 1],
    [0, 0, 0.0045, 0.3599, 0.1295, 0.4603, 0.7662, 0.5140, 0.8483, 0.5259, 1, 1],
    [0, 0, 0.1764, 0.1081, 0.5245, 0.4907, 0.6956, 0.5668, 0.7642, 0.8645, 1, 1]]
PAP_RPN_LAMBDA = 1.6950
PAP_RCNN = [
    [0, 0, 0.3344, 0.0268, 0.5460, 0.2461, 0.8196, 0.6466, 0.9467, 0.8617, 1, 1],
    [0, 0, 0.0978, 0.2019, 0.4073, 0.3367, 0.6337, 0.4689, 0.7708, 0.6633, 1, 1],
    [0, 0, 0.2406, 0.0515, 0.3358, 0.5259, 0.6047, 0.6647, 0.8575, 0.7792, 1, 1],
    [0, 0, 0.2574, 0.2363, 0.5442, 0.5999, 0.7165, 0.6548, 0.8728, 0.8331, 1, 1],
    [0, 0, 0.1551, 0.2675, 0.4902, 0.3957, 0.7245, 0.5095, 0.8068, 0.8720, 1, 1]]
PAP_RCNN_LAMBDA = 7.1324
IDENTITY_5 = [0, 0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8, 1, 1]


def released_asl_theta(metric: str) -> list:
    """The released curve coordinates of ``metric`` (gAcc uses the mAcc curve)."""
    return next(theta for _, name, _, theta in ASL_BASES.values() if name == metric)


def released_pap_functions(detector: str) -> list:
    """The released functions of ``'retinanet'``, ``'rpn'`` or ``'rcnn'``."""
    return dict(retinanet=PAP_RETINANET, rpn=PAP_RPN, rcnn=PAP_RCNN)[detector]


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
    if metric in ('BIoU', 'BF1'):  # REFERENCE s.2: tolerance 5 px
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
    # REFERENCE s.3 releases no Deformable DETR functions: identity f(x) = x, lambda = 1
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
