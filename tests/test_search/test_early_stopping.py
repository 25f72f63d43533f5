"""ASHA early stopping: rungs, the top-1/eta cut-off (checked by hand), torn history lines;
through the local executor a search stops the trials that fall behind and journals why."""
import json
import re
import time

import pytest

from mmautoloss.search.early_stopping import ASHAStopping, read_history
from mmautoloss.search.trial import TrialSpec
from mmautoloss.testing import trial_events, write_proxy, write_search_config


def _history(directory, values, key='mIoU', torn=''):
    directory.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(dict(iter=i + 1, epoch=0, metrics={key: v}))
             for i, v in enumerate(values)]
    (directory / 'metrics_history.jsonl').write_text('\n'.join(lines) + '\n' + torn)
    return str(directory)


def _quantile(values, q):
    """Linear-interpolation quantile, written out (numpy's default method)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_rungs_sit_at_grace_times_powers_of_the_reduction_factor():
    rule = ASHAStopping('mIoU', reduction_factor=3, grace_validations=2)
    assert rule.rung_sizes(1) == [] and rule.rung_sizes(2) == [2]
    assert rule.rung_sizes(17) == [2, 6] and rule.rung_sizes(18) == [2, 6, 18]


def test_a_trial_below_the_rungs_top_third_is_stopped(tmp_path):
    rule = ASHAStopping('mIoU', reduction_factor=3)
    assert rule.check('a', _history(tmp_path / 'a', [0.5])) is None
    assert rule.check('b', _history(tmp_path / 'b', [0.6])) is None  # fewer than 3 at the rung
    cutoff = _quantile([0.5, 0.6, 0.2], 2 / 3)
    verdict = rule.check('c', _history(tmp_path / 'c', [0.2]))
    assert verdict is not None and verdict.reward == 0.2 and verdict.metrics == {'mIoU': 0.2}
    assert f'cut-off {cutoff:.4f}' in verdict.reason and 'validation 1' in verdict.reason
    # at the cut-off or above: goes on; checking again does not record twice
    above = _quantile([0.5, 0.6, 0.2, 0.55], 2 / 3)
    assert 0.55 >= above and rule.check('d', _history(tmp_path / 'd', [0.55])) is None
    assert rule.check('d', _history(tmp_path / 'd', [0.55])) is None
    assert rule.rungs[1] == {'a': 0.5, 'b': 0.6, 'c': 0.2, 'd': 0.55}
    rule.forget('d')
    assert 'd' not in rule.rungs[1]


def test_a_stopped_trial_is_a_result_with_the_rungs_reward(tmp_path):
    rule = ASHAStopping('mIoU', reduction_factor=2)
    rule.check('a', _history(tmp_path / 'a', [0.6]))
    spec = TrialSpec(trial_id='b', candidate=[0.5], overrides={},
                     work_dir=_history(tmp_path / 'b', [0.1]))
    result = rule.stop_result(spec, started=time.monotonic())
    assert result.status == 'stopped' and result.reward == 0.1
    assert result.metrics == {'mIoU': 0.1} and 'validation 1' in result.reason
    assert rule.stop_result(spec, started=time.monotonic()) is None  # recorded once


def test_a_torn_last_line_is_not_a_validation_yet(tmp_path):
    work_dir = _history(tmp_path / 't', [0.1, 0.2], torn='{"iter": 3, "met')
    assert [r['metrics']['mIoU'] for r in read_history(work_dir)] == [0.1, 0.2]
    assert read_history(str(tmp_path / 'missing')) == []


@pytest.mark.parametrize('kwargs,match', [
    (dict(reduction_factor=1), 'reduction_factor must be an int >= 2, got 1'),
    (dict(grace_validations=0), 'grace_validations must be an int >= 1, got 0'),
    (dict(poll_interval_s=0), 'poll_interval_s must be a finite number > 0')])
def test_bad_settings_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ASHAStopping('mIoU', **kwargs)


def test_a_search_stops_trials_that_fall_behind_and_journals_why(tmp_path, monkeypatch,
                                                                 search_main):
    monkeypatch.setenv('OBJ_VALIDATIONS', '4')
    monkeypatch.setenv('OBJ_VAL_SLEEP', '0.4')
    proxy = write_proxy(tmp_path)
    config = write_search_config(
        tmp_path, proxy, rounds=1, samples=8, searcher="dict(type='RandomSearcher')",
        extra='early_stopping = dict(reduction_factor=2, grace_validations=1, '
        'poll_interval_s=0.05)')
    assert search_main([config, '--work-dir', str(tmp_path / 'work')]) == 0
    results = [e['result'] for e in trial_events(tmp_path / 'work')]
    stopped = [r for r in results if r['status'] == 'stopped']
    assert stopped and len(stopped) < len(results)
    for result in stopped:
        rung = int(re.search(r'stopped early by ASHA at validation (\d+)',
                             result['reason']).group(1))
        history = read_history(str(tmp_path / 'work' / 'trials' / result['trial_id']))
        assert len(history) < 4  # cut short
        assert result['reward'] == history[rung - 1]['metrics']['mIoU']
    assert all(r['status'] == 'ok' for r in results if r not in stopped)
