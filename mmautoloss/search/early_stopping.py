"""Stopping hopeless trials early on their intermediate validation metrics (ASHA).

Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
Tuning", MLSys 2020, Algorithm 2) as a stopping rule, in the form Ray Tune's
``ASHAScheduler`` uses: rung ``k`` sits at the ``grace_validations * reduction_factor ** k``-th
validation of a trial. When a running trial reaches a rung, its reward metric there is
recorded; the trial goes on only if it is not below the ``1 - 1 / reduction_factor``
quantile of every value recorded at that rung so far (by any trial of the search), i.e. it
is in the top ``1 / reduction_factor``. A rung with fewer than ``reduction_factor``
values stops nobody. The rule is asynchronous: which trials were recorded first decides,
so a search that uses it is reproducible with one trial at a time, not with several.

A trial's validations are the lines of ``<work_dir>/metrics_history.jsonl`` that
:class:`~mmautoloss.engine.hooks.MetricsDumpHook` appends after each validation. A stopped
trial is a :class:`~mmautoloss.search.trial.TrialResult` with status ``'stopped'`` whose
reward is its reward metric at the rung where it stopped (journaled with the reason). Off unless the
search config sets ``early_stopping``, and only for searchers whose rewards may be
truncated (``BaseSearcher.allows_early_stopping``: not PPO2, whose policy gradient needs
every sample's final reward).
"""
from __future__ import annotations

import json
import math
import os.path as osp
import time
from dataclasses import dataclass

import numpy as np

from mmautoloss.engine.hooks.metrics_dump_hook import HISTORY_NAME
from mmautoloss.utils.checks import check_int

from .trial import TrialResult, TrialSpec, stopped_trial


@dataclass
class StopVerdict:
    """Why a trial was stopped: its reward at the rung, the rung and the cut-off."""
    reward: float
    reason: str
    metrics: dict


def read_history(work_dir: str) -> list[dict]:
    """The validations a trial has reported so far (a torn last line is not one yet)."""
    path = osp.join(work_dir, HISTORY_NAME)
    if not osp.isfile(path):
        return []
    with open(path, 'rb') as f:
        lines = f.read().split(b'\n')
    records = []
    for line in lines[:-1]:  # the last piece is b'' or an unfinished line
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get('metrics'), dict):
            records.append(record)
    return records


class ASHAStopping:
    """The ASHA stopping rule over the trials of one search (see module docstring).

    Args:
        reward_key (str): the metric that ranks trials (the search's reward key).
        reduction_factor (int): keep the top ``1 / reduction_factor`` at every rung.
        grace_validations (int): validations every trial gets before the first rung.
        poll_interval_s (float): how often the executor reads running trials' histories.
    """

    def __init__(self, reward_key: str, reduction_factor: int = 3,
                 grace_validations: int = 1, poll_interval_s: float = 2.0) -> None:
        self.reward_key = reward_key
        self.reduction_factor = check_int(reduction_factor, 'reduction_factor', 2)
        self.grace_validations = check_int(grace_validations, 'grace_validations', 1)
        if isinstance(poll_interval_s, bool) or not isinstance(poll_interval_s, (int, float)) \
                or not 0 < poll_interval_s < math.inf:
            raise ValueError(f'poll_interval_s must be a finite number > 0, got '
                             f'poll_interval_s={poll_interval_s!r}')
        self.poll_interval_s = float(poll_interval_s)
        self.rungs: dict[int, dict[str, float]] = {}  # rung validation count -> trial -> value

    def rung_sizes(self, validations: int) -> list[int]:
        """The rungs (validation counts) a trial with ``validations`` validations passed."""
        sizes, size = [], self.grace_validations
        while size <= validations:
            sizes.append(size)
            size *= self.reduction_factor
        return sizes

    def check(self, trial_id: str, work_dir: str) -> StopVerdict | None:
        """Record the running trial's new rung values; a verdict if it must stop."""
        history = read_history(work_dir)
        for size in self.rung_sizes(len(history)):
            recorded = self.rungs.setdefault(size, {})
            if trial_id in recorded:
                continue
            metrics = history[size - 1]['metrics']
            value = metrics.get(self.reward_key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                continue  # the trial's own judgement reports an unusable metric
            recorded[trial_id] = float(value)
            if len(recorded) < self.reduction_factor:
                continue
            cutoff = float(np.percentile(list(recorded.values()),
                                         (1 - 1 / self.reduction_factor) * 100))
            if value < cutoff:
                return StopVerdict(
                    reward=float(value), metrics=metrics,
                    reason=f'stopped early by ASHA at validation {size}: {self.reward_key} '
                    f'{value:.4f} below the top-1/{self.reduction_factor} cut-off '
                    f'{cutoff:.4f} of the {len(recorded)} trials recorded at that rung')
        return None

    def stop_result(self, spec: TrialSpec, started: float) -> TrialResult | None:
        """The ``'stopped'`` result of a running trial that must stop now (its job is the
        executor's to kill), or None; ``started`` is its ``time.monotonic()`` start."""
        verdict = self.check(spec.trial_id, spec.work_dir)
        if verdict is None:
            return None
        return stopped_trial(spec, reward=verdict.reward, reason=verdict.reason,
                             metrics=verdict.metrics, duration_s=time.monotonic() - started)

    def forget(self, trial_id: str) -> None:
        """Drop a trial's records (its run was lost and will start again)."""
        for recorded in self.rungs.values():
            recorded.pop(trial_id, None)
