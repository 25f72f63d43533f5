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
import copy
import os
import os.path as osp
import sys
import time

from ..utils.atomic_json import read_json, write_json_atomic
from .errors import ResumeError, SearchConfigError
from .executors import BaseExecutor
from .journal import Journal, read_journal
from .reporting import (
    ProgressReporter,
    export_best_config,
    format_round_table,
    format_stage_row,
    format_stage_table,
    plot_rewards,
    write_best,
)
from .retraining import config_seed, retrain_entries, retrain_trial_id, target_seed, top_candidates
from .search_report import (
    format_retrain_table,
    mean_std,
    retrain_table,
    retrain_winner,
    write_report,
)
from .searchers import BaseSearcher
from .settings import SearchSettings
from .structures import (
    BEST_CONFIG_NAME,
    BEST_NAME,
    BEST_PLOT_NAME,
    JOURNAL_NAME,
    PROXY_ROLES,
    RETRAIN_ROUND,
    REWARDS_PLOT_NAME,
    STATE_NAME,
    TRIALS_DIR,
    Candidate,
    entry_plot_name,
)
from .trial import TrialSpec

_ABSENT = '<absent>'


def seed_summary(candidate_id: str, events: list[dict]) -> dict:
    """Mean, sample standard deviation (0 for one seed) and rewards of one candidate's
    trials (one per seed)."""
    rewards = [e['result']['reward'] for e in events]
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

    def _start(self) -> tuple[Journal, list[dict]]:
        """Open the journal and return it with its events; check or restore the state of a
        resumed search."""
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
            events = read_journal(self.journal_path)
        except ValueError as error:  # a damaged line before the end: nothing is guessed
            raise ResumeError(
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
            raise ResumeError(
                f'cannot resume: {self.journal_path} line 1 is not the search_start event '
                'with the fingerprint of the recorded search; the journal was not written by '
                f'tools/search.py or was cut at the front (mv {self.journal_path} '
                f'{self.journal_path}.damaged to start again)')
        changed = fingerprint_changes(events[0]['fingerprint'], fingerprint)
        if changed:
            raise ResumeError(
                f'cannot resume: the search config differs from the recorded search in '
                f'{len(changed)} setting(s): ' + '; '.join(changed) + '. Resume with the '
                'recorded settings, or start a new search in another --work-dir')
        self._restore_state(events)
        return journal, events

    def _restore_state(self, events: list[dict]) -> None:
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

    def _total_trials(self) -> int:
        """Trials of the whole search: the searcher's candidates times the seeds."""
        return self.searcher.total_trials * self.settings.seeds_per_candidate

    def _seed_trial_ids(self, candidate: Candidate) -> list[str]:
        """The trials of a candidate: itself, or one per seed (``<id>-s<j>``)."""
        k = self.settings.seeds_per_candidate if candidate.role in PROXY_ROLES else 1
        return [candidate.candidate_id] if k == 1 else \
            [f'{candidate.candidate_id}-s{j}' for j in range(k)]

    def _trial_spec(self, candidate: Candidate, trial_id: str, seed_index: int) -> TrialSpec:
        work_dir = osp.join(self.work_dir, TRIALS_DIR, trial_id)
        overrides = dict(self.settings.space.to_overrides(candidate.genotype),
                         **self.searcher.trial_overrides(candidate))
        if trial_id != candidate.candidate_id:  # seed j of k: the proxy's seed + j
            overrides['randomness.seed'] = config_seed(self.settings.proxy_cfg) + seed_index
        return TrialSpec(trial_id=trial_id, candidate=candidate.genotype,
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
        reporter = ProgressReporter(self._total_trials(), done=len(trials),
                                    stream=self.reporter_stream)
        if self.resume:
            reporter.write(f'[search] resuming {self.work_dir}: round {self.searcher.round}, '
                           f'{len(trials)} trials recorded')
        try:
            while not self.searcher.finished:
                self._run_round(journal, trials, started, ended, reporter)
            write_json_atomic(self.state_path, dict(round=self.searcher.round,
                                                    searcher=self.searcher.state_dict()))
            if self.settings.retrain is not None:
                self._run_retrain(journal, events, trials, reporter)
        finally:
            self.executor.close()
            reporter.close()
        events = journal.events()  # all that is recorded, read once for the reports
        table = retrain_table(events)
        if table is not None:
            reporter.write(format_retrain_table(table))
        payload = self._report(list(trials.values()), table)
        if payload.get('generations'):
            reporter.write(format_stage_table(payload['generations'],
                                              self.settings.reward_key))
        # the journal already ends the search only when a finished search was resumed
        if not any(e['event'] == 'search_end' for e in events):
            end = dict(event='search_end', time=time.time(), best=payload)
            journal.append(end)
            events.append(end)
        write_report(self.work_dir, events)
        return payload

    def _run_round(self, journal: Journal, trials: dict[str, dict], started: set,
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
        seed_trials = {c.candidate_id: self._seed_trial_ids(c) for c in candidates}
        owner = {tid: cid for cid, tids in seed_trials.items() for tid in tids}
        for trial_id, event in trials.items():
            if event['round'] != round_index:
                continue
            cand_id = owner.get(trial_id)
            if cand_id is None or by_id[cand_id].genotype != event['candidate']:
                raise ResumeError(f'cannot resume: journaled trial {trial_id!r} does not '
                                        'match the candidate the searcher proposes again')
        told: set = set()

        def tell_finished() -> None:
            """Tell each candidate whose seeds have all finished the mean of their rewards."""
            for cand_id, trial_ids in seed_trials.items():
                if cand_id not in told and all(t in trials for t in trial_ids):
                    rewards = [trials[t]['result']['reward'] for t in trial_ids]
                    self.searcher.tell(cand_id, sum(rewards) / len(rewards))
                    told.add(cand_id)

        tell_finished()
        # a trial killed with the search is run again; the executor clears its work dir
        specs = [self._trial_spec(by_id[cid], tid, index)
                 for cid, tids in seed_trials.items() for index, tid in enumerate(tids)
                 if tid not in trials]
        if specs:
            for result in self.executor.run(specs):
                cand = by_id[owner[result.trial_id]]
                seed_index = seed_trials[cand.candidate_id].index(result.trial_id)
                extra = {} if result.trial_id == cand.candidate_id else dict(
                    candidate_id=cand.candidate_id, seed_index=seed_index)
                event = dict(event='trial', round=round_index, index=cand.index,
                             role=cand.role, candidate=cand.genotype, time=time.time(),
                             result=result.to_dict(), **extra)
                journal.append(event)
                trials[result.trial_id] = event
                tell_finished()
                reporter.trial_done(result)
        round_trials = [trials[t] for c in candidates for t in seed_trials[c.candidate_id]]
        per_candidate = [seed_summary(c.candidate_id,
                                      [trials[t] for t in seed_trials[c.candidate_id]])
                         for c in candidates]
        means = [row['mean'] for row in per_candidate]
        summary = dict(mean_reward=sum(means) / len(means), max_reward=max(means),
                       failed=sum(e['result']['status'] != 'ok' for e in round_trials))
        if self.settings.seeds_per_candidate > 1:
            summary['seeds'] = per_candidate
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
        reporter.set_total(self._total_trials())

    def _run_retrain(self, journal: Journal, events: list[dict], trials: dict[str, dict],
                     reporter: ProgressReporter) -> None:
        """The re-training stage (:mod:`~.retraining`): plan it once (journaled), then run
        every (target, entry, seed) trial not yet journaled."""
        retrain = self.settings.retrain
        targets = self.settings.retrain_targets
        start = next((e for e in events if e['event'] == 'retrain_start'), None)
        if start is None:
            entries = retrain_entries(retrain, top_candidates(list(trials.values()),
                                                              retrain['top_k']))
            start = dict(event='retrain_start', time=time.time(), entries=entries,
                         targets=[t.name for t in targets], seeds=retrain['seeds'],
                         reward_key=self.settings.reward_key)
            journal.append(start)
            events.append(start)
        entries = start['entries']
        planned = {}
        for t, target in enumerate(targets):
            for index, entry in enumerate(entries):
                for j in range(retrain['seeds']):
                    trial_id = retrain_trial_id(t, entry['name'], j)
                    planned[trial_id] = (t, index, entry, j)
        reporter.set_total(self._total_trials() + len(planned))
        reporter.write(f'[search] re-training {len(entries)} losses '
                       f'({", ".join(e["name"] for e in entries)}) x {retrain["seeds"]} seeds '
                       f'on {", ".join(start["targets"])}')
        specs = []
        for trial_id, (t, index, entry, j) in planned.items():
            if trial_id in trials:
                continue
            if entry['kind'] == 'searched':
                overrides = self.settings.space.to_overrides(entry['genotype'])
            else:
                overrides = copy.deepcopy(entry['overrides'] or {})
            overrides['randomness.seed'] = target_seed(targets[t].config, j)
            specs.append(TrialSpec(trial_id=trial_id, candidate=entry.get('genotype') or {},
                                   overrides=overrides, base_config=targets[t].config,
                                   work_dir=osp.abspath(osp.join(self.work_dir, TRIALS_DIR,
                                                                 trial_id))))
        for result in self.executor.run(specs):
            t, index, entry, j = planned[result.trial_id]
            event = dict(event='trial', round=RETRAIN_ROUND, index=index, role='retrain',
                         candidate=entry.get('genotype') or {'baseline': entry['name']},
                         target=start['targets'][t], target_index=t, entry=entry['name'],
                         seed_index=j, time=time.time(), result=result.to_dict())
            journal.append(event)
            trials[result.trial_id] = event
            reporter.trial_done(result)

    def _report(self, trial_events: list[dict], table: dict | None) -> dict:
        """Write best.json, the exported config (the re-training winner when the
        re-training ``table`` has one) and the plots; return the best.json payload."""
        result = self.searcher.result()
        space = self.settings.space

        def entry(best: dict | None) -> dict | None:
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
        winner = None if table is None else retrain_winner(table)
        base_config = self.settings.proxy_cfg
        exported = payload['selected']['overrides']
        if winner is not None:
            base_config = self.settings.retrain_targets[0].config
            exported = space.to_overrides(winner['genotype'])
            payload['retrain'] = dict(winner=winner, targets=table['targets'])
        for row in [] if table is None else table['targets'][0]['rows']:
            retrained = row['entry']  # the searched curves / formulas, beside the report
            if retrained['kind'] == 'searched':
                space.plot(retrained['genotype'],
                           osp.join(self.work_dir, entry_plot_name(retrained['name'])),
                           f'{retrained["name"]} ({retrained["candidate_id"]})')
        write_best(osp.join(self.work_dir, BEST_NAME), payload)
        selected = payload['selected']
        export_best_config(base_config, exported, osp.join(self.work_dir, BEST_CONFIG_NAME))
        plot_rewards([e for e in trial_events if e['role'] in PROXY_ROLES],
                     osp.join(self.work_dir, REWARDS_PLOT_NAME), self.settings.reward_key)
        space.plot(selected['genotype'], osp.join(self.work_dir, BEST_PLOT_NAME),
                   f'best {self.settings.reward_key} = {selected["reward"]:.4f} '
                   f'({selected["candidate_id"]})')
        return payload
