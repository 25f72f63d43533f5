"""RayExecutor on a Ray head started on this machine (CPU only, fake GPU ids): a search
through Ray reaches the local executor's result, a killed worker's trial is retried or
recorded as failed with the reason and leaves no process behind, a killed driver resumes
against the same cluster, fractional GPUs are packed, timeouts and cancellation kill the
job's process group."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mmautoloss.search.early_stopping import ASHAStopping
from mmautoloss.search.executors import RayExecutor
from mmautoloss.search.executors.local import job_command
from mmautoloss.search.executors.ray_trial_task import MASTER_PORT_TOKEN, PYTHON_TOKEN
from mmautoloss.search.trial import TrialSpec
from mmautoloss.testing import (
    OBJECTIVE_JOB,
    REPO,
    SEARCH_TOOL,
    killed_and_resumed,
    trial_events,
    write_proxy,
    write_search_config,
)
from mmautoloss.testing.processes import (
    Process,
    job_processes,
    stop_deadline_s,
    timeout_fired_at,
    wait_gone,
)
from mmautoloss.testing.ray_cluster import ray_head, ray_node

FAKE_JOB = str(REPO / 'tests' / 'assets' / 'toy_job' / 'fake_job.py')


@pytest.fixture(scope='module')
def cluster():
    import ray
    with ray_head(num_cpus=4, num_gpus=2) as address:
        yield address
        ray.shutdown()


def _executor(cluster, tmp_path, job_entry, **kwargs):
    proxy = write_proxy(tmp_path)
    return RayExecutor(proxy, kwargs.pop('reward_key', 'mIoU'), address=cluster,
                       job_entry=job_entry, kill_grace_s=0.3, **kwargs)


def _spec(tmp_path, trial_id, params=None):
    return TrialSpec(trial_id=trial_id, candidate=[0.5],
                     overrides={'model.decode_head.loss_decode': dict(params=params or [0.5])},
                     work_dir=str(tmp_path / trial_id))


def _driver_once_written(config: str, work_dir: Path, paths: list) -> subprocess.Popen:
    """Start ``tools/search.py`` on ``config``; return it once every file in ``paths``
    exists (a trial it watches has started)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    driver = subprocess.Popen([sys.executable, SEARCH_TOOL, config, '--work-dir',
                               str(work_dir)], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline and driver.poll() is None, 'no trial started'
        time.sleep(0.05)
    time.sleep(0.5)
    return driver


def _keeper(record: dict) -> Process:
    """The job keeper a task record (``ray_task.json``) names."""
    return Process(record['leader_pid'], record['leader_start_time'], 'keeper')


def _kill_worker_when_started(work_dir: Path, killed: dict, wait_for: str = '',
                              keeper_guarantee: str = '') -> threading.Thread:
    """SIGKILL the Ray worker running the trial in ``work_dir`` once its task record (and
    the file ``wait_for`` of the job, if given) exists; the record goes into ``killed``,
    with ``killed_at``, when the signal was sent. With ``keeper_guarantee`` the thread then
    waits for the keeper to go (while the trial is retried elsewhere, so that the time
    measured is the stop's, not the retry's) and puts the outcome in ``killed['keeper']``."""
    record = work_dir / 'ray_task.json'

    def kill() -> None:
        deadline = time.monotonic() + 120
        while not (record.exists() and (not wait_for or (work_dir / wait_for).exists())):
            assert time.monotonic() < deadline, 'the trial did not start'
            time.sleep(0.05)
        time.sleep(0.3)
        killed.update(json.loads(record.read_text()))
        os.kill(killed['worker_pid'], signal.SIGKILL)
        killed['killed_at'] = time.monotonic()
        if keeper_guarantee:
            try:
                wait_gone([_keeper(killed)], stop_deadline_s(0.3), keeper_guarantee,
                          since=killed['killed_at'])
                killed['keeper'] = 'gone'
            except AssertionError as error:
                killed['keeper'] = str(error)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_a_search_through_ray_gives_the_local_executors_result(tmp_path, cluster,
                                                               search_main):
    proxy = write_proxy(tmp_path)
    local = write_search_config(tmp_path, proxy, name='local.py', rounds=2, samples=3)
    on_ray = write_search_config(
        tmp_path, proxy, name='ray.py', rounds=2, samples=3,
        executor=f"dict(type='RayExecutor', address={cluster!r}, kill_grace_s=0.2, "
        f"job_entry=[{sys.executable!r}, {OBJECTIVE_JOB!r}])")
    assert search_main([local, '--work-dir', str(tmp_path / 'local')]) == 0
    assert search_main([on_ray, '--work-dir', str(tmp_path / 'ray')]) == 0
    best = [json.loads((tmp_path / d / 'best.json').read_text()) for d in ('local', 'ray')]
    assert best[0] == best[1]
    assert len(trial_events(tmp_path / 'ray')) == 6
    log = (tmp_path / 'ray' / 'trials' / 'r000-c00' / 'trial.log').read_text()
    assert log.startswith('# ray node ')


def test_a_killed_worker_is_retried_and_no_finished_trial_runs_twice(tmp_path, cluster):
    counter = tmp_path / 'counter.txt'
    executor = _executor(cluster, tmp_path, [sys.executable, OBJECTIVE_JOB], max_retries=1,
                         env_vars=dict(OBJ_COUNTER=str(counter),
                                       OBJ_SLEEPS=json.dumps(dict(slow=4.0))))
    killed: dict = {}
    thread = _kill_worker_when_started(tmp_path / 'slow', killed,
                                       keeper_guarantee='ray: worker SIGKILLed -> keeper gone')
    specs = [_spec(tmp_path, name) for name in ('a', 'slow', 'b')]
    results = {r.trial_id: r for r in executor.run(specs)}
    thread.join()
    assert all(r.status == 'ok' for r in results.values()), results
    retried = json.loads((tmp_path / 'slow' / 'ray_task.json').read_text())
    assert retried['worker_pid'] != killed['worker_pid']
    # the first attempt's job died with its worker, within the promised time
    assert killed['keeper'] == 'gone', killed['keeper']
    assert sorted(counter.read_text().split()) == ['a', 'b', 'slow']  # each ran to the end once


def test_a_worker_that_dies_past_the_retries_fails_the_trial_with_the_reason(tmp_path,
                                                                             cluster):
    executor = _executor(cluster, tmp_path, [sys.executable, FAKE_JOB, '--mode', 'hang'],
                         reward_key='acc', max_retries=0)
    killed: dict = {}
    thread = _kill_worker_when_started(tmp_path / 'hang', killed, wait_for='pids.json')
    (result, ) = executor.run([_spec(tmp_path, 'hang')])
    thread.join()
    assert result.status == 'crashed' and result.reward == 0.0
    assert 'the trial job was lost' in result.reason and 'retries' in result.reason
    assert 'Worker' in result.reason or 'worker' in result.reason, result.reason
    # the job and its child die with the worker (the keeper stops their process group)
    wait_gone(job_processes(tmp_path / 'hang' / 'pids.json'), stop_deadline_s(0.3),
              'ray: worker SIGKILLed -> job group gone', since=killed['killed_at'])


def test_a_killed_driver_resumes_against_the_same_cluster(tmp_path, cluster):
    proxy = write_proxy(tmp_path)
    config = write_search_config(
        tmp_path, proxy, rounds=2, samples=3,
        executor=f"dict(type='RayExecutor', address={cluster!r}, kill_grace_s=0.2, "
        f"max_concurrent=2, env_vars=dict(OBJ_SLEEP='0.5'), "
        f"job_entry=[{sys.executable!r}, {OBJECTIVE_JOB!r}])")
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    _, best, work_dir = killed_and_resumed(config, env, tmp_path, trials=2)
    ids = [e['result']['trial_id'] for e in trial_events(work_dir)]
    assert len(ids) == len(set(ids)) == 6  # no journaled trial ran again
    assert best['num_trials'] == 6


def test_a_dead_node_takes_only_its_running_trial_which_is_retried_elsewhere(tmp_path):
    # a cluster of its own (the module's cluster has one node): a head that runs no trials
    # and two nodes of one CPU each; the node running the slow trial is killed outright
    proxy = write_proxy(tmp_path)
    counter = tmp_path / 'counter.txt'
    with ray_head(num_cpus=0) as address, ray_node(address, 1) as first, \
            ray_node(address, 1) as second:
        config = write_search_config(
            tmp_path, proxy, rounds=1, samples=3,
            executor=f"dict(type='RayExecutor', address={address!r}, max_retries=2, "
            f"kill_grace_s=0.2, env_vars=dict(OBJ_COUNTER={str(counter)!r}, "
            f"OBJ_SLEEPS={json.dumps(json.dumps({'r000-c00': 6.0}))}), "
            f"job_entry=[{sys.executable!r}, {OBJECTIVE_JOB!r}])")
        work_dir = tmp_path / 'work'
        record = work_dir / 'trials' / 'r000-c00' / 'ray_task.json'
        driver = _driver_once_written(config, work_dir, [record])
        first_attempt = json.loads(record.read_text())
        # the node that runs the slow trial dies as a lost machine does: all its processes
        # (ray start, raylet, workers, the trial job) at once
        victim = next(n for n in (first, second)
                      if _descends_from(first_attempt['worker_pid'], n.pid))
        for pid in _tree(victim.pid):
            os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        # measured while the driver retries the trial elsewhere, so that the time is the
        # stop's, not the retry's
        try:
            wait_gone([_keeper(first_attempt)], stop_deadline_s(0.2),
                      'ray: node killed -> its keeper gone', since=killed_at)
            keeper = 'gone'
        except AssertionError as error:
            keeper = str(error)
        assert driver.wait(timeout=240) == 0, driver.stderr.read()[-3000:]
        events = {e['result']['trial_id']: e['result'] for e in trial_events(work_dir)}
        assert sorted(events) == ['r000-c00', 'r000-c01', 'r000-c02']
        assert all(r['status'] == 'ok' for r in events.values()), events
        retried = json.loads(record.read_text())
        assert retried['worker_pid'] != first_attempt['worker_pid']
        assert keeper == 'gone', keeper
        # every trial ran to its end exactly once
        assert sorted(counter.read_text().split()) == sorted(events)


def _parent(pid: int) -> int:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return int(f.read().rsplit(')', 1)[1].split()[1])
    except FileNotFoundError:
        return 0


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = _parent(pid)
    return False


def _tree(root: int) -> list:
    """``root`` and every process descending from it."""
    pids = [int(p) for p in os.listdir('/proc') if p.isdigit()]
    return [p for p in pids if _descends_from(p, root)]


def test_fractional_gpus_share_each_fake_device(tmp_path, cluster):
    executor = _executor(cluster, tmp_path,
                         [sys.executable, FAKE_JOB, '--mode', 'ok', '--sleep', '2.0'],
                         reward_key='acc', gpus_per_trial=0.5, cpus_per_trial=0.5)
    results = list(executor.run([_spec(tmp_path, f't{i}') for i in range(8)]))
    assert all(r.status == 'ok' for r in results) and len(results) == 8
    envs = [json.loads((tmp_path / f't{i}' / 'job_env.json').read_text()) for i in range(8)]
    assert {e['CUDA_VISIBLE_DEVICES'] for e in envs} <= {'0', '1'}
    max_running = 0
    for e in envs:
        running = [o for o in envs if o['start'] <= e['start'] < o['end']]
        max_running = max(max_running, len(running))
        assert max(sum(o['CUDA_VISIBLE_DEVICES'] == d for o in running) for d in '01') <= 2
    assert max_running >= 3  # several trials per GPU at once (4 fit: 2 GPUs x 2)


def test_a_timeout_kills_the_job_group_on_the_node(tmp_path, cluster):
    # the limit leaves a loaded machine time to start the keeper and the job (two
    # interpreters) before the job must hang
    executor = _executor(cluster, tmp_path,
                         [sys.executable, FAKE_JOB, '--mode', 'hang', '--ignore-term'],
                         reward_key='acc', timeout_s=6.0)
    (result, ) = executor.run([_spec(tmp_path, 'hang')])
    assert result.status == 'timeout' and result.duration_s >= 6.0
    wait_gone(job_processes(tmp_path / 'hang' / 'pids.json'), stop_deadline_s(0.3),
              'ray: trial timeout -> job group gone',
              since=timeout_fired_at(tmp_path / 'hang' / 'ray_task.json', 6.0))


def test_sigterm_to_the_driver_stops_the_trials_on_the_cluster(tmp_path, cluster):
    proxy = write_proxy(tmp_path)
    config = write_search_config(
        tmp_path, proxy, rounds=1, samples=2, trial_timeout=600,
        executor=f"dict(type='RayExecutor', address={cluster!r}, kill_grace_s=0.5, "
        f"job_entry=[{sys.executable!r}, {FAKE_JOB!r}, '--mode', 'hang'])")
    work_dir = tmp_path / 'work'
    pid_files = [work_dir / 'trials' / f'r000-c0{i}' / 'pids.json' for i in range(2)]
    driver = _driver_once_written(config, work_dir, pid_files)
    processes = [p for path in pid_files for p in job_processes(path)]
    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=60) == 143
    exited = time.monotonic()
    assert '--resume' in driver.stderr.read()
    wait_gone(processes, stop_deadline_s(0.5), 'ray: driver SIGTERM exit -> every job gone',
              since=exited)
    assert trial_events(work_dir) == []


