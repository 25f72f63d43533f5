"""A running trial job, as the local executor
(:class:`~mmautoloss.search.executors.local.LocalExecutor`) watches it: spawned or forked.

Both kinds lead their own process group (their pid is its id) and offer the same four
operations: a file descriptor that becomes readable when the job has exited (for
``select``), a non-blocking exit check, a bounded wait and ``reap`` for the exit code. The
process group id stays held until ``reap`` (the exited leader is a zombie: of the driver for
a spawned job, of the forker for a forked one), so a group killed before it is never
someone else's.
"""
from __future__ import annotations

import os
import subprocess

from .forker_pool import ANSWER_TIMEOUT_S, ForkerError, JobForker


class SpawnedJob:
    """A job started as a new process of the driver (``subprocess.Popen``).

    Args:
        proc (subprocess.Popen): the job's leader, started in a new session.
        pidfd (int | None): a pidfd of it (Linux >= 5.3), readable once it exits.
    """

    lost = ''  # a spawned job's exit is always seen

    def __init__(self, proc: subprocess.Popen, pidfd: int | None) -> None:
        self.proc, self.pid, self.pidfd = proc, proc.pid, pidfd

    def wait_fd(self) -> int | None:
        return self.pidfd

    def has_exited(self) -> bool:
        # WNOWAIT leaves the exited leader a zombie: its group id stays held until reap()
        return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def wait(self, timeout_s: float) -> bool:
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def reap(self) -> int:
        """Wait for the exited (or killed) leader; its exit code."""
        returncode = self.proc.wait()
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        return returncode


class ForkedJob:
    """A job forked by the slot's :class:`~.forker_pool.JobForker`.

    Its exit is what the forker reports; a forker that ends while the job runs takes the
    job with it (the job dies with its parent), and the job counts as lost, with ``lost``
    saying why.
    """

    def __init__(self, forker: JobForker, pid: int) -> None:
        self.forker, self.pid = forker, pid
        self.returncode: int | None = None
        self.lost = ''

    def wait_fd(self) -> int:
        return self.forker.fileno()

    def wait(self, timeout_s: float) -> bool:
        if self.returncode is not None or self.lost:
            return True
        try:
            self.returncode = self.forker.exit_code(timeout_s)
        except ForkerError as error:
            self.lost = f'{error} while the trial ran'
            return True
        return self.returncode is not None

    def has_exited(self) -> bool:
        return self.wait(0.0)

    def reap(self) -> int | None:
        """The job's exit code (None when it was lost with its forker)."""
        if not self.wait(ANSWER_TIMEOUT_S):
            self.lost = (f'the job forker (pid {self.forker.proc.pid}) did not report the '
                         f'exit of job {self.pid} within {ANSWER_TIMEOUT_S:.0f} s')
            self.forker.proc.kill()  # the job dies with it
        return self.returncode
