"""The search driver end to end with deterministic fake trial jobs (no training)."""
import json
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmautoloss.search.builders import build_executor, build_searcher
from mmautoloss.search.errors import ResumeError
from mmautoloss.search.journal import read_journal
from mmautoloss.search.search_loop import SearchLoop
from mmautoloss.search.validation import load_search_config, validate_search_config
from mmautoloss.testing import objective, write_proxy, write_search_config


def make_loop(tmp_path, work_dir, resume=False, max_concurrent=1, **kwargs):
    proxy = write_proxy(tmp_path)
    path = write_search_config(tmp_path, proxy, **kwargs)
    if max_concurrent != 1:
        with open(path) as f:
            text = f.read().replace('max_concurrent=1', f'max_concurrent={max_concurrent}')
        with open(path, 'w') as f:
            f.write(text)
    settings = validate_search_config(load_search_config(path))
    return SearchLoop(settings, build_searcher(settings), build_executor(settings),
                      str(work_dir), resume=resume, reporter_stream=open(os.devnull, 'w'))


def test_failed_trials_are_recorded_and_the_search_completes(tmp_path, monkeypatch):
    faults = {'r000-c01': 'crash', 'r000-c02': 'nan', 'r001-c01': 'hang'}
    monkeypatch.setenv('OBJ_FAULTS', json.dumps(faults))
    work_dir = tmp_path / 'work'
    loop = make_loop(tmp_path, work_dir, rounds=2, samples=3, trial_timeout=1.5)
    best = loop.run()

    events = read_journal(str(work_dir / 'journal.jsonl'))
    kinds = [e['event'] for e in events]
    assert kinds == ['search_start', 'round_start'] + ['trial'] * 3 + ['round_end',
                                                                       'round_start'] + \
        ['trial'] * 3 + ['round_end', 'search_end']
    trials = {e['result']['trial_id']: e for e in events if e['event'] == 'trial'}
    assert {k: trials[k]['result']['status'] for k in faults} == {
        'r000-c01': 'crashed', 'r000-c02': 'nonfinite', 'r001-c01': 'timeout'}
    for trial_id, event in trials.items():
        if trial_id in faults:
            assert event['result']['reward'] == 0.0 and event['result']['reason']
        else:
            assert event['result']['status'] == 'ok'
            assert event['result']['reward'] == pytest.approx(objective(event['candidate']))
    assert best['failed_trials'] == sorted(faults)
    assert best['num_trials'] == 6

    # best.json names the mean of the round with the best average reward (ASL Algorithm 1)
    averages = {r: sum(e['result']['reward'] for e in trials.values() if e['round'] == r) / 3
                for r in (0, 1)}
    top_round = max(averages, key=averages.get)
    (top, ) = [e for e in trials.values() if e['role'] == 'mean' and e['round'] == top_round]
    assert best['selected']['candidate_id'] == top['result']['trial_id']
    assert best['selected']['reward'] == pytest.approx(averages[top_round])
    assert best['selected']['mean_trial_reward'] == top['result']['reward']
    with open(work_dir / 'best.json') as f:
        assert json.load(f) == best

    exported = Config.fromfile(str(work_dir / 'best_config.py'), import_custom_modules=False)
    loss = exported.model.decode_head.loss_decode
    assert loss.params == best['selected']['genotype']
    assert loss.num_classes == 3 and 'theta' not in loss and '_delete_' not in loss
    for name in ('rewards.png', 'best_curves.png'):
        with open(work_dir / name, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    with open(work_dir / 'state.json') as f:
        assert json.load(f)['round'] == 2

    with pytest.raises(ResumeError, match='--resume'):
        make_loop(tmp_path, work_dir, rounds=2, samples=3).run()


def test_resume_of_a_finished_search_runs_nothing(tmp_path):
    work_dir = tmp_path / 'work'
    first = make_loop(tmp_path, work_dir, rounds=1, samples=2).run()
    mtimes = {d: osp.getmtime(work_dir / 'trials' / d) for d in os.listdir(work_dir / 'trials')}
    again = make_loop(tmp_path, work_dir, resume=True, rounds=1, samples=2).run()
    assert again == first
    assert {d: osp.getmtime(work_dir / 'trials' / d)
            for d in os.listdir(work_dir / 'trials')} == mtimes
    kinds = [e['event'] for e in read_journal(str(work_dir / 'journal.jsonl'))]
    assert kinds.count('trial') == 2 and kinds.count('search_end') == 1
    with pytest.raises(ResumeError, match='seed: recorded 0, now 9'):
        make_loop(tmp_path, work_dir, resume=True, rounds=1, samples=2, seed=9).run()


def test_result_does_not_depend_on_trial_completion_order(tmp_path, monkeypatch):
    """With 3 trials at once the last candidate of a round finishes first; the searcher
    still updates on the round's rewards in candidate order, so best.json is the same."""
    monkeypatch.setenv('OBJ_SLEEPS', json.dumps({f'r000-c0{i}': 1.5 * (2 - i)
                                                 for i in range(3)}))
    serial = make_loop(tmp_path, tmp_path / 'serial', rounds=2, samples=3, seed=4).run()
    parallel_loop = make_loop(tmp_path, tmp_path / 'parallel', max_concurrent=3, rounds=2,
                              samples=3, seed=4)
    parallel = parallel_loop.run()
    order = [e['result']['trial_id'] for e in read_journal(
        str(tmp_path / 'parallel' / 'journal.jsonl')) if e['event'] == 'trial']
    assert order[:3] == ['r000-c02', 'r000-c01', 'r000-c00']
    assert parallel == serial


def test_seeds_per_candidate_reward_each_candidate_with_its_seeds_mean(tmp_path, monkeypatch):
    # seeds 0, 1, 2 move the objective by -0.05, 0, +0.05: their mean is the objective
    monkeypatch.setenv('OBJ_SEED_NOISE', '0.05')
    work_dir = tmp_path / 'work'
    loop = make_loop(tmp_path, work_dir, rounds=1, samples=2,
                     extra='seeds_per_candidate = 3')
    loop.run()
    events = read_journal(str(work_dir / 'journal.jsonl'))
    trials = [e for e in events if e['event'] == 'trial']
    assert [e['result']['trial_id'] for e in trials] == [
        f'r000-c0{c}-s{s}' for c in range(2) for s in range(3)]
    for cand in ('r000-c00', 'r000-c01'):
        seeds = [e for e in trials if e['candidate_id'] == cand]
        assert [e['seed_index'] for e in seeds] == [0, 1, 2]
        expected = objective(seeds[0]['candidate'])
        assert [e['result']['reward'] for e in seeds] == pytest.approx(
            [expected - 0.05, expected, expected + 0.05])
    (end, ) = [e for e in events if e['event'] == 'round_end']
    for row in end['seeds']:  # the spread is journaled: sample std of (-x, 0, +x) is x
        assert row['std'] == pytest.approx(0.05)
        assert row['mean'] == pytest.approx(objective(
            next(e['candidate'] for e in trials if e['candidate_id'] == row['candidate_id'])))
    # the searcher was told the means: its round statistics are theirs
    assert loop.searcher.history[0]['mean_reward'] == pytest.approx(
        sum(r['mean'] for r in end['seeds']) / 2)
    assert loop.searcher.history[0]['max_reward'] == pytest.approx(
        max(r['mean'] for r in end['seeds']))
    config = (work_dir / 'trials' / 'r000-c01-s2' / 'config.py').read_text()
    assert 'randomness = dict(seed=2)' in config.splitlines()
