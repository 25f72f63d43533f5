"""The search driver: ask the searcher, run the round's trials, tell the rewards, record it.

Round t of a search (ASL Algorithm 1 / PAP Algorithm 1 / ALZ's evolution):

1. the searcher proposes the round's candidates; its state (with the proposal, for a
   searcher that filters candidates before training) is saved atomically to ``state.json``
   and a ``round_start`` event with the candidates (and the filters' stage counts) is
   journaled;
2. every candidate becomes a :class:`~mmautoloss.search.trial.TrialSpec` (overrides from the
   space) run by the executor; each result is journaled (``trial``) the moment it arrives
   and told to the searcher, failed trials with the failure reward;
3. once all rewards are in, the searcher updates itself; ``round_end`` is journaled.

Resume: the candidates of a round are a function of the state saved with them, so
``resume=True`` loads ``state.json``, re-asks the round, takes the rewards of trials already
in the journal and runs only the others. A resumed search therefore reaches exactly the
result of an uninterrupted one with the same seed, and a journaled trial never runs twice.
(A trial that was running when the search was killed is not journaled and runs again.)

Progress, tables and any other side concern are :class:`~.hooks.SearchHook` s called at
named points; the loop itself only journals, tells and saves.
"""
from __future__ import annotations

import os
import os.path as osp
import sys
from collections.abc import Callable, Iterator

from mmengine.config import Config

from ..utils.atomic_json import read_json, write_json_atomic
from .baseline_tuning import SWEEP_TARGET, chosen_factors, sweep_plan
from .best import best_payload, write_best
from .console import ConsoleHook
from .errors import ResumeError, SearchConfigError
from .events import (
    JournalEvent,
    RetrainStart,
    RoundEnd,
    RoundStart,
    SearchEnd,
    SearchStart,
    TrialEvent,
    parse_events,
)
from .executors import BaseExecutor
from .hooks import SearchHook
from .journal import Journal, read_journal
from .perturbation import scaled_settings, trains_on
from .report import mean_std, retrain_table, write_report
from .retraining import (
    calibration_candidates,
    config_seed,
    entry_overrides,
    retrain_entries,
    retrain_trial_id,
    same_split_targets,
    target_seed,
    top_candidates,
)
from .searchers import BaseSearcher
from .settings import SearchSettings
from .structures import (
    JOURNAL_NAME,
    PROXY_ROLES,
    RETRAIN_ROUND,
    STATE_NAME,
    TRIALS_DIR,
    Candidate,
    TrialRole,
    TrialStatus,
)
from .trial import TrialResult, TrialSpec

_ABSENT = '<absent>'


def seed_summary(candidate_id: str, events: list[TrialEvent]) -> dict:
    """Mean, sample standard deviation (0 for one seed) and rewards of one candidate's
    trials (one per seed)."""
    rewards = [e.result.reward for e in events]
    mean, std = mean_std(rewards)
    return dict(candidate_id=candidate_id, mean=mean, std=std, rewards=rewards)


def fingerprint_changes(recorded: dict, now: dict, prefix: str = '') -> list[str]:
    """``'key.sub: recorded X, now Y'`` for every leaf setting that differs between two
    fingerprints (nested dicts compared key by key, so the message names the one setting
    that changed, e.g. ``searcher.sigma``)."""
    changes = []
    for key in sorted(set(recorded) | set(now)):
        name = f'{prefix}{key}'
        old, new = recorded.get(key, _ABSENT), now.get(key, _ABSENT)
        if isinstance(old, dict) and isinstance(new, dict):
            changes += fingerprint_changes(old, new, f'{name}.')
        elif old != new:
            changes.append(f'{name}: recorded {old!r}, now {new!r}')
    return changes


class SearchRecord:
    """What the journal holds, indexed for the loop: its events, the trials by id, the
    rounds started and ended, the re-training plan."""

    def __init__(self, events: list[JournalEvent]) -> None:
        self.events = events
        self.trials: dict[str, TrialEvent] = {
            e.trial_id: e for e in events if isinstance(e, TrialEvent)}
        self.started = {e.round for e in events if isinstance(e, RoundStart)}
        self.ended = {e.round for e in events if isinstance(e, RoundEnd)}
        self.retrain_start = next((e for e in events if isinstance(e, RetrainStart)), None)

    def add(self, event: JournalEvent) -> None:
        self.events.append(event)
        if isinstance(event, TrialEvent):
            self.trials[event.trial_id] = event
        elif isinstance(event, RoundStart):
            self.started.add(event.round)
        elif isinstance(event, RoundEnd):
            self.ended.add(event.round)
        elif isinstance(event, RetrainStart):
            self.retrain_start = event


