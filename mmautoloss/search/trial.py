"""Trials: one candidate loss trained as one proxy job, and the judged outcome of that job.

A trial is the unit of work of every searcher (Auto Seg-Loss / PAP: one policy sample;
AutoLoss-Zero / CSE-Autoloss: one evolved formula). Its life is

1. :func:`write_trial_config`: proxy config + the candidate's overrides + the watch hooks,
   written to ``<work_dir>/config.py``;
2. an executor launches ``<job_entry...> <work_dir>/config.py --work-dir <work_dir>`` and
   watches it (see :mod:`mmautoloss.search.executors`);
3. :func:`judge_trial` turns the finished job (exit code, ``metrics.json``, the NaN marker
   of :class:`~mmautoloss.engine.hooks.NonFiniteLossHook`) into a :class:`TrialResult`.

Failed trials are results too: they carry ``failure_reward``, a reason and the log tail, so
the search loop never sees an exception from a trial. This module works on configs and
files only and never imports mmdet / mmseg / mmpose.
"""
from __future__ import annotations

import copy
import json
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from mmengine.config import Config

from .structures import (
    CONFIG_NAME,
    LOG_NAME,
    METRICS_NAME,
    NONFINITE_MARKER_NAME,
    TRIAL_OUTCOME_FILES,
    TRIAL_STATUSES,
)

LOG_TAIL_LINES = 40


@dataclass
class TrialSpec:
    """What to train: a candidate and the config overrides that encode it.

    Attributes:
        trial_id: unique name of the trial within a search.
        candidate: the searcher's candidate, a vector or a dict of formulas (kept for the
            journal).
        overrides: mmengine dotted-key overrides applied to the proxy config with
            ``Config.merge_from_dict``, e.g. ``{'model.decode_head.loss_decode':
            dict(type='AutoSegLoss', ...)}``. A dict value is merged into the dict already at
            that key; add ``_delete_=True`` to it to replace that dict instead.
        work_dir: directory of the trial (config, log, checkpoints, metrics).
        base_config: the config the overrides apply to, when it is not the executor's
            proxy config (a re-training target: a longer schedule, another dataset).
    """

    trial_id: str
    candidate: list[float] | dict[str, str]
    overrides: dict
    work_dir: str
    base_config: Config | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.trial_id, str) or not self.trial_id:
            raise ValueError(f'trial_id must be a non-empty string, got trial_id={self.trial_id!r}')
        if not isinstance(self.overrides, dict):
            raise ValueError(f'overrides must be a dict, got overrides={self.overrides!r}')
        if not isinstance(self.work_dir, str) or not self.work_dir:
            raise ValueError(f'work_dir must be a non-empty string, got work_dir={self.work_dir!r}')


@dataclass
class TrialResult:
    """Outcome of one trial.

    ``status`` is one of ``'ok'`` (reward is the metric), ``'crashed'`` (non-zero exit or
    failed launch), ``'timeout'`` (killed after the time limit), ``'nonfinite'`` (stopped by
    the NaN / Inf loss check), ``'no_metric'`` (exited 0 without a usable reward metric) or
    ``'stopped'`` (stopped early by the search's early-stopping rule: the reward is its
    metric at the rung where it stopped). Every status but ``'ok'`` and ``'stopped'`` has
    ``reward == failure_reward``; every status but ``'ok'`` has a ``reason``.
    """

    trial_id: str
    status: str
    reward: float
    metrics: dict = field(default_factory=dict)
    duration_s: float = 0.0
    log_path: str = ''
    reason: str = ''
    log_tail: str = ''

    def __post_init__(self) -> None:
        if self.status not in TRIAL_STATUSES:
            raise ValueError(f'status must be one of {TRIAL_STATUSES}, got status={self.status!r}')

    @property
    def log_dir(self) -> str:
        """The trial's own work dir (where its log is), '' when it has no log."""
        return osp.dirname(self.log_path) if self.log_path else ''

    def to_dict(self) -> dict:
        """JSON-serialisable dict of all fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrialResult:
        """Inverse of :meth:`to_dict`; a missing or unknown key is a ValueError naming it."""
        names = {f.name for f in fields(cls)}
        missing = sorted(names - set(d))
        unknown = sorted(set(d) - names)
        if missing or unknown:
            raise ValueError(f'TrialResult dict has missing keys {missing} and unknown keys '
                             f'{unknown}')
        return cls(**d)


def check_nonfinite_check_iters(value: object) -> int:
    """``value`` if it is an int >= 0 (not a bool: ``NonFiniteLossHook`` in the job rejects
    one, which would crash every trial), else ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f'nonfinite_check_iters must be an integer >= 0, got '
                         f'nonfinite_check_iters={value!r}')
    return value


