import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmautoloss.engine.hooks import MetricsDumpHook

TOY_DIR = Path(__file__).resolve().parents[1] / 'assets' / 'toy_job'


def test_writes_latest_metrics_atomically(tmp_path):
    hook = MetricsDumpHook()
    runner = SimpleNamespace(work_dir=str(tmp_path), iter=4, epoch=0)
    hook.after_val_epoch(runner, metrics={'mIoU': 1.0})
    runner.iter = 8
    hook.after_val_epoch(runner, metrics={
        'mIoU': np.float32(45.5), 'coco/bbox_mAP': torch.tensor(0.25), 'n': np.int64(3),
        'per_class': np.array([1.0, 2.0]), 'bad': float('nan'), 'name': 'x', 'obj': object})
    written = json.loads((tmp_path / 'metrics.json').read_text())
    assert written['mIoU'] == 45.5 and written['coco/bbox_mAP'] == 0.25 and written['n'] == 3
    assert written['per_class'] == [1.0, 2.0] and written['name'] == 'x'
    assert written['bad'] != written['bad']  # NaN kept visible for the reader to reject
    assert written['obj'] == str(object)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['metrics.json',
                                                          'metrics_history.jsonl']
    # every validation in order, with its iteration, for early stopping to read
    history = [json.loads(line) for line in
               (tmp_path / 'metrics_history.jsonl').read_text().splitlines()]
    assert [(h['iter'], h['metrics']['mIoU']) for h in history] == [(4, 1.0), (8, 45.5)]


def test_no_metrics_no_file_and_bad_filename(tmp_path):
    MetricsDumpHook().after_val_epoch(SimpleNamespace(work_dir=str(tmp_path)), metrics=None)
    assert not (tmp_path / 'metrics.json').exists()
    with pytest.raises(ValueError, match="filename='a/b.json'"):
        MetricsDumpHook(filename='a/b.json')


@pytest.mark.training
def test_real_runner_dumps_last_validation(tmp_path, monkeypatch):
    """Validation at iterations 4 and 8 of a real Runner: the file holds the MSE of the final
    model, recomputed here with a plain loop."""
    monkeypatch.syspath_prepend(str(TOY_DIR))
    from mmengine.config import Config
    from mmengine.runner import Runner
    from toy_job_modules import ToyRegressionDataset
    cfg = Config.fromfile(str(TOY_DIR / 'toy_job_config.py'))
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.val_interval = 4
    cfg.default_hooks.checkpoint.interval = 100
    cfg.custom_hooks = [dict(type='MetricsDumpHook')]
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    val = ToyRegressionDataset(num_samples=8, seed=1)
    w, b = float(model.linear.weight.detach()), float(model.linear.bias.detach())
    mse = sum((w * float(val[i]['inputs']) + b - float(val[i]['data_samples'])) ** 2
              for i in range(len(val))) / len(val)
    written = json.loads((tmp_path / 'metrics.json').read_text())
    assert set(written) == {'toy/mse', 'toy/score'}
    assert written['toy/mse'] == pytest.approx(mse, rel=1e-5)
    assert written['toy/score'] == pytest.approx(-mse, rel=1e-5)
    history = [json.loads(line) for line in
               (tmp_path / 'metrics_history.jsonl').read_text().splitlines()]
    assert [h['iter'] for h in history] == [4, 8] and history[-1]['metrics'] == written
