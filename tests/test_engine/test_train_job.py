import os
import subprocess
import sys

import pytest
import torch
from mmengine.runner import Runner

from mmautoloss.engine.train_job import build_config, parse_args
from mmautoloss.testing import REPO

TOY_DIR = REPO / 'tests' / 'assets' / 'toy_job'
TOY_CONFIG = str(TOY_DIR / 'toy_job_config.py')


def test_build_config_applies_cli_options(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TOY_DIR))  # Config.fromfile runs custom_imports
    args = parse_args([TOY_CONFIG, '--work-dir', str(tmp_path), '--resume', '--cfg-options',
                       'train_cfg.max_iters=3', 'model.nan_from_iter=7'])
    cfg = build_config(args)
    assert cfg.work_dir == str(tmp_path) and cfg.launcher == 'none'
    assert cfg.train_cfg.max_iters == 3 and cfg.model.nan_from_iter == 7
    assert cfg.resume is True and cfg.load_from is None
    cfg = build_config(parse_args([TOY_CONFIG]))
    assert cfg.work_dir == os.path.join('./work_dirs', 'toy_job_config')
    assert cfg.get('resume', False) is False
    with pytest.raises(ValueError, match="config='/no/such.py'"):
        build_config(parse_args(['/no/such.py']))


def _train_job(work_dir, *extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOY_DIR), str(REPO)]),
               OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, '-m', 'mmautoloss.engine.train_job', TOY_CONFIG,
                           '--work-dir', str(work_dir), *extra], env=env, cwd=str(REPO),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.training
def test_train_then_resume(tmp_path, monkeypatch):
    """4 iterations (in this process), then the job with --resume and max_iters=8 continues
    from iter_4.pth (torch >= 2.6 loads checkpoints with weights_only=True)."""
    monkeypatch.syspath_prepend(str(TOY_DIR))
    cfg = build_config(parse_args([TOY_CONFIG, '--work-dir', str(tmp_path), '--cfg-options',
                                   'train_cfg.max_iters=4', 'train_cfg.val_interval=4']))
    Runner.from_cfg(cfg).train()
    assert (tmp_path / 'iter_4.pth').exists() and not (tmp_path / 'iter_8.pth').exists()
    second = _train_job(tmp_path, '--resume')
    assert second.returncode == 0, second.stderr[-3000:]
    log = second.stdout + second.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/8]' in log and 'Iter(train) [1/8]' not in log
    meta = torch.load(tmp_path / 'iter_8.pth', map_location='cpu', weights_only=False)['meta']
    assert meta['iter'] == 8
