"""What every trial job of an executor is run and judged with, checked once for both
executors: the proxy config, the reward key, the time limit, the failure reward, the NaN
check, the job command, the grace between SIGTERM and SIGKILL, checkpoints."""
from __future__ import annotations

import math
import os.path as osp
import time
from dataclasses import dataclass

from mmengine.config import Config

from ..trial import (
    TrialResult,
    TrialSpec,
    check_job_entry,
    check_nonfinite_check_iters,
    judge_trial,
    proxy_config_copy,
    write_trial_config,
)


def _number(name: str, value: object, low: float, exclusive: bool) -> float:
    """``value`` as a float when it is a finite number above ``low`` (or at it), else
    ``ValueError`` naming ``name=value``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value < low or (exclusive and value == low):
        bound = f'> {low:g}' if exclusive else f'>= {low:g}'
        bound = '' if low == -math.inf else f' {bound}'
        raise ValueError(f'{name} must be a finite number{bound}, got {name}={value!r}')
    return float(value)


@dataclass(frozen=True)
class JobSettings:
    """The job settings of an executor (see the executors' ``Args``), validated.

    Attributes:
        proxy_cfg: the proxy config, parsed once (a copy the executor may keep).
        reward_key: the key of ``metrics.json`` that is the reward.
        timeout_s: wall-clock limit of one trial.
        failure_reward: reward of every failed trial.
        nonfinite_check_iters: iterations in which a NaN / Inf loss stops the job.
        job_entry: command prefix of a job (None: the training job).
        kill_grace_s: seconds between SIGTERM and SIGKILL when a job is stopped.
        keep_checkpoints: let the proxy jobs save checkpoints.
    """
    proxy_cfg: Config
    reward_key: str
    timeout_s: float
    failure_reward: float
    nonfinite_check_iters: int
    job_entry: list[str] | None
    kill_grace_s: float
    keep_checkpoints: bool

    @classmethod
    def check(cls, proxy_config: str | Config, reward_key: str, timeout_s: float,
              failure_reward: float, nonfinite_check_iters: int,
              job_entry: list[str] | None, kill_grace_s: float,
              keep_checkpoints: bool) -> JobSettings:
        """The settings, or ``ValueError`` naming the first bad one as ``name=value``."""
        if not isinstance(proxy_config, Config) and (
                not isinstance(proxy_config, str) or not osp.isfile(proxy_config)):
            raise ValueError(f'proxy_config={proxy_config!r} is not a file')
        if not isinstance(reward_key, str) or not reward_key:
            raise ValueError('reward_key must be a non-empty string, got '
                             f'reward_key={reward_key!r}')
        return cls(proxy_cfg=proxy_config_copy(proxy_config), reward_key=reward_key,
                   timeout_s=_number('timeout_s', timeout_s, 0, exclusive=True),
                   failure_reward=_number('failure_reward', failure_reward, -math.inf,
                                          exclusive=False),
                   nonfinite_check_iters=check_nonfinite_check_iters(nonfinite_check_iters),
                   job_entry=check_job_entry(job_entry),
                   kill_grace_s=_number('kill_grace_s', kill_grace_s, 0, exclusive=False),
                   keep_checkpoints=bool(keep_checkpoints))

    def write_config(self, spec: TrialSpec) -> str:
        """The trial's config (proxy + overrides + the watch hooks) in its work dir."""
        return write_trial_config(spec, self.proxy_cfg, self.nonfinite_check_iters,
                                  self.keep_checkpoints)

    def judge(self, spec: TrialSpec, **outcome) -> TrialResult:
        """:func:`~mmautoloss.search.trial.judge_trial` with this reward key and failure
        reward (``outcome``: returncode, timed_out, duration_s, lost, launch_error)."""
        return judge_trial(spec, reward_key=self.reward_key,
                           failure_reward=self.failure_reward, **outcome)

    def launch_failure(self, spec: TrialSpec, start: float, error: Exception) -> TrialResult:
        """The result of a trial that could not be started (``start``: monotonic time)."""
        return self.judge(spec, returncode=None, timed_out=False,
                          duration_s=time.monotonic() - start,
                          launch_error=f'{type(error).__name__}: {error}')
