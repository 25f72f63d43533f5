"""tools/search.py: exit code 2 on a bad config before any trial; a tiny search end to end."""
import json
import os
import subprocess
import sys

import pytest

from mmautoloss.testing import REPO, SEARCH_TOOL, write_proxy, write_search_config
from mmautoloss.testing.processes import job_processes, stop_deadline_s, wait_gone


def test_malformed_config_exits_2_naming_the_key(tmp_path):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, extra="sampler = dict(type='x')")
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir', str(work_dir)],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "'sampler'" in proc.stderr
    assert not work_dir.exists()


def test_tiny_search_and_exit_codes(tmp_path, search_main, capsys):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=5, samples=2)
    work_dir = tmp_path / 'work'
    assert search_main([config, '--work-dir', str(work_dir),
                        '--cfg-options', 'budget.rounds=1']) == 0
    best = json.loads((work_dir / 'best.json').read_text())['selected']
    assert (f'best mean (round 0): average mIoU = {best["reward"]:.4f}'
            in capsys.readouterr().out)
    assert sorted(os.listdir(work_dir / 'trials')) == ['r000-c00', 'r000-c01']
    for name in ('best.json', 'best_config.py', 'journal.jsonl', 'state.json', 'rewards.png',
                 'best_curves.png'):
        assert (work_dir / name).is_file()
    # a second run into the same work dir needs --resume; a changed budget cannot resume
    assert search_main([config, '--work-dir', str(work_dir)]) == 2
    assert '--resume' in capsys.readouterr().err
    assert search_main([config, '--work-dir', str(work_dir), '--resume']) == 2
    assert 'in 1 setting(s): rounds: recorded 1, now 5' in capsys.readouterr().err
    same = [config, '--work-dir', str(work_dir), '--resume', '--cfg-options', 'budget.rounds=1']
    assert search_main(same) == 0  # finished: nothing runs again
    capsys.readouterr()
    # an edited proxy config cannot resume either, although its path is the same
    with open(proxy, 'a') as f:
        f.write('\nrandomness = dict(seed=123)\n')
    assert search_main(same) == 2
    assert 'proxy.randomness: recorded ' + "'<absent>', now {'seed': 123}" in \
        capsys.readouterr().err
    missing = write_search_config(tmp_path, str(tmp_path / 'nope.py'), name='missing.py')
    assert search_main([missing, '--work-dir', str(tmp_path / 'w2')]) == 2
    assert 'proxy_config=' in capsys.readouterr().err
    assert search_main([config, '--work-dir', str(tmp_path / 'w3'), '--gpus', '-1']) == 2
    assert 'gpus' in capsys.readouterr().err
    import torch
    too_many = torch.cuda.device_count() + 1
    assert search_main([config, '--work-dir', str(tmp_path / 'w3'), '--gpus',
                        str(too_many)]) == 2
    assert f'--gpus={too_many}' in capsys.readouterr().err
    assert not (tmp_path / 'w2').exists() and not (tmp_path / 'w3').exists()


def test_sigterm_stops_the_running_trials_and_exits_143(tmp_path):
    """SIGTERM (a scheduler, ``kill``) stops the search like Ctrl-C: the trial's whole
    process group is killed, not only its leader, and the resume hint is printed."""
    import signal
    import time
    fake_job = os.path.join(REPO, 'tests', 'assets', 'toy_job', 'fake_job.py')
    executor = (f"dict(type='LocalExecutor', max_concurrent=1, kill_grace_s=0.2, "
                f"job_entry=[{sys.executable!r}, {fake_job!r}, '--mode', 'hang'])")
    config = write_search_config(tmp_path, write_proxy(tmp_path), executor=executor)
    work_dir = tmp_path / 'work'
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, SEARCH_TOOL, config, '--work-dir', str(work_dir)],
                            env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    pids_path = work_dir / 'trials' / 'r000-c00' / 'pids.json'
    deadline = time.monotonic() + 120
    while not pids_path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    processes = job_processes(pids_path)
    try:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        exited = time.monotonic()
        assert proc.returncode == 143, stderr[-2000:]
        assert '--resume' in stderr
        wait_gone(processes, stop_deadline_s(0.2), 'local: driver SIGTERM exit -> job gone',
                  since=exited)
    finally:
        for process in processes:
            if process.running():
                os.kill(process.pid, signal.SIGKILL)


@pytest.mark.parametrize('case, match', [
    ('config_work_dir', 'work_dir must be a non-empty path string'),
    ('work_dir_is_a_file', 'cannot be used as a directory'),
    ('work_dir_under_a_file', 'cannot be used as a directory'),
    ('cfg_option_without_value', "--cfg-options item 'budget.rounds' must be KEY=VALUE"),
    ('cfg_option_unbalanced', '--cfg-options budget: cannot parse the value'),
    ('resume_nothing', '--resume: work_dir='),
])
def test_edges_of_the_command_line_exit_2_naming_the_input(tmp_path, search_main, capsys,
                                                           case, match):
    proxy = write_proxy(tmp_path)
    extra = 'work_dir = 3' if case == 'config_work_dir' else ''
    config = write_search_config(tmp_path, proxy, extra=extra)
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a directory')
    work_dir = {'work_dir_is_a_file': blocker,
                'work_dir_under_a_file': blocker / 'sub'}.get(case, tmp_path / 'work')
    args = [config, '--work-dir', str(work_dir)]
    if case == 'cfg_option_without_value':
        args += ['--cfg-options', 'budget.rounds']
    if case == 'cfg_option_unbalanced':
        args += ['--cfg-options', 'budget=[1,(2']
    if case == 'resume_nothing':
        args += ['--resume']
    assert search_main(args) == 2
    err = capsys.readouterr().err
    assert match in err and 'Traceback' not in err
    assert blocker.read_text() == 'not a directory'
    assert not (tmp_path / 'work' / 'journal.jsonl').exists()


def test_resume_says_what_it_found(tmp_path, search_main, capsys):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=1, samples=2)
    work_dir = tmp_path / 'work'
    assert search_main([config, '--work-dir', str(work_dir)]) == 0
    capsys.readouterr()
    assert search_main([config, '--work-dir', str(work_dir), '--resume']) == 0
    assert f'[search] resuming {work_dir}: round 1, 2 trials recorded' in capsys.readouterr().err
