"""The re-training stage: its settings, the longer schedule, the top-k distinct candidates,
and end to end through tools/search.py, killed during the stage and resumed."""
import json
import os
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmautoloss.search.events import TrialEvent
from mmautoloss.search.retraining import (
    calibration_candidates,
    check_retrain,
    longer_schedule,
    retrain_entries,
    same_split_targets,
    top_candidates,
)
from mmautoloss.search.trial import TrialResult
from mmautoloss.testing import (
    REPO,
    search_cmd,
    sigkill_after_trials,
    trial_events,
    write_proxy,
    write_search_config,
)

KEY = 'model.decode_head.loss_decode'
ASL_PROXY = str(REPO / 'configs' / 'proxies' / 'asl_toyseg.py')


def _trial(trial_id, reward, genotype, status='ok', role='sample', round_=0, **extra):
    return TrialEvent(round=round_, role=role, candidate=genotype, index=0,
                      result=TrialResult(trial_id=trial_id, reward=reward, status=status),
                      **extra)


def test_top_candidates_are_distinct_ranked_by_their_seeds_mean_and_finished():
    events = [
        _trial('r000-c00-s0', 0.9, [0.1], candidate_id='r000-c00'),
        _trial('r000-c00-s1', 0.1, [0.1], candidate_id='r000-c00'),  # mean 0.5
        _trial('r000-c01-s0', 0.6, [0.2], candidate_id='r000-c01'),
        _trial('r000-c01-s1', 0.6, [0.2], candidate_id='r000-c01'),  # mean 0.6
        _trial('r001-c00-s0', 0.7, [0.2], candidate_id='r001-c00'),  # same genotype as c01
        _trial('r001-c00-s1', 0.7, [0.2], candidate_id='r001-c00'),
        _trial('r001-c01-s0', 0.99, [0.3], candidate_id='r001-c01', status='crashed'),
        _trial('r001-c01-s1', 0.99, [0.3], candidate_id='r001-c01'),
        _trial('rt0-rank1-s0', 1.0, [0.4], role='retrain', round_='retrain'),
        _trial('r001-c02', 0.55, [0.5], role='simulation'),
    ]
    chosen = top_candidates(events, top_k=3)
    assert [(c['candidate_id'], c['reward']) for c in chosen] == [
        ('r001-c00', pytest.approx(0.7)), ('r000-c00', pytest.approx(0.5))]


def test_the_plan_lists_the_candidates_then_the_baselines():
    retrain, targets = check_retrain(dict(top_k=2, baseline='identity', baselines=dict(
        CE={KEY: dict(type='CrossEntropyLoss')})), [KEY], Config.fromfile(ASL_PROXY))
    entries = retrain_entries(retrain, [dict(candidate_id='r0', genotype=[0.1], reward=0.5)])
    assert [(e['name'], e['kind']) for e in entries] == [
        ('rank1', 'searched'), ('identity', 'baseline'), ('CE', 'baseline')]
    assert entries[1]['overrides'] is None and entries[2]['overrides'] == {
        KEY: dict(type='CrossEntropyLoss')}
    # by default the target is the proxy on a twice longer schedule, 5 seeds per entry
    (target, ) = targets
    assert target.name == 't0-proxy-x2' and target.config.train_cfg.max_iters == 600
    assert retrain['seeds'] == 5 and 'tune_baselines' not in retrain and 'perturb' not in retrain


def test_a_longer_schedule_moves_what_sat_at_the_old_end():
    cfg = longer_schedule(Config.fromfile(ASL_PROXY), 2)
    assert cfg.train_cfg.max_iters == 600 and cfg.train_cfg.val_interval == 600
    assert cfg.param_scheduler[0]['end'] == 600
    assert cfg.default_hooks.checkpoint.interval == 600
    assert longer_schedule(Config.fromfile(ASL_PROXY), 1).train_cfg.max_iters == 300


@pytest.mark.parametrize('options,match', [
    (3, 'retrain must be None or a dict'),
    (dict(topk=2), r"unknown key\(s\) \['topk'\]"),
    (dict(top_k=0), 'retrain.top_k must be an int >= 1, got 0'),
    (dict(seeds=1.5), 'retrain.seeds must be an int >= 1, got 1.5'),
    (dict(schedule_factor=0.5), r'retrain.schedule_factor must be a finite number in \[1'),
    (dict(baseline='has space'), 'retrain.baseline must be True, False or a name'),
    (dict(baselines=dict(rank9={KEY: {}})), "'rank9' must be letters"),
    (dict(baselines=dict(CE={})), 'retrain.baselines must map a name to config overrides'),
    (dict(config='nope.py'), "retrain.config 'nope.py' cannot be read"),
    (dict(config=[None, 7]), 'retrain.config must be None, a config file or a list'),
])
def test_bad_settings_are_refused_by_name(options, match):
    with pytest.raises(ValueError, match=match):
        check_retrain(options, [KEY], Config.fromfile(ASL_PROXY))


