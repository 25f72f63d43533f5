"""AutoLoss-Zero's regularised evolution: aging, tournaments, the rejection loop, the
gradient-equivalence reuse, exact resume; and short searches through tools/search.py."""
import json
import os
import subprocess
import sys

import pytest

from mmautoloss.datasets.toy_detection import generate_toydet
from mmautoloss.datasets.toy_segmentation import generate_toyseg
from mmautoloss.functional.formulas import get_primitive_set, parse_formula
from mmautoloss.search.filters import Verdict
from mmautoloss.search.journal import read_journal
from mmautoloss.search.searchers import RegularizedEvolutionSearcher
from mmautoloss.testing import (
    OBJECTIVE_JOB,
    REPO,
    SEARCH_TOOL,
    env_with_counter,
    killed_and_resumed,
    trial_events,
)

KEY = 'model.decode_head.loss_decode'


class LogFilter:
    """Accepts a formula iff it contains ``Log``; signature = the formula's length, so
    different formulas of the same length count as equivalent."""

    def __init__(self):
        self.judged = 0

    def judge_many(self, key, formulas):
        self.judged += len(formulas)
        return [Verdict('rejected', score=0.0, signature=(1.0, )) if 'Log' not in formula
                else Verdict('accepted', score=1.0, signature=(float(len(formula)), ))
                for formula in formulas]


def make(seed=0, **kwargs):
    branches = {KEY: (get_primitive_set('alz'), 'seg')}
    kwargs.setdefault('loss_rejection', LogFilter())
    return RegularizedEvolutionSearcher(branches, num_rounds=kwargs.pop('rounds', 6),
                                        samples_per_round=3, seed=seed, **kwargs)


def drive(searcher, rounds, reward=lambda g: (len(g[KEY]) % 7) / 7):
    for _ in range(rounds):
        for cand in searcher.ask():
            searcher.tell(cand.candidate_id, reward(cand.genotype))


def test_first_round_is_the_initial_population_and_every_loss_passes_the_filter():
    searcher = make(population_size=5)
    first = searcher.ask()
    assert len(first) == 5 and searcher.total_trials == 5 + 5 * 3
    assert all('Log' in c.genotype[KEY] for c in first)
    stats = searcher.proposal_stats()
    assert stats['trained'] == 5 and stats['rejected'] == searcher.loss_rejection.judged - 5
    drive(searcher, 1)
    assert len(searcher.ask()) == 3


def test_aging_keeps_the_most_recent_members_and_equivalents_reuse_rewards():
    searcher = make(population_size=4, max_population=6, copy_prob=0.5)
    drive(searcher, 5)
    assert len(searcher.population) == 6
    assert sum(s['copies'] for s in searcher.stats) > 0  # copies were not trained
    assert sum(s['equivalent'] for s in searcher.stats) > 0  # nor equal-length formulas
    signatures = [m['signature'] for m in searcher.population]
    for member in searcher.population:
        assert member['reward'] == searcher.known[member['signature']]
    assert len(set(signatures)) <= len(signatures)


class SometimesInvalidFilter(LogFilter):
    """LogFilter that calls a formula with ``Exp`` invalid (as a NaN loss would be)."""

    accepted = 0

    def judge_many(self, key, formulas):
        verdicts = [Verdict('invalid', score=float('-inf')) if 'Exp' in f else v
                    for f, v in zip(formulas, super().judge_many(key, formulas))]
        self.accepted += sum(v.accepted for v in verdicts)
        return verdicts


@pytest.mark.parametrize('branches', [1, 4])
def test_the_funnel_adds_up_per_round_and_in_total(branches):
    alz = get_primitive_set('alz')
    keys = [f'model.branch{i}.loss' for i in range(branches)]
    searcher = RegularizedEvolutionSearcher({k: (alz, 'seg') for k in keys}, num_rounds=8,
                                            samples_per_round=3, seed=1, population_size=4,
                                            copy_prob=0.3,
                                            loss_rejection=SometimesInvalidFilter())
    for _ in range(8):
        for cand in searcher.ask():
            searcher.tell(cand.candidate_id, len(''.join(cand.genotype.values())) % 5)
    stages = ('invalid', 'rejected', 'equivalent', 'copies', 'trained')
    for row in searcher.stats:
        assert row['explored'] == sum(row[k] for k in stages), row
    total = {k: sum(row[k] for row in searcher.stats) for k in ('explored', ) + stages}
    assert total['explored'] == sum(total[k] for k in stages)
    assert total['trained'] == searcher.total_trials
    assert all(total[k] > 0 for k in ('invalid', 'rejected', 'equivalent'))
    # every formula the filter turned away is one explored candidate
    judged = searcher.loss_rejection
    assert total['invalid'] + total['rejected'] == judged.judged - judged.accepted