class SearchLoop:
    """Runs a validated search in ``work_dir`` (see module docstring).

    Args:
        settings (SearchSettings): the validated search config.
        searcher (BaseSearcher): a fresh searcher built from it.
        executor (BaseExecutor): where trials run.
        work_dir (str): journal, state, best.json, plots, exported config and trial dirs.
        resume (bool): continue the search recorded in ``work_dir``; without it a ``work_dir``
            that already holds a journal is refused.
        reporter_stream: where progress and round tables are written (default stderr).
        hooks (list[SearchHook] | None): called at the loop's named points (default: the
            console's progress and tables on ``reporter_stream``).
    """

    def __init__(self, settings: SearchSettings, searcher: BaseSearcher,
                 executor: BaseExecutor, work_dir: str, resume: bool = False,
                 reporter_stream=None, hooks: list[SearchHook] | None = None) -> None:
        self.settings = settings
        self.searcher = searcher
        self.executor = executor
        self.work_dir = work_dir
        self.resume = resume
        self.reporter_stream = reporter_stream
        self.hooks = [ConsoleHook(reporter_stream)] if hooks is None else list(hooks)
        self.journal_path = osp.join(work_dir, JOURNAL_NAME)
        self.state_path = osp.join(work_dir, STATE_NAME)

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> dict:
        """Run (or finish) the search; returns the ``best.json`` payload."""
        journal, record = self._start()
        self._prepare_searcher()
        self._call('before_search', self.work_dir, self._total_trials(), len(record.trials),
                   self.searcher.round if self.resume else None)
        try:
            while not self.searcher.finished:
                self._run_round(journal, record)
            self._save_state(self.searcher.round)
            if self.settings.retrain is not None:
                self._run_retrain(journal, record)
        finally:
            self.executor.close()
            self._call('close')
        table = retrain_table(record.events)
        trial_events = list(record.trials.values())
        payload = best_payload(self.settings, self.searcher, trial_events, table)
        write_best(self.work_dir, self.settings, payload, trial_events, table)
        self._call('after_search', table, payload, self.settings.reward_key)
        # the journal already ends the search only when a finished search was resumed
        if not any(isinstance(e, SearchEnd) for e in record.events):
            self._journal(journal, record, SearchEnd(best=payload))
        write_report(self.work_dir, record.events)
        return payload

    def _run_round(self, journal: Journal, record: SearchRecord) -> None:
        """Ask, save the state, journal the round's start, run the trials not yet
        journaled (telling each candidate once its seeds are in), journal its end."""
        round_index = self.searcher.round
        rows_before = len(self.searcher.stage_rows())
        candidates = self.searcher.ask()
        # crash-safety contract, part 1: the state is saved right after ask(), before any
        # trial runs (a searcher that filters its proposals, ALZ, keeps the round's decisions
        # in its state, so a resumed round repeats them instead of redrawing)
        self._save_state(round_index)
        if round_index not in record.started:
            filter_stats = self.searcher.proposal_stats()
            start = RoundStart(round=round_index, searcher=self.searcher.state_dict(),
                               candidates=[dict(candidate_id=c.candidate_id, role=c.role,
                                                genotype=c.genotype) for c in candidates],
                               filter_stats=filter_stats)
            self._journal(journal, record, start)
            self._call('after_round_start', start)
        seed_trials = {c.candidate_id: self._seed_trial_ids(c) for c in candidates}
        by_id = {c.candidate_id: c for c in candidates}
        owner = {tid: cid for cid, tids in seed_trials.items() for tid in tids}
        self._check_recorded_trials(record, round_index, by_id, owner)
        told: set[str] = set()

        def tell_finished() -> None:
            """Tell each candidate whose seeds have all finished the mean of their rewards."""
            for cand_id, trial_ids in seed_trials.items():
                if cand_id not in told and all(t in record.trials for t in trial_ids):
                    results = [record.trials[t].result for t in trial_ids]
                    self.searcher.tell(cand_id, sum(r.reward for r in results) / len(results),
                                       ok=all(r.status == TrialStatus.OK for r in results))
                    told.add(cand_id)

        tell_finished()
        # a trial killed with the search is run again; the executor clears its work dir
        specs = [self._trial_spec(by_id[cid], tid, index)
                 for cid, tids in seed_trials.items() for index, tid in enumerate(tids)
                 if tid not in record.trials]

        def trial_event(result: TrialResult) -> TrialEvent:
            cand = by_id[owner[result.trial_id]]
            several = result.trial_id != cand.candidate_id
            return TrialEvent(round=round_index, index=cand.index, role=cand.role,
                              candidate=cand.genotype, result=result,
                              candidate_id=cand.candidate_id if several else None,
                              seed_index=seed_trials[cand.candidate_id].index(
                                  result.trial_id) if several else None)

        for _ in self._run_trials(journal, record, specs, trial_event):
            tell_finished()
        round_trials = [record.trials[t] for c in candidates for t in seed_trials[c.candidate_id]]
        end = self._round_end(round_index, candidates, seed_trials, round_trials,
                              self.searcher.stage_rows()[rows_before:])
        if round_index not in record.ended:
            self._journal(journal, record, end)
        self._call('after_round', end, round_trials, self._total_trials())

    def _run_retrain(self, journal: Journal, record: SearchRecord) -> None:
        """The re-training stage (:mod:`~.retraining`): plan it once (journaled), then run
        every (target, entry, seed) trial not yet journaled."""
        retrain = self.settings.retrain
        targets = self.settings.retrain_targets
        if record.retrain_start is None:
            trials = list(record.trials.values())
            entries = retrain_entries(
                retrain, top_candidates(trials, retrain['top_k']),
                calibration_candidates(trials, retrain['top_k'],
                                       retrain.get('calibration', 0)))
            self._journal(journal, record, RetrainStart(
                entries=entries, targets=[t.name for t in targets], seeds=retrain['seeds'],
                reward_key=self.settings.reward_key,
                same_split=same_split_targets(self.settings.proxy_cfg, targets)))
        start = record.retrain_start
        planned = {retrain_trial_id(t, entry['name'], j): (t, index, entry, j)
                   for t in range(len(targets)) for index, entry in enumerate(start.entries)
                   for j in range(retrain['seeds']) if trains_on(entry, t)}
        tuned = [e['tuned_of'] for e in start.entries if e['kind'] == 'tuned']
        baselines = [e for e in start.entries if e['name'] in tuned]
        factors = retrain['tune_baselines']['lr_factors'] if tuned else []
        sweep = sweep_plan(baselines, factors)
        self._call('before_retrain', start, self._total_trials() + len(planned) + len(sweep))

        def trial_event(result: TrialResult) -> TrialEvent:
            if result.trial_id in sweep:
                entry, factor = sweep[result.trial_id]
                return TrialEvent(round=RETRAIN_ROUND, index=baselines.index(entry),
                                  role=TrialRole.TUNE, target=SWEEP_TARGET,
                                  entry=entry['name'], result=result,
                                  candidate={'baseline': entry['name'], 'lr_factor': factor})
            t, index, entry, j = planned[result.trial_id]
            return TrialEvent(round=RETRAIN_ROUND, index=index, role=TrialRole.RETRAIN,
                              candidate=entry.get('genotype') or {'baseline': entry['name']},
                              target=start.targets[t], target_index=t, entry=entry['name'],
                              seed_index=j, result=result)

        # first the sweep and every entry that needs no sweep's choice, then the tuned ones
        proxy = self.settings.proxy_cfg
        specs = [self._retrain_spec(trial_id, entry, proxy, config_seed(proxy), {},
                                    scale_lr=factor)
                 for trial_id, (entry, factor) in sweep.items() if trial_id not in record.trials]
        specs += [self._retrain_spec(trial_id, entry, targets[t].config,
                                     target_seed(targets[t].config, j), {})
                  for trial_id, (t, _, entry, j) in planned.items()
                  if trial_id not in record.trials and 'tuned_of' not in entry]
        for _ in self._run_trials(journal, record, specs, trial_event):
            pass
        choices = chosen_factors(list(record.trials.values()), tuned, factors)
        lr_choices = {name: choice['chosen'] for name, choice in choices.items()}
        specs = [self._retrain_spec(trial_id, entry, targets[t].config,
                                    target_seed(targets[t].config, j), lr_choices)
                 for trial_id, (t, _, entry, j) in planned.items()
                 if trial_id not in record.trials and 'tuned_of' in entry]
        for _ in self._run_trials(journal, record, specs, trial_event):
            pass

    def _retrain_spec(self, trial_id: str, entry: dict, cfg: Config, seed: int,
                      lr_choices: dict[str, float], scale_lr: float = 1.0) -> TrialSpec:
        """The trial that trains a re-training ``entry`` (or a sweep trial of a baseline,
        its lr times ``scale_lr``) on ``cfg`` with ``seed``."""
        overrides = entry_overrides(entry, self.settings.space.to_overrides, cfg, lr_choices)
        overrides.update(scaled_settings(cfg, scale_lr, 1.0))
        overrides['randomness.seed'] = seed
        return TrialSpec(trial_id=trial_id, candidate=entry.get('genotype') or {},
                         overrides=overrides, base_config=cfg,
                         work_dir=self._trial_dir(trial_id))

    def _run_trials(self, journal: Journal, record: SearchRecord, specs: list[TrialSpec],
                    trial_event: Callable[[TrialResult], TrialEvent]) -> Iterator[TrialEvent]:
        """Run ``specs`` on the executor; yield each result's event once it is journaled.

        Crash-safety contract, part 2: a result is journaled (fsync'd) before the searcher
        is told of it, so a trial in the journal is never run again and one not in it
        always is."""
        if not specs:
            return
        for result in self.executor.run(specs):
            event = trial_event(result)
            self._journal(journal, record, event)
            self._call('after_trial', event)
            yield event

    # -- named steps -------------------------------------------------------------------
    def _start(self) -> tuple[Journal, SearchRecord]:
        """Open the journal and return it with its record; check or restore the state of a
        resumed search."""
        lines = self._read_journal()
        journal = Journal(self.journal_path)
        fingerprint = self.settings.fingerprint()
        if not lines:
            record = SearchRecord([])
            self._journal(journal, record, SearchStart(fingerprint=fingerprint,
                                                       dim=self.settings.space.dim,
                                                       forecast=self.settings.forecast))
            return journal, record
        if lines[0]['event'] != 'search_start' or not isinstance(
                lines[0].get('fingerprint'), dict):
            raise ResumeError(
                f'cannot resume: {self.journal_path} line 1 is not the search_start event '
                'with the fingerprint of the recorded search; the journal was not written by '
                f'tools/search.py or was cut at the front (mv {self.journal_path} '
                f'{self.journal_path}.damaged to start again)')
        changed = fingerprint_changes(lines[0]['fingerprint'], fingerprint)
        if changed:
            raise ResumeError(
                f'cannot resume: the search config differs from the recorded search in '
                f'{len(changed)} setting(s): ' + '; '.join(changed) + '. Resume with the '
                'recorded settings, or start a new search in another --work-dir')
        try:
            events = parse_events(lines)
        except ValueError as error:  # a line this version of the engine cannot read
            raise ResumeError(f'{self.journal_path}: {error}; the recorded search cannot be '
                              'resumed as it is') from error
        record = SearchRecord(events)
        self._restore_state(record)
        return journal, record

    def _read_journal(self) -> list[dict]:
        """The journal's lines, after checking that the work dir can hold the search as
        asked (a new one, or ``--resume`` of a recorded one)."""
        try:
            os.makedirs(self.work_dir, exist_ok=True)
        except OSError as error:  # an existing file, a path under a file, no permission
            raise ResumeError(f'work_dir={self.work_dir!r} cannot be used as a '
                              f'directory: {type(error).__name__}: {error}') from error
        for path in (self.journal_path, self.state_path):
            if osp.lexists(path) and not osp.isfile(path):
                raise ResumeError(f'{path} is not a regular file (a directory or a '
                                  'broken link); move it out of the work dir')
        exists = osp.isfile(self.journal_path)
        if exists and not self.resume:
            raise ResumeError(f'work_dir={self.work_dir!r} already holds a search '
                              'journal; pass --resume to continue it or choose another '
                              '--work-dir')
        if self.resume and not exists:
            raise ResumeError(f'--resume: work_dir={self.work_dir!r} holds no search '
                              f'journal ({JOURNAL_NAME}); run without --resume to start '
                              'one')
        try:
            return read_journal(self.journal_path)
        except ValueError as error:  # a damaged line before the end: nothing is guessed
            raise ResumeError(
                f'{error}; the recorded search cannot be resumed as it is. Move the journal '
                f'aside (mv {self.journal_path} {self.journal_path}.damaged) to start again, '
                'or repair that line') from error

    def _restore_state(self, record: SearchRecord) -> None:
        """Load ``state.json``; when it is missing or unreadable, rebuild it from the journal
        (the state is derived data: every ``round_start`` holds the searcher's snapshot)."""
        try:
            self.searcher.load_state_dict(read_json(self.state_path)['searcher'])
            return
        except FileNotFoundError:
            problem = 'is missing'
        except (OSError, ValueError, KeyError, TypeError) as error:
            problem = f'cannot be read ({type(error).__name__}: {error})'
        snapshots = [e for e in record.events if isinstance(e, RoundStart)]
        if snapshots:
            self.searcher.load_state_dict(snapshots[-1].searcher)
        # no round started yet: the fresh searcher is the state; the round that follows
        # saves it again after its ask()
        print(f'[search] {self.state_path} {problem}; rebuilt from the journal '
              f'(round {self.searcher.round})', file=self.reporter_stream or sys.stderr)

    def _prepare_searcher(self) -> None:
        try:
            self.searcher.prepare(self.work_dir)
        except (OSError, ValueError) as error:  # e.g. the proxy's data is not generated
            raise SearchConfigError(f'the searcher cannot prepare {self.work_dir!r}: '
                                    f'{type(error).__name__}: {error}') from error

    def _save_state(self, round_index: int) -> None:
        write_json_atomic(self.state_path, dict(round=round_index,
                                                searcher=self.searcher.state_dict()))

    def _journal(self, journal: Journal, record: SearchRecord, event: JournalEvent) -> None:
        """Append ``event`` to the journal (fsync'd) and to the record."""
        journal.append(event.to_dict())
        record.add(event)

    def _call(self, point: str, *args) -> None:
        for hook in list(self.hooks):
            try:
                getattr(hook, point)(*args)
            except Exception as error:
                if hook.critical:
                    raise
                self.hooks.remove(hook)
                first_line = (str(error).strip().splitlines() or [''])[0]
                print(f'[search] warning: {type(hook).__name__} failed at {point} '
                      f'({type(error).__name__}: {first_line}); it is off for the rest of the '
                      'search, which goes on unchanged', file=sys.stderr)

    def _check_recorded_trials(self, record: SearchRecord, round_index: int,
                               by_id: dict[str, Candidate], owner: dict[str, str]) -> None:
        """A resumed round must propose again the candidates its journaled trials trained
        (``by_id``: the round's candidates; ``owner``: trial id -> candidate id)."""
        for trial_id, event in record.trials.items():
            if event.round != round_index:
                continue
            cand_id = owner.get(trial_id)
            if cand_id is None or by_id[cand_id].genotype != event.candidate:
                raise ResumeError(f'cannot resume: journaled trial {trial_id!r} does not '
                                  'match the candidate the searcher proposes again')

    def _round_end(self, round_index: int, candidates: list[Candidate],
                   seed_trials: dict[str, list[str]], round_trials: list[TrialEvent],
                   generations: list[dict]) -> RoundEnd:
        """The round's summary (over each candidate's mean of its seeds)."""
        per_candidate = [seed_summary(c.candidate_id,
                                      [t for t in round_trials
                                       if t.trial_id in seed_trials[c.candidate_id]])
                         for c in candidates]
        means = [row['mean'] for row in per_candidate]
        best = self.searcher.result()['selected']
        return RoundEnd(
            round=round_index, mean_reward=sum(means) / len(means), max_reward=max(means),
            failed=sum(e.result.status != TrialStatus.OK for e in round_trials),
            seeds=per_candidate if self.settings.seeds_per_candidate > 1 else None,
            best_so_far=None if best is None else best['reward'],
            # the generations of a multi-stage search (CSE-Autoloss) that ended with the round
            generations=generations or None)

    def _total_trials(self) -> int:
        """Trials of the whole search: the searcher's candidates times the seeds."""
        return self.searcher.total_trials * self.settings.seeds_per_candidate

    def _seed_trial_ids(self, candidate: Candidate) -> list[str]:
        """The trials of a candidate: itself, or one per seed (``<id>-s<j>``)."""
        k = self.settings.seeds_per_candidate if candidate.role in PROXY_ROLES else 1
        return [candidate.candidate_id] if k == 1 else \
            [f'{candidate.candidate_id}-s{j}' for j in range(k)]

    def _trial_dir(self, trial_id: str) -> str:
        return osp.abspath(osp.join(self.work_dir, TRIALS_DIR, trial_id))

    def _trial_spec(self, candidate: Candidate, trial_id: str, seed_index: int) -> TrialSpec:
        overrides = dict(self.settings.space.to_overrides(candidate.genotype),
                         **self.searcher.trial_overrides(candidate))
        if trial_id != candidate.candidate_id:  # seed j of k: the proxy's seed + j
            overrides['randomness.seed'] = config_seed(self.settings.proxy_cfg) + seed_index
        return TrialSpec(trial_id=trial_id, candidate=candidate.genotype,
                         overrides=overrides, work_dir=self._trial_dir(trial_id))
