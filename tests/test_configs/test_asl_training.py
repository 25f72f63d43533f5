"""The ASL proxy (configs/proxies/asl_toyseg.py) trains on CPU with each of the six surrogates.

A freshly generated tiny ToySeg set, a few iterations each; the final validation must report
the six metrics of ASL Table 1 as finite numbers.
"""
import math
import os

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmautoloss.datasets.toy_segmentation import generate_toyseg
from mmautoloss.testing import REPO

pytestmark = pytest.mark.usefixtures('mmseg_scope')

METRIC_KEYS = ('aAcc', 'mIoU', 'mAcc', 'FWIoU', 'BIoU', 'BF1')
ITERS = 3


@pytest.fixture(scope='module')
def toyseg_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('toyseg')
    generate_toyseg(str(root), seed=0, num_train=4, num_val=2, size=32)
    return str(root)


def _proxy_cfg(metric: str, data_root: str, work_dir: str,
               formulation: str = 'paper') -> Config:
    cfg = Config.fromfile(os.path.join(REPO, 'configs', 'proxies', 'asl_toyseg.py'))
    cfg.work_dir = work_dir
    cfg.log_level = 'WARNING'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.batch_size = 2
        loader.dataset.data_root = data_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_iters = ITERS
    cfg.train_cfg.val_interval = ITERS
    cfg.param_scheduler[0].end = ITERS
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.model.decode_head.loss_decode = dict(type='AutoSegLoss', metric=metric, num_classes=5,
                                             formulation=formulation)
    return cfg


@pytest.mark.training
@pytest.mark.parametrize('metric, formulation', [
    ('mIoU', 'paper'), ('FWIoU', 'paper'), ('BIoU', 'paper'), ('BF1', 'paper'),
    ('mAcc', 'paper'), ('gAcc', 'paper'), ('BF1', 'release'), ('BIoU', 'release')])
def test_proxy_trains_and_reports_six_metrics(metric, formulation, toyseg_root, tmp_path):
    runner = Runner.from_cfg(_proxy_cfg(metric, toyseg_root, str(tmp_path), formulation))
    runner.train()
    loss = runner.message_hub.get_scalar(f'train/decode.loss_asl_{metric.lower()}')
    assert runner.iter == ITERS
    # 1 - BF1 of the release form can leave [0, 1] (its soft edge is no probability)
    assert math.isfinite(loss.current())
    if formulation == 'paper':
        assert 0 <= loss.current() <= 1
    metrics = runner.message_hub.log_scalars
    for key in METRIC_KEYS:
        value = metrics[f'val/{key}'].current()
        assert math.isfinite(value) and 0 <= value <= 100, (key, value)