def test_an_offspring_varies_every_branch():
    alz = get_primitive_set('alz')
    keys = ['model.rpn_head.loss_cls', 'model.rpn_head.loss_bbox',
            'model.roi_head.bbox_head.loss_cls', 'model.roi_head.bbox_head.loss_bbox']
    kinds = ['sigmoid_cls', 'box', 'softmax_cls', 'box']
    searcher = RegularizedEvolutionSearcher(
        {k: (alz, kind) for k, kind in zip(keys, kinds)}, num_rounds=2, samples_per_round=6,
        seed=2, population_size=2, copy_prob=0.0, reinit_prob=0.0)
    parents = {c.candidate_id: c.genotype for c in searcher.ask()}
    for cid in parents:
        searcher.tell(cid, 1.0 if cid.endswith('0') else 0.0)
    best = parents[searcher.best_sample['candidate_id']]
    for child in searcher.ask():  # a tournament of the two picks the better one
        assert all(child.genotype[k] != best[k] for k in keys), (child.genotype, best)
        for key, kind in zip(keys, kinds):
            parse_formula(child.genotype[key], alz, kind)


def test_without_the_gradient_equivalence_check_only_identical_losses_are_equivalent():
    with_check, without = (make(seed=5, population_size=6, copy_prob=0.0,
                                gradient_equivalence=flag) for flag in (True, False))
    drive(with_check, 4)
    drive(without, 4)
    # LogFilter gives formulas of one length one signature: the check merges them
    trained = [m['genotype'][KEY] for m in without.population]
    assert len({len(f) for f in trained}) < len(set(trained))
    assert sum(s['equivalent'] for s in with_check.stats) > sum(
        s['equivalent'] for s in without.stats)
    with pytest.raises(ValueError, match='gradient_equivalence must be True or False'):
        make(gradient_equivalence='yes')


def test_tournament_picks_the_best_of_its_sample():
    searcher = make(population_size=4)
    searcher.population = [dict(genotype={KEY: f'Log(P{i})'}, reward=i, signature=str(i))
                           for i in range(40)]
    searcher.tournament_fraction = 0.1  # 4 contestants
    picks = [searcher._tournament()['reward'] for _ in range(200)]
    assert min(picks) >= 3 and sum(picks) / len(picks) > 25


def test_state_round_trip_reproduces_the_search_exactly():
    reference = make(seed=3)
    drive(reference, 6)
    half = make(seed=3)
    drive(half, 3)
    half.ask()  # the proposal of round 3 is part of the state
    restored = make(seed=3)
    restored.load_state_dict(json.loads(json.dumps(half.state_dict())))
    assert [c.genotype for c in restored.ask()] == [c.genotype for c in half.ask()]
    drive(restored, 3)
    assert restored.population == reference.population
    assert restored.stats == reference.stats
    assert restored.best_sample == reference.best_sample


def _tiny_seg_proxy(tmp_path, iters=None):
    data = tmp_path / 'toyseg'
    generate_toyseg(str(data), seed=0, num_train=6, num_val=2, size=32)
    lines = [f"_base_ = {os.path.join(REPO, 'configs/proxies/alz_toyseg.py')!r}",
             f"train_dataloader = dict(dataset=dict(data_root={str(data)!r}))",
             f"val_dataloader = dict(dataset=dict(data_root={str(data)!r}))",
             "test_dataloader = val_dataloader"]
    if iters:
        lines += [f"train_cfg = dict(max_iters={iters}, val_interval={iters})",
                  f"param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,"
                  f" begin=0, end={iters})]",
                  "default_hooks = dict(logger=dict(interval=1))"]
    path = tmp_path / 'proxy.py'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


def _search_config(tmp_path, proxy, executor, rounds=3, population=4, samples=2,
                   name='alz.py', base='configs/search/alz_seg-miou_toyseg.py'):
    path = tmp_path / name
    path.write_text(f"""_base_ = {os.path.join(REPO, base)!r}
proxy_config = {proxy!r}
searcher = dict(population_size={population})
executor = {executor}
budget = dict(rounds={rounds}, samples_per_round={samples})
trial_timeout = 600
""")
    return str(path)


def test_alz_search_survives_sigkill_and_resumes_to_the_same_result(tmp_path):
    """The real loss-rejection protocol on the ToySeg proxy; trials are the objective job."""
    proxy = _tiny_seg_proxy(tmp_path)
    executor = (f"dict(type='LocalExecutor', max_concurrent=1, job_entry=[{sys.executable!r},"
                f" {OBJECTIVE_JOB!r}], kill_grace_s=0.2, poll_interval_s=0.02)")
    config = _search_config(tmp_path, proxy, executor)
    env = env_with_counter(tmp_path / 'counter.txt')
    env['OBJ_SLEEP'] = '0.3'
    reference, _, work_dir = killed_and_resumed(config, env, tmp_path, 5)
    assert 'round 1 candidates: explored' in reference.stderr
    ids = [e['result']['trial_id'] for e in trial_events(work_dir)]
    assert len(ids) == len(set(ids)) == 4 + 2 * 2
    starts = [e for e in read_journal(str(work_dir / 'journal.jsonl'))
              if e['event'] == 'round_start']
    assert [sorted(e['filter_stats']) for e in starts] == [
        sorted(['explored', 'invalid', 'rejected', 'equivalent', 'copies', 'trained'])] * 3
    reference_starts = [e for e in read_journal(str(tmp_path / 'reference' / 'journal.jsonl'))
                        if e['event'] == 'round_start']
    assert [e['filter_stats'] for e in starts] == [e['filter_stats'] for e in reference_starts]


