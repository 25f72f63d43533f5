"""Keep a killed search from leaving trial jobs behind.

A search driver that dies (SIGKILL, OOM, a lost terminal) cannot kill its trial jobs: each
runs in its own session so that a timeout can kill its whole process group. Two guards stop
such orphans from running on and writing into a work dir that ``--resume`` reuses:

* the job leader gets ``PR_SET_PDEATHSIG`` = SIGKILL (Linux), so it dies with the driver;
* its process-group id is recorded in ``<work_dir>/trial.pgid``; before a trial is launched
  again in that work dir, the group is killed if it still has live members: when its leader
  is alive, only if it is the job (so a recycled id is not hit): its start time equals the
  one recorded with the id (a forked job, whose command line is its forker's) or, when none
  was recorded (a spawned job), its command line names the trial's config; when the leader
  is gone, members left in the group (e.g. dataloader workers) are the job's, because
  Linux does not reuse an id while a process group still holds it.
"""
import ctypes
import os
import os.path as osp
import signal
import time
from collections.abc import Callable

PGID_NAME = 'trial.pgid'
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn`` for a job: receive SIGKILL when the driver ``parent_pid`` dies.

    The death signal only covers a parent that dies after it is armed; a driver that died
    between the fork and the ``prctl`` call is caught by checking the parent afterwards.
    Linux only; elsewhere the pgid record below still covers resume.
    """

    def arm() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return arm


def signal_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to a process group; a group that no longer exists is fine."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def record_job(work_dir: str, pgid: int, start_time: str = '') -> None:
    """Write ``<work_dir>/trial.pgid``: the group id, and the leader's start time if given."""
    with open(osp.join(work_dir, PGID_NAME), 'w') as f:
        f.write(f'{pgid} {start_time}' if start_time else str(pgid))


def process_start_time(pid: int) -> str:
    """When ``pid`` started, in clock ticks after boot (``/proc/<pid>/stat`` field 22): with
    the pid, it names one process for good. '' if it cannot be read."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        return ''


def is_running(pid: int, start_time: str) -> bool:
    """True while the process ``pid`` that started at ``start_time`` (as
    :func:`process_start_time` read it) runs: it exists, is not a zombie, and is the same
    process, not a later one that was given the recycled id."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] not in ('Z', 'X') and fields[19] == start_time


def forget_job(work_dir: str) -> None:
    try:
        os.remove(osp.join(work_dir, PGID_NAME))
    except FileNotFoundError:
        pass


def _leader_cmdline(pid: int) -> str:
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def live_group_members(pgid: int) -> list[int]:
    """Pids of the processes in process group ``pgid`` that are not zombies."""
    members = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                state, _, group = f.read().rsplit(')', 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(group) == pgid and state not in ('Z', 'X'):
            members.append(int(entry))
    return members


def kill_stale_job(work_dir: str, config_path: str, timeout_s: float = 10.0) -> bool:
    """Kill a job left running in ``work_dir`` by an earlier driver; True if one was killed."""
    path = osp.join(work_dir, PGID_NAME)
    try:
        with open(path) as f:
            fields = f.read().split()
        pgid, start_time = int(fields[0]), fields[1] if len(fields) > 1 else ''
    except (OSError, ValueError, IndexError):
        return False
    members = live_group_members(pgid)
    if pgid not in members:
        ours = bool(members)
    elif start_time:
        ours = is_running(pgid, start_time)
    else:
        ours = config_path in _leader_cmdline(pgid)
    if ours:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            ours = False
        deadline = time.monotonic() + timeout_s
        while live_group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
    forget_job(work_dir)
    return ours