def test_a_force_cancelled_trial_leaves_no_process_behind(tmp_path, cluster):
    """A force cancel (the driver's last resort for a task that does not end on its
    cancel) makes the Ray worker exit, and an exiting worker first SIGKILLs its direct
    children: the job keeper dies without a chance to stop its job; its guard does."""
    executor = _executor(cluster, tmp_path, None)
    work_dir = tmp_path / 'hang'
    work_dir.mkdir()
    cmd = [sys.executable, FAKE_JOB, '--mode', 'hang', 'config.py', '--work-dir', str(work_dir)]
    ref = executor._task.options(num_cpus=1, max_retries=0).remote(
        cmd, str(work_dir), os.getcwd(), 'trial.log', 600.0, 0.3, {})
    deadline = time.monotonic() + 120
    while not (work_dir / 'pids.json').exists():
        assert time.monotonic() < deadline, 'the trial did not start'
        time.sleep(0.05)
    processes = [_keeper(json.loads((work_dir / 'ray_task.json').read_text())),
                 *job_processes(work_dir / 'pids.json')]
    executor._ray.cancel(ref, force=True)
    cancelled = time.monotonic()
    with pytest.raises(executor._ray.exceptions.RayError):
        executor._ray.get(ref, timeout=60)
    wait_gone(processes, stop_deadline_s(0.3), 'ray: force cancel -> keeper and job gone',
              since=cancelled)


