import json
import math
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmautoloss.search.trial import (
    TrialResult,
    TrialSpec,
    judge_trial,
    read_log_tail,
    write_trial_config,
)

PROXY = """
custom_imports = dict(imports=['toy_job_modules'], allow_failed_imports=False)
model = dict(
    type='Seg',
    decode_head=dict(type='Head', loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False)),
    backbone=dict(depth=50))
custom_hooks = [dict(type='EMAHook')]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4))
train_cfg = dict(max_iters=1000)
"""


@pytest.fixture
def proxy(tmp_path):
    path = tmp_path / 'proxy.py'
    path.write_text(PROXY)
    return str(path)


def _spec(tmp_path, overrides=None, trial_id='t0'):
    return TrialSpec(trial_id=trial_id, candidate=[0.1, 0.2], overrides=overrides or {},
                     work_dir=str(tmp_path / trial_id))


def test_trial_config_merges_overrides_and_adds_hooks(tmp_path, proxy):
    overrides = {
        'model.decode_head.loss_decode': dict(_delete_=True, type='AutoSegLoss', params=[0.5]),
        'model.backbone.depth': 18,
        'train_cfg.max_iters': 20,
    }
    spec = _spec(tmp_path, overrides)
    path = write_trial_config(spec, proxy, nonfinite_check_iters=7)
    assert path == osp.join(spec.work_dir, 'config.py')
    cfg = Config.fromfile(path, import_custom_modules=False)
    assert cfg.model.decode_head.loss_decode == dict(type='AutoSegLoss', params=[0.5])
    assert cfg.model.backbone.depth == 18 and cfg.model.type == 'Seg'
    assert cfg.train_cfg.max_iters == 20
    assert cfg.work_dir == spec.work_dir
    assert cfg.custom_imports.imports == ['toy_job_modules', 'mmautoloss']
    assert [h['type'] for h in cfg.custom_hooks] == ['EMAHook', 'NonFiniteLossHook',
                                                     'MetricsDumpHook']
    assert cfg.custom_hooks[1]['check_iters'] == 7
    # the caller's overrides are not consumed by the merge (`_delete_` is popped on a copy)
    assert overrides['model.decode_head.loss_decode']['_delete_'] is True


def test_trial_config_saves_no_checkpoints_unless_asked(tmp_path, proxy):
    spec = _spec(tmp_path)
    hook = Config.fromfile(write_trial_config(spec, proxy, 20),
                           import_custom_modules=False).default_hooks.checkpoint
    assert hook.interval == -1 and hook.save_last is False
    kept = Config.fromfile(write_trial_config(spec, proxy, 20, keep_checkpoints=True),
                           import_custom_modules=False).default_hooks.checkpoint
    assert kept.interval == 4 and 'save_last' not in kept


def test_trial_config_without_delete_merges_into_existing_dict(tmp_path, proxy):
    spec = _spec(tmp_path, {'model.decode_head.loss_decode': dict(type='AutoSegLoss')})
    cfg = Config.fromfile(write_trial_config(spec, proxy, 20), import_custom_modules=False)
    assert cfg.model.decode_head.loss_decode == dict(type='AutoSegLoss', use_sigmoid=False)


def test_trial_config_from_parsed_config_leaves_it_unchanged(tmp_path, proxy):
    parsed = Config.fromfile(proxy, import_custom_modules=False)
    before = parsed.to_dict()
    spec = _spec(tmp_path, {'model.backbone.depth': 18})
    cfg = Config.fromfile(write_trial_config(spec, parsed, 20), import_custom_modules=False)
    assert cfg.model.backbone.depth == 18 and len(cfg.custom_hooks) == 3
    assert parsed.to_dict() == before


def test_trial_config_removes_stale_outcome_files(tmp_path, proxy):
    spec = _spec(tmp_path)
    write_trial_config(spec, proxy, 20)
    for name in ('metrics.json', 'nonfinite.json', 'metrics_history.jsonl'):
        with open(osp.join(spec.work_dir, name), 'w') as f:
            f.write('{}')
    write_trial_config(spec, proxy, 20)
    assert not osp.exists(osp.join(spec.work_dir, 'metrics.json'))
    assert not osp.exists(osp.join(spec.work_dir, 'nonfinite.json'))
    assert not osp.exists(osp.join(spec.work_dir, 'metrics_history.jsonl'))
    with pytest.raises(ValueError, match='nonfinite_check_iters=-1'):
        write_trial_config(spec, proxy, -1)


