"""The worker side of :class:`~.ray_executor.RayExecutor`: one trial job on a Ray worker.

:func:`run_trial_job` runs inside a Ray task. It starts the trial's training job (written by
the driver to the trial's work dir on shared storage) as its own process group on the GPUs
Ray assigned to the task, waits for it up to the trial's time limit, and returns how it
ended; the driver judges the outcome from the work dir, as the local executor does.

No process is left behind on the node: the job runs under :mod:`~.processes.job_keeper`, the
leader of its own session, which stops the session's whole process group (torchrun and its
ranks, dataloader workers) when it gets SIGTERM: from this task on a timeout or on the
task's cancellation (``ray.cancel``: a ``KeyboardInterrupt`` here), or from the kernel when
the Ray worker dies (SIGKILL, OOM killer, a lost node). When the
worker exits instead (a force cancel, the end of the driver's Ray job), Ray SIGKILLs the
keeper first; the keeper's guard then stops the group.

This module imports only the standard library and the small executor modules it shares
with the local executor; the executor ships them to the workers by value, so a worker
starts the task without importing mmautoloss (and mmdet / mmseg / mmpose), and the keeper
travels as source (``python -c``).
"""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

from .processes import job_keeper
from .processes.gpu_slots import find_free_port
from .processes.stale_jobs import process_start_time, signal_group

#: run as ``python -c`` on the node, so that nothing of this package need be installed there
KEEPER_SOURCE = open(job_keeper.__file__, encoding='utf-8').read()

#: placeholders in a job command that the worker fills in: its own interpreter, and a port
#: free on its node (torchrun's --master_port)
PYTHON_TOKEN = '{PYTHON}'
MASTER_PORT_TOKEN = '{MASTER_PORT}'
#: written by the task into the trial's work dir: node, worker and keeper pids with their
#: start times (a pid alone may name a later process), devices
TASK_RECORD_NAME = 'ray_task.json'
#: files of an earlier attempt of the trial that must not be mistaken for this one's (the
#: names of ``structures.TRIAL_OUTCOME_FILES``, written out: importing them would import
#: mmautoloss on the worker)
STALE_OUTPUTS = ('metrics.json', 'nonfinite.json', 'metrics_history.jsonl')


def _stop(proc: subprocess.Popen, kill_grace_s: float) -> None:
    """SIGTERM the job's process group (the keeper SIGKILLs it after ``kill_grace_s``),
    SIGKILL what is left after one more second, reap the keeper."""
    signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=kill_grace_s + 1.0)
    except subprocess.TimeoutExpired:
        pass
    signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def run_trial_job(cmd: list, work_dir: str, cwd: str, log_name: str, timeout_s: float,
                  kill_grace_s: float, env_vars: dict) -> dict:
    """Run one trial job on this Ray worker; returns ``returncode`` (None when timed out),
    ``timed_out``, ``duration_s``, ``node``, ``worker_pid``, ``leader_pid`` (the keeper),
    their start times, ``devices``.

    Args:
        cmd (list): the job command; ``{PYTHON}`` and ``{MASTER_PORT}`` are filled in here.
        work_dir (str): the trial's work dir on shared storage (config written by the driver).
        cwd (str): the driver's working directory, where the job runs (relative data paths
            of the proxy config resolve as they do for the local executor); the trial's
            work dir on a node that lacks it.
        log_name (str): the job's stdout and stderr go to ``work_dir/log_name``.
        timeout_s (float): wall-clock limit; the job's group is killed past it.
        kill_grace_s (float): seconds between SIGTERM and SIGKILL.
        env_vars (dict): set in the job's environment (the search config's ``env_vars``).
    """
    import ray  # the worker's own Ray
    start = time.monotonic()
    devices = [str(int(float(d))) for d in ray.get_gpu_ids()]
    port = find_free_port()
    cmd = [sys.executable if a == PYTHON_TOKEN else a.replace(MASTER_PORT_TOKEN, str(port))
           for a in cmd]
    env = dict(os.environ, **env_vars)
    env.update(CUDA_VISIBLE_DEVICES=','.join(devices), MASTER_PORT=str(port),
               PYTHONUNBUFFERED='1')
    for name in STALE_OUTPUTS:  # a retried attempt starts from the driver's config alone
        path = osp.join(work_dir, name)
        if osp.exists(path):
            os.remove(path)
    node = ray.util.get_node_ip_address()
    with open(osp.join(work_dir, log_name), 'wb') as log:
        log.write(f'# ray node {node} worker {os.getpid()} CUDA_VISIBLE_DEVICES='
                  f'{env["CUDA_VISIBLE_DEVICES"]!r} MASTER_PORT={port} '
                  f'{" ".join(cmd)}\n'.encode())
        log.flush()
        proc = subprocess.Popen(
            [sys.executable, '-c', KEEPER_SOURCE, str(kill_grace_s), str(os.getpid()), *cmd],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=cwd if osp.isdir(cwd) else work_dir, start_new_session=True)
    record = dict(node=node, worker_pid=os.getpid(),
                  worker_start_time=process_start_time(os.getpid()), leader_pid=proc.pid,
                  leader_start_time=process_start_time(proc.pid), devices=devices)
    with open(osp.join(work_dir, TASK_RECORD_NAME), 'w') as f:
        json.dump(record, f)
    returncode, timed_out = None, False
    try:
        returncode = proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:  # also on cancellation: nothing of the job outlives the task
        if returncode is None:
            _stop(proc, kill_grace_s)
        signal_group(proc.pid, signal.SIGKILL)  # leftovers of an exited leader's group
    return dict(record, returncode=returncode, timed_out=timed_out,
                duration_s=time.monotonic() - start)
