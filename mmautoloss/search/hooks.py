"""Side concerns of the search loop, called at named points (as mmengine's hooks): the
loop journals and tells the searcher; a hook only watches (progress, tables, a dashboard).
What a hook is called with is already journaled, so a hook never changes the search."""
from __future__ import annotations

from typing import ClassVar

from .events import RetrainStart, RoundEnd, RoundStart, TrialEvent


class SearchHook:
    """Every point of the loop, doing nothing; a hook overrides the ones it needs. ``total``
    is the loop's current estimate of the trials of the whole search."""

    #: False: an exception of the hook turns it off with one warning and the search goes on
    #: (a dashboard or a database must never stop a search); True: it stops the search
    critical: ClassVar[bool] = True

    def before_search(self, work_dir: str, total: int, recorded: int,
                      resumed_round: int | None) -> None:
        """The journal is open with ``recorded`` trials in it; ``resumed_round``: the round
        a resumed search goes on with (None for a new search)."""

    def after_round_start(self, event: RoundStart) -> None:
        """A round's candidates were journaled (once per round; not again on resume)."""

    def after_trial(self, event: TrialEvent) -> None:
        """A trial (of a round or of the re-training stage) was journaled."""

    def after_round(self, event: RoundEnd, trials: list[TrialEvent], total: int) -> None:
        """A round's rewards are all in and told; ``trials`` are its trial events."""

    def before_retrain(self, event: RetrainStart, total: int) -> None:
        """The re-training stage's plan is journaled."""

    def after_search(self, retrain_table: dict | None, best: dict, reward_key: str) -> None:
        """The search ended (``best``: the best.json payload)."""

    def close(self) -> None:
        """The loop stops, normally or not (before :meth:`after_search`)."""
