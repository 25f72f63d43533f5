"""Run trials as Ray tasks on a Ray cluster (one node or many), beside the local executor.

Ray core tasks rather than Ray Tune: the search engine already owns what Tune would add
(searchers, the journal, ``--resume``, reports), and a Tune ``Tuner`` would be a second
search driver with its own experiment state. A core task per trial keeps one driver and one
journal; Ray contributes what it does well: placing tasks on nodes by resources (fractional
GPUs included), retrying a task whose worker or node died, and cancelling.
"""
from __future__ import annotations

import os
import os.path as osp
import shutil
import time
from collections.abc import Iterator, Sequence

from mmengine.config import Config

from ...registry import EXECUTORS
from ...utils.checks import check_int, check_number
from ..early_stopping import ASHAStopping
from ..structures import LOG_NAME
from ..trial import TrialResult, TrialSpec
from . import ray_trial_task
from .base import BaseExecutor
from .job_settings import JobSettings
from .local import job_command
from .processes import gpu_slots, job_keeper, stale_jobs
from .processes.gpu_slots import check_gpus_per_trial
from .trial_watch import TrialWatch


@EXECUTORS.register_module()
class RayExecutor(BaseExecutor):
    """Run each trial as a Ray task that runs the trial's training job as a subprocess.

    The driver (``tools/search.py``) writes each trial's config into the trial's work dir,
    which must be on storage every node sees (the search's ``work_dir``), submits one task
    per trial with the trial's resources, and judges each finished trial from its work dir
    exactly as :class:`~.local.LocalExecutor` does; the driver alone writes the journal. On
    the worker (:func:`~.ray_trial_task.run_trial_job`) the job sees only the GPUs Ray
    assigned (``CUDA_VISIBLE_DEVICES``), gets a free ``MASTER_PORT`` of its node and runs
    under torchrun when it has several GPUs. Concurrency is bounded by the cluster's
    resources (and ``max_concurrent`` when set).

    Failures: a trial whose job crashes, times out or stops on a NaN loss is judged as with
    the local executor. A task whose worker or node dies is retried by Ray up to
    ``max_retries`` times, then the trial is recorded as failed with Ray's reason; the
    others go on. When the iteration stops early (Ctrl-C, SIGTERM, an exception), the
    running tasks are cancelled, which kills their jobs' process groups on the nodes.

    Args:
        proxy_config (str | Config): the proxy training config (a file or a parsed Config).
        reward_key (str): key of ``metrics.json`` used as the reward.
        gpus (int): must be 0: the cluster assigns GPUs (``--gpus`` is the local
            executor's); ask for them with ``gpus_per_trial``.
        gpus_per_trial (int | float): GPUs of one trial, a whole number or a fraction
            ``1 / k`` that ``k`` trials share (Ray's fractional GPUs); 0 for CPU trials.
        cpus_per_trial (float): CPUs Ray reserves for one trial.
        memory_per_trial_gb (float | None): memory Ray reserves for one trial.
        address (str | None): the cluster (``'auto'``: the one this node belongs to;
            ``'ray://host:10001'``); ``None`` joins ``$RAY_ADDRESS`` when set, else starts a
            local Ray instance sized by ``num_cpus`` / ``num_gpus``.
        num_cpus (int | None): CPUs of a local instance (default: this machine's).
        num_gpus (int | None): GPUs of a local instance (default: the visible ones).
        max_concurrent (int | None): most trials at once (default: as the cluster fits).
        max_retries (int): retries of a trial whose Ray worker or node died.
        timeout_s (float): wall-clock limit of one trial, counted from its start on a node.
        failure_reward (float): reward of every failed trial.
        nonfinite_check_iters (int): iterations in which a NaN / Inf loss stops the job.
        job_entry (list[str] | None): command prefix of a job (default: the training job,
            under torchrun for several GPUs); ``{PYTHON}`` and ``{MASTER_PORT}`` in it are
            filled in on the worker (its interpreter, a port free on its node).
        kill_grace_s (float): seconds between SIGTERM and SIGKILL when a job is stopped.
        keep_checkpoints (bool): let the proxy jobs save checkpoints.
        env_vars (dict | None): environment variables set in every trial job.
        early_stopping (ASHAStopping | None): stop running trials that fall behind at a
            rung of their validations (read from the shared work dirs; the task is
            cancelled, which stops its job).
    """

    def __init__(self, proxy_config: str | Config, reward_key: str, gpus: int = 0,
                 gpus_per_trial: int | float = 0, cpus_per_trial: float = 1.0,
                 memory_per_trial_gb: float | None = None, address: str | None = None,
                 num_cpus: int | None = None, num_gpus: int | None = None,
                 max_concurrent: int | None = None, max_retries: int = 2,
                 timeout_s: float = 7200.0, failure_reward: float = 0.0,
                 nonfinite_check_iters: int = 20, job_entry: list[str] | None = None,
                 kill_grace_s: float = 5.0, keep_checkpoints: bool = False,
                 env_vars: dict | None = None,
                 early_stopping: ASHAStopping | None = None) -> None:
        if gpus:
            raise ValueError(f'gpus={gpus!r}: the Ray cluster assigns GPUs to trials; set '
                             'executor.gpus_per_trial instead of --gpus')
        self.job = JobSettings.check(proxy_config, reward_key, timeout_s, failure_reward,
                                     nonfinite_check_iters, job_entry, kill_grace_s,
                                     keep_checkpoints)
        self.gpus_per_trial = 0 if gpus_per_trial == 0 else check_gpus_per_trial(
            gpus_per_trial)
        self.cpus_per_trial = check_number(cpus_per_trial, 'cpus_per_trial', 0)
        self.memory_bytes = None if memory_per_trial_gb is None else int(check_number(
            memory_per_trial_gb, 'memory_per_trial_gb', 0, exclusive_low=True) * 1024**3)
        if address is not None and (not isinstance(address, str) or not address):
            raise ValueError(f'address must be a Ray address string or None, got '
                             f'address={address!r}')
        if address is not None and (num_cpus is not None or num_gpus is not None):
            raise ValueError('num_cpus / num_gpus size a local Ray instance; with address='
                             f'{address!r} the cluster has its own (got num_cpus={num_cpus!r},'
                             f' num_gpus={num_gpus!r})')
        for name, value in (('num_cpus', num_cpus), ('num_gpus', num_gpus)):
            if value is not None:
                check_int(value, name, 0 if name == 'num_gpus' else 1)
        self.max_concurrent = None if max_concurrent is None else check_int(
            max_concurrent, 'max_concurrent', 1)
        self.max_retries = check_int(max_retries, 'max_retries', 0)
        env_vars = {} if env_vars is None else env_vars
        if not isinstance(env_vars, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in env_vars.items()):
            raise ValueError(f'env_vars must be a dict of strings, got env_vars={env_vars!r}')
        self.env_vars = dict(env_vars)
        self.watch = TrialWatch(self.job.timeout_s, early_stopping)
        self._ray = _connect(address, num_cpus, num_gpus)
        self._check_fits_the_cluster()
        for module in (ray_trial_task, gpu_slots, job_keeper, stale_jobs):  # see ray_trial_task
            self._ray.cloudpickle.register_pickle_by_value(module)
        # max_calls=0: a worker is reused for the next trial even after a GPU task (Ray's
        # default for those is a fresh worker each); the job subprocess, not the worker,
        # holds the GPU memory
        self._task = self._ray.remote(max_calls=0)(ray_trial_task.run_trial_job)

    def _check_fits_the_cluster(self) -> None:
        """A trial asking for more than the whole cluster has would wait forever."""
        have = self._ray.cluster_resources()
        asked = dict(GPU=self.gpus_per_trial, CPU=self.cpus_per_trial,
                     memory=self.memory_bytes or 0)
        for resource, amount in asked.items():
            if amount > have.get(resource, 0):
                raise ValueError(f'a trial asks for {resource}={amount} but the Ray cluster '
                                 f'has {resource}={have.get(resource, 0)} in all '
                                 f'({self._ray.get_runtime_context().gcs_address})')

    def run(self, specs: Sequence[TrialSpec]) -> Iterator[TrialResult]:
        """Submit ``specs`` as Ray tasks; yield each result as its trial finishes."""
        specs = list(specs)
        if len({s.trial_id for s in specs}) != len(specs):
            raise ValueError(f'duplicate trial_id in specs: {[s.trial_id for s in specs]}')
        pending = list(reversed(specs))
        running: dict = {}  # task ref -> (spec, submit time)
        limit = self.max_concurrent or len(specs)
        try:
            while pending or running:
                while pending and len(running) < limit:
                    spec = pending.pop()
                    submitted = self._submit(spec)
                    if isinstance(submitted, TrialResult):
                        yield submitted
                    else:
                        running[submitted] = (spec, time.monotonic())
                if not running:
                    continue
                # a trial's time limit is enforced by its task on the node
                ready, _ = self._ray.wait(list(running), num_returns=1,
                                          timeout=self.watch.wait_s(()))
                for ref in ready:
                    spec, start = running.pop(ref)
                    self.watch.finished(spec)
                    yield self._judge(ref, spec, start)
                for ref, (spec, start) in list(running.items()):
                    stopped = self.watch.hopeless(spec, start)
                    if stopped is not None:
                        self._cancel([ref])
                        del running[ref]
                        yield stopped
        finally:
            self._cancel(list(running))

    def _submit(self, spec: TrialSpec):
        """Write the trial's config on shared storage and submit its task (a failure to do
        so is returned as a 'crashed' result)."""
        start = time.monotonic()
        try:
            # what an interrupted earlier run of this trial left (its jobs died with the
            # earlier driver's Ray job) is removed; the trial starts from its config alone
            if osp.isdir(spec.work_dir):
                shutil.rmtree(spec.work_dir)
            self.watch.starting(spec.trial_id)
            config_path = self.job.write_config(spec)
            cmd = job_command(config_path, spec.work_dir, self.gpus_per_trial,
                              self.job.job_entry, ray_trial_task.PYTHON_TOKEN,
                              ray_trial_task.MASTER_PORT_TOKEN)
            options = dict(num_cpus=self.cpus_per_trial, num_gpus=self.gpus_per_trial,
                           max_retries=self.max_retries, retry_exceptions=False,
                           name=f'mmautoloss trial {spec.trial_id}')
            if self.memory_bytes:
                options['memory'] = self.memory_bytes
            return self._task.options(**options).remote(
                cmd, spec.work_dir, os.getcwd(), LOG_NAME, self.job.timeout_s,
                self.job.kill_grace_s, self.env_vars)
        except Exception as err:  # a trial never raises into the search loop
            return self.job.launch_failure(spec, start, err)

    def _judge(self, ref, spec: TrialSpec, start: float) -> TrialResult:
        try:
            outcome = self._ray.get(ref)
        except self._ray.exceptions.RayError as error:  # worker / node died too often, ...
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ''
            return self.job.judge(spec, returncode=None, timed_out=False,
                                  duration_s=time.monotonic() - start,
                                  lost=f'{type(error).__name__} (after up to '
                                  f'{self.max_retries} retries): {first_line}')
        return self.job.judge(spec, returncode=outcome['returncode'],
                              timed_out=outcome['timed_out'],
                              duration_s=outcome['duration_s'])

    def _cancel(self, refs: list) -> None:
        """Cancel running tasks: each stops its job's process group (KeyboardInterrupt in
        the task); tasks that do not end within the grace period are force-killed."""
        if not refs:
            return
        for ref in refs:
            self._ray.cancel(ref, force=False)
        _, left = self._ray.wait(refs, num_returns=len(refs),
                                 timeout=self.job.kill_grace_s + 5.0)
        for ref in left:
            self._ray.cancel(ref, force=True)


def _connect(address: str | None, num_cpus: int | None, num_gpus: int | None):
    """The ``ray`` module, connected to the cluster at ``address`` (or a local instance)."""
    try:
        import ray
    except ImportError as error:
        raise ValueError("RayExecutor needs Ray: pip install 'mmautoloss[ray]' (or "
                         'pip install -r requirements/ray.txt)') from error
    if ray.is_initialized():
        return ray
    try:
        # 'local' starts a fresh instance; Ray's own default would join a cluster that
        # happens to run on this machine
        ray.init(address=address or os.environ.get('RAY_ADDRESS') or 'local',
                 num_cpus=num_cpus, num_gpus=num_gpus,
                 include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ValueError(f'cannot connect to the Ray cluster at address={address!r}: '
                         f'{type(error).__name__}: {error}') from error
    return ray