def test_early_stopping_cancels_a_trial_that_falls_behind(tmp_path, cluster):
    rule = ASHAStopping('mIoU', reduction_factor=2, poll_interval_s=0.05)
    executor = _executor(cluster, tmp_path, [sys.executable, OBJECTIVE_JOB], max_concurrent=1,
                         early_stopping=rule,
                         env_vars=dict(OBJ_VALIDATIONS='4', OBJ_VAL_SLEEP='0.5'))
    # rewards 1 - |p - 0.3|: 1.0 for the first trial, 0.4 for the second
    results = {r.trial_id: r for r in executor.run([_spec(tmp_path, 'good', [0.3]),
                                                    _spec(tmp_path, 'bad', [0.9])])}
    assert results['good'].status == 'ok' and results['good'].reward == pytest.approx(1.0)
    bad = results['bad']
    assert bad.status == 'stopped' and 'stopped early by ASHA at validation 1' in bad.reason
    assert bad.reward == pytest.approx(0.4 / 4)
    record = json.loads((tmp_path / 'bad' / 'ray_task.json').read_text())
    wait_gone([_keeper(record)], stop_deadline_s(0.3), 'ray: early stop -> keeper gone')


ARGV_JOB = ('import json, os, sys; work_dir = sys.argv[sys.argv.index("--work-dir") + 1]; '
            'json.dump(dict(argv=sys.argv, executable=sys.executable, '
            'port=os.environ["MASTER_PORT"], devices=os.environ["CUDA_VISIBLE_DEVICES"]), '
            'open(os.path.join(work_dir, "argv.json"), "w"))')


