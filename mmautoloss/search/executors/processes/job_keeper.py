"""Keeps a trial job's process tree from outliving the Ray worker that started it.

``python -c <this file's source> GRACE_S PARENT_PID CMD...``, started by
:func:`~mmautoloss.search.executors.ray_trial_task.run_trial_job` as the leader of a new
session, runs ``CMD`` as its child in that session and exits with its exit code. The job
needs a session (a process group) of its own so that a timeout can kill all of it
(torchrun's ranks and dataloader workers, the worker's great-grandchildren); no cleanup of
Ray's reaches it there, so the keeper does it, in two processes:

* the **keeper** stops the whole group (SIGTERM, then SIGKILL after ``GRACE_S``) when it
  gets SIGTERM: from the task stopping a timed-out or cancelled trial, or from the kernel
  when the Ray worker is killed by a signal (SIGKILL, the OOM killer, a lost node:
  ``PR_SET_PDEATHSIG``);
* a **guard**, the keeper's child in the same group, stops the group the same way when the
  keeper dies, however it dies. A Ray worker that exits (``ray.cancel(force=True)``, the
  end of the driver's job) first SIGKILLs its direct children (Ray's
  ``kill_child_processes_on_worker_exit``, on by default): the keeper is killed without
  a chance to act, and only its guard, whose death signal is armed on the keeper, is left
  to stop the job.

Standard library only: it runs as ``python -c`` on any node.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

_PR_SET_PDEATHSIG = 1


def stop_group(grace_s: float) -> None:
    """SIGTERM this process group (the caller itself ignores it), SIGKILL it after
    ``grace_s`` (the caller with it)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    time.sleep(grace_s)
    os.killpg(0, signal.SIGKILL)


def stop_group_with_parent(parent_pid: int, grace_s: float) -> None:
    """Stop this process group on SIGTERM, which the kernel sends when ``parent_pid``
    dies; if it died before the death signal was armed, stop the group now."""
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_group(grace_s))
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:
        stop_group(grace_s)


def guard(keeper_pid: int, grace_s: float) -> None:
    """The guard's life: wait for a signal until the group is stopped (never returns)."""
    stop_group_with_parent(keeper_pid, grace_s)
    while True:
        signal.pause()


def main(argv: list) -> int:
    grace_s, parent_pid, cmd = float(argv[0]), int(argv[1]), argv[2:]
    stop_group_with_parent(parent_pid, grace_s)
    keeper_pid = os.getpid()
    if os.fork() == 0:
        try:
            guard(keeper_pid, grace_s)
        finally:
            os._exit(1)
    job = subprocess.Popen(cmd)
    returncode = job.wait()
    return 128 - returncode if returncode < 0 else returncode


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
