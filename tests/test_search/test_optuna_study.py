"""The Optuna mirror of a search's journal: exactly the journaled trials, with their states,
values and distributions; idempotent (a killed and resumed search, or the report tool run on
an old search, leaves no duplicate); a storage that cannot be opened costs one warning and
changes nothing of the search."""
import json
import sqlite3
import subprocess
import sys

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from mmautoloss.functional.formulas import parse_formula
from mmautoloss.testing import (
    REPO,
    env_with_counter,
    killed_and_resumed,
    search_cmd,
    trial_events,
    write_proxy,
    write_search_config,
)

REPORT_TOOL = str(REPO / 'tools' / 'search_report.py')
def _study(url: str, name: str):
    return optuna.load_study(study_name=name, storage=url)


def _search(tmp_path, extra: str = '', name: str = 'work'):
    """A 6-trial search whose trial r001-c01 crashes; its work dir and stderr."""
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=2, samples=3, extra=extra)
    env = env_with_counter(tmp_path / 'n.txt')
    env['OBJ_FAULTS'] = json.dumps({'r001-c01': 'crash'})
    done = subprocess.run(search_cmd(config, tmp_path / name), cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp_path / name, done.stderr


@pytest.fixture(scope='module')
def mirrored(tmp_path_factory):
    """A search with the default storage ('auto': WORK_DIR/optuna.db; the tests' configs
    turn it off unless asked)."""
    work_dir, _ = _search(tmp_path_factory.mktemp('auto'), extra="optuna_storage = 'auto'")
    return work_dir


def _summary(trials) -> list:
    return [(t.user_attrs['trial_id'], t.state, t.value, t.params) for t in trials]


def test_the_study_holds_exactly_the_journaled_trials(mirrored, tmp_path):
    events = trial_events(mirrored)
    study = _study(f'sqlite:///{mirrored}/optuna.db', mirrored.name)
    trials = study.get_trials()
    assert [t.user_attrs['trial_id'] for t in trials] == \
        [e['result']['trial_id'] for e in events]
    for trial, event in zip(trials, events):
        result = event['result']
        if result['status'] == 'ok':
            assert trial.state == TrialState.COMPLETE and trial.value == result['reward']
            assert trial.user_attrs['metric/mIoU'] == result['metrics']['mIoU']
        else:
            assert trial.state == TrialState.FAIL and trial.value is None
            assert trial.user_attrs['reason'] == result['reason']
        assert [trial.params[f'x{i:02d}'] for i in range(12)] == event['candidate']
        assert trial.distributions['x00'] == FloatDistribution(0.0, 1.0)
        assert trial.user_attrs['round'] == event['round']
        assert trial.datetime_complete.timestamp() == pytest.approx(event['time'], abs=1e-3)
        assert trial.duration.total_seconds() == pytest.approx(result['duration_s'], abs=1e-3)
    assert [t.user_attrs['status'] for t in trials].count('crashed') == 1
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    # the report tool mirrors the finished search into another storage, the same trials,
    # and a second run adds nothing
    url = f'sqlite:///{tmp_path}/team.db'
    for _ in range(2):
        done = subprocess.run([sys.executable, REPORT_TOOL, str(mirrored), '--optuna', url],
                              cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    assert _summary(_study(url, mirrored.name).get_trials()) == _summary(trials)


def test_a_killed_and_resumed_search_leaves_no_duplicate(tmp_path):
    proxy = write_proxy(tmp_path)
    config = write_search_config(tmp_path, proxy, rounds=2, samples=3,
                                 extra="optuna_storage = 'auto'")
    env = env_with_counter(tmp_path / 'counter.txt')
    env['OBJ_SLEEP'] = '0.3'
    _, _, work_dir = killed_and_resumed(config, env, tmp_path, trials=3)
    ids = [e['result']['trial_id'] for e in trial_events(work_dir)]
    study = _study(f'sqlite:///{work_dir}/optuna.db', 'killed')
    assert [t.user_attrs['trial_id'] for t in study.get_trials()] == ids


@pytest.mark.parametrize('storage', ['postgresql://nobody@127.0.0.1:9/none', 'read-only'])
def test_a_storage_that_cannot_be_opened_warns_once_and_changes_nothing(mirrored, tmp_path,
                                                                        storage):
    if storage == 'read-only':  # an SQLite file opened read-only (root ignores file modes)
        sqlite3.connect(tmp_path / 'ro.db').close()
        storage = f'sqlite:///file:{tmp_path}/ro.db?mode=ro&uri=true'
    work_dir, stderr = _search(tmp_path, extra=f'optuna_storage = {storage!r}')
    warnings = [line for line in stderr.splitlines() if 'OptunaHook failed' in line]
    assert len(warnings) == 1, stderr[-3000:]
    best = json.loads((work_dir / 'best.json').read_text())
    assert best == json.loads((mirrored / 'best.json').read_text())


def test_retraining_trials_and_formulas_of_recorded_searches(tmp_path):
    """In process, on the journals of tests/assets/recorded_searches: re-training trials go
    to the study '<name>-retrain'; formulas and their maths become attributes."""
    from mmautoloss.search.events import parse_events
    from mmautoloss.search.journal import read_journal
    from mmautoloss.search.optuna_study import OptunaMirror, describe_from_journal
    recorded = REPO / 'tests' / 'assets' / 'recorded_searches'
    url = f'sqlite:///{tmp_path}/recorded.db'
    asl = parse_events(read_journal(str(recorded / 'asl_ppo2_seeds_retrain' / 'work_dir' /
                                        'journal.jsonl')))
    OptunaMirror(url, 'asl').sync(asl)
    retrained = [e for e in asl if getattr(e, 'is_retraining', False)]
    searched = [e for e in asl if hasattr(e, 'is_retraining') and not e.is_retraining]
    study = _study(url, 'asl-retrain')
    assert [t.user_attrs['trial_id'] for t in study.get_trials()] == \
        [e.trial_id for e in retrained]
    assert [(t.user_attrs['entry'], t.user_attrs['seed_index']) for t in study.get_trials()] \
        == [(e.entry, e.seed_index) for e in retrained]
    assert all(t.params == {} and json.loads(t.user_attrs['candidate']) == e.candidate
               for t, e in zip(study.get_trials(), retrained))
    assert len(_study(url, 'asl').get_trials()) == len(searched)
    cse = parse_events(read_journal(str(recorded / 'cse_generations' / 'work_dir' /
                                        'journal.jsonl')))
    OptunaMirror(url, 'cse', describe_from_journal(cse)).sync(cse)
    key = 'model.roi_head.bbox_head.loss_cls'
    event = next(e for e in cse if hasattr(e, 'candidate'))
    first = _study(url, 'cse').get_trials()[0]
    formula = event.candidate[key]
    assert first.user_attrs[f'formula/{key}'] == formula
    assert first.user_attrs[f'maths/{key}'] == \
        parse_formula(formula, 'cse-release', 'softmax_cls').to_math()
    assert first.params == {} and first.user_attrs['role'] == event.role