def check_job_entry(value: object) -> list[str] | None:
    """A job command prefix as a list (``None``: the executor's default job), else
    ``ValueError`` naming it unless it is a non-empty list of strings."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value or \
            not all(isinstance(a, str) for a in value):
        raise ValueError(f'job_entry must be a non-empty list of strings, got '
                         f'job_entry={value!r}')
    return list(value)


def proxy_config_copy(proxy_config: str | Config) -> Config:
    """A Config the caller may change: a deep copy of a parsed one, or the file read
    (its custom imports are not executed here; the job imports them)."""
    if isinstance(proxy_config, Config):
        return copy.deepcopy(proxy_config)
    return Config.fromfile(proxy_config, import_custom_modules=False)


def write_trial_config(spec: TrialSpec, proxy_config: str | Config,
                       nonfinite_check_iters: int, keep_checkpoints: bool = False) -> str:
    """Derive and write ``<work_dir>/config.py`` for ``spec``; returns its path.

    The derived config is ``proxy_config`` (a path, or a parsed Config that is left
    unchanged; ``spec.base_config`` instead when the spec has one) with ``spec.overrides``
    merged in, ``work_dir`` set,
    ``mmautoloss`` added to ``custom_imports`` and two hooks appended to ``custom_hooks``:
    ``NonFiniteLossHook(check_iters=nonfinite_check_iters)`` and ``MetricsDumpHook``.
    Stale ``metrics.json`` / NaN markers / validation histories of an earlier run in the same
    directory are removed
    so that they cannot be mistaken for this run's outcome. Custom imports of the proxy
    config are not executed here; the job imports them. Unless ``keep_checkpoints``, the
    proxy's CheckpointHook saves nothing: a trial's outcome is its metrics, and a search
    of hundreds of trials would otherwise keep a model and optimizer state for each.
    """
    check_nonfinite_check_iters(nonfinite_check_iters)
    cfg = proxy_config_copy(proxy_config if spec.base_config is None else spec.base_config)
    cfg.merge_from_dict(copy.deepcopy(spec.overrides))
    cfg.work_dir = spec.work_dir
    custom_imports = dict(cfg.get('custom_imports', None) or {})
    imports = list(custom_imports.get('imports', []))
    if 'mmautoloss' not in imports:
        imports.append('mmautoloss')
    custom_imports['imports'] = imports
    custom_imports.setdefault('allow_failed_imports', False)
    cfg.custom_imports = custom_imports
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
        dict(type='NonFiniteLossHook', check_iters=nonfinite_check_iters),
        dict(type='MetricsDumpHook'),
    ]
    checkpoint_hook = (cfg.get('default_hooks', None) or {}).get('checkpoint', None)
    if not keep_checkpoints and checkpoint_hook is not None:
        checkpoint_hook.update(interval=-1, save_last=False)
    os.makedirs(spec.work_dir, exist_ok=True)
    # what a job writes about its outcome: an earlier run's copies must not be read as this one's
    for stale in TRIAL_OUTCOME_FILES:
        path = osp.join(spec.work_dir, stale)
        if osp.exists(path):
            os.remove(path)
    config_path = osp.join(spec.work_dir, CONFIG_NAME)
    cfg.dump(config_path)
    return config_path


def read_log_tail(log_path: str, num_lines: int = LOG_TAIL_LINES,
                  max_bytes: int = 64 * 1024) -> str:
    """Last ``num_lines`` lines of a log (reads at most its last ``max_bytes``); '' if absent."""
    if not osp.isfile(log_path):
        return ''
    with open(log_path, 'rb') as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - max_bytes))
        data = f.read().decode('utf-8', errors='replace')
    return '\n'.join(data.splitlines()[-num_lines:])


def _read_json(path: str) -> tuple[Any, str]:
    """(content, '') or (None, why it could not be read)."""
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f), ''
    except (OSError, ValueError) as err:
        return None, f'{type(err).__name__}: {err}'


def judge_trial(spec: TrialSpec, *, returncode: int | None, timed_out: bool, duration_s: float,
                reward_key: str, failure_reward: float, launch_error: str = '',
                lost: str = '') -> TrialResult:
    """Classify a finished trial job (see :class:`TrialResult` for the statuses).

    Order: launch error / a job lost with the machine that ran it (``lost``: why, e.g. a
    Ray worker or node that died more often than the retries allow) / timeout / non-zero
    exit (``'nonfinite'`` when the NaN marker exists, else ``'crashed'``) / missing or
    unusable ``metrics.json`` or ``reward_key`` (``'no_metric'``) / ``'ok'`` with
    ``reward = metrics[reward_key]``.
    """
    log_path = osp.join(spec.work_dir, LOG_NAME)

    def failed(status: str, reason: str, metrics: dict | None = None) -> TrialResult:
        return TrialResult(trial_id=spec.trial_id, status=status, reward=float(failure_reward),
                           metrics=metrics or {}, duration_s=duration_s, log_path=log_path,
                           reason=reason, log_tail=read_log_tail(log_path))

    if launch_error:
        return failed('crashed', f'could not launch the trial: {launch_error}')
    if lost:
        return failed('crashed', f'the trial job was lost: {lost}')
    if timed_out:
        return failed('timeout', f'killed after {duration_s:.1f} s (time limit reached)')
    if returncode != 0:
        marker_path = osp.join(spec.work_dir, NONFINITE_MARKER_NAME)
        if osp.isfile(marker_path):
            marker, err = _read_json(marker_path)
            detail = json.dumps(marker, sort_keys=True) if marker is not None else err
            return failed('nonfinite', f'non-finite loss, job stopped (exit {returncode}): '
                          f'{detail}')
        return failed('crashed', f'job exited with code {returncode}')
    metrics_path = osp.join(spec.work_dir, METRICS_NAME)
    if not osp.isfile(metrics_path):
        return failed('no_metric', f'job exited 0 but wrote no {metrics_path}; '
                      f'reward_key={reward_key!r} missing, present keys: []')
    metrics, err = _read_json(metrics_path)
    if not isinstance(metrics, dict):
        return failed('no_metric', f'{metrics_path} is not a JSON object '
                      f'({err or type(metrics).__name__}); reward_key={reward_key!r} missing')
    if reward_key not in metrics:
        return failed('no_metric', f'reward_key={reward_key!r} not in {METRICS_NAME}; '
                      f'present keys: {sorted(metrics)}', metrics)
    value = metrics[reward_key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return failed('no_metric', f'reward_key={reward_key!r} has value {value!r}, '
                      'not a finite number', metrics)
    return TrialResult(trial_id=spec.trial_id, status='ok', reward=float(value), metrics=metrics,
                       duration_s=duration_s, log_path=log_path, reason='', log_tail='')


def stopped_trial(spec: TrialSpec, *, reward: float, reason: str, metrics: dict,
                  duration_s: float) -> TrialResult:
    """The result of a trial stopped early (status ``'stopped'``), rewarded with the
    validation it was stopped at."""
    return TrialResult(trial_id=spec.trial_id, status='stopped', reward=float(reward),
                       metrics=dict(metrics), duration_s=duration_s,
                       log_path=osp.join(spec.work_dir, LOG_NAME), reason=reason,
                       log_tail='')
