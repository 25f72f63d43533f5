"""Formula candidates through the search engine: FormulaSpace, RandomFormulaSearcher, the
journal, --resume after SIGKILL, best.json, the exported config and the formula plot."""
import json
import os
import random
import subprocess
import zlib

import pytest
from mmengine.config import Config

from mmautoloss.functional.formulas import get_primitive_set, parse_formula
from mmautoloss.search.builders import build_executor, build_searcher
from mmautoloss.search.errors import SearchConfigError
from mmautoloss.search.journal import read_journal
from mmautoloss.search.search_loop import SearchLoop
from mmautoloss.search.searchers import RandomFormulaSearcher
from mmautoloss.search.spaces import FormulaSpace
from mmautoloss.search.validation import load_search_config, validate_search_config
from mmautoloss.search.variation import random_formula
from mmautoloss.testing import (
    REPO,
    env_with_counter,
    search_cmd,
    sigkill_after_trials,
    trial_events,
    write_proxy,
    write_search_config,
)

KEY = 'model.decode_head.loss_decode'
PROXY_CE = """
model = dict(decode_head=dict(loss_decode=dict(
    type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.5, avg_non_ignore=True)))
val_evaluator = [dict(type='IoUMetric', iou_metrics=['mIoU'])]
"""
SPACE = f"search_space = dict(type='FormulaSpace', branches={{{KEY!r}: 'seg'}})"


def formula_config(tmp_path, **kwargs):
    proxy = write_proxy(tmp_path, PROXY_CE)
    kwargs.setdefault('searcher', "dict(type='RandomFormulaSearcher', depth=3)")
    path = write_search_config(tmp_path, proxy, **kwargs)
    with open(path) as f:
        text = f.read().replace("search_space = dict(type='ASLSpace', metric='mIoU')", SPACE)
    with open(path, 'w') as f:
        f.write(text)
    return path


def run_loop(config, work_dir, resume=False):
    settings = validate_search_config(load_search_config(config))
    return SearchLoop(settings, build_searcher(settings), build_executor(settings),
                      str(work_dir), resume=resume, reporter_stream=open(os.devnull, 'w')).run()


def test_space_maps_formulas_to_expr_losses_and_back():
    space = FormulaSpace({KEY: 'seg', 'model.x.loss_bbox': dict(branch='box',
                                                                 primitive_set='cse')})
    space.bind(Config(dict(model=dict(decode_head=dict(loss_decode=dict(
        type='CrossEntropyLoss', loss_weight=0.5, class_weight=[1, 2])), x=dict(
            loss_bbox=dict(type='GIoULoss', loss_weight=10.0))))))
    candidate = {KEY: 'Neg(Mul(Y, Log(P)))', 'model.x.loss_bbox': 'Sub(1,Div(I,U))'}
    overrides = space.to_overrides(candidate)
    assert overrides[KEY] == dict(_delete_=True, type='ExprLoss', loss_weight=0.5,
                                  formula='Neg(Mul(Y,Log(P)))', primitive_set='alz',
                                  branch='seg')
    assert overrides['model.x.loss_bbox']['primitive_set'] == 'cse'
    assert overrides['model.x.loss_bbox']['loss_weight'] == 10.0
    assert space.from_overrides(overrides) == space.check(candidate)
    assert space.describe(candidate)[KEY] == '-(Y * log(P))'
    with pytest.raises(ValueError, match=r"candidate\['model.x.loss_bbox'\]: formula 'Y'"):
        space.check({KEY: 'P', 'model.x.loss_bbox': 'Y'})
    with pytest.raises(ValueError, match='one formula per key'):
        space.check({KEY: 'P'})


