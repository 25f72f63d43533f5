"""CSE-Autoloss searches through tools/search.py: SIGKILL and --resume reach the result of
an uninterrupted search with the stage counts of every generation journaled and shown;
a short real search on ToyDet trains its simulations and proxies and exports the best loss."""
import json
import os
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmautoloss.datasets.toy_detection import generate_toydet
from mmautoloss.functional.formulas import parse_formula
from mmautoloss.search.journal import read_journal
from mmautoloss.testing import (
    OBJECTIVE_JOB,
    REPO,
    SEARCH_TOOL,
    env_with_counter,
    killed_and_resumed,
    trial_events,
)

KEY = 'model.roi_head.bbox_head.loss_cls'


def _proxy(tmp_path, data, iters=None):
    base = os.path.join(REPO, 'configs/proxies/cse_toydet_faster-rcnn_ce-giou.py')
    lines = [f"_base_ = {base!r}",
             f"_root = {data!r}",
             "train_dataloader = dict(batch_size=2, dataset=dict(data_root=_root))",
             "val_dataloader = dict(batch_size=2, dataset=dict(data_root=_root))",
             "test_dataloader = val_dataloader",
             "val_evaluator = dict(ann_file=_root + 'annotations/instances_search.json')",
             "test_evaluator = dict(ann_file=_root + 'annotations/instances_val.json')"]
    if iters:
        lines += [f"train_cfg = dict(max_iters={iters}, val_interval={iters})",
                  "param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,"
                  f" begin=0, end={iters})]"]
    path = tmp_path / 'proxy.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _config(tmp_path, proxy, executor, sim_iters=3):
    path = tmp_path / 'cse.py'
    base = os.path.join(REPO, 'configs/search/cse_faster-rcnn_cls_toydet.py')
    path.write_text(f"""_base_ = {base!r}
proxy_config = {proxy!r}
searcher = dict(population_size=6, max_simulated=3, simulation=dict(iters={sim_iters}))
executor = {executor}
budget = dict(rounds=2, samples_per_round=1)
trial_timeout = 600
""")
    return str(path)


@pytest.fixture(scope='module')
def toydet(tmp_path_factory):
    root = tmp_path_factory.mktemp('toydet')
    generate_toydet(str(root) + '/', seed=0, num_train=6, num_val=2)
    return str(root) + '/'


def test_cse_search_survives_sigkill_and_resumes_to_the_same_result(tmp_path, toydet):
    executor = (f"dict(type='LocalExecutor', max_concurrent=1, job_entry=[{sys.executable!r},"
                f" {OBJECTIVE_JOB!r}], kill_grace_s=0.2, poll_interval_s=0.02)")
    config = _config(tmp_path, _proxy(tmp_path, toydet), executor)
    env = env_with_counter(tmp_path / 'counter.txt')
    env.update(OBJ_SLEEP='0.3', OBJ_KEY=KEY, OBJ_REWARD_KEY='coco/bbox_mAP')
    reference, expected, work_dir = killed_and_resumed(config, env, tmp_path, 2)
    assert '== stages per generation ==' in reference.stderr
    assert '[search] generation 0: generated 6' in reference.stderr
    ids = [e['result']['trial_id'] for e in trial_events(work_dir)]
    assert len(ids) == len(set(ids))
    # the stage counts of each generation, journaled when the generation ended
    rows = [row for e in read_journal(str(work_dir / 'journal.jsonl'))
            if e['event'] == 'round_end' for row in e.get('generations', [])]
    assert [r['generation'] for r in rows] == [0, 1] and rows == expected['generations']
    for row in rows:
        assert row['generated'] == 6
        assert row['simulated'] == row['below_threshold'] + row['not_top_k'] + row['trained']
    # simulations ran with the verification set; their AP is never the search's best
    roles = {e['result']['trial_id']: e['role'] for e in trial_events(work_dir)}
    assert expected['selected']['candidate_id'] in [i for i, r in roles.items()
                                                    if r == 'sample']
    simulation = next(i for i, r in roles.items() if r == 'simulation')
    trial_cfg = Config.fromfile(str(work_dir / 'trials' / simulation / 'config.py'))
    assert trial_cfg.train_dataloader.dataset.ann_file == str(
        work_dir / 'verification' / 'instances_verification.json')


def test_cse_search_without_data_exits_2_naming_the_annotation_file(tmp_path):
    config = _config(tmp_path, _proxy(tmp_path, str(tmp_path / 'nodata') + '/'),
                     "dict(type='LocalExecutor', max_concurrent=1)")
    done = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir',
                           str(tmp_path / 'work')], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert 'instances_train.json' in done.stderr and 'Traceback' not in done.stderr


@pytest.mark.training
def test_a_short_cse_search_on_toydet_exports_its_best_loss(tmp_path, toydet):
    config = _config(tmp_path, _proxy(tmp_path, toydet, iters=4),
                     "dict(type='LocalExecutor', max_concurrent=1)", sim_iters=2)
    work = tmp_path / 'work'
    done = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir', str(work)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    events = trial_events(work)
    assert {e['role'] for e in events} == {'simulation', 'sample'}
    # an evolved loss may go NaN in training (recorded as a failed trial); nothing crashes
    results = [e['result'] for e in events]
    assert {r['status'] for r in results} <= {'ok', 'nonfinite'}, results
    for role in ('simulation', 'sample'):
        assert any(e['result']['status'] == 'ok' and 'coco/bbox_mAP' in e['result']['metrics']
                   for e in events if e['role'] == role), results
    with open(work / 'best.json') as f:
        best = json.load(f)
    formula = best['selected']['genotype'][KEY]
    parse_formula(formula, 'cse', 'softmax_cls')
    assert best['selected']['formulas_math'][KEY]
    exported = Config.fromfile(str(work / 'best_config.py'))
    loss = exported.model.roi_head.bbox_head.loss_cls
    assert loss.type == 'ExprLoss' and loss.formula == formula
    assert (work / 'best_curves.png').stat().st_size > 0