def test_the_worker_fills_in_its_python_and_a_free_master_port(tmp_path, cluster):
    executor = _executor(cluster, tmp_path,
                         ['{PYTHON}', '-c', ARGV_JOB, '--master_port={MASTER_PORT}'],
                         gpus_per_trial=1)
    (result, ) = executor.run([_spec(tmp_path, 'argv')])
    assert result.status == 'no_metric'  # the job writes no metrics; its arguments are read
    seen = json.loads((tmp_path / 'argv' / 'argv.json').read_text())
    assert seen['executable'] == sys.executable
    assert f'--master_port={seen["port"]}' in seen['argv'] and int(seen['port']) > 0
    assert seen['devices'] in ('0', '1')  # the one GPU Ray gave this trial


def test_a_multi_gpu_trial_runs_under_torchrun_with_the_workers_port():
    from torch.distributed.run import get_args_parser
    cmd = job_command('c.py', 'w', 2, None, PYTHON_TOKEN, MASTER_PORT_TOKEN)
    assert cmd[:3] == [PYTHON_TOKEN, '-m', 'torch.distributed.run']
    filled = [a.replace(MASTER_PORT_TOKEN, '29500') for a in cmd[3:]]
    args = get_args_parser().parse_args(filled)
    assert (args.nproc_per_node, args.master_port) == ('2', 29500)
    assert args.training_script_args == ['c.py', '--work-dir', 'w', '--launcher', 'pytorch']


@pytest.mark.parametrize('kwargs,match', [
    (dict(gpus=2), 'the Ray cluster assigns GPUs'),
    (dict(gpus_per_trial=4), 'a trial asks for GPU=4 but the Ray cluster has GPU=2.0'),
    (dict(gpus_per_trial=0.3), 'must be 1/k'),
    (dict(cpus_per_trial=-1), 'cpus_per_trial must be a finite number >= 0'),
    (dict(num_cpus=2), 'num_cpus / num_gpus size a local Ray instance'),
    (dict(max_retries=-1), 'max_retries must be an int >= 0, got -1'),
    (dict(env_vars=dict(A=1)), 'env_vars must be a dict of strings'),
])
def test_bad_settings_are_refused_by_name(tmp_path, cluster, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _executor(cluster, tmp_path, None, **kwargs)