@pytest.mark.training
def test_alz_seg_search_trains_evolved_losses(tmp_path):
    proxy = _tiny_seg_proxy(tmp_path, iters=10)
    config = _search_config(tmp_path, proxy, "dict(type='LocalExecutor', max_concurrent=1)",
                            rounds=2, population=2, samples=1)
    done = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir',
                           str(tmp_path / 'work')], cwd=REPO, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    events = trial_events(tmp_path / 'work')
    assert len(events) == 3 and {e['result']['status'] for e in events} <= {'ok', 'no_metric'}
    assert any(e['result']['status'] == 'ok' for e in events)
    with open(tmp_path / 'work' / 'best.json') as f:
        best = json.load(f)
    initial = sorted(e['result']['reward'] for e in events if e['round'] == 0)
    assert best['selected']['reward'] >= initial[len(initial) // 2]
    parse_formula(best['selected']['genotype'][KEY], 'alz', 'seg')


def _short_search(tmp_path, proxy_text: str, base: str) -> list:
    """Run 2 initial losses + 1 offspring of ``base`` on a shortened proxy; trial events."""
    proxy = tmp_path / 'proxy.py'
    proxy.write_text(proxy_text + """train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4)]
default_hooks = dict(logger=dict(interval=1))
""")
    config = _search_config(tmp_path, str(proxy), "dict(type='LocalExecutor', max_concurrent=1)",
                            rounds=2, population=2, samples=1, base=base)
    done = subprocess.run([sys.executable, SEARCH_TOOL, config, '--work-dir',
                           str(tmp_path / 'work')], cwd=REPO, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    events = trial_events(tmp_path / 'work')
    assert len(events) == 3
    assert any(e['result']['status'] == 'ok' for e in events), [e['result'] for e in events]
    return events


def _toydet_proxy_text(data, base):
    return f"""_base_ = {os.path.join(REPO, base)!r}
_root = {str(data) + '/'!r}
train_dataloader = dict(batch_size=2, dataset=dict(data_root=_root))
val_dataloader = dict(batch_size=2, dataset=dict(data_root=_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=_root + 'annotations/instances_search.json')
test_evaluator = dict(ann_file=_root + 'annotations/instances_val.json')
"""


def test_alz_detection_config_trains_a_formula_at_each_of_its_four_branches(tmp_path):
    """The Faster R-CNN search config, validated and slot-checked on ToyDet (its four
    branches train end to end inside the Mask R-CNN search below)."""
    from mmautoloss.search.slot_check import check_candidate, check_slots
    from mmautoloss.search.validation import load_search_config, validate_search_config
    generate_toydet(str(tmp_path / 'toydet') + '/', seed=0, num_train=6, num_val=2)
    proxy = tmp_path / 'proxy.py'
    proxy.write_text(_toydet_proxy_text(tmp_path / 'toydet',
                                        'configs/proxies/alz_toydet_faster-rcnn.py'))
    config = _search_config(tmp_path, str(proxy), "dict(type='LocalExecutor')",
                            base='configs/search/alz_det_faster-rcnn_toydet.py')
    settings = validate_search_config(load_search_config(config, {}))
    candidate = check_candidate(settings.space)
    assert len(candidate) == 4
    check_slots(settings.proxy_cfg, candidate)


@pytest.mark.training
def test_alz_instance_search_trains_an_evolved_five_branch_loss(tmp_path):
    generate_toydet(str(tmp_path / 'toydet') + '/', seed=0, num_train=6, num_val=2)
    events = _short_search(
        tmp_path,
        _toydet_proxy_text(tmp_path / 'toydet', 'configs/proxies/alz_toydet_mask-rcnn.py'),
        'configs/search/alz_ins_mask-rcnn_toydet.py')
    assert all(len(e['candidate']) == 5 for e in events)  # Faster R-CNN's four + the mask
    assert any('coco/segm_mAP' in e['result']['metrics'] for e in events)


@pytest.mark.training
def test_alz_pose_search_trains_an_evolved_heatmap_loss(tmp_path):
    from mmautoloss.datasets.toy_pose import generate_toypose
    data = tmp_path / 'toypose'
    generate_toypose(str(data), seed=0, num_train=8, num_val=2)
    base = os.path.join(REPO, 'configs/proxies/alz_toypose_heatmap.py')
    events = _short_search(tmp_path, f"""_base_ = {base!r}
_root = {str(data) + '/'!r}
train_dataloader = dict(batch_size=4, dataset=dict(data_root=_root))
val_dataloader = dict(batch_size=4, dataset=dict(data_root=_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=_root + 'annotations/person_keypoints_search.json')
test_evaluator = dict(ann_file=_root + 'annotations/person_keypoints_val.json')
""", 'configs/search/alz_pose_heatmap_toypose.py')
    assert any('coco/AP' in e['result']['metrics'] for e in events)
