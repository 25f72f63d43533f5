"""The job keeper of Ray trials, without Ray: it runs the job in its own session, passes on
its exit code, and whichever way the keeper ends (SIGTERM from the task, SIGKILL from an
exiting Ray worker, its parent dying), the job's whole group goes with it."""
import os
import signal
import subprocess
import sys
import time

import pytest

from mmautoloss.search.executors.ray_trial_task import KEEPER_SOURCE
from mmautoloss.testing import REPO
from mmautoloss.testing.processes import Process, job_processes, stop_deadline_s, wait_gone

FAKE_JOB = str(REPO / 'tests' / 'assets' / 'toy_job' / 'fake_job.py')
GRACE_S = 0.3


def _keeper(tmp_path, *job_args, parent_pid=None):
    """Start the keeper as the Ray task does (a new session), for a fake job."""
    cmd = [sys.executable, '-c', KEEPER_SOURCE, str(GRACE_S), str(parent_pid or os.getpid()),
           sys.executable, FAKE_JOB, *job_args, 'config.py', '--work-dir', str(tmp_path)]
    return subprocess.Popen(cmd, start_new_session=True)


def _hanging(tmp_path, keeper):
    """The keeper and the job and grandchild it runs, once the job has recorded them."""
    deadline = time.monotonic() + 60
    while not (tmp_path / 'pids.json').exists():
        assert time.monotonic() < deadline and keeper.poll() is None, 'the job did not start'
        time.sleep(0.05)
    return [Process.of(keeper.pid, 'keeper'), *job_processes(tmp_path / 'pids.json')]


def test_the_job_runs_in_the_keepers_session_with_its_exit_code(tmp_path):
    keeper = _keeper(tmp_path, '--mode', 'crash')
    assert keeper.wait(timeout=60) == 3
    keeper = _keeper(tmp_path, '--mode', 'ok')
    assert keeper.wait(timeout=60) == 0
    assert (tmp_path / 'metrics.json').exists()


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL])
def test_the_job_group_goes_however_the_keeper_is_stopped(tmp_path, sig):
    # SIGTERM: the task stops a timed-out or cancelled trial; SIGKILL: a Ray worker that
    # exits kills its children first (kill_child_processes_on_worker_exit)
    keeper = _keeper(tmp_path, '--mode', 'hang', '--ignore-term')
    processes = _hanging(tmp_path, keeper)
    os.kill(keeper.pid, sig)
    stopped = time.monotonic()
    keeper.wait(timeout=30)
    wait_gone(processes, stop_deadline_s(GRACE_S), f'keeper {signal.Signals(sig).name} -> '
              'job group gone', since=stopped)


def test_the_job_group_goes_when_the_keepers_parent_dies(tmp_path):
    # the Ray worker killed outright: the keeper's parent-death signal
    parent = subprocess.Popen([sys.executable, '-c', f'''
import subprocess, sys, time
subprocess.Popen([sys.executable, '-c', {KEEPER_SOURCE!r}, {str(GRACE_S)!r},
                  str(__import__("os").getpid()), sys.executable, {FAKE_JOB!r}, '--mode',
                  'hang', 'config.py', '--work-dir', {str(tmp_path)!r}], start_new_session=True)
time.sleep(600)
'''])
    deadline = time.monotonic() + 60
    while not (tmp_path / 'pids.json').exists():
        assert time.monotonic() < deadline, 'the job did not start'
        time.sleep(0.05)
    processes = job_processes(tmp_path / 'pids.json')
    parent.kill()
    parent.wait()
    wait_gone(processes, stop_deadline_s(GRACE_S), 'keeper parent SIGKILLed -> job group gone',
              since=time.monotonic())


def test_a_keeper_whose_parent_is_already_gone_stops_at_once(tmp_path):
    keeper = _keeper(tmp_path, '--mode', 'hang', parent_pid=os.getpid() + 10**6)
    assert keeper.wait(timeout=30) == -signal.SIGKILL  # its own group's SIGKILL
    assert not (tmp_path / 'pids.json').exists()
