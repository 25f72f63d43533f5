"""The journal's events as typed records (as :class:`~.trial.TrialResult`): one small
dataclass per event kind with ``to_dict`` / ``from_dict``, written by the search loop and
read by the loop (``--resume``), the reports and the re-training stage.

``to_dict`` gives exactly the JSON object the journal has always held: the event name
under ``event``, every field, and an optional field only when it is set (``None``
leaves it out). ``from_dict`` is its inverse and names a missing or unknown key.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from .structures import RETRAIN_ROUND, EventName, Genotype
from .trial import TrialResult


@dataclass(kw_only=True)
class JournalEvent:
    """Base of the journal's events: the event name and when it happened."""

    name: ClassVar[EventName]
    #: fields left out of the journal line while they are None
    optional: ClassVar[tuple[str, ...]] = ()
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        """The journal line's object (see module docstring)."""
        line: dict[str, Any] = dict(event=str(self.name))
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self.optional:
                continue
            line[f.name] = value.to_dict() if isinstance(value, TrialResult) else value
        return line

    @classmethod
    def from_dict(cls, line: dict) -> JournalEvent:
        """The typed event of a journal line; ``ValueError`` naming a key the line lacks or
        that this kind of event does not have."""
        kind = EVENT_TYPES.get(line.get('event'))
        if kind is None:
            raise ValueError(f'unknown journal event {line.get("event")!r}; known: '
                             f'{sorted(EVENT_TYPES)}')
        names = {f.name for f in fields(kind)}
        required = {f.name for f in fields(kind) if f.name not in kind.optional}
        given = set(line) - {'event'}
        missing, unknown = sorted(required - given), sorted(given - names)
        if missing or unknown:
            raise ValueError(f'a {line["event"]!r} event with missing keys {missing} and '
                             f'unknown keys {unknown}')
        values = {k: v for k, v in line.items() if k != 'event'}
        if 'result' in values:
            values['result'] = TrialResult.from_dict(values['result'])
        return kind(**values)


@dataclass(kw_only=True)
class SearchStart(JournalEvent):
    """Line 1 of a journal: the settings that decide the search's results (what a resume
    must match), the search space's dimension and, for a planned search, the forecast of
    its time (``tools/plan_search.py``, seconds)."""
    name: ClassVar[EventName] = EventName.SEARCH_START
    optional: ClassVar[tuple[str, ...]] = ('forecast', )
    fingerprint: dict
    dim: int
    forecast: dict | None = None


@dataclass(kw_only=True)
class RoundStart(JournalEvent):
    """A round's candidates with the searcher's state they were drawn from (so a lost
    ``state.json`` is rebuilt from the journal) and, for a searcher with filters, how many
    candidates each filter stage removed."""
    name: ClassVar[EventName] = EventName.ROUND_START
    optional: ClassVar[tuple[str, ...]] = ('filter_stats', )
    round: int
    searcher: dict
    candidates: list[dict]
    filter_stats: dict | None = None


@dataclass(kw_only=True)
class TrialEvent(JournalEvent):
    """A finished trial. A search trial has its round and the candidate's ``index`` and
    ``role``; with several seeds per candidate also the ``candidate_id`` it belongs to and
    its ``seed_index``. A re-training trial has round ``'retrain'`` and its ``target``,
    ``target_index``, ``entry`` and ``seed_index``."""
    name: ClassVar[EventName] = EventName.TRIAL
    optional: ClassVar[tuple[str, ...]] = ('candidate_id', 'seed_index', 'target',
                                           'target_index', 'entry')
    round: int | str
    index: int
    role: str
    candidate: Genotype | dict
    result: TrialResult
    candidate_id: str | None = None
    seed_index: int | None = None
    target: str | None = None
    target_index: int | None = None
    entry: str | None = None

    @property
    def trial_id(self) -> str:
        return self.result.trial_id

    @property
    def owner_id(self) -> str:
        """The candidate the trial trains: its ``candidate_id``, else its own trial id."""
        return self.candidate_id or self.result.trial_id

    @property
    def is_retraining(self) -> bool:
        return self.round == RETRAIN_ROUND


@dataclass(kw_only=True)
class RoundEnd(JournalEvent):
    """A round's summary over its candidates (the mean of each candidate's seeds): mean and
    max reward, failed trials, per-candidate seeds when there are several, the best reward
    so far, and the generations (CSE-Autoloss stage counts) that ended with the round."""
    name: ClassVar[EventName] = EventName.ROUND_END
    optional: ClassVar[tuple[str, ...]] = ('seeds', 'best_so_far', 'generations')
    round: int
    mean_reward: float
    max_reward: float
    failed: int
    seeds: list[dict] | None = None
    best_so_far: float | None = None
    generations: list[dict] | None = None

    def summary(self) -> dict:
        """The round table's numbers (every field but the round, its time and the
        generations)."""
        line = self.to_dict()
        return {k: v for k, v in line.items()
                if k not in ('event', 'round', 'time', 'generations')}


@dataclass(kw_only=True)
class RetrainStart(JournalEvent):
    """The plan of the re-training stage, journaled once: the entries (searched losses and
    baselines), the targets' names, the seeds, the reward key, and the targets that
    validate on the very images the proxy rewarded candidates on (``same_split``)."""
    name: ClassVar[EventName] = EventName.RETRAIN_START
    optional: ClassVar[tuple[str, ...]] = ('same_split', )
    entries: list[dict]
    targets: list[str]
    seeds: int
    reward_key: str
    same_split: list[str] | None = None


@dataclass(kw_only=True)
class SearchEnd(JournalEvent):
    """The last line: the ``best.json`` payload."""
    name: ClassVar[EventName] = EventName.SEARCH_END
    best: dict


EVENT_TYPES: dict[str, type[JournalEvent]] = {
    kind.name: kind for kind in (SearchStart, RoundStart, TrialEvent, RoundEnd, RetrainStart,
                                 SearchEnd)}


def parse_events(lines: list[dict]) -> list[JournalEvent]:
    """The typed events of a journal's lines (:func:`~.journal.read_journal`)."""
    return [JournalEvent.from_dict(line) for line in lines]
