"""A killed search leaves no trial job running (issue: journal and resume)."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from mmautoloss.search.executors.processes.stale_jobs import (
    PGID_NAME,
    is_running,
    kill_stale_job,
    process_start_time,
    record_job,
)
from mmautoloss.testing import REPO
from mmautoloss.testing.processes import Process, job_processes, wait_gone

TOY_DIR = REPO / 'tests' / 'assets' / 'toy_job'


def wait_until(predicate, timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_job_dies_with_a_killed_driver(tmp_path):
    work_dir = tmp_path / 'trial'
    driver = textwrap.dedent(f"""
        import sys
        from mmautoloss.search.executors.local import LocalExecutor
        from mmautoloss.search.trial import TrialSpec
        executor = LocalExecutor(
            {str(TOY_DIR / 'toy_job_config.py')!r}, 'acc',
            job_entry=[sys.executable, {str(TOY_DIR / 'fake_job.py')!r}, '--mode', 'hang'])
        for result in executor.run([TrialSpec('t0', [0.5], {{}}, {str(work_dir)!r})]):
            pass
    """)
    proc = subprocess.Popen([sys.executable, '-c', driver], cwd=str(REPO))
    pids_file = work_dir / 'pids.json'
    assert wait_until(pids_file.exists, 120), 'the job never started'
    job, grandchild = job_processes(pids_file)
    assert (work_dir / PGID_NAME).read_text() == str(job.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    wait_gone([job], 20, 'local: driver SIGKILLed -> job leader gone')
    # its grandchild is still in the job's group; relaunching the trial kills it
    assert grandchild.running()
    assert kill_stale_job(str(work_dir), str(work_dir / 'config.py'))
    wait_gone([grandchild], 20, 'local: relaunch -> stale group gone')


def test_stale_job_of_this_trial_is_killed_and_others_are_not(tmp_path):
    config = str(tmp_path / 'config.py')
    sleeper = [sys.executable, '-c', 'import time; time.sleep(120)']
    stale = subprocess.Popen([*sleeper, config], start_new_session=True)
    stranger = subprocess.Popen([*sleeper, 'other.py'], start_new_session=True)
    for proc, marker in ((stale, config), (stranger, 'other.py')):  # wait for their exec
        assert wait_until(lambda: marker in Path(f'/proc/{proc.pid}/cmdline').read_text())
    try:
        (tmp_path / PGID_NAME).write_text(str(stranger.pid))
        assert not kill_stale_job(str(tmp_path), config)  # a recycled id: left alone
        assert Process.of(stranger.pid).running() and not (tmp_path / PGID_NAME).exists()

        (tmp_path / PGID_NAME).write_text(str(stale.pid))
        assert kill_stale_job(str(tmp_path), config)
        stale.wait(timeout=10)
        assert stale.returncode == -signal.SIGKILL
        assert not (tmp_path / PGID_NAME).exists()
    finally:
        for proc in (stale, stranger):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_relaunch_kills_the_stale_job_before_clearing_its_work_dir(tmp_path):
    from mmautoloss.search.executors.local import LocalExecutor
    from mmautoloss.search.trial import TrialSpec
    work_dir = tmp_path / 't0'
    work_dir.mkdir()
    (work_dir / 'leftover.pth').write_text('from the interrupted run')
    config = str(work_dir / 'config.py')
    stale = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', config],
                             start_new_session=True)
    try:
        assert wait_until(lambda: config in Path(f'/proc/{stale.pid}/cmdline').read_text())
        (work_dir / PGID_NAME).write_text(str(stale.pid))
        executor = LocalExecutor(str(TOY_DIR / 'toy_job_config.py'), 'acc', job_entry=[
            sys.executable, str(TOY_DIR / 'fake_job.py'), '--mode', 'ok', '--reward', '0.7'])
        (result, ) = executor.run([TrialSpec('t0', [0.5], {}, str(work_dir))])
        stale.wait(timeout=10)
        assert stale.returncode == -signal.SIGKILL
        assert result.status == 'ok' and result.reward == 0.7
        assert not (work_dir / 'leftover.pth').exists()
        assert not (work_dir / PGID_NAME).exists()  # the new job finished and was forgotten
    finally:
        if stale.poll() is None:
            os.killpg(stale.pid, signal.SIGKILL)
            stale.wait()


def test_a_job_whose_driver_is_already_gone_kills_itself():
    # the preexec_fn sees another parent than the driver that launched it: the race where
    # the driver died between fork and prctl
    from mmautoloss.search.executors.processes.stale_jobs import die_with_parent
    job = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],
                           preexec_fn=die_with_parent(os.getpid() + 10**6))
    assert job.wait(timeout=10) == -signal.SIGKILL
    alive_job = subprocess.Popen([sys.executable, '-c', 'pass'],
                                 preexec_fn=die_with_parent(os.getpid()))
    assert alive_job.wait(timeout=30) == 0


def test_forked_job_dies_with_a_killed_driver(tmp_path):
    """A forked job's parent is its slot's forker: a SIGKILLed driver takes the forker, the
    forker takes the job, and relaunching the trial kills what the job left in its group."""
    work_dir = tmp_path / 'trial'
    driver = textwrap.dedent(f"""
        from mmautoloss.search.executors.local import LocalExecutor
        from mmautoloss.search.trial import TrialSpec
        executor = LocalExecutor({str(TOY_DIR / 'toy_job_config.py')!r}, 'toy/score')
        spec = TrialSpec('t0', [0.5], {{'model.probe_dir': {str(work_dir)!r},
                                        'model.fault': 'hang'}}, {str(work_dir)!r})
        for result in executor.run([spec]):
            pass
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TOY_DIR), str(REPO)]))
    proc = subprocess.Popen([sys.executable, '-c', driver], cwd=str(REPO), env=env)
    pids_file = work_dir / 'pids.json'
    assert wait_until(pids_file.exists, 120), 'the job never started'
    job, grandchild = job_processes(pids_file)
    pgid, start_time = (work_dir / PGID_NAME).read_text().split()
    assert (int(pgid), start_time) == (job.pid, job.start_time)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    wait_gone([job], 20, 'local: driver SIGKILLed -> forked job gone')
    assert grandchild.running()
    assert kill_stale_job(str(work_dir), str(work_dir / 'config.py'))
    wait_gone([grandchild], 20, 'local: relaunch -> stale forked group gone')


def test_a_recorded_start_time_tells_the_job_from_a_recycled_id(tmp_path):
    sleeper = [sys.executable, '-c', 'import time; time.sleep(120)']
    job = subprocess.Popen(sleeper, start_new_session=True)
    try:
        (tmp_path / PGID_NAME).write_text(f'{job.pid} {int(process_start_time(job.pid)) + 1}')
        assert not kill_stale_job(str(tmp_path), 'config.py')  # another process, same id
        assert Process.of(job.pid).running()
        record_job(str(tmp_path), job.pid, process_start_time(job.pid))
        assert kill_stale_job(str(tmp_path), 'config.py')  # no config in its command line
        job.wait(timeout=10)
        assert job.returncode == -signal.SIGKILL
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()


def test_a_process_is_running_only_while_it_lives_under_its_start_time():
    job = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    try:
        start_time = process_start_time(job.pid)
        assert is_running(job.pid, start_time)
        assert not is_running(job.pid, str(int(start_time) + 1))  # a recycled id
        job.kill()
        assert wait_until(lambda: not is_running(job.pid, start_time))  # a zombie
        assert process_start_time(job.pid) == start_time  # not yet reaped
    finally:
        job.kill()
        job.wait()
    assert not is_running(job.pid, start_time)  # gone
