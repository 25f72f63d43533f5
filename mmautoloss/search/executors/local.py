"""Run trials as subprocesses on the GPUs (or CPU cores) of this machine."""
from __future__ import annotations

import math
import os
import os.path as osp
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mmengine.config import Config

from ...registry import EXECUTORS
from ..early_stopping import ASHAStopping
from ..structures import CONFIG_NAME, LOG_NAME
from ..trial import TrialResult, TrialSpec
from .base import BaseExecutor
from .job_settings import JobSettings
from .processes.forker_pool import ForkerError, JobForkers, warm_modules
from .processes.gpu_slots import Slot, SlotPool, check_gpus_per_trial, parse_visible_devices
from .processes.running_jobs import ForkedJob, SpawnedJob
from .processes.stale_jobs import (
    die_with_parent,
    forget_job,
    kill_stale_job,
    process_start_time,
    record_job,
    signal_group,
)
from .trial_watch import TrialWatch

TRAIN_JOB_MODULE = 'mmautoloss.engine.train_job'


def job_command(config_path: str, work_dir: str, gpus_per_trial: int | float,
                job_entry: list[str] | None, python: str, master_port: str) -> list[str]:
    """The command of one trial job: ``job_entry`` verbatim when given, else the training
    job under ``python``, through torchrun on ``master_port`` when the trial has several
    GPUs."""
    args = [config_path, '--work-dir', work_dir]
    if job_entry is not None:
        return [*job_entry, *args]
    if gpus_per_trial > 1:
        return [python, '-m', 'torch.distributed.run', f'--nproc_per_node={gpus_per_trial}',
                f'--master_port={master_port}', '-m', TRAIN_JOB_MODULE, *args,
                '--launcher', 'pytorch']
    return [python, '-m', TRAIN_JOB_MODULE, *args]


@dataclass
class _RunningTrial:
    spec: TrialSpec
    slot: Slot
    job: SpawnedJob | ForkedJob
    start: float
    deadline: float
    returncode: int | None = None

    def reap(self) -> int | None:
        """Wait for the exited (or killed) job leader; returns its exit code."""
        self.returncode = self.job.reap()
        forget_job(self.spec.work_dir)
        return self.returncode


