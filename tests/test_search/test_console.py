"""Progress lines with ETA and the per-round table."""
import io
import re

from mmautoloss.search.console import ConsoleHook, ProgressReporter, format_round_table
from mmautoloss.search.events import RetrainStart, TrialEvent
from mmautoloss.search.trial import TrialResult


def result(trial_id, status='ok', reward=0.5, reason=''):
    return TrialResult(trial_id=trial_id, status=status, reward=reward, duration_s=2.0,
                       reason=reason)


def test_progress_lines_count_and_estimate_remaining_time():
    stream = io.StringIO()
    reporter = ProgressReporter(total=6, done=2, stream=stream)
    assert reporter.eta_seconds() is None
    reporter.trial_done(result('r001-c00'))
    reporter.trial_done(result('r001-c01', 'crashed', 0.0, 'job exited with code 3'))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith('[search] 3/6 trials')
    assert re.search(r'4/6 trials .* ETA \d+m\d\ds .* r001-c01 crashed reward=0', lines[1])
    assert reporter.eta_seconds() >= 0


def test_round_table_lists_every_trial_in_index_order():
    events = [TrialEvent(round=0, index=i, role='mean' if i == 0 else 'sample', candidate=[],
                         result=result(f'r000-c0{i}', reward=0.1 * i)) for i in (2, 0, 1)]
    events[0].result.status, events[0].result.reason = 'timeout', 'killed after 3.0 s'
    table = format_round_table(0, events, dict(mean_reward=0.1, failed=1))
    lines = table.splitlines()
    assert lines[0] == '== round 0 =='
    assert [line.split()[0] for line in lines[3:6]] == ['r000-c00', 'r000-c01', 'r000-c02']
    assert 'timeout' in lines[5] and 'killed after 3.0 s' in lines[5]
    assert lines[-1] == 'mean_reward=0.1000  failed=1'


def test_the_retraining_line_names_the_entries_and_the_sweep_that_comes_first():
    stream = io.StringIO()
    hook = ConsoleHook(stream)
    hook.before_search('work', 10, 0, None)
    hook.before_retrain(RetrainStart(entries=[
        dict(name='rank1', kind='searched'), dict(name='CE', kind='baseline'),
        dict(name='CE-tuned', kind='tuned', tuned_of='CE', lr_factors=[0.5, 1.0, 2.0])],
        targets=['t0-proxy'], seeds=3, reward_key='mIoU'), 19)
    assert '[search] re-training 3 losses (rank1, CE, CE-tuned) x 3 seeds on t0-proxy; first ' \
        'a learning-rate sweep of CE on the search split (x0.5, x1, x2)' in stream.getvalue()
