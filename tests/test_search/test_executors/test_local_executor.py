import json
import os
import os.path as osp
import signal
import sys
import threading
import time

import pytest
import torch

from mmautoloss.search.executors import LocalExecutor, Slot
from mmautoloss.search.executors import local as local_executor
from mmautoloss.search.trial import TrialSpec
from mmautoloss.testing import REPO
from mmautoloss.testing.processes import (
    Process,
    job_processes,
    stop_deadline_s,
    timeout_fired_at,
    wait_gone,
)

TOY_DIR = REPO / 'tests' / 'assets' / 'toy_job'
TOY_CONFIG = str(TOY_DIR / 'toy_job_config.py')
FAKE_JOB = str(TOY_DIR / 'fake_job.py')


def _fake_entry(*args):
    return [sys.executable, FAKE_JOB, *args]


def _spec(tmp_path, trial_id, overrides=None):
    return TrialSpec(trial_id=trial_id, candidate=[0.0], overrides=overrides or {},
                     work_dir=str(tmp_path / trial_id))


class _PerSpecEntry(LocalExecutor):
    """Fake job options per trial id, so one run mixes outcomes."""

    def __init__(self, options, **kwargs):
        super().__init__(**kwargs)
        self.options = options

    def _command(self, config_path, work_dir, slot):
        return [*_fake_entry(*self.options[osp.basename(work_dir)]), config_path,
                '--work-dir', work_dir]


def test_ok_crash_and_no_metric_in_one_run(tmp_path):
    options = {
        'ok': ['--mode', 'ok', '--reward-key', 'toy/score', '--reward', '0.75'],
        'crash': ['--mode', 'crash', '--lines', '100'],
        'nometric': ['--mode', 'no_metric'],
        'nofile': ['--mode', 'no_metric', '--no-file'],
    }
    executor = _PerSpecEntry(options, proxy_config=TOY_CONFIG, reward_key='toy/score',
                             max_concurrent=2, failure_reward=-1.0, timeout_s=60)
    results = {r.trial_id: r for r in executor.run([_spec(tmp_path, t) for t in options])}
    assert set(results) == set(options)
    ok = results['ok']
    assert (ok.status, ok.reward) == ('ok', 0.75) and ok.metrics == {'toy/score': 0.75,
                                                                     'other': 1.0}
    crash = results['crash']
    assert crash.status == 'crashed' and crash.reward == -1.0 and 'code 3' in crash.reason
    tail = crash.log_tail.splitlines()
    assert len(tail) == 40 and tail[-1] == 'line 99' and 'line 59' not in tail
    assert results['nometric'].status == 'no_metric'
    assert "present keys: ['other']" in results['nometric'].reason
    assert results['nofile'].status == 'no_metric' and results['nofile'].reward == -1.0
    env = json.loads((tmp_path / 'ok' / 'job_env.json').read_text())
    assert env['CUDA_VISIBLE_DEVICES'] == '' and env['config'] == str(tmp_path / 'ok' / 'config.py')


def test_polling_fallback_without_pidfds(tmp_path, monkeypatch):
    monkeypatch.setattr(local_executor, '_open_pidfd', lambda pid: None)
    executor = LocalExecutor(TOY_CONFIG, 'acc', max_concurrent=2, poll_interval_s=0.01,
                             job_entry=_fake_entry('--mode', 'ok', '--reward', '0.25'))
    results = list(executor.run([_spec(tmp_path, f't{i}') for i in range(3)]))
    assert sorted(r.trial_id for r in results) == ['t0', 't1', 't2']
    assert all(r.status == 'ok' and r.reward == 0.25 for r in results)