def test_random_formulas_are_valid_full_trees_and_reproducible():
    pset = get_primitive_set('alz')
    rng = random.Random(0)
    for _ in range(500):
        formula = random_formula(pset, 'seg', 3, rng)
        assert formula.depth == 3 and formula.uses_prediction()
        assert parse_formula(str(formula), pset, 'seg') == formula
    searcher = RandomFormulaSearcher({KEY: (pset, 'seg')}, num_rounds=2, samples_per_round=4,
                                     seed=3)
    again = RandomFormulaSearcher({KEY: (pset, 'seg')}, num_rounds=2, samples_per_round=4,
                                  seed=3)
    assert [c.genotype for c in searcher.ask()] == [c.genotype for c in again.ask()]
    for cand in searcher.ask():
        searcher.tell(cand.candidate_id, 0.5)
    assert [c.genotype for c in searcher.ask()] != [c.genotype for c in again.ask()]
    again.load_state_dict(json.loads(json.dumps(searcher.state_dict())))
    assert [c.genotype for c in searcher.ask()] == [c.genotype for c in again.ask()]


def test_formula_search_records_and_exports_formulas(tmp_path):
    config = formula_config(tmp_path, rounds=2, samples=3, seed=5)
    work_dir = tmp_path / 'work'
    best = run_loop(config, work_dir)
    events = read_journal(str(work_dir / 'journal.jsonl'))
    trials = [e for e in events if e['event'] == 'trial']
    assert len(trials) == 6
    for event in trials:
        formula = event['candidate'][KEY]
        assert event['result']['reward'] == pytest.approx(
            zlib.crc32(formula.encode()) / 2 ** 32)
    top = max(trials, key=lambda e: e['result']['reward'])
    selected = best['selected']
    assert selected['genotype'] == top['candidate']
    assert selected['formulas_math'][KEY] == parse_formula(
        top['candidate'][KEY], 'alz', 'seg').to_math()
    exported = Config.fromfile(str(work_dir / 'best_config.py'))
    loss = exported.model.decode_head.loss_decode
    assert loss.type == 'ExprLoss' and loss.formula == top['candidate'][KEY]
    assert loss.loss_weight == 0.5 and loss.avg_non_ignore is True
    assert 'use_sigmoid' not in loss or loss.use_sigmoid is False
    assert os.path.getsize(work_dir / 'best_curves.png') > 0


def test_formula_search_survives_sigkill_and_resumes_to_the_same_result(tmp_path,
                                                                          monkeypatch):
    config = formula_config(tmp_path, rounds=2, samples=4, seed=2)
    monkeypatch.setenv('OBJ_SLEEP', '0.1')
    run_loop(config, tmp_path / 'reference')
    work_dir = tmp_path / 'killed'
    env = env_with_counter(tmp_path / 'counter.txt')
    sigkill_after_trials(search_cmd(config, work_dir), env, work_dir, 5)
    resumed = subprocess.run(search_cmd(config, work_dir, '--resume'), env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(tmp_path / 'reference' / 'best.json') as f:
        reference = json.load(f)
    with open(work_dir / 'best.json') as f:
        assert json.load(f) == reference
    ids = [e['result']['trial_id'] for e in trial_events(work_dir)]
    assert len(ids) == len(set(ids)) == 8


def test_formula_space_config_errors_are_search_config_errors(tmp_path):
    config = formula_config(tmp_path)
    cfg = load_search_config(config)
    cfg.search_space = dict(type='FormulaSpace', branches={KEY: 'nonsense'})
    with pytest.raises(SearchConfigError, match="no branch 'nonsense'"):
        validate_search_config(cfg)
    cfg.search_space = dict(type='FormulaSpace', branches={KEY: 'seg'}, primitive_set='cse')
    with pytest.raises(SearchConfigError, match="no branch 'seg'"):
        validate_search_config(cfg)
    cfg.search_space = dict(type='FormulaSpace', branches={KEY: 'seg'})
    cfg.searcher = dict(type='RandomFormulaSearcher', depth=99)
    with pytest.raises(SearchConfigError, match='depth must be an int in'):
        validate_search_config(cfg)
