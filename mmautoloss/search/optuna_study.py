"""The journal of a search mirrored into an Optuna study, for ``optuna-dashboard`` and for
a team's database (any storage URL Optuna opens: SQLite, PostgreSQL, MySQL).

The journal stays the one source of truth: every journaled trial becomes one Optuna trial,
added with ``study.add_trial`` (Optuna never runs anything), in journal order:

- state ``COMPLETE`` for an ``ok`` trial, ``PRUNED`` for one stopped by early stopping (its
  reward is the metric where it stopped), ``FAIL`` for the others (no value);
- value: the reward; the other metrics as user attributes ``metric/<name>``;
- a vector genotype (ASL, PAP) as params ``x00``, ``x01``, ... with a ``FloatDistribution``
  over [0, 1] each, so the parallel-coordinate and importance views work; formulas (ALZ,
  CSE) as user attributes ``formula/<config key>`` and their maths ``maths/<config key>``;
- user attributes ``trial_id`` (the key that makes mirroring idempotent), ``round``,
  ``role``, ``status``, ``reason``, ``log_dir`` (the trial's own mmengine work dir);
- start and end times from the journal (the line's time, less the trial's duration).

Search trials go to the study ``<name>``, re-training trials to ``<name>-retrain`` (with
``target``, ``entry``, ``seed_index`` and the entry's loss as the attribute ``candidate``, no
parameters: they are chosen entries, not samples of the space). A trial already in the
study is never added again, so ``--resume`` or ``python tools/search_report.py WORK_DIR
--optuna URL`` on an old search gives the same study. Optuna is an optional extra (``pip install
mmautoloss[dashboard]``); it is imported only here.
"""
from __future__ import annotations

import copy
import datetime
import json
import os.path as osp
from collections.abc import Callable, Iterable

from .events import SearchStart, TrialEvent, parse_events
from .hooks import SearchHook
from .journal import read_journal
from .structures import JOURNAL_NAME, TrialStatus

#: the default storage: a SQLite file in the search's work dir
DEFAULT_STORAGE = 'sqlite:///{work_dir}/optuna.db'
RETRAIN_SUFFIX = '-retrain'
TRIAL_ID_ATTR = 'trial_id'


def study_name(work_dir: str) -> str:
    """The study of a search: its work dir's name."""
    return osp.basename(osp.normpath(osp.abspath(work_dir)))


def storage_url(storage: str, work_dir: str) -> str:
    """``storage`` with ``{work_dir}`` replaced by the search's absolute work dir."""
    return storage.replace('{work_dir}', osp.abspath(work_dir))


def describe_from_journal(events: list) -> Callable[[dict], dict] | None:
    """The maths of a formula genotype, from the search space the journal's first line
    records; None when the space cannot be built (a vector space needs none)."""
    from ..registry import SPACES
    start = events[0] if events and isinstance(events[0], SearchStart) else None
    if start is None:
        return None
    try:
        space = SPACES.build(copy.deepcopy(start.fingerprint['search_space']))
    except Exception:  # a space of a version that no longer builds: attributes only
        return None
    return space.describe