def test_launch_and_config_failures_are_results(tmp_path):
    executor = LocalExecutor(TOY_CONFIG, 'acc', job_entry=[str(tmp_path / 'no_such_binary')],
                             failure_reward=-2.0)
    bad_override = {'model.type.sub': 1}  # 'type' holds a string, cannot take a sub-key
    results = list(executor.run([_spec(tmp_path, 'a'), _spec(tmp_path, 'b', bad_override)]))
    assert [r.status for r in results] == ['crashed', 'crashed']
    assert all(r.reward == -2.0 and 'could not launch' in r.reason for r in results)
    assert 'FileNotFoundError' in results[0].reason


def test_gpu_slots_pin_devices_and_ports(tmp_path, monkeypatch):
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)
    executor = LocalExecutor(TOY_CONFIG, 'acc', gpus=8, gpus_per_trial=2, timeout_s=60,
                             job_entry=_fake_entry('--mode', 'ok', '--sleep', '0.6'))
    assert executor.num_slots == 4
    results = list(executor.run([_spec(tmp_path, f't{i}') for i in range(8)]))
    assert sorted(r.trial_id for r in results) == [f't{i}' for i in range(8)]
    assert all(r.status == 'ok' for r in results)
    envs = [json.loads((tmp_path / f't{i}' / 'job_env.json').read_text()) for i in range(8)]
    assert {e['CUDA_VISIBLE_DEVICES'] for e in envs} == {'0,1', '2,3', '4,5', '6,7'}
    # brute force over time: at every trial start, the trials running then are at most 4,
    # hold disjoint GPUs and distinct master ports
    max_running = 0
    for e in envs:
        running = [o for o in envs if o['start'] <= e['start'] < o['end']]
        max_running = max(max_running, len(running))
        devices = [d for o in running for d in o['CUDA_VISIBLE_DEVICES'].split(',')]
        assert len(devices) == len(set(devices))
        ports = [o['MASTER_PORT'] for o in running]
        assert len(ports) == len(set(ports))
    assert max_running == 4


def test_fractional_gpus_pack_several_trials_per_device(tmp_path, monkeypatch):
    # fake device ids 3 and 5 at a quarter GPU per trial: 8 slots, 4 trials per device
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '3,5')
    executor = LocalExecutor(TOY_CONFIG, 'acc', gpus=2, gpus_per_trial=0.25, timeout_s=60,
                             job_entry=_fake_entry('--mode', 'ok', '--sleep', '1.5'))
    assert executor.num_slots == 8
    results = list(executor.run([_spec(tmp_path, f't{i}') for i in range(12)]))
    assert all(r.status == 'ok' for r in results) and len(results) == 12
    envs = [json.loads((tmp_path / f't{i}' / 'job_env.json').read_text()) for i in range(12)]
    # a trial sees exactly one device, and only one it was given
    assert {e['CUDA_VISIBLE_DEVICES'] for e in envs} == {'3', '5'}
    max_running = 0
    for e in envs:
        running = [o for o in envs if o['start'] <= e['start'] < o['end']]
        max_running = max(max_running, len(running))
        per_device = [sum(o['CUDA_VISIBLE_DEVICES'] == d for o in running) for d in '35']
        assert max(per_device) <= 4, per_device
        ports = [o['MASTER_PORT'] for o in running]
        assert len(ports) == len(set(ports))
    assert max_running == 8


def test_parent_visible_devices_are_shared_out(tmp_path, monkeypatch):
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '3,5')
    executor = LocalExecutor(TOY_CONFIG, 'acc', gpus=2, job_entry=_fake_entry('--mode', 'ok'))
    list(executor.run([_spec(tmp_path, 'a'), _spec(tmp_path, 'b')]))
    envs = [json.loads((tmp_path / t / 'job_env.json').read_text()) for t in 'ab']
    assert sorted(e['CUDA_VISIBLE_DEVICES'] for e in envs) == ['3', '5']


