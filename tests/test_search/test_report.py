"""report.md from journal events: mean +- sample std over seeds (checked by hand), failed
seeds counted, unfinished entries shown, the winner only once its seeds are in."""
import pytest

from mmautoloss.search.events import RetrainStart, SearchStart, TrialEvent
from mmautoloss.search.report import retrain_table, retrain_winner, write_report
from mmautoloss.search.trial import TrialResult

START = RetrainStart(reward_key='mIoU', seeds=3, targets=['t0-proxy'], entries=[
    dict(name='rank1', kind='searched', candidate_id='r000-c00', genotype=[0.5, 0.25],
         search_reward=0.7),
    dict(name='rank2', kind='searched', candidate_id='r000-c01', genotype=[0.1, 0.9],
         search_reward=0.6),
    dict(name='identity', kind='baseline', overrides=None)])


def _retrained(entry, seed, reward, status='ok', acc=None):
    metrics = {} if status != 'ok' else dict(mIoU=reward, aAcc=acc if acc is not None else 0.5)
    return TrialEvent(round='retrain', index=0, role='retrain', entry=entry, target_index=0,
                      seed_index=seed, candidate=[], result=TrialResult(
                          trial_id=f'rt0-{entry}-s{seed}', status=status, reward=reward,
                          metrics=metrics))


def test_mean_and_sample_std_over_seeds_with_failures_and_unfinished_entries(tmp_path):
    events = [SearchStart(fingerprint=dict(reward_key='mIoU'), dim=2), START,
              _retrained('rank1', 0, 0.70, acc=0.8), _retrained('rank1', 1, 0.74, acc=0.9),
              _retrained('rank1', 2, 0.72, acc=1.0),
              _retrained('rank2', 0, 0.0, status='crashed'), _retrained('rank2', 1, 0.6),
              _retrained('identity', 0, 0.65)]
    table = retrain_table(events)
    rows = {r['entry']['name']: r for r in table['targets'][0]['rows']}
    # rank1: mean 0.72; sample std sqrt(((-0.02)^2 + 0.02^2 + 0) / 2) = 0.02
    assert rows['rank1']['reward'][0] == pytest.approx(0.72)
    assert rows['rank1']['reward'][1] == pytest.approx(0.02)
    assert rows['rank1']['metrics']['aAcc'][0] == pytest.approx(0.9)
    assert rows['rank1']['metrics']['aAcc'][1] == pytest.approx(0.1)
    assert rows['rank2']['failed'] == 1 and rows['rank2']['reward'][0] == 0.3
    assert rows['identity']['rewards'] == [0.65]
    assert retrain_winner(table)['name'] == 'rank1'  # rank2 is complete but lower
    text = write_report(str(tmp_path), events)
    assert '| rank1 | 3/3 | 0.7200 +- 0.0200 | 0.9000 +- 0.1000 |' in text
    assert '| rank2 | 2/3 (1 failed) |' in text and '| identity | 1/3 |' in text
    assert "the target config's own loss" in text
    assert (tmp_path / 'report.png').is_file()


def test_no_winner_before_a_searched_entry_has_all_its_seeds(tmp_path):
    table = retrain_table([START, _retrained('rank1', 0, 0.7)])
    assert retrain_winner(table) is None
    assert retrain_table([SearchStart(fingerprint={}, dim=2)]) is None
    text = write_report(str(tmp_path), [SearchStart(fingerprint={}, dim=2)])
    assert 'No re-training stage' in text and not (tmp_path / 'report.png').exists()


def test_paired_differences_by_seed_in_the_report(tmp_path):
    # rank1 - identity by seed: 0.73 - 0.70, 0.74 - 0.72, 0.75 - 0.72 = 0.03, 0.02, 0.03
    # mean 0.026667, sd 0.005774, t = 8.0, df 2: p = 2 (1/2 - 8 / (2 sqrt(66))) = 0.015268
    events = [SearchStart(fingerprint=dict(reward_key='mIoU'), dim=2), START]
    for seed, (a, b) in enumerate([(0.73, 0.70), (0.74, 0.72), (0.75, 0.72)]):
        events += [_retrained('rank1', seed, a), _retrained('identity', seed, b)]
    text = write_report(str(tmp_path), events)
    assert '| rank1 - identity | 3 | +0.0267 |' in text
    assert '| 0.0153 | 3 / 0 | better |' in text


def test_a_proxy_that_ranks_the_target_backwards_is_warned(tmp_path):
    entries = [dict(name=f'rank{i + 1}', kind='searched', candidate_id=f'r000-c0{i}',
                    genotype=[0.1 * i], search_reward=0.9 - 0.1 * i) for i in range(4)]
    start = RetrainStart(reward_key='mIoU', seeds=1, targets=['t0-proxy'], entries=entries)
    events = [SearchStart(fingerprint=dict(reward_key='mIoU'), dim=1), start] + [
        _retrained(f'rank{i + 1}', 0, 0.5 + 0.1 * i) for i in range(4)]
    text = write_report(str(tmp_path), events)
    assert '- t0-proxy: tau = -1.000 (p = 0.0833, 4 entries). **Warning: tau < 0.5' in text


def test_a_target_on_the_proxys_own_images_is_warned(tmp_path):
    start = RetrainStart(reward_key='mIoU', seeds=3, targets=['t0-proxy'],
                         entries=START.entries, same_split=['t0-proxy'])
    text = write_report(str(tmp_path), [SearchStart(fingerprint={}, dim=2), start])
    assert '**Warning: t0-proxy validate(s) on the same images as the proxy' in text
    assert 'Warning: t0-proxy' not in write_report(str(tmp_path), [
        SearchStart(fingerprint={}, dim=2), START])
