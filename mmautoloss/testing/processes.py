"""Is a trial job's process gone? The failure tests' one answer.

A process is named by its pid *and* its start time (``/proc/PID/stat`` field 22): a pid
alone can name a later process once the pid space wraps (32768 ids by default; the suite
wraps it), so a check by pid alone could take a stranger for the job. A process counts as
gone once it has exited, is a zombie (killed, not yet reaped), or its pid names another
process.

:func:`wait_gone` waits for a set of processes up to the deadline docs/search.md promises
(:func:`stop_deadline_s`), fails with what each survivor is (state, parent, command line),
and, when ``$MMAUTOLOSS_STOP_TIMES`` names a file, appends how long the stop took there
(``tools/stress_failures.py`` reports the slowest per guarantee).
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mmautoloss.search.executors.base import STOP_SLACK_S
from mmautoloss.search.executors.processes.stale_jobs import is_running, process_start_time

#: a file to which :func:`wait_gone` appends one JSON line per measured stop
STOP_TIMES_ENV = 'MMAUTOLOSS_STOP_TIMES'


@dataclass(frozen=True)
class Process:
    """One process, for good: its pid and its start time."""
    pid: int
    start_time: str
    name: str = ''

    @classmethod
    def of(cls, pid: int, name: str = '') -> Process:
        """The process that has ``pid`` now (it must be running)."""
        start_time = process_start_time(pid)
        assert start_time, f'process {pid} ({name}) is not running'
        return cls(pid, start_time, name)

    def running(self) -> bool:
        return is_running(self.pid, self.start_time)


def write_pids(path: str, pids: dict) -> None:
    """Write ``{name: pid}`` with each process's start time to ``path`` in one step (what
    a hanging job records for :func:`job_processes`)."""
    record = dict(pids, start_times={name: process_start_time(pid) for name, pid in pids.items()})
    with open(f'{path}.tmp', 'w') as f:
        json.dump(record, f)
    os.replace(f'{path}.tmp', path)


def job_processes(pids_path: str | Path) -> list[Process]:
    """The job and its grandchild as a hanging fake job recorded them (``pids.json``)."""
    record = json.loads(Path(pids_path).read_text())
    return [Process(record[name], record['start_times'][name], name)
            for name in ('job', 'grandchild')]


def stop_deadline_s(kill_grace_s: float) -> float:
    """How long docs/search.md promises a stop may take for an executor's ``kill_grace_s``."""
    return kill_grace_s + STOP_SLACK_S


def timeout_fired_at(started_file: str | Path, timeout_s: float) -> float:
    """When a trial's time limit passed, as a ``time.monotonic()`` reading: ``timeout_s``
    after ``started_file`` was last written (a file written once, as the trial's clock
    starts: the config of a local fake job, ``ray_task.json`` on a Ray worker; not the
    config of an mmengine job, whose runner writes it again)."""
    started = os.path.getmtime(started_file)
    return time.monotonic() - (time.time() - started - timeout_s)


def _describe(process: Process) -> str:
    try:
        with open(f'/proc/{process.pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        with open(f'/proc/{process.pid}/cmdline', 'rb') as f:
            cmdline = f.read().replace(b'\0', b' ').decode(errors='replace').strip()
    except OSError:
        return f'{process.name} {process.pid}: gone'
    return (f'{process.name} {process.pid}: state {fields[0]}, parent {fields[1]}, '
            f'group {fields[2]}, started {fields[19]} (recorded {process.start_time}), '
            f'{cmdline[:200]!r}')


def wait_gone(processes: Iterable[Process], deadline_s: float, guarantee: str,
              since: float | None = None) -> float:
    """Wait until every one of ``processes`` is gone, at most ``deadline_s`` seconds after
    ``since`` (a ``time.monotonic()`` reading; default now). Returns the seconds from
    ``since`` to the last one gone; raises ``AssertionError`` naming the survivors."""
    processes = list(processes)
    since = time.monotonic() if since is None else since
    while True:
        left = [p for p in processes if p.running()]
        elapsed = time.monotonic() - since
        if not left:
            break
        if elapsed > deadline_s:
            raise AssertionError(
                f'{guarantee}: {len(left)} process(es) still running {elapsed:.1f} s after the '
                f'stop (the promise: {deadline_s:.1f} s): ' +
                '; '.join(_describe(p) for p in left))
        time.sleep(0.02)
    record_stop_time(guarantee, elapsed)
    return elapsed


def record_stop_time(guarantee: str, seconds: float) -> None:
    """Append one measured stop to ``$MMAUTOLOSS_STOP_TIMES`` when it is set."""
    path = os.environ.get(STOP_TIMES_ENV)
    if not path:
        return
    test = os.environ.get('PYTEST_CURRENT_TEST', '').split(' ')[0]
    with open(path, 'a') as f:
        f.write(json.dumps(dict(test=test, guarantee=guarantee, seconds=seconds)) + '\n')