def test_default_job_commands_parse_as_torchrun(monkeypatch):
    from torch.distributed.run import get_args_parser
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)
    slot = Slot(index=1, devices=(2, 3), port=29999)
    cmd = LocalExecutor(TOY_CONFIG, 'acc', gpus=4, gpus_per_trial=2)._command('c.py', 'w', slot)
    assert cmd[:3] == [sys.executable, '-m', 'torch.distributed.run']
    args = get_args_parser().parse_args(cmd[3:])
    assert (args.nproc_per_node, args.master_port, args.module) == ('2', 29999, True)
    assert args.training_script == 'mmautoloss.engine.train_job'
    assert args.training_script_args == ['c.py', '--work-dir', 'w', '--launcher', 'pytorch']
    single = LocalExecutor(TOY_CONFIG, 'acc', gpus=2)._command('c.py', 'w', slot)
    assert single == [sys.executable, '-m', 'mmautoloss.engine.train_job', 'c.py',
                      '--work-dir', 'w']


def test_timeout_kills_the_process_group(tmp_path):
    # the limit leaves a loaded machine time to start the job (it must hang first)
    executor = LocalExecutor(TOY_CONFIG, 'acc', timeout_s=5.0, kill_grace_s=0.3,
                             job_entry=_fake_entry('--mode', 'hang', '--ignore-term'))
    (result,) = executor.run([_spec(tmp_path, 'hang')])
    assert result.status == 'timeout' and result.duration_s >= 5.0
    wait_gone(job_processes(tmp_path / 'hang' / 'pids.json'), stop_deadline_s(0.3),
              'local: trial timeout -> job group gone',
              since=timeout_fired_at(tmp_path / 'hang' / 'config.py', 5.0))


def test_interrupt_kills_running_trials(tmp_path):
    options = {'quick': ['--mode', 'ok'], 'slow': ['--mode', 'hang']}
    executor = _PerSpecEntry(options, proxy_config=TOY_CONFIG, reward_key='acc',
                             max_concurrent=2, timeout_s=60, kill_grace_s=1.0)
    run = executor.run([_spec(tmp_path, 'quick'), _spec(tmp_path, 'slow')])
    first = next(run)
    assert first.trial_id == 'quick' and first.status == 'ok'
    pids_path = tmp_path / 'slow' / 'pids.json'
    end = time.monotonic() + 20
    while not pids_path.exists() and time.monotonic() < end:
        time.sleep(0.05)
    processes = job_processes(pids_path)
    assert all(p.running() for p in processes)
    interrupted = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run.throw(KeyboardInterrupt)
    wait_gone(processes, stop_deadline_s(1.0), 'local: interrupt -> job group gone',
              since=interrupted)


