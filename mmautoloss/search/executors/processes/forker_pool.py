"""The driver's side of the warm job forkers (:mod:`.forker_process`): one per executor slot.

:class:`JobForker` starts one forker process and speaks its line protocol;
:class:`JobForkers` keeps one per slot, replaces one that died or whose environment no
longer matches the trial's, and gives up on forking (the executor then spawns its trials)
after a forker failed to start, saying why once.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import warnings

from mmengine.config import Config

from . import forker_process
from .stale_jobs import die_with_parent

#: the forker runs as ``python -c`` of its source: ``python -m`` would import the
#: mmautoloss package before the forker could note the environment it started with
FORKER_SOURCE = open(forker_process.__file__, encoding='utf-8').read()
#: imported lazily by every job (torch.optim's first optimizer imports torch._dynamo, ~1 s)
LAZY_JOB_IMPORTS = ('torch._dynamo', )
#: seconds a new forker may take to import its modules
READY_TIMEOUT_S = 300.0
#: seconds a forker may take to answer a request, or to report a killed job's exit
ANSWER_TIMEOUT_S = 60.0
#: environment variables that differ from trial to trial without affecting the imports
PER_TRIAL_ENV = ('MASTER_PORT', )


class ForkerError(RuntimeError):
    """A job forker could not start, answer, or ended while a job ran."""


def warm_modules(proxy_cfg: Config) -> list[str]:
    """What a forker imports for the jobs of ``proxy_cfg``: mmautoloss, the registries of
    the config's ``default_scope`` (e.g. ``mmseg.registry``, whose locations import
    ``mmseg.models``, ``mmseg.datasets``, ...), the config's custom imports and the
    modules every job imports lazily."""
    modules = ['mmautoloss']
    scope = proxy_cfg.get('default_scope', None)
    if isinstance(scope, str) and scope:
        modules.append(f'{scope}.registry')
    custom = proxy_cfg.get('custom_imports', None) or {}
    modules += [m for m in custom.get('imports', []) if isinstance(m, str)]
    modules += LAZY_JOB_IMPORTS
    return list(dict.fromkeys(modules))


def forker_env(job_env: dict[str, str]) -> dict[str, str]:
    """The environment a forker starts with for jobs of ``job_env``: the job's own minus
    what changes per trial, so that everything the imports read is the job's."""
    return {k: v for k, v in job_env.items() if k not in PER_TRIAL_ENV}


class JobForker:
    """One :mod:`.forker_process` process, started in ``cwd`` with ``env``."""

    def __init__(self, modules: list[str], env: dict[str, str], cwd: str) -> None:
        self.env, self.cwd = env, cwd
        self.proc = subprocess.Popen([sys.executable, '-c', FORKER_SOURCE, *modules],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     cwd=cwd, start_new_session=True,
                                     preexec_fn=die_with_parent(os.getpid()))
        self._buffer = b''
        self._ready = False

    def fileno(self) -> int:
        """Readable when the forker has something to say (a job's exit, or its own end)."""
        return self.proc.stdout.fileno()

    def _read(self, timeout_s: float) -> dict | None:
        """The next answer, or None when none came within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while b'\n' not in self._buffer:
            ready, _, _ = select.select([self.fileno()], [], [],
                                        max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self.fileno(), 65536)
            if not chunk:
                raise ForkerError(f'the job forker (pid {self.proc.pid}) ended with exit '
                                  f'code {self.proc.wait()}')
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b'\n', 1)
        return json.loads(line)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Block until the forker has imported its modules; ``ForkerError`` if it cannot."""
        if self._ready:
            return
        answer = self._read(timeout_s)
        if answer is None:
            raise ForkerError(f'the job forker (pid {self.proc.pid}) was not ready after '
                              f'{timeout_s:.0f} s')
        if 'error' in answer:
            raise ForkerError(answer['error'])
        self._ready = True

    def fork(self, module: str, argv: list[str], env: dict[str, str], cwd: str,
             log_path: str) -> int:
        """Start ``python -m module argv`` as a forked child; returns its pid."""
        self.wait_ready()
        request = dict(module=module, argv=argv, env=env, cwd=cwd, log=log_path)
        try:
            self.proc.stdin.write((json.dumps(request) + '\n').encode())
            self.proc.stdin.flush()
        except OSError as error:
            raise ForkerError(f'the job forker (pid {self.proc.pid}) cannot take a job: '
                              f'{error}') from error
        answer = self._read(ANSWER_TIMEOUT_S)
        if answer is None or 'pid' not in answer:
            raise ForkerError(f'the job forker (pid {self.proc.pid}) answered {answer!r} '
                              'instead of the pid of the forked job')
        return int(answer['pid'])

    def exit_code(self, timeout_s: float) -> int | None:
        """The exit code of the running job once the forker reports it, or None when it
        has not within ``timeout_s``; ``ForkerError`` if the forker itself ended."""
        answer = self._read(timeout_s)
        if answer is None:
            return None
        if 'exit' not in answer:
            raise ForkerError(f'the job forker (pid {self.proc.pid}) answered {answer!r} '
                              'instead of the exit code of its job')
        return int(answer['exit'])

    def close(self, timeout_s: float = 5.0) -> None:
        """End the forker: end of its input, then SIGKILL if it has not gone."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class JobForkers:
    """One :class:`JobForker` per slot index, started on first use.

    Args:
        modules (list[str]): what every forker imports (see :func:`warm_modules`).
    """

    def __init__(self, modules: list[str]) -> None:
        self.modules = modules
        self._forkers: dict[int, JobForker] = {}
        self.disabled = ''  # why forking was given up, once it was

    def start(self, slot_index: int, job_env: dict[str, str], cwd: str) -> None:
        """Start a forker for the slot, without waiting for it (its imports overlap other
        work), unless it has one."""
        if not self.disabled and slot_index not in self._forkers:
            self._forkers[slot_index] = JobForker(self.modules, forker_env(job_env), cwd)

    def get(self, slot_index: int, job_env: dict[str, str], cwd: str) -> JobForker | None:
        """The free slot's ready forker for jobs of ``job_env`` run in ``cwd`` (one that
        ended, or was started for another environment, is replaced), or None when forking
        is off: the first forker that fails to start turns it off, with a warning."""
        forker = self._forkers.get(slot_index)
        if forker is not None and (forker.env != forker_env(job_env) or forker.cwd != cwd
                                   or forker.proc.poll() is not None):
            self.discard(slot_index)
        self.start(slot_index, job_env, cwd)
        if self.disabled:
            return None
        forker = self._forkers[slot_index]
        try:
            forker.wait_ready()
        except ForkerError as error:
            self.disabled = str(error)
            warnings.warn(f'forked trial jobs are off for this search ({error}); each trial '
                          'is started as a new process instead', RuntimeWarning)
            self.discard(slot_index)  # the others may still run a job: closed at the end
            return None
        return forker

    def discard(self, slot_index: int) -> None:
        """Stop the slot's forker (it failed a request); the next trial starts another."""
        forker = self._forkers.pop(slot_index, None)
        if forker is not None:
            forker.close()

    def close(self) -> None:
        """Stop every forker."""
        for index in list(self._forkers):
            self.discard(index)
