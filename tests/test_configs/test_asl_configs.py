"""Every config under configs/asl loads with mmengine (mmseg:: bases resolved) and its
losses build through mmseg's MODELS registry."""
import glob
import os

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

import mmautoloss  # noqa: F401  (registers AutoSegLoss and the metrics)
from mmautoloss.testing import REPO

pytestmark = pytest.mark.usefixtures('mmseg_scope')

CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'asl', '*.py')))
SIX_METRICS = ['IoUMetric', 'FWIoUMetric', 'BoundaryIoUMetric', 'BoundaryF1Metric']


def test_all_released_surrogates_have_voc_and_cityscapes_configs():
    names = {os.path.basename(path).split('_')[0] for path in CONFIGS}
    expected = {f'asl-{k}' for k in ('miou', 'fwiou', 'biou', 'bf1', 'macc', 'gacc',
                                     'miou-biou', 'miou-bf1')}
    assert expected <= names
    for stem in expected:
        datasets = [p for p in CONFIGS if os.path.basename(p).startswith(stem + '_')]
        assert sorted('voc12aug' in p for p in datasets) == [False, True], stem


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_config_loads_and_builds_its_losses(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports['imports'] == ['mmautoloss']
    assert [m['type'] for m in cfg.val_evaluator] == SIX_METRICS
    head = cfg.model.decode_head
    losses = head.loss_decode if isinstance(head.loss_decode, list) else [head.loss_decode]
    stem = os.path.basename(path).split('_')[0]
    expected = {'asl-miou-biou': ['mIoU', 'BIoU'], 'asl-miou-bf1': ['mIoU', 'BF1']}.get(
        stem, [stem[len('asl-'):]] if stem.startswith('asl-') else ['mIoU'])
    assert [loss['metric'].lower() for loss in losses] == [m.lower() for m in expected]
    built = [MODELS.build(loss) for loss in losses]
    assert all(type(module).__name__ == 'AutoSegLoss' for module in built)
    assert len({module.loss_name for module in built}) == len(built)
    if stem.startswith('asl-'):
        assert cfg.model.auxiliary_head is None
        assert cfg.model.backbone.depth == 101 and head.num_classes in (19, 21)
        assert all(loss.get('theta') is not None for loss in losses)
