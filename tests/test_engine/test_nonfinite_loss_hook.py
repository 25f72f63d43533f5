import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from mmautoloss.engine.hooks import NonFiniteLossError, NonFiniteLossHook
from mmautoloss.registry import HOOKS

TOY_DIR = Path(__file__).resolve().parents[1] / 'assets' / 'toy_job'


def _runner(tmp_path, it):
    return SimpleNamespace(iter=it, work_dir=str(tmp_path))


def test_finite_losses_pass(tmp_path):
    hook = NonFiniteLossHook(check_iters=5)
    for it in range(5):
        hook.after_train_iter(_runner(tmp_path, it), it, outputs=dict(
            loss=torch.tensor(1.5), loss_cls=torch.tensor([0.5, 1.0]), acc=torch.tensor(math.nan)))
    assert not (tmp_path / 'nonfinite.json').exists()


@pytest.mark.parametrize('outputs, bad', [
    (dict(loss=torch.tensor(math.nan), loss_cls=torch.tensor(0.2)), ['loss']),
    (dict(loss=torch.tensor(1.0), loss_bbox=torch.tensor([1.0, math.inf])), ['loss_bbox']),
    (dict(loss=-math.inf), ['loss']),
])
def test_nonfinite_loss_within_window_writes_marker_and_raises(tmp_path, outputs, bad):
    hook = HOOKS.build(dict(type='NonFiniteLossHook', check_iters=5))
    with pytest.raises(NonFiniteLossError, match='iter 4'):
        hook.after_train_iter(_runner(tmp_path, 4), 0, outputs=outputs)
    marker = json.loads((tmp_path / 'nonfinite.json').read_text())
    assert marker['iter'] == 4 and marker['check_iters'] == 5
    assert sorted(marker['losses']) == bad


def test_nonfinite_loss_after_window_is_ignored(tmp_path):
    hook = NonFiniteLossHook(check_iters=5)
    hook.after_train_iter(_runner(tmp_path, 5), 0, outputs=dict(loss=torch.tensor(math.nan)))
    NonFiniteLossHook(check_iters=0).after_train_iter(
        _runner(tmp_path, 0), 0, outputs=dict(loss=torch.tensor(math.nan)))
    assert not (tmp_path / 'nonfinite.json').exists()


@pytest.mark.parametrize('value', [-1, 2.5, True])
def test_bad_check_iters(value):
    with pytest.raises(ValueError, match=f'check_iters={value!r}'):
        NonFiniteLossHook(check_iters=value)


@pytest.mark.training
def test_stops_a_real_runner(tmp_path, monkeypatch):
    """A real mmengine Runner whose loss turns NaN at iteration 3 stops there."""
    monkeypatch.syspath_prepend(str(TOY_DIR))
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(TOY_DIR / 'toy_job_config.py'))
    cfg.model.nan_from_iter = 3
    cfg.work_dir = str(tmp_path)
    cfg.custom_hooks = [dict(type='NonFiniteLossHook', check_iters=20)]
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError):
        runner.train()
    marker = json.loads((tmp_path / 'nonfinite.json').read_text())
    assert marker['iter'] == 3 and set(marker['losses']) == {'loss', 'loss_mse'}
    assert runner.model.train_forwards == 4  # stopped right after the first NaN iteration
