"""Keeps a trial job's process tree from outliving the Ray worker that started it.

``python -c <this file's source> GRACE_S PARENT_PID CMD...``, started by
:func:`~.ray_trial_task.run_trial_job` as the leader of a new session, runs ``CMD`` as its
child in that session and exits with its exit code. When the Ray worker dies (SIGKILL, OOM
killer) the kernel sends the keeper SIGTERM (``PR_SET_PDEATHSIG``), and the keeper stops
the whole session's process group: SIGTERM, then SIGKILL after ``GRACE_S``, so torchrun's
ranks and dataloader workers (the worker's great-grandchildren) go too. Ray's own cleanup
kills only the worker's process group (Ray >= 2.4x) or, with the deprecated raylet
subreaper, orphans every 10 s; neither reaches a job that runs in its own session, which
the job needs so that a timeout can kill its whole group.

A SIGTERM from anyone else (the task stopping a timed-out or cancelled trial) is handled
the same way. Standard library only: it runs as ``python -c`` on any node.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

_PR_SET_PDEATHSIG = 1


def stop_group(grace_s: float) -> None:
    """SIGTERM this process group (the keeper itself ignores it), SIGKILL it after
    ``grace_s`` (the keeper with it)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    time.sleep(grace_s)
    os.killpg(0, signal.SIGKILL)


def main(argv: list) -> int:
    grace_s, parent_pid, cmd = float(argv[0]), int(argv[1]), argv[2:]
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_group(grace_s))
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the worker died before the death signal was armed
        stop_group(grace_s)
    job = subprocess.Popen(cmd)
    returncode = job.wait()
    return 128 - returncode if returncode < 0 else returncode


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
