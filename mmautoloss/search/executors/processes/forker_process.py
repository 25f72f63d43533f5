"""A warm process that forks training jobs, so a trial does not pay for the imports.

``python -c <this file's source> MODULE [MODULE ...]`` (run from the source, so that
nothing is imported before the environment the process started with is noted)

A new interpreter spends seconds importing torch, mmengine and the task library (mmdet,
mmseg or mmpose) before a trial's runner is even built: on a 2-core machine about 4 s of a
15 s Auto Seg-Loss proxy trial. The local executor
(:class:`~mmautoloss.search.executors.local.LocalExecutor`) starts one of these processes
per slot instead. It imports the ``MODULE`` s once, moves everything imported
out of the garbage collector's reach (``gc.freeze``: a child's collections then skip those
objects and leave their pages shared), answers ``{"ready": ...}`` and serves one request
per trial, a JSON line on stdin::

    {"module": "mmautoloss.engine.train_job", "argv": [...], "env": {...}, "cwd": "...",
     "log": "<work_dir>/trial.log"}

It forks a child that becomes what a spawned ``python -m MODULE ARGV`` would be: the leader
of a new session (its pid is its process group, which a timeout kills), killed by the kernel
when this process dies (``PR_SET_PDEATHSIG``, and this process dies with the search driver),
with stdin on ``/dev/null``, stdout and stderr appended to the trial log, the request's
environment (where it differs from the one this process started with; what the imports set,
e.g. torch's ``TORCHINDUCTOR_CACHE_DIR``, is kept, as a spawned job's imports would set it),
working directory and ``sys.argv``, Python's and NumPy's global generators reseeded from the
OS as a new interpreter seeds them (torch's default generator starts from a fixed seed in
every interpreter and is left as the imports leave it, as in a spawned job), and the default
SIGINT / SIGTERM handlers. Its exit status is that of an interpreter running the job: 0, the
``SystemExit`` code, or 1 after printing the traceback of an uncaught exception. The answers
are ``{"pid": N}`` at once and ``{"exit": CODE}`` (``-signal`` when killed, as
:class:`subprocess.Popen` reports it) when the child has exited and everything left in its
process group (dataloader workers) has been SIGKILLed. The exited child stays a zombie until
the next request arrives, so its process group id cannot be reused while the driver may
still signal it. End of stdin ends the process.

A module that fails to import is skipped and reported in the ready answer: the job imports
it again and fails in its own log, as a spawned job would. CUDA must not be initialised
here (a forked child cannot use it); if an import initialised it, the answer is
``{"error": ...}`` and the executor spawns its trials instead. Standard library, torch and
the modules named only, and (once they are imported) :mod:`.stale_jobs`.
"""
from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import random
import signal
import sys
import traceback
from collections.abc import Callable


def _answer(message: dict) -> None:
    os.write(1, (json.dumps(message) + '\n').encode())


def _warm(modules: list[str]) -> list[str]:
    """Import ``modules`` (a ``pkg.registry`` module also imports its registries'
    locations, as a runner building from that scope would); returns the failed ones."""
    failed = []
    for name in modules:
        try:
            module = importlib.import_module(name)
            if name.endswith('.registry'):
                from mmengine.registry import Registry
                for registry in vars(module).values():
                    if isinstance(registry, Registry):
                        registry.import_from_location()
        except Exception as error:  # the job reports it in its own log
            failed.append(f'{name}: {type(error).__name__}: {error}')
    return failed


def _exit_code(error: SystemExit) -> int:
    """The status an interpreter exits with for an uncaught ``SystemExit``."""
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def _take_environment(wanted: dict[str, str], initial: dict[str, str]) -> None:
    """Give the job the ``wanted`` environment where it differs from the ``initial`` one
    this process started with, keeping what the imports set since (torch and cv2 set
    variables when imported, as they do in a spawned job)."""
    for key, value in wanted.items():
        if initial.get(key) != value:
            os.environ[key] = value
    for key in initial.keys() - wanted.keys():
        os.environ.pop(key, None)


def _become_job(request: dict, die_with_forker: Callable[[], None],
                initial_env: dict[str, str]) -> None:
    """In the forked child: turn into the trial job of ``request``; never returns.
    ``die_with_forker`` arms the kernel's death signal (``stale_jobs.die_with_parent``)."""
    code = 1
    try:
        os.setsid()
        die_with_forker()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        log = os.open(request['log'], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        _take_environment(request['env'], initial_env)
        os.chdir(request['cwd'])
        import numpy as np
        random.seed()
        np.random.seed()
        job = importlib.import_module(request['module'])
        sys.argv = [job.__file__, *request['argv']]
        job.main(request['argv'])
        code = 0
    except SystemExit as error:
        code = _exit_code(error)
    except BaseException:  # an uncaught exception, printed as the interpreter would
        traceback.print_exc()
        code = 1
    finally:
        try:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(modules: list[str]) -> None:
    """Warm up, then fork one job per request until stdin ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops this process
    initial_env = dict(os.environ)
    if sys.path and sys.path[0] == '':  # the working directory, as `python -m` puts it
        sys.path[0] = os.getcwd()
    failed = _warm(modules)
    import torch

    from mmautoloss.search.executors.processes.stale_jobs import die_with_parent, signal_group
    if torch.cuda.is_initialized():
        _answer(dict(error='CUDA was initialised while importing ' + ', '.join(modules) +
                     '; a forked job could not use it'))
        return
    gc.collect()
    gc.freeze()
    _answer(dict(ready=True, failed_imports=failed))
    die_with_forker = die_with_parent(os.getpid())
    previous = None
    for line in sys.stdin.buffer:
        request = json.loads(line)
        if previous is not None:  # reap the zombie of the job reported last time
            os.waitpid(previous, 0)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _become_job(request, die_with_forker, initial_env)
        _answer(dict(pid=pid))
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        signal_group(pid, signal.SIGKILL)  # what the job left in its group
        code = info.si_status if info.si_code == os.CLD_EXITED else -info.si_status
        _answer(dict(exit=code))
        previous = pid


if __name__ == '__main__':
    serve(sys.argv[1:])