def _judge(spec, **kwargs):
    args = dict(returncode=0, timed_out=False, duration_s=1.5, reward_key='mIoU',
                failure_reward=-1.0)
    args.update(kwargs)
    return judge_trial(spec, **args)


def _write(work_dir, name, content):
    with open(osp.join(work_dir, name), 'w') as f:
        f.write(content)


def test_judge_ok_and_no_metric(tmp_path):
    spec = _spec(tmp_path)
    os.makedirs(spec.work_dir)
    res = _judge(spec)
    assert res.status == 'no_metric' and res.reward == -1.0
    assert "reward_key='mIoU'" in res.reason and 'present keys: []' in res.reason

    _write(spec.work_dir, 'metrics.json', json.dumps({'aAcc': 90.0, 'mAcc': 70.0}))
    res = _judge(spec)
    assert res.status == 'no_metric' and "present keys: ['aAcc', 'mAcc']" in res.reason
    assert res.metrics == {'aAcc': 90.0, 'mAcc': 70.0}

    _write(spec.work_dir, 'metrics.json', '{"mIoU": NaN}')
    res = _judge(spec)
    assert res.status == 'no_metric' and 'nan' in res.reason and res.reward == -1.0

    _write(spec.work_dir, 'metrics.json', '[1, 2')
    assert _judge(spec).status == 'no_metric'

    _write(spec.work_dir, 'metrics.json', json.dumps({'mIoU': 41.25, 'aAcc': 90.0}))
    res = _judge(spec)
    assert (res.status, res.reward, res.reason) == ('ok', 41.25, '')
    assert res.metrics == {'mIoU': 41.25, 'aAcc': 90.0} and res.duration_s == 1.5
    assert res.log_path == osp.join(spec.work_dir, 'trial.log')


def test_judge_failures_take_precedence_over_metrics(tmp_path):
    spec = _spec(tmp_path)
    os.makedirs(spec.work_dir)
    _write(spec.work_dir, 'metrics.json', json.dumps({'mIoU': 50.0}))
    lines = [f'log line {i}' for i in range(100)]
    _write(spec.work_dir, 'trial.log', '\n'.join(lines) + '\n')

    res = _judge(spec, returncode=None, timed_out=True)
    assert res.status == 'timeout' and res.reward == -1.0
    assert res.log_tail.splitlines() == lines[-40:]

    res = _judge(spec, returncode=2)
    assert res.status == 'crashed' and 'code 2' in res.reason and res.reward == -1.0

    _write(spec.work_dir, 'nonfinite.json', json.dumps({'iter': 3, 'losses': {'loss': 'nan'}}))
    res = _judge(spec, returncode=1)
    assert res.status == 'nonfinite' and '"iter": 3' in res.reason

    res = _judge(spec, returncode=None, launch_error='FileNotFoundError: nope')
    assert res.status == 'crashed' and 'could not launch' in res.reason


def test_read_log_tail_reads_only_the_end(tmp_path):
    path = tmp_path / 'big.log'
    lines = [f'{i:06d}' + 'x' * 100 for i in range(2000)]
    path.write_text('\n'.join(lines))
    assert read_log_tail(str(path), num_lines=5) == '\n'.join(lines[-5:])
    assert read_log_tail(str(tmp_path / 'missing.log')) == ''


def test_result_round_trip_and_validation():
    res = TrialResult(trial_id='a', status='nonfinite', reward=0.0, metrics={'x': 1.0},
                      duration_s=2.0, log_path='/w/trial.log', reason='nan', log_tail='t')
    back = TrialResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert back == res
    d = res.to_dict()
    del d['reward']
    with pytest.raises(ValueError, match="'reward'"):
        TrialResult.from_dict(d)
    with pytest.raises(ValueError, match="'bogus'"):
        TrialResult.from_dict(dict(res.to_dict(), bogus=1))
    with pytest.raises(ValueError, match="status='done'"):
        TrialResult(trial_id='a', status='done', reward=math.nan)


def test_spec_validation(tmp_path):
    with pytest.raises(ValueError, match="trial_id=''"):
        TrialSpec(trial_id='', candidate=[], overrides={}, work_dir=str(tmp_path))
    with pytest.raises(ValueError, match='overrides=\\[\\]'):
        TrialSpec(trial_id='a', candidate=[], overrides=[], work_dir=str(tmp_path))
    with pytest.raises(ValueError, match="work_dir=''"):
        TrialSpec(trial_id='a', candidate=[], overrides={}, work_dir='')
