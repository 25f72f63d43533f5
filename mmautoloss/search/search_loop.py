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
"""
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

from .executors import BaseExecutor
from ..utils.atomic_json import read_json, write_json_atomic
from .journal import Journal, read_journal
from .reporting import (ProgressReporter, export_best_config, format_round_table,
                        format_stage_row, format_stage_table, plot_rewards, write_best)
from .search_config import SearchConfigError, SearchSettings
from .searchers import BaseSearcher, Candidate
from .searchers.base import PROXY_ROLES
from .trial import TrialSpec

JOURNAL_NAME = 'journal.jsonl'
STATE_NAME = 'state.json'
BEST_NAME = 'best.json'
BEST_CONFIG_NAME = 'best_config.py'
REWARDS_PLOT_NAME = 'rewards.png'
#: the best candidate drawn: its curves (ASL / PAP) or its formulas (ALZ / CSE)
BEST_PLOT_NAME = 'best_curves.png'
TRIALS_DIR = 'trials'


_ABSENT = '<absent>'


def fingerprint_changes(recorded: dict, now: dict, prefix: str = '') -> List[str]:
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
    """

    def __init__(self, settings: SearchSettings, searcher: BaseSearcher,
                 executor: BaseExecutor, work_dir: str, resume: bool = False,
                 reporter_stream=None) -> None:
        self.settings = settings
        self.searcher = searcher
        self.executor = executor
        self.work_dir = work_dir
        self.resume = resume
        self.reporter_stream = reporter_stream
        self.journal_path = osp.join(work_dir, JOURNAL_NAME)
        self.state_path = osp.join(work_dir, STATE_NAME)

    def _start(self) -> Tuple[Journal, List[dict]]:
        """Open the journal and return it with its events; check or restore the state of a
        resumed search."""
        try:
            os.makedirs(self.work_dir, exist_ok=True)
        except OSError as error:  # an existing file, a path under a file, no permission
            raise SearchConfigError(f'work_dir={self.work_dir!r} cannot be used as a '
                                    f'directory: {type(error).__name__}: {error}') from error
        for path in (self.journal_path, self.state_path):
            if osp.lexists(path) and not osp.isfile(path):
                raise SearchConfigError(f'{path} is not a regular file (a directory or a '
                                        'broken link); move it out of the work dir')
        exists = osp.isfile(self.journal_path)
        if exists and not self.resume:
            raise SearchConfigError(f'work_dir={self.work_dir!r} already holds a search '
                                    'journal; pass --resume to continue it or choose another '
                                    '--work-dir')
        if self.resume and not exists:
            raise SearchConfigError(f'--resume: work_dir={self.work_dir!r} holds no search '
                                    f'journal ({JOURNAL_NAME}); run without --resume to start '
                                    'one')
        try:
            events = read_journal(self.journal_path)
        except ValueError as error:  # a damaged line before the end: nothing is guessed
            raise SearchConfigError(
                f'{error}; the recorded search cannot be resumed as it is. Move the journal '
                f'aside (mv {self.journal_path} {self.journal_path}.damaged) to start again, '
                'or repair that line') from error
        journal = Journal(self.journal_path)
        fingerprint = self.settings.fingerprint()
        if not events:
            start = dict(event='search_start', time=time.time(), fingerprint=fingerprint,
                         dim=self.settings.space.dim)
            journal.append(start)
            return journal, [start]
        if events[0]['event'] != 'search_start' or not isinstance(
                events[0].get('fingerprint'), dict):
            raise SearchConfigError(
                f'cannot resume: {self.journal_path} line 1 is not the search_start event '
                'with the fingerprint of the recorded search; the journal was not written by '
                f'tools/search.py or was cut at the front (mv {self.journal_path} '
                f'{self.journal_path}.damaged to start again)')
        changed = fingerprint_changes(events[0]['fingerprint'], fingerprint)
        if changed:
            raise SearchConfigError(
                f'cannot resume: the search config differs from the recorded search in '
                f'{len(changed)} setting(s): ' + '; '.join(changed) + '. Resume with the '
                'recorded settings, or start a new search in another --work-dir')
        self._restore_state(events)
        return journal, events

    def _restore_state(self, events: List[dict]) -> None:
        """Load ``state.json``; when it is missing or unreadable, rebuild it from the journal
        (the state is derived data: every ``round_start`` holds the searcher's snapshot)."""
        try:
            self.searcher.load_state_dict(read_json(self.state_path)['searcher'])
            return
        except FileNotFoundError:
            problem = 'is missing'
        except (OSError, ValueError, KeyError, TypeError) as error:
            problem = f'cannot be read ({type(error).__name__}: {error})'
        snapshots = [e for e in events if e['event'] == 'round_start' and 'searcher' in e]
        if snapshots:
            self.searcher.load_state_dict(snapshots[-1]['searcher'])
        # no round started yet: the fresh searcher is the state; the round that follows
        # saves it again after its ask()
        print(f'[search] {self.state_path} {problem}; rebuilt from the journal '
              f'(round {self.searcher.round})', file=self.reporter_stream or sys.stderr)

    def _trial_spec(self, candidate: Candidate) -> TrialSpec:
        work_dir = osp.join(self.work_dir, TRIALS_DIR, candidate.candidate_id)
        overrides = dict(self.settings.space.to_overrides(candidate.genotype),
                         **self.searcher.trial_overrides(candidate))
        return TrialSpec(trial_id=candidate.candidate_id, candidate=candidate.genotype,
                         overrides=overrides, work_dir=osp.abspath(work_dir))

    def run(self) -> dict:
        """Run (or finish) the search; returns the ``best.json`` payload."""
        journal, events = self._start()
        try:
            self.searcher.prepare(self.work_dir)
        except (OSError, ValueError) as error:  # e.g. the proxy's data is not generated
            raise SearchConfigError(f'the searcher cannot prepare {self.work_dir!r}: '
                                    f'{type(error).__name__}: {error}') from error
        trials = {e['result']['trial_id']: e for e in events if e['event'] == 'trial'}
        started = {e['round'] for e in events if e['event'] == 'round_start'}
        ended = {e['round'] for e in events if e['event'] == 'round_end'}
        reporter = ProgressReporter(self.searcher.total_trials, done=len(trials),
                                    stream=self.reporter_stream)
        if self.resume:
            reporter.write(f'[search] resuming {self.work_dir}: round {self.searcher.round}, '
                           f'{len(trials)} trials recorded')
        try:
            while not self.searcher.finished:
                self._run_round(journal, trials, started, ended, reporter)
        finally:
            reporter.close()
        write_json_atomic(self.state_path, dict(round=self.searcher.round,
                                                searcher=self.searcher.state_dict()))
        payload = self._report(list(trials.values()))
        if payload.get('generations'):
            reporter.write(format_stage_table(payload['generations'],
                                              self.settings.reward_key))
        # the journal already ends the search only when a finished search was resumed
        if not any(e['event'] == 'search_end' for e in events):
            journal.append(dict(event='search_end', time=time.time(), best=payload))
        return payload

    def _run_round(self, journal: Journal, trials: Dict[str, dict], started: set,
                   ended: set, reporter: ProgressReporter) -> None:
        round_index = self.searcher.round
        rows_before = len(self.searcher.stage_rows())
        candidates = self.searcher.ask()
        # saved after ask: a searcher that filters its proposals (ALZ) keeps the round's
        # decisions in its state, so a resumed round repeats them instead of redrawing
        write_json_atomic(self.state_path, dict(round=round_index,
                                                searcher=self.searcher.state_dict()))
        by_id = {c.candidate_id: c for c in candidates}
        filter_stats = self.searcher.proposal_stats()
        if round_index not in started:
            extra = {} if filter_stats is None else dict(filter_stats=filter_stats)
            journal.append(dict(
                event='round_start', round=round_index, time=time.time(),
                searcher=self.searcher.state_dict(),
                candidates=[dict(candidate_id=c.candidate_id, role=c.role, genotype=c.genotype)
                            for c in candidates], **extra))
            started.add(round_index)
            if filter_stats is not None:
                reporter.write(f'[search] round {round_index} candidates: ' + ', '.join(
                    f'{stage} {count}' for stage, count in filter_stats.items()))
        for cand_id, event in trials.items():
            if event['round'] != round_index:
                continue
            if cand_id not in by_id or by_id[cand_id].genotype != event['candidate']:
                raise SearchConfigError(f'cannot resume: journaled trial {cand_id!r} does not '
                                        'match the candidate the searcher proposes again')
            self.searcher.tell(cand_id, event['result']['reward'])
        # a trial killed with the search is run again; the executor clears its work dir
        specs = [self._trial_spec(c) for c in candidates if c.candidate_id not in trials]
        if specs:
            for result in self.executor.run(specs):
                cand = by_id[result.trial_id]
                event = dict(event='trial', round=round_index, index=cand.index,
                             role=cand.role, candidate=cand.genotype, time=time.time(),
                             result=result.to_dict())
                journal.append(event)
                trials[result.trial_id] = event
                self.searcher.tell(result.trial_id, result.reward)
                reporter.trial_done(result)
        round_trials = [trials[c.candidate_id] for c in candidates]
        rewards = [e['result']['reward'] for e in round_trials]
        summary = dict(mean_reward=sum(rewards) / len(rewards), max_reward=max(rewards),
                       failed=sum(e['result']['status'] != 'ok' for e in round_trials))
        best = self.searcher.result()['selected']
        if best is not None:
            summary['best_so_far'] = best['reward']
        # a generation of a multi-stage search (CSE-Autoloss) that ended with this round
        finished = self.searcher.stage_rows()[rows_before:]
        extra = dict(generations=finished) if finished else {}
        if round_index not in ended:
            journal.append(dict(event='round_end', round=round_index, time=time.time(),
                                **summary, **extra))
            ended.add(round_index)
        reporter.write(format_round_table(round_index, round_trials, summary))
        for row in finished:
            reporter.write(format_stage_row(row))
        reporter.set_total(self.searcher.total_trials)

    def _report(self, trial_events: List[dict]) -> dict:
        """Write best.json, the exported config and the plots; return the best.json payload."""
        result = self.searcher.result()
        space = self.settings.space

        def entry(best: Optional[dict]) -> Optional[dict]:
            if best is None:
                return None
            described = space.describe(best['genotype'])
            extra = {} if described is None else dict(formulas_math=described)
            return dict(best, overrides=space.to_overrides(best['genotype']), **extra)

        payload = dict(reward_key=self.settings.reward_key,
                       searcher=self.settings.searcher_cfg['type'],
                       selected=entry(result['selected']),
                       best_sample=entry(result['best_sample']),
                       best_mean=entry(result.get('best_mean')),
                       rounds=self.searcher.history,
                       num_trials=len(trial_events),
                       failed_trials=sorted(e['result']['trial_id'] for e in trial_events
                                            if e['result']['status'] != 'ok'))
        if result.get('generations'):
            payload['generations'] = result['generations']
        write_best(osp.join(self.work_dir, BEST_NAME), payload)
        selected = payload['selected']
        export_best_config(self.settings.proxy_cfg, selected['overrides'],
                           osp.join(self.work_dir, BEST_CONFIG_NAME))
        plot_rewards([e for e in trial_events if e['role'] in PROXY_ROLES],
                     osp.join(self.work_dir, REWARDS_PLOT_NAME), self.settings.reward_key)
        space.plot(selected['genotype'], osp.join(self.work_dir, BEST_PLOT_NAME),
                   f'best {self.settings.reward_key} = {selected["reward"]:.4f} '
                   f'({selected["candidate_id"]})')
        return payload
