"""Tuned baselines: the learning-rate sweep on the search split, its choice, the tuned
entries, and a stage killed in the middle of the sweep."""
import json
import os
import re
import subprocess

import pytest
from mmengine.config import Config

from mmautoloss.search.baseline_tuning import (
    check_tune_baselines,
    chosen_factors,
    sweep_plan,
    tuned_entries,
)
from mmautoloss.search.events import TrialEvent
from mmautoloss.search.retraining import check_retrain, entry_overrides, retrain_entries
from mmautoloss.search.trial import TrialResult
from mmautoloss.testing import (
    REPO,
    search_cmd,
    sigkill_after_trials,
    trial_events,
    write_proxy,
    write_search_config,
)
from mmautoloss.testing.search_jobs import PROXY_SEG

KEY = 'model.decode_head.loss_decode'
#: a stand-in proxy that validates on the search split and tests on the val split
PROXY_SPLITS = PROXY_SEG + """
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
train_dataloader = dict(batch_size=4)
val_dataloader = dict(dataset=dict(split='search'))
test_dataloader = dict(dataset=dict(split='val'))
test_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
randomness = dict(seed=0)
"""
FIXED = ("{'model.decode_head.loss_decode': dict(_delete_=True, type='AutoSegLoss', "
         "metric='mIoU', params=[0.9] * 12)}")
#: the objective job's best learning rate per split: 0.02 (x2) on the search split, 0.005
#: (x0.5) on the split the re-training reports on
LR_BEST = json.dumps(dict(search=0.02, val=0.005))


def _sweep_event(baseline, factor, reward, status='ok'):
    return TrialEvent(round='retrain', index=0, role='tune', entry=baseline,
                      target='search-split', candidate={'baseline': baseline,
                                                       'lr_factor': factor},
                      result=TrialResult(trial_id=f'tune-{baseline}-lr{factor:g}',
                                         reward=reward, status=status))


def test_the_choice_is_the_best_reward_ties_nearest_one_then_listed_first():
    factors = [0.25, 0.5, 1.0, 2.0, 4.0]
    events = [_sweep_event('a', f, r) for f, r in zip(factors, (0.1, 0.7, 0.3, 0.7, 0.2))]
    events += [_sweep_event('b', f, r) for f, r in zip(factors, (0.5, 0.2, 0.2, 0.2, 0.5))]
    events += [_sweep_event('c', f, 0.0, status='crashed') for f in factors]
    events += [_sweep_event('d', f, 0.4) for f in factors[:4]]  # one still running
    choices = chosen_factors(events, ['a', 'b', 'c', 'd'], factors)
    assert choices['a']['chosen'] == 0.5  # 0.5 and 2 tie, |log 0.5| = |log 2|: listed first
    assert choices['b']['chosen'] == 0.25  # 0.25 and 4 tie at equal distance from 1
    assert choices['c'] == dict(rewards={f: None for f in factors}, chosen=1.0)
    assert 'd' not in choices
    assert choices['a']['rewards'] == dict(zip(factors, (0.1, 0.7, 0.3, 0.7, 0.2)))


def test_tuned_entries_follow_the_baselines_and_scale_the_targets_lr(tmp_path):
    proxy = Config.fromfile(write_proxy(tmp_path, PROXY_SPLITS))
    retrain, _ = check_retrain(
        dict(baseline='own', schedule_factor=1, baselines=dict(CE={KEY: dict(
            type='CrossEntropyLoss')}),
             tune_baselines=dict(lr_factors=[0.5, 2])), [KEY], proxy)
    entries = retrain_entries(retrain, [dict(candidate_id='c', genotype=[0.1], reward=1.0)])
    assert [(e['name'], e['kind']) for e in entries] == [
        ('rank1', 'searched'), ('own', 'baseline'), ('CE', 'baseline'),
        ('own-tuned', 'tuned'), ('CE-tuned', 'tuned')]
    target = Config(dict(optim_wrapper=dict(optimizer=dict(lr=0.1))))
    overrides = entry_overrides(entries[4], None, target, {'CE': 2.0, 'own': 0.5})
    assert overrides == {KEY: dict(type='CrossEntropyLoss'),
                         'optim_wrapper.optimizer.lr': pytest.approx(0.2)}
    assert entry_overrides(entries[3], None, target, {'own': 1.0}) == {}
    assert list(sweep_plan(entries[1:3], [0.5, 2])) == [
        'tune-own-lr0.5', 'tune-own-lr2', 'tune-CE-lr0.5', 'tune-CE-lr2']
    only_ce = check_retrain(dict(baseline='own', schedule_factor=1, baselines=dict(CE={KEY: {
        'type': 'CrossEntropyLoss'}}), tune_baselines=dict(lr_factors=[2], baselines=['CE'])),
        [KEY], proxy)[0]
    assert [e['name'] for e in tuned_entries(entries[1:3], only_ce['tune_baselines'])] == [
        'CE-tuned']


@pytest.mark.parametrize('options,match', [
    (dict(lr_factors=[]), 'lr_factors must be a non-empty list'),
    (dict(lr_factors=[1, 1]), 'distinct positive numbers, got \\[1, 1\\]'),
    (dict(lr_factors=[0, 2]), 'positive numbers, got \\[0, 2\\]'),
    (dict(lr_factors=[float('nan')]), 'positive numbers'),
    (dict(lr=[2]), 'must be dict\\(lr_factors=\\[...\\], baselines=None\\)'),
    (dict(lr_factors=[2], baselines=['other']), "names among \\['CE'\\], got \\['other'\\]"),
    ([0.5, 2], 'must be dict\\(lr_factors'),
])
def test_bad_sweeps_are_refused_by_name(options, match):
    with pytest.raises(ValueError, match=match):
        check_tune_baselines(options, ['CE'], [])