@EXECUTORS.register_module()
class LocalExecutor(BaseExecutor):
    """Run each trial as its own process group on a slot of this machine.

    With ``gpus > 0`` the GPUs are cut into ``gpus // gpus_per_trial`` disjoint slots, or,
    for a fraction ``gpus_per_trial = 1 / k``, into ``k`` slots per GPU that share it (see
    :class:`~.processes.gpu_slots.SlotPool`); each trial sees only its slot's GPUs through
    ``CUDA_VISIBLE_DEVICES`` and gets its own free ``MASTER_PORT``. Trials with more than one
    GPU run under ``torchrun --nproc_per_node G --master_port P ... --launcher pytorch``.
    With ``gpus == 0`` up to ``max_concurrent`` CPU processes run at once with
    ``CUDA_VISIBLE_DEVICES=''`` (and ``OMP_NUM_THREADS`` = cores / slots unless already set).

    A job is launched as ``<job_entry...> <work_dir>/config.py --work-dir <work_dir>`` with its
    stdout and stderr in ``<work_dir>/trial.log``, and must write ``<work_dir>/metrics.json``.
    The default job on at most one GPU (``python -m mmautoloss.engine.train_job``) is, with
    ``fork_jobs``, not started as a new interpreter but forked from a warm process the
    slot keeps (:mod:`~.processes.forker_process`), which has imported mmautoloss and the
    proxy's task library once: a trial then skips seconds of imports, and is still a process of its
    own, in its own process group, with the environment, log and exit code a spawned job
    has, so a crash, hang or kill still ends that trial only. A slot whose forker dies gets
    a new one; if a forker cannot start at all, the trials are spawned (with a warning).
    ``work_dir`` belongs to the trial: whatever an interrupted earlier run of the same trial
    left there (a job still running, its log, metrics, checkpoints) is killed and removed
    before the trial starts.
    A job that runs past ``timeout_s`` is killed with its whole process group (SIGTERM, then
    SIGKILL after ``kill_grace_s``); so are all live jobs when the iteration of :meth:`run`
    stops early (``close()``, an exception, KeyboardInterrupt). The driver sleeps until a
    job exits (waiting on Linux pidfds) or the next deadline; without pidfd support it polls
    every ``poll_interval_s``. The proxy config is parsed once, here.

    Args:
        proxy_config (str | Config):
            mmengine config of the proxy training job: a file, or the Config the
            search config's validation has already parsed.
        reward_key (str): key of ``metrics.json`` used as the reward (e.g. ``'mIoU'``).
        gpus (int): GPUs to use on this machine; 0 runs CPU processes.
        gpus_per_trial (int | float): GPUs per trial, or ``1 / k`` of one (0.25: four
            trials share each GPU).
        max_concurrent (int | None):
            most CPU trials at once (``None`` means 1); with GPUs the number of
            slots, ``gpus // gpus_per_trial``, decides instead.
        timeout_s (float): wall-clock limit of one trial in seconds.
        failure_reward (float): reward of every failed trial.
        nonfinite_check_iters (int): iterations in which a NaN / Inf loss stops the job.
        job_entry (list[str] | None):
            command prefix of a job (default: ``python -m mmautoloss.engine.train_job``,
            or torchrun of it when ``gpus_per_trial > 1``); used verbatim when given.
        poll_interval_s (float):
            how often running jobs are checked where pidfds are not available.
        kill_grace_s (float): seconds between SIGTERM and SIGKILL when a job is killed.
        keep_checkpoints (bool):
            let the proxy jobs save checkpoints (off: a trial keeps only its
            config, log and metrics).
        early_stopping (ASHAStopping | None): stop running trials that fall behind at a
            rung of their validations (see :mod:`~mmautoloss.search.early_stopping`).
        fork_jobs (bool): fork the default training job from a warm per-slot process
            instead of starting a new interpreter for it (see above).
    """

    def __init__(self, proxy_config: str | Config, reward_key: str, gpus: int = 0,
                 gpus_per_trial: int | float = 1, max_concurrent: int | None = None,
                 timeout_s: float = 7200.0, failure_reward: float = 0.0,
                 nonfinite_check_iters: int = 20, job_entry: list[str] | None = None,
                 poll_interval_s: float = 0.05, kill_grace_s: float = 5.0,
                 keep_checkpoints: bool = False,
                 early_stopping: ASHAStopping | None = None, fork_jobs: bool = True) -> None:
        self.job = JobSettings.check(proxy_config, reward_key, timeout_s, failure_reward,
                                     nonfinite_check_iters, job_entry, kill_grace_s,
                                     keep_checkpoints)
        if not isinstance(poll_interval_s, (int, float)) or not poll_interval_s > 0 or \
                not math.isfinite(poll_interval_s):
            raise ValueError(f'poll_interval_s must be a finite number > 0, got '
                             f'poll_interval_s={poll_interval_s!r}')
        if not isinstance(fork_jobs, bool):
            raise ValueError(f'fork_jobs must be True or False, got fork_jobs={fork_jobs!r}')
        visible = (parse_visible_devices(os.environ.get('CUDA_VISIBLE_DEVICES'), gpus)
                   if isinstance(gpus, int) and gpus > 0 else None)
        # Built once to validate gpus / gpus_per_trial / max_concurrent early.
        self.num_slots = SlotPool(gpus, gpus_per_trial, max_concurrent, visible).num_slots
        self.gpus = gpus
        self.gpus_per_trial = check_gpus_per_trial(gpus_per_trial)
        self.max_concurrent = max_concurrent
        self.visible_devices = visible
        self.poll_interval_s = float(poll_interval_s)
        self.watch = TrialWatch(self.job.timeout_s, early_stopping)
        self.forkers = JobForkers(warm_modules(self.job.proxy_cfg)) if fork_jobs else None
        self._run_slots: list[Slot] = []
        if self.forkers is not None:  # no forker outlives its executor
            weakref.finalize(self, self.forkers.close)

    def close(self) -> None:
        """Stop the slots' job forkers (a later :meth:`run` starts new ones)."""
        if self.forkers is not None:
            self.forkers.close()

    def run(self, specs: Sequence[TrialSpec]) -> Iterator[TrialResult]:
        """Run ``specs`` on the free slots; yield each result as its trial finishes."""
        specs = list(specs)
        seen: set[str] = set()
        for spec in specs:
            if spec.trial_id in seen:
                raise ValueError(f'duplicate trial_id={spec.trial_id!r} in specs')
            seen.add(spec.trial_id)
        pool = SlotPool(self.gpus, self.gpus_per_trial, self.max_concurrent, self.visible_devices)
        pending = deque(specs)
        running: list[_RunningTrial] = []
        # the slots this run uses; the first forked job starts all their forkers at once
        self._run_slots = [Slot(index=i, devices=pool.devices_of(i), port=0)
                           for i in range(min(len(specs), pool.num_slots))]
        try:
            while pending or running:
                while pending and pool.num_free:
                    slot = pool.acquire()
                    launched = self._launch(pending.popleft(), slot)
                    if isinstance(launched, TrialResult):
                        pool.release(slot)
                        yield launched
                    else:
                        running.append(launched)
                finished = self._collect_finished(running) + self._stop_hopeless(running)
                for trial, result in finished:
                    running.remove(trial)
                    pool.release(trial.slot)
                    yield result
                if not finished and running:
                    self._wait_for_exit(running)
        finally:
            self._kill(running)

    def _command(self, config_path: str, work_dir: str, slot: Slot) -> list[str]:
        return job_command(config_path, work_dir, self.gpus_per_trial, self.job.job_entry,
                           sys.executable, str(slot.port))

    def _fork_argv(self, cmd: list[str]) -> list[str] | None:
        """The training job's arguments when ``cmd`` is the default single-process job and
        jobs are forked; None when ``cmd`` must be spawned."""
        if self.forkers is None or cmd[:3] != [sys.executable, '-m', TRAIN_JOB_MODULE]:
            return None
        return cmd[3:]

    def _env(self, slot: Slot) -> dict[str, str]:
        env = dict(os.environ)
        env.update(slot.env())
        env['PYTHONUNBUFFERED'] = '1'
        if self.gpus == 0 and 'OMP_NUM_THREADS' not in os.environ:
            env['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // self.num_slots))
        return env

    def _launch(self, spec: TrialSpec, slot: Slot) -> _RunningTrial | TrialResult:
        """Start one trial; a failure to start is returned as a 'crashed' result."""
        start = time.monotonic()
        try:
            # an interrupted earlier run of this trial: stop what is left of it, then start
            # from an empty work dir (the pgid record must be read before it is removed)
            kill_stale_job(spec.work_dir, osp.join(spec.work_dir, CONFIG_NAME))
            self.watch.starting(spec.trial_id)
            if osp.isdir(spec.work_dir):
                shutil.rmtree(spec.work_dir)
            config_path = self.job.write_config(spec)
            cmd = self._command(config_path, spec.work_dir, slot)
            env = self._env(slot)
            job = self._fork(spec, slot, cmd, env) or self._spawn(spec, slot, cmd, env)
        except Exception as err:  # a trial never raises into the search loop
            return self.job.launch_failure(spec, start, err)
        return _RunningTrial(spec=spec, slot=slot, job=job, start=start,
                             deadline=self.watch.deadline(start))

    @staticmethod
    def _log_header(spec: TrialSpec, slot: Slot, cmd: list[str], env: dict[str, str],
                    how: str) -> str:
        """Write the log's first line, the job's command and devices; returns the log path."""
        log_path = osp.join(spec.work_dir, LOG_NAME)
        with open(log_path, 'wb') as log:
            log.write(f'# CUDA_VISIBLE_DEVICES={env["CUDA_VISIBLE_DEVICES"]!r} '
                      f'MASTER_PORT={slot.port} {shlex.join(cmd)}{how}\n'.encode())
        return log_path

    def _spawn(self, spec: TrialSpec, slot: Slot, cmd: list[str],
               env: dict[str, str]) -> SpawnedJob:
        """Start the job as a new process in its own session."""
        log_path = self._log_header(spec, slot, cmd, env, '')
        with open(log_path, 'ab') as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                    preexec_fn=die_with_parent(os.getpid()))
        record_job(spec.work_dir, proc.pid)
        return SpawnedJob(proc, _open_pidfd(proc.pid))

    def _fork(self, spec: TrialSpec, slot: Slot, cmd: list[str],
              env: dict[str, str]) -> ForkedJob | None:
        """Fork the job from the slot's forker; None when it is to be spawned instead
        (not the default job, forking off, or the forker failed: it is replaced)."""
        argv = self._fork_argv(cmd)
        if argv is None:
            return None
        cwd = os.getcwd()
        for other in self._run_slots:  # their forkers import while this one gets ready
            self.forkers.start(other.index, self._env(other), cwd)
        forker = self.forkers.get(slot.index, env, cwd)
        if forker is None:
            return None
        log_path = self._log_header(spec, slot, cmd, env, '  # forked by the slot\'s '
                                    f'job forker (pid {forker.proc.pid})')
        try:
            pid = forker.fork(TRAIN_JOB_MODULE, argv, env, cwd, log_path)
        except ForkerError:
            self.forkers.discard(slot.index)
            return None
        record_job(spec.work_dir, pid, process_start_time(pid))
        return ForkedJob(forker, pid)

    def _stop_hopeless(self, running: list[_RunningTrial]
                       ) -> list[tuple[_RunningTrial, TrialResult]]:
        """Kill the running trials the early-stopping rule gives up on."""
        stopped = []
        for trial in running:
            result = self.watch.hopeless(trial.spec, trial.start)
            if result is not None:
                self._kill([trial])
                stopped.append((trial, result))
        return stopped

    def _wait_for_exit(self, running: list[_RunningTrial]) -> None:
        """Block until a running job exits, the earliest deadline passes or (with early
        stopping) the next look at the running trials' validations is due."""
        timeout = self.watch.wait_s(t.deadline for t in running)
        fds = [t.job.wait_fd() for t in running]
        if all(fd is not None for fd in fds):
            select.select(fds, [], [], timeout)
        else:
            time.sleep(min(self.poll_interval_s, timeout))

    def _collect_finished(self, running: list[_RunningTrial]
                          ) -> list[tuple[_RunningTrial, TrialResult]]:
        """Judge the trials whose job exited or ran out of time."""
        finished = []
        now = time.monotonic()
        for trial in running:
            # the exited leader is still a zombie, so its process group id cannot be
            # reused while leftover group members (e.g. dataloader workers) are killed.
            if trial.job.has_exited():
                signal_group(trial.job.pid, signal.SIGKILL)
                self._reap(trial)
                timed_out = False
                self.watch.finished(trial.spec)
            elif now >= trial.deadline:
                self._kill([trial])
                timed_out = True
            else:
                continue
            finished.append((trial, self.job.judge(
                trial.spec, returncode=trial.returncode, timed_out=timed_out,
                duration_s=time.monotonic() - trial.start, lost=trial.job.lost)))
        return finished

    def _reap(self, trial: _RunningTrial) -> None:
        """Reap the trial's job; a forker that was lost with it is replaced."""
        trial.reap()
        if trial.job.lost:
            self.forkers.discard(trial.slot.index)

    def _kill(self, trials: list[_RunningTrial]) -> None:
        """SIGTERM the process groups, SIGKILL them after the grace period, reap leaders."""
        for trial in trials:
            signal_group(trial.job.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.job.kill_grace_s
        for trial in trials:
            trial.job.wait(max(0.0, deadline - time.monotonic()))
        for trial in trials:
            signal_group(trial.job.pid, signal.SIGKILL)
            self._reap(trial)


def _open_pidfd(pid: int) -> int | None:
    """A pidfd of ``pid`` (Linux >= 5.3, Python >= 3.9), or None where unsupported."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None