@pytest.mark.training
def test_real_jobs_nan_and_ok(tmp_path, monkeypatch):
    """Two real mmengine jobs (mmautoloss.engine.train_job): one whose loss turns NaN at
    iteration 2 is stopped by NonFiniteLossHook; the other's reward is checked against the
    validation MSE recomputed from its final checkpoint."""
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(TOY_DIR), str(REPO)]))
    monkeypatch.syspath_prepend(str(TOY_DIR))
    from toy_job_modules import ToyRegressionDataset
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', max_concurrent=2, timeout_s=300,
                             failure_reward=-100.0, nonfinite_check_iters=5,
                             keep_checkpoints=True)
    specs = [_spec(tmp_path, 'nan', {'model.nan_from_iter': 2}), _spec(tmp_path, 'ok')]
    results = {r.trial_id: r for r in executor.run(specs)}

    nan = results['nan']
    assert nan.status == 'nonfinite', nan.log_tail
    assert nan.reward == -100.0 and '"iter": 2' in nan.reason
    assert 'NonFiniteLossError' in nan.log_tail
    assert not (tmp_path / 'nan' / 'metrics.json').exists()

    ok = results['ok']
    assert ok.status == 'ok', ok.log_tail
    state = torch.load(tmp_path / 'ok' / 'iter_8.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    w, b = float(state['linear.weight']), float(state['linear.bias'])
    val = ToyRegressionDataset(num_samples=8, seed=1)
    errors = [(w * float(val[i]['inputs']) + b - float(val[i]['data_samples'])) ** 2
              for i in range(len(val))]
    mse = sum(errors) / len(errors)
    assert ok.metrics['toy/mse'] == pytest.approx(mse, rel=1e-5)
    assert ok.reward == pytest.approx(-mse, rel=1e-5)


@pytest.mark.parametrize('kwargs, key', [
    (dict(proxy_config='/no/such/config.py'), "proxy_config='/no/such/config.py'"),
    (dict(reward_key=''), "reward_key=''"),
    (dict(timeout_s=0), 'timeout_s=0'),
    (dict(failure_reward=float('nan')), 'failure_reward=nan'),
    (dict(job_entry=[]), r'job_entry=\[\]'),
    (dict(gpus=0, gpus_per_trial=2), 'gpus_per_trial=2'),
    (dict(nonfinite_check_iters=-3), 'nonfinite_check_iters=-3'),
    (dict(nonfinite_check_iters=True), 'nonfinite_check_iters=True'),
])
def test_bad_arguments_name_the_value(kwargs, key):
    args = dict(proxy_config=TOY_CONFIG, reward_key='acc')
    args.update(kwargs)
    with pytest.raises(ValueError, match=key):
        LocalExecutor(**args)


def test_duplicate_trial_ids_are_rejected(tmp_path):
    executor = LocalExecutor(TOY_CONFIG, 'acc', job_entry=_fake_entry('--mode', 'ok'))
    with pytest.raises(ValueError, match="trial_id='x'"):
        list(executor.run([_spec(tmp_path, 'x'), _spec(tmp_path, 'x')]))


# Forked jobs: the default training job started from the slot's warm job forker.

def _toy_env(monkeypatch):
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(TOY_DIR), str(REPO)]))


def _toy_spec(tmp_path, trial_id, **model):
    work_dir = str(tmp_path / trial_id)
    overrides = {f'model.{key}': value for key, value in dict(probe_dir=work_dir, **model).items()}
    return TrialSpec(trial_id=trial_id, candidate=[0.0], overrides=overrides, work_dir=work_dir)


def _forker_pid(tmp_path, trial_id):
    """The pid of the forker that forked the trial (from its log's first line), or None."""
    header = (tmp_path / trial_id / 'trial.log').read_text().splitlines()[0]
    marker = "forked by the slot's job forker (pid "
    return int(header.split(marker)[1].rstrip(')')) if marker in header else None


def _hanging_processes(pids_path):
    """The job and grandchild a hanging toy job records, once it has recorded them."""
    end = time.monotonic() + 120
    while not pids_path.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return job_processes(pids_path)


def _kill_once_hanging(pids_path, whom, sig=signal.SIGKILL):
    """In the background: once the hanging job has written ``pids_path``, send ``sig`` to
    the pid ``whom(job, grandchild)``; the thread's ``processes`` holds what it read and
    ``killed_at`` when it sent the signal."""
    def kill():
        thread.processes = _hanging_processes(pids_path)
        os.kill(whom(*thread.processes), sig)
        thread.killed_at = time.monotonic()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