class OptunaMirror:
    """The studies of one search in one storage.

    Args:
        storage (str): an Optuna storage URL.
        name (str): the search's study name (re-training: ``name + '-retrain'``).
        describe (Callable | None): genotype -> ``{config key: maths}`` for formulas.
    """

    def __init__(self, storage: str, name: str,
                 describe: Callable[[dict], dict] | None = None) -> None:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self.storage = optuna.storages.RDBStorage(storage) if '://' in storage else storage
        self.name = name
        self.describe = describe
        self._studies: dict[str, object] = {}
        self._known: dict[str, set[str]] = {}

    def study(self, retraining: bool = False):
        """The search's (or its re-training stage's) study, created on first use."""
        name = self.name + (RETRAIN_SUFFIX if retraining else '')
        if name not in self._studies:
            study = self._optuna.create_study(storage=self.storage, study_name=name,
                                              direction='maximize', load_if_exists=True)
            self._studies[name] = study
            self._known[name] = {t.user_attrs.get(TRIAL_ID_ATTR)
                                 for t in study.get_trials(deepcopy=False)}
        return self._studies[name]

    def sync(self, events: Iterable[object]) -> int:
        """Add every trial event of ``events`` not yet in its study; returns how many."""
        added = 0
        for event in events:
            if not isinstance(event, TrialEvent):
                continue
            study = self.study(event.is_retraining)
            known = self._known[study.study_name]
            if event.trial_id in known:
                continue
            study.add_trial(self.frozen_trial(event))
            known.add(event.trial_id)
            added += 1
        return added

    def frozen_trial(self, event: TrialEvent):
        """The Optuna trial of one journaled trial (module docstring)."""
        from optuna.distributions import FloatDistribution
        from optuna.trial import TrialState, create_trial
        result = event.result
        state = {TrialStatus.OK: TrialState.COMPLETE,
                 TrialStatus.STOPPED: TrialState.PRUNED}.get(result.status, TrialState.FAIL)
        attrs = {TRIAL_ID_ATTR: event.trial_id, 'round': event.round, 'role': event.role,
                 'status': result.status, 'reason': result.reason,
                 'log_dir': result.log_dir}
        for key in ('candidate_id', 'seed_index', 'target', 'entry'):
            if getattr(event, key) is not None:
                attrs[key] = getattr(event, key)
        attrs.update({f'metric/{k}': v for k, v in result.metrics.items()
                      if isinstance(v, (int, float, str))})
        params, distributions = {}, {}
        genotype = event.candidate
        if event.is_retraining:  # entries, not a sample of the space: no parameters
            attrs['candidate'] = json.dumps(genotype, sort_keys=True)
        elif isinstance(genotype, list):
            for i, value in enumerate(genotype):
                params[f'x{i:02d}'] = float(value)
                distributions[f'x{i:02d}'] = FloatDistribution(0.0, 1.0)
        elif isinstance(genotype, dict):
            attrs.update({f'formula/{k}': str(v) for k, v in genotype.items()})
            if self.describe is not None:
                attrs.update({f'maths/{k}': v for k, v in self.describe(genotype).items()})
        value = result.reward if state != TrialState.FAIL else None
        trial = create_trial(state=state, value=value, params=params,
                             distributions=distributions, user_attrs=attrs)
        # the journal's times (its line is written when the trial ends), for the timeline
        trial.datetime_complete = datetime.datetime.fromtimestamp(event.time)
        trial.datetime_start = trial.datetime_complete - datetime.timedelta(
            seconds=result.duration_s)
        return trial


class OptunaHook(SearchHook):
    """Mirrors the journal into :class:`OptunaMirror` as the search goes: everything
    journaled when the search starts (a resumed one included), then each trial. A failure
    (no optuna, a storage that cannot be opened) turns the hook off with one warning (the
    loop's ``critical = False`` rule); the search goes on unchanged.

    Args:
        storage (str): the storage URL (``{work_dir}`` is the search's work dir).
        describe (Callable | None): see :class:`OptunaMirror`.
    """

    critical = False

    def __init__(self, storage: str, describe: Callable[[dict], dict] | None = None) -> None:
        self.storage = storage
        self.describe = describe
        self.mirror: OptunaMirror | None = None

    def before_search(self, work_dir: str, total: int, recorded: int,
                      resumed_round: int | None) -> None:
        self.mirror = OptunaMirror(storage_url(self.storage, work_dir), study_name(work_dir),
                                   self.describe)
        self.mirror.study()  # opened now: a bad storage is reported before any trial
        path = osp.join(work_dir, JOURNAL_NAME)
        if osp.isfile(path):
            self.mirror.sync(parse_events(read_journal(path)))

    def after_trial(self, event: TrialEvent) -> None:
        self.mirror.sync([event])
