"""Deadlines and early stopping of running trials, one rule for both executors: a trial
past its time limit is stopped (by the local executor's driver; a Ray trial's own task
enforces the limit on its node), one the ASHA rule gives up on is stopped early with its
reward at the rung where it stopped (:mod:`~mmautoloss.search.early_stopping`)."""
from __future__ import annotations

import time
from collections.abc import Iterable

from ..early_stopping import ASHAStopping
from ..trial import TrialResult, TrialSpec


class TrialWatch:
    """Watches an executor's running trials.

    Args:
        timeout_s (float): wall-clock limit of one trial.
        early_stopping (ASHAStopping | None): the search's early-stopping rule, if any.
    """

    def __init__(self, timeout_s: float, early_stopping: ASHAStopping | None) -> None:
        self.timeout_s = timeout_s
        self.early_stopping = early_stopping

    def starting(self, trial_id: str) -> None:
        """A trial (re)starts: a run again starts its rungs afresh."""
        if self.early_stopping is not None:
            self.early_stopping.forget(trial_id)

    def deadline(self, start: float) -> float:
        """When a trial started at monotonic time ``start`` runs out of time."""
        return start + self.timeout_s

    def finished(self, spec: TrialSpec) -> None:
        """A trial ended by itself: its validations count at the rungs."""
        if self.early_stopping is not None:
            self.early_stopping.check(spec.trial_id, spec.work_dir)

    def hopeless(self, spec: TrialSpec, start: float) -> TrialResult | None:
        """The ``stopped`` result of a running trial the rule gives up on now, else None."""
        if self.early_stopping is None:
            return None
        return self.early_stopping.stop_result(spec, start)

    def wait_s(self, deadlines: Iterable[float]) -> float | None:
        """How long the driver may block for the next exit: until the earliest of
        ``deadlines`` or the next look at the validations (None: as long as it takes)."""
        deadlines = list(deadlines)
        wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        if self.early_stopping is not None:
            poll = self.early_stopping.poll_interval_s
            wait = poll if wait is None else min(wait, poll)
        return wait