@pytest.mark.training
def test_a_forked_job_is_what_a_spawned_job_is(tmp_path, monkeypatch):
    """The same toy trial spawned and forked: its own session, the same environment,
    working directory, arguments, torch threads, stdin and reward; without a seed, two
    forked jobs draw different ones (the global generators are not the forker's)."""
    _toy_env(monkeypatch)
    probes, rewards = {}, {}
    for fork in (False, True):
        executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120, fork_jobs=fork)
        names = ['forked0', 'unseeded0', 'unseeded1'] if fork else ['spawned0']
        specs = [_toy_spec(tmp_path, name) for name in names]
        for spec in specs[1:]:  # mmengine draws the seed from NumPy's global generator
            spec.overrides['randomness.seed'] = None
        for result in executor.run(specs):
            assert result.status == 'ok', result.log_tail
            rewards[result.trial_id] = result.reward
        for name in names:
            probes[name] = json.loads((tmp_path / name / 'job_probe.json').read_text())
            assert (_forker_pid(tmp_path, name) is not None) == fork
        executor.close()
    spawned, forked = probes['spawned0'], probes['forked0']
    for probe in (spawned, forked):
        assert probe['pid'] == probe['pgid'] == probe['sid']  # leads its own session
        assert probe['stdin'] == os.devnull
        assert probe['torch_threads'] == int(probe['env']['OMP_NUM_THREADS'])
    assert forked['ppid'] == _forker_pid(tmp_path, 'forked0') and spawned['ppid'] == os.getpid()
    ignore = {'MASTER_PORT'}  # a fresh free port per trial
    assert {k: v for k, v in forked['env'].items() if k not in ignore} == \
        {k: v for k, v in spawned['env'].items() if k not in ignore}
    assert forked['cwd'] == spawned['cwd']
    assert forked['argv'][0] == spawned['argv'][0]  # the train_job module's file
    assert [a.replace('forked0', 'x') for a in forked['argv'][1:]] == \
        [a.replace('spawned0', 'x') for a in spawned['argv'][1:]]
    assert rewards['forked0'] == rewards['spawned0']
    for key in ('python_random', 'numpy_random'):
        assert probes['unseeded0'][key] != probes['unseeded1'][key]


@pytest.mark.training
def test_forked_job_faults_end_their_own_trial_only(tmp_path, monkeypatch):
    """An exception, sys.exit(3), a NaN loss and a normal trial, one after the other on one
    slot: each is judged as a spawned job would be, and one forker forks them all."""
    _toy_env(monkeypatch)
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120, nonfinite_check_iters=5)
    specs = [_toy_spec(tmp_path, 'raise', fault='raise'), _toy_spec(tmp_path, 'exit', fault='exit'),
             _toy_spec(tmp_path, 'nan', nan_from_iter=1), _toy_spec(tmp_path, 'ok')]
    results = {r.trial_id: r for r in executor.run(specs)}
    assert results['raise'].status == 'crashed' and 'code 1' in results['raise'].reason
    assert 'RuntimeError: toy job fault' in results['raise'].log_tail
    assert 'Traceback (most recent call last)' in results['raise'].log_tail
    assert results['exit'].status == 'crashed' and 'code 3' in results['exit'].reason
    assert results['nan'].status == 'nonfinite' and '"iter": 1' in results['nan'].reason
    assert results['ok'].status == 'ok', results['ok'].log_tail
    assert len({_forker_pid(tmp_path, s.trial_id) for s in specs} - {None}) == 1
    executor.close()


@pytest.mark.training
def test_sigkilled_forked_trial_then_the_next_one_on_its_slot_runs_normally(tmp_path,
                                                                           monkeypatch):
    _toy_env(monkeypatch)
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120)
    run = executor.run([_toy_spec(tmp_path, 'killed', fault='hang'), _toy_spec(tmp_path, 'next')])
    killer = _kill_once_hanging(tmp_path / 'killed' / 'pids.json', lambda job, _: job.pid)
    killed = next(run)
    killer.join()
    assert killed.trial_id == 'killed' and killed.status == 'crashed'
    assert f'code {-signal.SIGKILL}' in killed.reason
    # what it left in its group went with it
    wait_gone(killer.processes, stop_deadline_s(executor.job.kill_grace_s),
              'local: forked job SIGKILLed -> its group gone', since=killer.killed_at)
    following = next(run)
    assert following.trial_id == 'next' and following.status == 'ok', following.log_tail
    spawned = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120, fork_jobs=False)
    (reference, ) = spawned.run([_toy_spec(tmp_path, 'reference')])
    assert following.reward == reference.reward
    assert _forker_pid(tmp_path, 'killed') == _forker_pid(tmp_path, 'next')
    executor.close()