def test_a_sweep_needs_a_baseline_and_a_learning_rate(tmp_path):
    proxy = Config.fromfile(write_proxy(tmp_path, PROXY_SPLITS))
    with pytest.raises(ValueError, match='tune_baselines needs a baseline'):
        check_retrain(dict(baseline=False, schedule_factor=1,
                           tune_baselines=dict(lr_factors=[2])), [KEY], proxy)
    no_lr = Config.fromfile(write_proxy(tmp_path, PROXY_SEG, name='no_lr.py'))
    with pytest.raises(ValueError, match="tune_baselines scales optim_wrapper.optimizer.lr: "
                                         "key .* has no 'optim_wrapper'"):
        check_retrain(dict(schedule_factor=1, tune_baselines=dict(lr_factors=[2])), [KEY],
                      no_lr)


def _search(tmp_path, retrain: str) -> str:
    proxy = write_proxy(tmp_path, PROXY_SPLITS)
    return write_search_config(tmp_path, proxy, rounds=1, samples=2,
                               extra=f'retrain = dict({retrain})')


def test_the_sweep_picks_by_the_search_split_never_by_the_report_split(tmp_path):
    """The objective's best lr is x2 on the search split and x0.5 on the report split:
    the sweep (on the proxy, which validates on the search split) must choose x2, and
    the tuned baseline re-trains on the target (which reports on val) at lr x2."""
    config = _search(tmp_path, f"top_k=1, seeds=2, schedule_factor=1, baseline=False, "
                               f"baselines=dict(fixed={FIXED}), "
                               f"tune_baselines=dict(lr_factors=[0.5, 1, 2])")
    env = dict(os.environ, OBJ_LR_BEST=LR_BEST, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    work_dir = tmp_path / 'work'
    done = subprocess.run(search_cmd(config, work_dir), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    sweep = {e['candidate']['lr_factor']: e for e in trial_events(work_dir)
             if e['role'] == 'tune'}
    assert sorted(sweep) == [0.5, 1.0, 2.0]
    # 1 - |0.9 - 0.3| - 0.05 |log2(lr / 0.02)| on the search split
    assert sweep[2.0]['result']['reward'] == pytest.approx(0.4)
    assert sweep[0.5]['result']['reward'] == pytest.approx(0.3)
    trials = work_dir / 'trials'
    for factor in sweep:  # each sweep trial trained the proxy, validating on the search split
        trained = Config.fromfile(str(trials / f'tune-fixed-lr{factor:g}' / 'config.py'))
        assert trained.val_dataloader.dataset.split == 'search'
        assert trained.optim_wrapper.optimizer.lr == pytest.approx(0.01 * factor)
    for seed in range(2):  # the re-training reports on val, the tuned one at lr x2
        untuned = Config.fromfile(str(trials / f'rt0-fixed-s{seed}' / 'config.py'))
        tuned = Config.fromfile(str(trials / f'rt0-fixed-tuned-s{seed}' / 'config.py'))
        assert untuned.val_dataloader.dataset.split == tuned.val_dataloader.dataset.split \
            == 'val'
        assert (untuned.optim_wrapper.optimizer.lr, tuned.optim_wrapper.optimizer.lr) == \
            pytest.approx((0.01, 0.02))
    best = json.loads((work_dir / 'best.json').read_text())
    rows = {r['entry']['name']: r for r in best['retrain']['targets'][0]['rows']}
    # on the report split (best lr 0.005): untuned lr 0.01 loses 0.05, tuned lr 0.02 0.1
    assert rows['fixed']['reward'][0] == pytest.approx(0.35)
    assert rows['fixed-tuned']['reward'][0] == pytest.approx(0.3)
    report = (work_dir / 'report.md').read_text()
    assert '| fixed | 0.3000 | 0.3500 | **0.4000** |' in report
    assert 'AutoSegLoss, lr x2 chosen on the search split' in report
    assert re.search(r'\| rank1 - fixed-tuned \| 2 \| \+', report)


def test_a_stage_killed_in_the_sweep_resumes_and_trains_nothing_twice(tmp_path):
    config = _search(tmp_path, f"top_k=1, seeds=2, schedule_factor=1, baseline=False, "
                               f"baselines=dict(fixed={FIXED}), "
                               f"tune_baselines=dict(lr_factors=[0.5, 1, 2, 4])")
    counter = tmp_path / 'counter.txt'
    env = dict(os.environ, OBJ_LR_BEST=LR_BEST, OBJ_SLEEP='0.2', OBJ_COUNTER=str(counter),
               PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    work_dir = tmp_path / 'work'
    # 2 search trials, then 4 sweep trials and (rank1, fixed) x 2 seeds, then fixed-tuned
    # x 2: killed after the second sweep trial
    sigkill_after_trials(search_cmd(config, work_dir), env, work_dir, trials=4)
    assert sum(e['role'] == 'tune' for e in trial_events(work_dir)) == 2
    done = subprocess.run(search_cmd(config, work_dir, '--resume'), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = counter.read_text().split()
    assert len(ran) == len(set(ran)) == 2 + 4 + 4 + 2
    assert sorted(t for t in ran if t.startswith('tune-')) == [
        'tune-fixed-lr0.5', 'tune-fixed-lr1', 'tune-fixed-lr2', 'tune-fixed-lr4']
    assert {'rt0-fixed-tuned-s0', 'rt0-fixed-tuned-s1'} <= set(ran)
