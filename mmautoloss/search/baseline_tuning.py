"""Tuned baselines for the re-training stage: each baseline gets a learning-rate sweep
chosen on the search split, then re-trains with its best rate beside the untuned one.

A searched loss is chosen over many proxy trainings; a baseline run once at the
learning rate of a schedule made for another loss is not a fair competitor (the gap that
Auto Seg-Loss Table 2 and AutoLoss-Zero Table 3 report against an untuned cross-entropy
says little about the losses). A search config asks for the sweep with::

    retrain = dict(..., tune_baselines=dict(lr_factors=[0.25, 0.5, 1, 2, 4],
                                            baselines=None))  # None: every baseline, or
                                                              # a list of their names

Every tuned baseline trains once per factor on the proxy config itself, the optimizer's
``lr`` multiplied by the factor: the proxy validates on the search split (the split the
search rewarded candidates on), never on a target's report split. The factor with the
best proxy reward (ties: the one nearest 1, then the first listed) is the baseline's
choice; the entry ``<baseline>-tuned`` re-trains on every target with the target's own
``lr`` times that factor. Sweep trials are journaled like other re-training trials
(round ``'retrain'``, role ``'tune'``), so a resumed search never runs one twice and the
choice is recomputed from the journal alone.
"""
from __future__ import annotations

import math

from mmengine.config import Config

from .structures import TrialRole, TrialStatus, get_config_key

#: the optimizer's learning rate in an mmengine config
LR_KEY = 'optim_wrapper.optimizer.lr'
TUNED_SUFFIX = '-tuned'
#: the ``target`` of a sweep trial in the journal
SWEEP_TARGET = 'search-split'


def check_tune_baselines(options: object, baselines: list[str], configs: list[Config],
                         error: type = ValueError) -> dict:
    """``retrain.tune_baselines`` checked: ``dict(lr_factors=[...], baselines=None)``,
    distinct positive factors, the names of the entries to tune among ``baselines`` (None:
    all of them, at least one), and ``optim_wrapper.optimizer.lr`` in every config it
    scales (the proxy and each target)."""
    if not isinstance(options, dict) or 'lr_factors' not in options or not set(options) <= {
            'lr_factors', 'baselines'}:
        raise error('retrain.tune_baselines must be dict(lr_factors=[...], baselines=None), '
                    f'got {options!r}')
    factors = options['lr_factors']
    if not is_factor_list(factors):
        raise error('retrain.tune_baselines.lr_factors must be a non-empty list of distinct '
                    f'positive numbers, got {factors!r}')
    if not baselines:
        raise error('retrain.tune_baselines needs a baseline to tune (retrain.baseline or '
                    'retrain.baselines), got none')
    names = options.get('baselines', None)
    if names is not None and (not isinstance(names, (list, tuple)) or not names or not set(
            names) <= set(baselines) or len(set(names)) != len(names)):
        raise error(f'retrain.tune_baselines.baselines must be None or a list of distinct '
                    f'baseline names among {baselines}, got {names!r}')
    for cfg in configs:
        config_lr(cfg, 'retrain.tune_baselines', error)
    checked = dict(lr_factors=[float(f) for f in factors])
    if names is not None:
        checked['baselines'] = list(names)
    return checked


def is_factor_list(factors: object, allow_one: bool = True) -> bool:
    """Whether ``factors`` is a non-empty list of distinct positive finite numbers (without
    1 unless ``allow_one``)."""
    return isinstance(factors, (list, tuple)) and bool(factors) and all(
        isinstance(f, (int, float)) and not isinstance(f, bool) and math.isfinite(f) and f > 0
        and (allow_one or f != 1) for f in factors) and len(set(factors)) == len(factors)


def config_lr(cfg: Config, setting: str, error: type = ValueError) -> float:
    """The config's ``optim_wrapper.optimizer.lr``; ``error`` naming ``setting`` when it
    has none."""
    try:
        lr = get_config_key(cfg, LR_KEY)
    except ValueError as err:
        raise error(f'{setting} scales {LR_KEY}: {err}') from err
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise error(f'{setting} scales {LR_KEY}, which is {lr!r}, not a positive number')
    return float(lr)


def tuned_entries(baselines: list[dict], tune: dict) -> list[dict]:
    """One ``<name>-tuned`` entry (kind ``'tuned'``) per baseline entry that ``tune`` (the
    checked ``tune_baselines``) names, training its loss at the learning rate chosen from
    ``tune['lr_factors']``."""
    names = tune.get('baselines', [b['name'] for b in baselines])
    return [dict(name=base['name'] + TUNED_SUFFIX, kind='tuned', tuned_of=base['name'],
                 lr_factors=list(tune['lr_factors']), overrides=base['overrides'])
            for base in baselines if base['name'] in names]


def sweep_trial_id(baseline: str, factor: float) -> str:
    return f'tune-{baseline}-lr{factor:g}'


def sweep_plan(baselines: list[dict], factors: list[float]) -> dict[str, tuple[dict, float]]:
    """Every sweep trial by id: (the baseline entry, the lr factor)."""
    return {sweep_trial_id(b['name'], f): (b, f) for b in baselines for f in factors}


def chosen_factors(events: list, baselines: list[str],
                   factors: list[float]) -> dict[str, dict]:
    """From the journal's trial events (:class:`~.events.TrialEvent`), per baseline whose
    sweep has finished: ``rewards`` (factor -> proxy reward on the
    search split, None for a failed trial) and the ``chosen`` factor (best reward; ties:
    nearest 1, then first listed; 1 when every trial failed)."""
    sweep = {(e.entry, e.candidate.get('lr_factor')): e for e in events
             if e.role == TrialRole.TUNE}
    choices = {}
    for name in baselines:
        if not all((name, f) in sweep for f in factors):
            continue
        rewards = {f: sweep[name, f].result.reward
                   if sweep[name, f].result.status == TrialStatus.OK else None
                   for f in factors}
        ok = [f for f in factors if rewards[f] is not None]
        chosen = min(ok, key=lambda f: (-rewards[f], abs(math.log(f)), factors.index(f))) \
            if ok else 1.0
        choices[name] = dict(rewards=rewards, chosen=chosen)
    return choices