@pytest.mark.training
def test_forked_job_past_its_time_limit_is_killed_with_its_group(tmp_path, monkeypatch):
    _toy_env(monkeypatch)
    # the job hangs at its first training iteration, which it must reach within the limit:
    # about 3 s after its fork on an idle machine, more than 8 s beside two CPU burners
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=20.0, kill_grace_s=0.3)
    run = executor.run([_toy_spec(tmp_path, 'hang', fault='hang_ignoring_term'),
                        _toy_spec(tmp_path, 'after')])
    hang = next(run)
    # the limit passed timeout_s after the launch, duration_s (launch -> judged) ago
    limit_passed = time.monotonic() - hang.duration_s + 20.0
    assert hang.status == 'timeout'
    wait_gone(job_processes(tmp_path / 'hang' / 'pids.json'), stop_deadline_s(0.3),
              'local: forked trial timeout -> job group gone', since=limit_passed)
    assert [r.status for r in run] == ['ok']
    assert not (tmp_path / 'hang' / 'trial.pgid').exists()
    executor.close()


@pytest.mark.training
def test_a_dead_forker_loses_its_trial_and_is_replaced(tmp_path, monkeypatch):
    _toy_env(monkeypatch)
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120)
    run = executor.run([_toy_spec(tmp_path, 'orphaned', fault='hang'), _toy_spec(tmp_path, 'next')])
    killer = _kill_once_hanging(tmp_path / 'orphaned' / 'pids.json',
                                lambda *_: _forker_pid(tmp_path, 'orphaned'))
    lost = next(run)
    killer.join()
    forker = _forker_pid(tmp_path, 'orphaned')
    assert lost.status == 'crashed' and 'the trial job was lost' in lost.reason
    assert f'the job forker (pid {forker}) ended' in lost.reason
    wait_gone(killer.processes, stop_deadline_s(executor.job.kill_grace_s),
              'local: job forker SIGKILLed -> its job group gone', since=killer.killed_at)
    following = next(run)
    assert following.status == 'ok', following.log_tail
    assert _forker_pid(tmp_path, 'next') not in (None, forker)
    executor.close()


@pytest.mark.training
def test_a_forker_that_cannot_start_leaves_the_trials_spawned(tmp_path, monkeypatch):
    from mmautoloss.search.executors.processes import forker_pool
    _toy_env(monkeypatch)
    monkeypatch.setattr(forker_pool, 'FORKER_SOURCE', 'import mmautoloss.no_such_module')
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120)
    with pytest.warns(RuntimeWarning, match='forked trial jobs are off .*ended with exit code 1'):
        results = list(executor.run([_toy_spec(tmp_path, 'a'), _toy_spec(tmp_path, 'b')]))
    assert [r.status for r in results] == ['ok', 'ok']
    assert _forker_pid(tmp_path, 'a') is None and _forker_pid(tmp_path, 'b') is None


@pytest.mark.training
def test_close_and_interrupt_leave_no_forker_or_job(tmp_path, monkeypatch):
    _toy_env(monkeypatch)
    executor = LocalExecutor(TOY_CONFIG, 'toy/score', timeout_s=120, max_concurrent=2,
                             kill_grace_s=0.5)
    run = executor.run([_toy_spec(tmp_path, 'ok'), _toy_spec(tmp_path, 'hang', fault='hang')])
    first = next(run)
    assert first.trial_id == 'ok' and first.status == 'ok', first.log_tail
    processes = _hanging_processes(tmp_path / 'hang' / 'pids.json')
    forkers = {Process.of(_forker_pid(tmp_path, name), 'forker') for name in ('ok', 'hang')}
    assert len(forkers) == 2  # one per slot
    interrupted = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run.throw(KeyboardInterrupt)
    wait_gone(processes, stop_deadline_s(0.5), 'local: interrupt -> forked job group gone',
              since=interrupted)
    assert all(forker.running() for forker in forkers)  # kept for the next run
    closed = time.monotonic()
    executor.close()
    wait_gone(forkers, stop_deadline_s(0.5), 'local: close -> forkers gone', since=closed)
