"""The job settings both executors check: every bad value named as ``name=value``; the
judge gives the reward key's metric or the failure reward."""
import json
import math

import pytest

from mmautoloss.search.executors.job_settings import JobSettings
from mmautoloss.search.trial import TrialSpec
from mmautoloss.testing import REPO

TOY_CONFIG = str(REPO / 'tests' / 'assets' / 'toy_job' / 'toy_job_config.py')
GOOD = dict(proxy_config=TOY_CONFIG, reward_key='acc', timeout_s=10, failure_reward=0.0,
            nonfinite_check_iters=20, job_entry=None, kill_grace_s=1,
            keep_checkpoints=False)


@pytest.mark.parametrize('name,value,shown', [
    ('proxy_config', '/no/such.py', "proxy_config='/no/such.py'"),
    ('reward_key', '', "reward_key=''"),
    ('timeout_s', 0, 'timeout_s=0'),
    ('timeout_s', math.inf, 'timeout_s=inf'),
    ('failure_reward', float('nan'), 'failure_reward=nan'),
    ('kill_grace_s', -1, 'kill_grace_s=-1'),
    ('kill_grace_s', True, 'kill_grace_s=True'),
    ('nonfinite_check_iters', -3, 'nonfinite_check_iters=-3'),
    ('job_entry', [], r'job_entry=\[\]'),
])
def test_a_bad_setting_is_named_with_its_value(name, value, shown):
    with pytest.raises(ValueError, match=shown):
        JobSettings.check(**dict(GOOD, **{name: value}))


def test_the_judge_reads_the_reward_key_or_gives_the_failure_reward(tmp_path):
    job = JobSettings.check(**dict(GOOD, failure_reward=-1.0))
    assert (job.timeout_s, job.kill_grace_s) == (10.0, 1.0)
    spec = TrialSpec(trial_id='t', candidate=[0.5], overrides={}, work_dir=str(tmp_path))
    (tmp_path / 'metrics.json').write_text(json.dumps(dict(acc=0.75)))
    ok = job.judge(spec, returncode=0, timed_out=False, duration_s=1.0)
    assert (ok.status, ok.reward) == ('ok', 0.75)
    crashed = job.launch_failure(spec, 0.0, OSError('no such file'))
    assert (crashed.status, crashed.reward) == ('crashed', -1.0)
    assert 'OSError: no such file' in crashed.reason
