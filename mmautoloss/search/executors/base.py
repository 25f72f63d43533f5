"""The executor interface: where trials run, invisible to the searcher."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Iterator, Sequence

from ..trial import TrialResult, TrialSpec

#: what every executor promises (README, "When a search or a trial is stopped"): each
#: process of a stopped trial's job, its children included, is gone within the executor's
#: ``kill_grace_s`` plus this many seconds of the stop (the driver's exit, the trial's time
#: limit, its cancellation, the death of its Ray worker). The grace is the job's own time
#: to exit on SIGTERM; the slack covers signal delivery, Ray's worker exit and a loaded
#: machine (measured worst case: ``tools/stress_failures.py``).
STOP_SLACK_S = 10.0


class BaseExecutor(metaclass=ABCMeta):
    """Runs trials and yields their results in the order they finish.

    ``run`` must yield exactly one :class:`TrialResult` per spec, never raise for a failed
    trial (a failure is a result with a non-``'ok'`` status), and leave no trial process
    running when the iteration ends, is closed early or is interrupted. ``close`` ends what
    an executor keeps between runs (the search calls it once, at its end).
    """

    def close(self) -> None:
        """Release what the executor keeps between runs; nothing by default."""

    @abstractmethod
    def run(self, specs: Sequence[TrialSpec]) -> Iterator[TrialResult]:
        """Run ``specs`` and yield each trial's result as soon as it finishes."""