def test_a_target_without_the_loss_key_is_refused(tmp_path):
    other = tmp_path / 'other.py'
    other.write_text("model = dict(head=dict(loss=dict(type='CrossEntropyLoss')))\n")
    with pytest.raises(ValueError, match="retrain.config .*other.py.*no 'model.decode_head'"):
        check_retrain(dict(config=str(other)), [KEY], Config.fromfile(ASL_PROXY))


RETRAIN = """
retrain = dict(top_k=2, seeds=3, config=[None, {target!r}], baseline=False, schedule_factor=1,
               baselines=dict(fixed={{'model.decode_head.loss_decode': dict(
                   _delete_=True, type='AutoSegLoss', metric='mIoU', params=[0.9] * 12)}}))
"""


def _killed_then_resumed(config: str, tmp_path, trials: int) -> tuple:
    """Run ``config``, SIGKILL it after ``trials`` journaled trials, resume it to the end;
    the work dir and the trial ids the objective job ran (in order)."""
    counter = tmp_path / 'counter.txt'
    env = dict(os.environ, OBJ_SLEEP='0.2', OBJ_COUNTER=str(counter), OBJ_SEED_NOISE='0.05',
               PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    work_dir = tmp_path / 'work'
    sigkill_after_trials(search_cmd(config, work_dir), env, work_dir, trials=trials)
    done = subprocess.run(search_cmd(config, work_dir, '--resume'), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return work_dir, counter.read_text().split()


def test_a_stage_killed_midway_resumes_without_rerunning_finished_retrainings(tmp_path):
    proxy = write_proxy(tmp_path)
    # a second target: the same proxy under another name (a transfer target in real use)
    target = write_proxy(tmp_path, name='target.py')
    config = write_search_config(tmp_path, proxy, rounds=2, samples=2,
                                 extra=RETRAIN.format(target=target))
    # 4 search trials, then the stage's 2 targets x 3 entries x 3 seeds; killed after 9
    work_dir, ran = _killed_then_resumed(config, tmp_path, trials=9)
    assert len(ran) == len(set(ran)) == 4 + 18  # nothing ran twice
    events = trial_events(work_dir)
    retrained = [e for e in events if e['round'] == 'retrain']
    assert sorted(e['result']['trial_id'] for e in retrained) == sorted(
        f'rt{t}-{name}-s{j}' for t in (0, 1) for name in ('rank1', 'rank2', 'fixed')
        for j in range(3))
    # the seeds are new (target seed + 100 + j: rewards move by noise * (j + 100) % 3 - 1)
    best = json.loads((work_dir / 'best.json').read_text())
    rows = {r['entry']['name']: r for r in best['retrain']['targets'][0]['rows']}
    assert rows['fixed']['reward'][0] == pytest.approx(0.4)  # 1 - |0.9 - 0.3|, noise averages
    assert rows['fixed']['reward'][1] == pytest.approx(0.05)
    winner = best['retrain']['winner']
    assert winner['name'] == max(('rank1', 'rank2'), key=lambda n: rows[n]['reward'][0])
    exported = (work_dir / 'best_config.py').read_text()
    assert str(round(winner['genotype'][0], 4))[:5] in exported
    report = (work_dir / 'report.md').read_text()
    assert '### t0-proxy' in report and '### t1-target' in report
    assert '| fixed | 3/3 | 0.4000 +- 0.0500 |' in report
    assert (work_dir / 'report.png').is_file()
    # the searched entries' curves are drawn beside the report and linked from it
    assert (work_dir / 'retrain_rank1.png').is_file() and (work_dir / 'retrain_rank2.png').is_file()
    assert '[rank1](retrain_rank1.png), [rank2](retrain_rank2.png)' in report
    # the report tool re-draws the same report from the journal alone
    (work_dir / 'report.md').unlink()
    tool = subprocess.run([sys.executable, str(REPO / 'tools' / 'search_report.py'),
                           str(work_dir)], env=dict(os.environ, PYTHONPATH=str(REPO)),
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert tool.returncode == 0, tool.stderr
    assert (work_dir / 'report.md').read_text() == report


def test_calibration_candidates_spread_over_the_ranks_below_the_top_k():
    events = [_trial(f'r000-c0{i}', 0.1 * i, [0.1 * i]) for i in range(8)]  # c07 best
    top = top_candidates(events, 2)
    assert [c['candidate_id'] for c in top] == ['r000-c07', 'r000-c06']
    # the 6 below: c05 ... c00; 3 evenly spaced by rank
    assert [c['candidate_id'] for c in calibration_candidates(events, 2, 3)] == \
        ['r000-c05', 'r000-c03', 'r000-c00']  # ranks 0, round(2.5) = 2, 5
    assert len(calibration_candidates(events, 2, 10)) == 6
    assert calibration_candidates(events, 2, 0) == []
    retrain, _ = check_retrain(dict(top_k=2, calibration=3, baseline='identity'), [KEY],
                               Config.fromfile(ASL_PROXY))
    entries = retrain_entries(retrain, top, calibration_candidates(events, 2, 3))
    assert [(e['name'], e['kind']) for e in entries] == [
        ('rank1', 'searched'), ('rank2', 'searched'), ('cal1', 'calibration'),
        ('cal2', 'calibration'), ('cal3', 'calibration'), ('identity', 'baseline')]
    assert entries[2]['search_reward'] == pytest.approx(0.5)


def test_a_stage_with_calibration_killed_midway_trains_nothing_twice(tmp_path):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=1, samples=3, extra="""
retrain = dict(top_k=1, seeds=2, calibration=2, baseline=False, schedule_factor=1,
               baselines=dict(fixed={'model.decode_head.loss_decode': dict(
                   _delete_=True, type='AutoSegLoss', metric='mIoU', params=[0.9] * 12)}))
""")
    # 3 search trials, then (rank1, cal1, cal2, fixed) x 2 seeds; killed after 6
    work_dir, ran = _killed_then_resumed(config, tmp_path, trials=6)
    assert len(ran) == len(set(ran)) == 3 + 8
    retrained = sorted(e['result']['trial_id'] for e in trial_events(work_dir)
                       if e['round'] == 'retrain')
    assert retrained == sorted(f'rt0-{name}-s{j}' for name in ('rank1', 'cal1', 'cal2',
                                                               'fixed') for j in range(2))
    report = (work_dir / 'report.md').read_text()
    assert '- t0-proxy: tau = ' in report and '(p = ' in report
    assert '| rank1 - fixed | 2 |' in report and 'cal1 - fixed' not in report


def test_a_target_reports_on_its_test_split_held_out_from_the_search():
    """The shipped ToySeg proxy validates on the search split; the target derived from it
    validates on the untouched val split (its test split)."""
    proxy = Config.fromfile(ASL_PROXY)
    assert proxy.val_dataloader.dataset.data_prefix.img_path == 'img_dir/search'
    _, targets = check_retrain(dict(top_k=1), [KEY], proxy)  # the proxy, 2x longer
    target = targets[0].config
    assert target.val_dataloader.dataset.data_prefix == dict(img_path='img_dir/val',
                                                             seg_map_path='ann_dir/val')
    assert target.val_evaluator == proxy.test_evaluator
    assert proxy.val_dataloader.dataset.data_prefix.img_path == 'img_dir/search'  # a copy
    assert same_split_targets(proxy, targets) is None


def test_a_target_validating_on_the_proxys_images_is_named(tmp_path):
    same = tmp_path / 'same.py'  # a proxy whose test split is its validation split
    same.write_text(f"_base_ = {ASL_PROXY!r}\ntest_dataloader = dict(dataset=dict("
                    "data_prefix=dict(img_path='img_dir/search', "
                    "seg_map_path='ann_dir/search')))\n")
    proxy = Config.fromfile(str(same))
    _, targets = check_retrain(dict(top_k=1), [KEY], proxy)
    assert same_split_targets(proxy, targets) == ['t0-proxy-x2']
    format_only = tmp_path / 'format_only.py'  # a test split without metrics: not used
    format_only.write_text(f"_base_ = {ASL_PROXY!r}\ntest_evaluator = dict(_delete_=True, "
                           "type='IoUMetric', format_only=True, output_dir='x')\n")
    _, targets = check_retrain(dict(top_k=1, config=str(format_only)), [KEY], proxy)
    assert targets[0].config.val_dataloader.dataset.data_prefix.img_path == 'img_dir/search'
    assert same_split_targets(proxy, targets) == ['t0-format_only']
