"""Perturbed re-training: the settings, the perturbed entries, their overrides, and the
report's verdict on whether the ranking survives."""
import json
import os
import subprocess

import pytest
from mmengine.config import Config

from mmautoloss.search.perturbation import check_perturb, perturbed_entries, scaled_settings
from mmautoloss.search.report import perturbed_ranking
from mmautoloss.search.retraining import entry_overrides
from mmautoloss.testing import REPO, search_cmd, trial_events, write_proxy, write_search_config
from mmautoloss.testing.search_jobs import PROXY_SEG

KEY = 'model.decode_head.loss_decode'
TARGET = Config(dict(optim_wrapper=dict(optimizer=dict(lr=0.1)),
                     train_dataloader=dict(batch_size=3)))


@pytest.mark.parametrize('options,match', [
    (dict(momentum=[2]), "perturb must map some of \\['lr', 'batch_size'\\]"),
    ({}, 'perturb must map'),
    (dict(lr=[1]), 'lr must be a non-empty list of distinct positive factors other than 1'),
    (dict(lr=[0.5, 0.5]), 'got \\[0.5, 0.5\\]'),
    (dict(batch_size=[-2]), 'batch_size must be .* got \\[-2\\]'),
])
def test_bad_perturbations_are_refused_by_name(options, match):
    with pytest.raises(ValueError, match=match):
        check_perturb(options, [TARGET])


def test_a_perturbed_setting_must_be_in_every_target():
    with pytest.raises(ValueError, match="perturb.batch_size scales train_dataloader.batch_size"):
        check_perturb(dict(batch_size=[2]), [TARGET, Config(dict(optim_wrapper=dict(
            optimizer=dict(lr=1.0))))])
    assert check_perturb(dict(lr=[0.5, 2], batch_size=[2]), [TARGET]) == dict(
        lr=[0.5, 2.0], batch_size=[2.0])


def test_the_winner_and_each_baseline_or_its_tuned_version_are_perturbed():
    entries = [dict(name='rank1', kind='searched', genotype=[0.5]),
               dict(name='rank2', kind='searched', genotype=[0.6]),
               dict(name='cal1', kind='calibration', genotype=[0.7]),
               dict(name='own', kind='baseline', overrides=None),
               dict(name='CE', kind='baseline', overrides={KEY: dict(type='CE')}),
               dict(name='CE-tuned', kind='tuned', tuned_of='CE', lr_factors=[1, 2],
                    overrides={KEY: dict(type='CE')})]
    perturbed = perturbed_entries(entries, dict(lr=[0.5], batch_size=[2]))
    assert [e['name'] for e in perturbed] == [
        'rank1.lrx0.5', 'own.lrx0.5', 'CE-tuned.lrx0.5',
        'rank1.batch_sizex2', 'own.batch_sizex2', 'CE-tuned.batch_sizex2']
    assert {e['kind'] for e in perturbed} == {'perturbed'}
    # the tuned lr (x4) and the perturbation (x0.5) multiply; batch 3 x 2 = 6
    assert entry_overrides(perturbed[2], None, TARGET, {'CE': 4.0}) == {
        KEY: dict(type='CE'), 'optim_wrapper.optimizer.lr': pytest.approx(0.2)}
    assert entry_overrides(perturbed[2], None, TARGET, {'CE': 2.0}) == {KEY: dict(type='CE')}
    assert entry_overrides(perturbed[3], lambda g: {KEY: dict(params=g)}, TARGET, {}) == {
        KEY: dict(params=[0.5]), 'train_dataloader.batch_size': 6}
    assert scaled_settings(TARGET, 1.0, 0.1) == {'train_dataloader.batch_size': 1}
    assert scaled_settings(TARGET, 1.0, 1.0) == {}


def _row(name, kind, rewards, of=None, perturb=None):
    entry = dict(name=name, kind=kind)
    if of:
        entry.update(of=of, of_kind='searched' if of == 'rank1' else 'baseline',
                     perturb=perturb)
    mean = sum(rewards) / len(rewards)
    return dict(entry=entry, rewards=rewards, reward=(mean, 0.0),
                seed_rewards=dict(enumerate(rewards)))


def test_the_report_says_whether_the_ranking_survives():
    rows = [_row('rank1', 'searched', [0.7, 0.72, 0.71]),
            _row('CE', 'baseline', [0.5, 0.52, 0.5]),
            _row('rank1.lrx0.5', 'perturbed', [0.6, 0.61, 0.6], 'rank1', dict(lr=0.5)),
            _row('CE.lrx0.5', 'perturbed', [0.55, 0.5, 0.52], 'CE', dict(lr=0.5)),
            _row('rank1.lrx2', 'perturbed', [0.4, 0.41, 0.42], 'rank1', dict(lr=2.0)),
            _row('CE.lrx2', 'perturbed', [0.5, 0.52, 0.51], 'CE', dict(lr=2.0))]
    text = '\n'.join(perturbed_ranking(dict(reward_key='mIoU', targets=[dict(
        name='t0-proxy', rows=rows)])))
    assert '#### lr x0.5: ranking of the entries unchanged' in text
    assert '#### lr x2: ranking of the entries **changed**' in text
    assert '| rank1 | 0.7100 +- 0.0000 | 0.6033 +- 0.0000 |' in text
    # under lr x2 the searched loss loses on every seed: the paired verdict says so
    assert '| rank1.lrx2 - CE.lrx2 | 3 | -0.1000 |' in text and '0 / 3 | worse |' in text
    assert perturbed_ranking(dict(reward_key='mIoU', targets=[dict(
        name='t0', rows=rows[:2])])) == []


def test_perturbed_entries_train_on_the_first_target_only(tmp_path):
    proxy = write_proxy(tmp_path, PROXY_SEG + "optim_wrapper = dict(optimizer=dict(lr=0.01))\n"
                        "val_dataloader = dict(dataset=dict(split='search'))\n")
    config = write_search_config(tmp_path, proxy, rounds=1, samples=2, extra=(
        "retrain = dict(top_k=1, seeds=2, schedule_factor=1, config=[None, None], "
        "baseline=False, perturb=dict(lr=[2]), baselines=dict(fixed={'model.decode_head."
        "loss_decode': dict(_delete_=True, type='AutoSegLoss', metric='mIoU', "
        "params=[0.9] * 12)}))"))
    env = dict(os.environ, OBJ_LR_BEST=json.dumps(dict(search=0.01)), PYTHONPATH=str(REPO),
               OMP_NUM_THREADS='1')
    done = subprocess.run(search_cmd(config, tmp_path / 'work'), env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    retrained = sorted(e['result']['trial_id'] for e in trial_events(tmp_path / 'work')
                       if e['round'] == 'retrain')
    assert retrained == sorted([f'rt{t}-{n}-s{j}' for t in (0, 1) for n in ('rank1', 'fixed')
                                for j in (0, 1)] +
                               [f'rt0-{n}.lrx2-s{j}' for n in ('rank1', 'fixed')
                                for j in (0, 1)])
    report = (tmp_path / 'work' / 'report.md').read_text()
    # lr x2 costs every entry 0.05 on the stand-in: the order holds
    assert '#### lr x2: ranking of the entries unchanged' in report
    assert '| fixed | 0.4000 +- 0.0000 | 0.3500 +- 0.0000 |' in report
